@REQ-SEC-004
Feature: Rate limits
  Guessing passwords is throttled per account, and the client is told when to retry.

  Scenario: Repeated failed logins are throttled with Retry-After
    Given a visitor registered with a new email
    When someone keeps logging in as the visitor with wrong passwords
    Then the login is throttled within 20 attempts
    And the response says when to retry

  Scenario: Throttling one account leaves other accounts alone
    Given a visitor registered with a new email
    And someone kept logging in as the visitor with wrong passwords until throttled
    And a registered customer
    When the customer logs in with the right password
    Then the response status is 200
