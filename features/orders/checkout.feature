@REQ-ORD-005
Feature: Checkout
  A customer turns a cart, or an explicit list of items, into a confirmed and paid order.
  The server prices it; stock is taken when the order is confirmed.

  Background:
    Given a registered customer
    And a product priced 1299 USD with 10 in stock

  @REQ-PAY-003
  Scenario: Checking out the cart confirms a paid order
    Given the customer has 2 of the product in the cart
    When the customer checks out with payment token "tok_visa"
    Then the response status is 201
    And the order is confirmed with a total of 2598 USD
    And the response points at the new order
    And the product has 8 available
    And the customer's orders include the order
    And the gateways' ledgers agree with the service

  Scenario: Checking out explicit items ignores the cart
    When the customer checks out 3 of the product with payment token "tok_visa"
    Then the response status is 201
    And the order is confirmed with a total of 3897 USD
    And the product has 7 available

  Scenario: An empty cart cannot be checked out
    When the customer checks out with payment token "tok_visa"
    Then the response is a client error
    And the product has 10 available

  Scenario: Checkout needs a signed-in customer
    When someone checks out without credentials
    Then the response status is 401
