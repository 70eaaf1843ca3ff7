@REQ-FLG-001 @admin @exclusive
Feature: Feature flags
  Admins switch behaviour at runtime (and inject faults) through flags; every change is audited.

  Scenario: A flag change is visible and audited
    Given the feature flag "catalog_cache_enabled" is set to false
    When the admin lists the feature flags
    Then the flag "catalog_cache_enabled" is false
    And the audit log records the flag "catalog_cache_enabled" changing to false

  Scenario: Payment latency injected by flag slows checkout down
    Given a registered customer
    And a product priced 1500 USD with 10 in stock
    And the customer has 1 of the product in the cart
    And the feature flag "payment_latency_ms" is set to 400
    When the customer checks out with payment token "tok_visa"
    Then the response status is 201
    And the checkout took at least 400 ms

  Scenario: An unknown flag cannot be set
    When the admin sets the feature flag "no_such_flag" to true
    Then the response is a client error
