Feature: Authorization
  Customers reach only their own orders; admin functions need the admin role.

  @REQ-ORD-003
  Scenario: A customer cannot see another customer's order
    Given a registered customer
    And a product priced 1000 USD with 10 in stock
    And the customer has an order for 1 of the product
    And another registered customer
    When the other customer looks up the order
    Then the response status is 404
    And the other customer's order list does not include the order

  @REQ-SEC-002
  Scenario Outline: Customers are forbidden from admin endpoints
    Given a registered customer
    When the customer sends <method> <path>
    Then the response status is 403
    And the response is a problem with status 403

    Examples:
      | method | path                             |
      | GET    | /admin/audit                     |
      | GET    | /admin/audit/verify              |
      | GET    | /admin/flags                     |
      | PUT    | /admin/flags/payment_latency_ms  |
      | POST   | /admin/products                  |
      | PUT    | /admin/inventory/1               |
      | GET    | /admin/events                    |

  @REQ-SEC-002
  Scenario Outline: Anonymous callers are unauthorised on admin endpoints
    When someone sends <method> <path> without credentials
    Then the response status is 401

    Examples:
      | method | path                |
      | GET    | /admin/audit        |
      | GET    | /admin/flags        |
      | POST   | /admin/products     |
