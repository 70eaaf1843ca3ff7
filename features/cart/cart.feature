@REQ-CART-001
Feature: Cart
  A signed-in customer keeps a private cart of products and quantities.

  Background:
    Given a registered customer
    And a product priced 1299 USD with 10 in stock

  Scenario: Adding a product puts it in the cart
    When the customer puts 2 of the product in the cart
    Then the response status is 200
    And the cart holds 2 of the product

  Scenario: Putting a product again replaces its quantity
    Given the customer has 2 of the product in the cart
    When the customer puts 5 of the product in the cart
    Then the cart holds 5 of the product

  Scenario: Removing a product empties its line
    Given the customer has 2 of the product in the cart
    When the customer removes the product from the cart
    Then the customer's cart does not hold the product

  Scenario Outline: Quantities outside 1 to 99 are rejected
    When the customer puts <quantity> of the product in the cart
    Then the response status is 422
    And the response is a problem with status 422

    Examples:
      | quantity |
      | 0        |
      | 100      |
      | -3       |

  Scenario: An unknown product cannot be added
    When the customer puts 1 of an unknown product in the cart
    Then the response status is 404

  Scenario: Each customer sees only their own cart
    Given the customer has 2 of the product in the cart
    And another registered customer
    When the other customer looks at their cart
    Then the cart they see does not hold the product

  Scenario: The cart needs a signed-in customer
    When someone sends GET /cart without credentials
    Then the response status is 401
