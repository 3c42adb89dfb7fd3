Feature: Error envelope, trace ids and generic errors
  Every error is {"error": {"code", "message", "details"?, "trace_id"}} with a 4-digit string
  code. (Every response of every scenario is also checked against the envelope's schema.)

  @ERR-01 @ERR-02 @ERR-03 @ERR-04 @ERR-05
  Scenario: The error envelope has a string code, a message, a trace id and details
    Given an unprovisioned device
    When the device polls status
    Then the error envelope is well formed [ERR-01]
    And the error code is a 4-digit string [ERR-02]
    And the error message is "Device not found" [ERR-03]
    And the error trace_id is a non-empty string [ERR-04]
    And the error details are {"device_id": "${device}"} [ERR-05]

  @ERR-06
  Scenario: No details where the rule lists none
    Given a fresh device of merchant A
    When the device calls status without the "X-Device-Id" header
    Then the error has no details [ERR-06]

  @ERR-07 @ERR-08
  Scenario: Every error has its own trace id, also in the X-Trace-Id header
    Given an unprovisioned device
    When the device polls status 5 times
    Then every error had a different trace_id [ERR-07]
    And every response had an X-Trace-Id header equal to its error trace_id [ERR-08]

  @ERR-08
  Scenario: Successful responses carry X-Trace-Id too
    Given a fresh device of merchant A
    When the device polls status
    Then the response has an X-Trace-Id header [ERR-08]

  @ERR-09
  Scenario Outline: An unknown path <path> is 404 Route not found
    When a client sends GET "<path>"
    Then the error is 404 "4004" "Route not found" [ERR-09]

    Examples:
      | path              |
      | /pos/unknown      |
      | /v1/pos/status    |
      | /                 |

  @ERR-10
  Scenario Outline: <method> <path> is 405 Method not allowed
    When a client sends <method> "<path>"
    Then the error is 405 "4050" "Method not allowed" [ERR-10]

    Examples:
      | method | path              |
      | POST   | /pos/status       |
      | GET    | /pos/bootstrap    |
      | GET    | /pos/pairing-code |
      | GET    | /pos/claim        |

  @ERR-11
  Scenario Outline: A body over 64 KiB on <path> is 413 Request body too large
    Given a fresh device of merchant A
    When the device sends POST "<path>" with a body of 65537 bytes
    Then the error is 413 "4130" "Request body too large" [ERR-11]

    Examples:
      | path              |
      | /pos/bootstrap    |
      | /pos/pairing-code |
      | /pos/claim        |

  @ERR-12 @CONV-02
  Scenario: Malformed input never gets a 5xx
    Given a fresh device of merchant A
    And the device has a pairing code
    When merchant A sends a claim with the raw body {"pairing_code": "\ud800"}
    And merchant A sends a claim with the raw body [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
    And merchant A sends a claim with the raw body {"pairing_code": 1e999}
    And merchant A claims with content type "application/json" and a body of invalid UTF-8
    And the device calls status with header "X-Device-Id" set to "POS-%00%00"
    And a client sends POST "/client/session" with the body {"client_id": [1], "client_secret": {}}
    Then no response was a 5xx [ERR-12]
    And every response was a JSON object [CONV-02]
