Feature: Payments
  A checkout is charged through the payment gateway. A decline charges nothing; when the
  primary gateway is down the fallback takes over; when both are down the client is told
  to retry later.

  Background:
    Given a registered customer
    And a product priced 1500 USD with 10 in stock
    And the customer has 2 of the product in the cart

  @REQ-PAY-001 @REQ-PAY-003
  Scenario: A declined card charges nothing and releases the stock
    When the customer checks out with payment token "tok_decline"
    Then the response status is 402
    And the response is a problem with status 402
    And the product has 10 available
    And the customer has no confirmed order
    And the gateways' ledgers agree with the service

  @REQ-PAY-002 @REQ-PAY-003 @exclusive @admin
  Scenario: The fallback gateway takes over when the primary is down
    Given the feature flag "payment_primary_down" is set to true
    When the customer checks out with payment token "tok_visa"
    Then the response status is 201
    And the order was charged through the fallback gateway
    And the gateways' ledgers agree with the service

  @REQ-PAY-002 @REQ-PAY-003 @exclusive @admin
  Scenario: With every gateway down the client is told to retry later
    Given every payment gateway is down
    When the customer checks out with payment token "tok_visa"
    Then the response status is 503
    And the response says when to retry
    And the product has 10 available
    And the customer has no confirmed order
    And the gateways' ledgers agree with the service
