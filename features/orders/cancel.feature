@REQ-ORD-004
Feature: Cancelling an order
  A customer may cancel a confirmed order: the stock returns and the payment is refunded.

  Background:
    Given a registered customer
    And a product priced 2500 USD with 10 in stock
    And the customer has an order for 3 of the product

  @REQ-PAY-003
  Scenario: Cancelling restores the stock and refunds the charge
    When the customer cancels the order
    Then the response status is 200
    And the order status is "cancelled"
    And the product has 10 available
    And the order was charged and refunded 7500 USD
    And the gateways' ledgers agree with the service

  Scenario: An order is cancelled only once
    Given the customer has cancelled the order
    When the customer cancels the order
    Then the response status is 409
    And the product has 10 available

  @REQ-ORD-003
  Scenario: Another customer cannot cancel the order
    Given another registered customer
    When the other customer cancels the order
    Then the response status is 404
    And the product has 7 available
