Feature: Clients cannot set what only the server decides
  Prices, totals, order status and roles come from the server; a client that sends them is refused.

  Background:
    Given a registered customer
    And a product priced 1299 USD with 10 in stock

  @REQ-ORD-002
  Scenario Outline: An order that carries its own <field> is refused
    When the customer checks out 1 of the product sending its own <field>
    Then the response status is 422
    And the product has 10 available
    And the customer has 0 orders

    Examples:
      | field      |
      | item price |
      | total      |
      | status     |

  @REQ-SEC-002
  Scenario: Registering as an admin is not possible
    When a visitor registers with a new email asking for the admin role
    Then the registration is refused or the account is a customer

  @REQ-SEC-002
  Scenario: A customer cannot promote themselves
    When the customer updates their profile with the role "admin"
    Then the customer is still a customer
    And the customer is still forbidden from the admin endpoints
