@REQ-INV-001
Feature: Inventory never oversells
  Stock is reserved atomically: a product never sells more units than it has,
  however many customers rush for it at once.

  Scenario: Ordering more than is in stock is refused
    Given a registered customer
    And a product priced 999 USD with 1 in stock
    When the customer checks out 2 of the product with payment token "tok_visa"
    Then the response status is 409
    And the problem type ends with "out-of-stock"
    And the product has 1 available
    And the customer has 0 orders

  Scenario: A concurrent rush sells exactly the stock and no more
    Given a product priced 999 USD with 5 in stock
    And 6 registered customers
    When each of them tries to buy 1 of the product twice at the same moment
    Then exactly 5 of those orders are confirmed
    And the others were told it is out of stock
    And the product has 0 available

  @REQ-ADM-002
  Scenario: Setting the stock through the admin API is what shoppers see
    Given a product priced 999 USD with 1 in stock
    When the admin sets the product's stock to 5
    Then the response status is 200
    And the product has 5 available
