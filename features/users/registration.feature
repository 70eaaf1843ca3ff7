@REQ-USR-001
Feature: Registration and login
  Shoppers create an account, log in for a bearer token and look after their profile.

  Scenario: Registering creates a customer account
    When a visitor registers with a new email
    Then the response status is 201
    And the account is a customer account without any password in it

  Scenario: An email can be registered only once
    Given a visitor registered with a new email
    When another visitor registers with the same email
    Then the response status is 409
    And the response is a problem with status 409

  Scenario Outline: Invalid registrations are refused
    When a visitor registers with email "<email>", password "<password>" and name "<name>"
    Then the response status is 422
    And the response is a problem with status 422

    Examples:
      | email             | password       | name     |
      | new               | short          | Ada      |
      | not-an-email      | long-enough-pw | Ada      |
      | new               | long-enough-pw | <blank>  |

  Scenario: Logging in returns a bearer token for the account
    Given a visitor registered with a new email
    When the visitor logs in with the right password
    Then the response status is 200
    And the response holds a bearer token that expires
    And the token identifies the visitor on /users/me

  Scenario: A wrong password and an unknown user get the same answer
    Given a visitor registered with a new email
    When the visitor logs in with a wrong password
    And someone logs in as an unknown user
    Then both answers are 401 with the same problem

  Scenario: A customer renames themselves
    Given a registered customer
    When the customer changes their full name to "Grace Hopper"
    Then the response status is 200
    And the customer's profile shows the name "Grace Hopper"
