@REQ-SEC-001
Feature: Bearer tokens are verified
  Only tokens the service signed, for this audience and issuer, and not expired, get in.

  Background:
    Given a registered customer

  Scenario Outline: Forged, tampered and stale tokens are rejected
    When the customer calls /users/me with a <kind> token
    Then the response status is 401
    And the response is a problem with status 401

    Examples:
      | kind           |
      | unsigned       |
      | tampered       |
      | wrong key      |
      | garbage        |
      | expired        |
      | wrong audience |
      | wrong issuer   |

  Scenario: A token signed with the service's key and valid claims is accepted
    When the customer calls /users/me with a valid token
    Then the response status is 200

  Scenario: A request without a token is unauthorised
    When someone sends GET /users/me without credentials
    Then the response status is 401
    And the response asks for a bearer token
