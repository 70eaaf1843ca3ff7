@REQ-OBS-001
Feature: Health and readiness
  Operators and orchestrators ask the service whether it is alive and ready,
  and every answer can be traced back by its request id.

  Scenario: The service says it is alive and which version runs
    When someone asks whether the service is alive
    Then the response status is 200
    And the response names the service status and version

  Scenario: The service says it is ready to take traffic
    When someone asks whether the service is ready
    Then the response status is 200

  @REQ-OBS-002
  Scenario Outline: Every response carries a request id
    When someone sends GET <path> without credentials
    Then the response status is <status>
    And the response carries an X-Request-ID header

    Examples:
      | path                | status |
      | /health/live        | 200    |
      | /products?limit=1   | 200    |
      | /products/999999999 | 404    |
      | /orders             | 401    |

  @REQ-SEC-003
  Scenario Outline: Errors are problem+json without internals
    When someone sends GET <path> without credentials
    Then the response status is <status>
    And the response is a problem with status <status>

    Examples:
      | path                | status |
      | /products?limit=0   | 422    |
      | /products/999999999 | 404    |
      | /users/me           | 401    |
      | /no/such/route      | 404    |
