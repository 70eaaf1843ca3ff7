@REQ-ADM-002 @admin
Feature: Admins manage products and stock
  Admins add products, change them and set stock; shoppers see the result at once.

  Scenario: A new product is visible to shoppers
    When the admin creates a product priced 2999 USD with 4 in stock
    Then the response status is 201
    And shoppers see the product priced 2999 USD with 4 available

  Scenario: A SKU is used only once
    Given a product priced 999 USD with 1 in stock
    When the admin creates another product with the same SKU
    Then the response status is 409

  Scenario: Changing the price is what shoppers see
    Given a product priced 999 USD with 1 in stock
    When the admin changes the product's price to 1099 USD
    Then the response status is 200
    And shoppers see the product priced 1099 USD with 1 available

  Scenario: Products must have a valid price and stock
    When the admin creates a product priced -1 USD with 1 in stock
    Then the response status is 422
