@REQ-CAT-001
Feature: Browse and search the catalog
  Shoppers browse products by category and search them by name, a page at a time.

  Scenario: Browsing a category lists its products with price and availability
    Given 3 products in a new category
    When a shopper browses that category
    Then the page lists exactly those 3 products
    And every listed product shows its price and availability

  Scenario: Paging through a category returns every product exactly once
    Given 5 products in a new category
    When a shopper pages through that category 2 at a time
    Then the shopper saw 3 pages
    And the shopper saw each of the 5 products exactly once

  Scenario: Searching by a word of the name finds the product
    Given a product named "Lantern" with a unique word in its name
    When a shopper searches for that word
    Then the results are exactly that product

  Scenario: Viewing one product shows what the listing shows
    Given a product priced 4599 USD with 7 in stock
    When a shopper views that product
    Then the response status is 200
    And the product shows price 4599 USD and 7 available

  @REQ-SEC-003
  Scenario Outline: Page sizes outside 1 to 100 are rejected
    When someone sends GET /products?limit=<limit> without credentials
    Then the response status is 422
    And the response is a problem with status 422

    Examples:
      | limit |
      | 0     |
      | 101   |
      | -1    |
      | many  |

  @REQ-SEC-003
  Scenario Outline: Unknown or malformed product ids are not found, never an error
    When someone sends GET /products/<id> without credentials
    Then the response status is one of <statuses>
    And the response is a problem

    Examples:
      | id                           | statuses |
      | 999999999                    | 404      |
      | 0                            | 404, 422 |
      | 99999999999999999999999999   | 404, 422 |
      | not-a-number                 | 404, 422 |
