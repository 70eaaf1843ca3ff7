@REQ-EVT-001 @admin
Feature: Domain events
  Confirmed orders publish events through the transactional outbox, readable by admins in order.

  Scenario: A confirmed order publishes an event that names it
    Given a registered customer
    And a product priced 1500 USD with 10 in stock
    And the customer has 1 of the product in the cart
    And the admin has noted the latest event
    When the customer checks out with payment token "tok_visa"
    Then the response status is 201
    And an event after the noted one names the order
