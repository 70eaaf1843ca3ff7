@REQ-ORD-001
Feature: Idempotent checkout
  A client may retry POST /orders with the same Idempotency-Key: the order is created
  and charged once, whatever the network does.

  Background:
    Given a registered customer
    And a product priced 1299 USD with 10 in stock
    And the customer has 2 of the product in the cart

  Scenario: Replaying a checkout returns the same order, marked as a replay
    Given the customer has checked out with payment token "tok_visa"
    When the customer sends the same checkout again
    Then the response status is 201
    And the response is marked as an idempotent replay
    And the response describes the same order
    And the customer has 1 order
    And the product has 8 available

  @REQ-PAY-003
  Scenario: A client retrying after a lost response is charged exactly once
    Given the customer has checked out with payment token "tok_visa"
    When the customer retries the same checkout 3 times
    Then every retry describes the same order
    And the order has exactly one successful charge
    And the customer has 1 order
    And the gateways' ledgers agree with the service

  Scenario: Reusing a key with a different body is refused
    Given the customer has checked out with payment token "tok_visa"
    When the customer reuses that key to check out 1 of the product
    Then the response status is 409
    And the response is a problem with status 409
    And the customer has 1 order

  @REQ-PAY-003
  Scenario: Concurrent duplicates create one order
    When the customer sends the same checkout 5 times at once
    Then exactly one order was created by those requests
    And every other duplicate was answered 409 or with the same order
    And the product has 8 available
    And the gateways' ledgers agree with the service

  Scenario: A checkout without an Idempotency-Key is refused
    When the customer checks out without an Idempotency-Key
    Then the response status is 400
    And the response is a problem with status 400
    And the customer has 0 orders

  Scenario Outline: Malformed Idempotency-Keys are refused
    When the customer checks out with the Idempotency-Key "<key>"
    Then the response status is 400
    And the customer has 0 orders

    Examples:
      | key                  |
      | <empty>              |
      | <300 characters>     |

  Scenario: Keys belong to one customer
    Given the customer has checked out with payment token "tok_visa"
    And another registered customer
    And the other customer has 1 of the product in the cart
    When the other customer checks out with the same Idempotency-Key
    Then the response status is 201
    And the response is not the first customer's order
