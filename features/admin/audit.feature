@REQ-ADM-001 @admin
Feature: Admin audit trail
  Every admin action is recorded with who did what, before and after, in a hash chain
  that anyone with admin rights can verify.

  Scenario: Creating a product is audit-logged
    When the admin creates a product priced 1999 USD with 3 in stock
    Then the audit log has an entry by the admin for the new product
    And the entry records the state after the change

  Scenario: Changing stock is audit-logged with before and after
    Given a product priced 999 USD with 2 in stock
    When the admin sets the product's stock to 9
    Then the audit log has an entry by the admin for the product
    And the entry records the stock before as 2 and after as 9

  Scenario: The audit chain verifies
    Given a product priced 999 USD with 2 in stock
    When the admin verifies the audit log
    Then the response status is 200
    And the audit chain is valid

  Scenario: Audit entries are chained by hash
    Given a product priced 999 USD with 2 in stock
    When the admin reads the newest audit entries
    Then each entry's prev_hash is the previous entry's hash
