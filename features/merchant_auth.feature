Feature: Merchant authentication - /client/session, /auth/token, /session/initiate, JWKS
  A merchant API client exchanges its credentials for a Keycloak access token, initiates a
  session, and claims devices with the token as Bearer.

  @AUTH-04 @AUTH-06
  Scenario: Client credentials give a Bearer access token
    When merchant A signs in with POST "/client/session"
    Then the status is 200 [AUTH-04]
    And the body field "access_token" is a non-empty string [AUTH-04]
    And the body field "token_type" is "Bearer" [AUTH-06]
    And the body field "expires_in" is a positive integer [AUTH-06]

  @AUTH-05
  Scenario: /auth/token is a legacy alias of /client/session
    Given a fresh device of merchant A
    And the device has a pairing code
    When merchant A signs in with POST "/auth/token"
    Then the status is 200 [AUTH-05]
    When merchant A initiates a session with the token from that response and claims the code
    Then the status is 200 [AUTH-05]

  @AUTH-07
  Scenario Outline: Wrong credentials on <path> are refused with 401 Invalid client credentials
    When a client signs in with POST "<path>" as client "<client>" with a <secret> secret
    Then the error is 401 "4010" "Invalid client credentials" [AUTH-07]

    Examples:
      | path            | client        | secret  |
      | /client/session | merchant A    | wrong   |
      | /auth/token     | merchant A    | wrong   |
      | /client/session | nobody-at-all | right   |

  @AUTH-02
  Scenario: Simulator tokens are RS256 JWTs carrying merchant_id
    When merchant A signs in with POST "/client/session"
    Then the access token is an RS256 JWT with a merchant_id claim [AUTH-02]

  @AUTH-03
  Scenario: The token issuer publishes a JWKS that verifies the token
    When merchant A signs in with POST "/client/session"
    Then the JWKS of the token's issuer verifies the token [AUTH-03]

  @AUTH-08 @AUTH-09 @AUTH-10
  Scenario: Session initiate with a Bearer token and a host sets up the merchant context
    Given merchant A is signed in
    When merchant A initiates a session for host "merchant.viopay.io"
    Then the status is 200 [AUTH-08]
    And the body is a JSON object [AUTH-09]

  @AUTH-13
  Scenario Outline: Session initiate with <token> is refused with 401 Unauthorized
    When a client initiates a session for host "merchant.viopay.io" with <token>
    Then the error is 401 "4010" "Unauthorized" [AUTH-13]

    Examples:
      | token                   |
      | no Authorization header |
      | a garbage token         |
      | a tampered token        |

  @AUTH-11 @AUTH-01
  Scenario: Claim works with a token whose session was not initiated
    Given a fresh device of merchant A
    And the device has a pairing code
    When merchant A signs in with POST "/client/session"
    And merchant A claims the code with the token from that response
    Then the status is 200 [AUTH-11]

  @LIVE-01 @LIVE-02 @LIVE-03
  Scenario: /health/live answers without authentication
    When a client sends GET "/health/live"
    Then the status is 200 [LIVE-01]
    And the body is {"status": "ok"} [LIVE-02]
    And the request carried no authentication [LIVE-03]
