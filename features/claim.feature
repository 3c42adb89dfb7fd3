Feature: Step 4 - POST /pos/claim
  The merchant types the code shown on the device into the portal. The claim binds the device
  to the merchant named by the Bearer token.

  Background:
    Given a fresh device of merchant A
    And the device has a pairing code

  @CLAIM-01 @CLAIM-20 @AUTH-01 @AUTH-11 @DEV-02
  Scenario: The documented claim binds the device to the merchant
    When merchant A claims the code
    Then the status is 200 [CLAIM-01]
    And the body is {"status": "claimed", "device_id": "${device}"} [CLAIM-20]
    And the device reads "claimed", claimed, code "used" [CLAIM-20]

  @CLAIM-02 @CLAIM-16
  Scenario: The merchant comes from the token, never from the body
    Given a fresh device "B1" of merchant B
    And device "B1" has a pairing code
    When merchant A claims with the body {"pairing_code": "${code B1}", "merchant_id": "${merchant id B}", "merchant": "B"}
    Then the error is 403 "4003" "Device does not belong to your merchant account" [CLAIM-02]

  @CLAIM-16 @CLAIM-17
  Scenario: A device of another merchant cannot be claimed, and the refusal changes nothing
    When merchant B claims the code
    Then the error is 403 "4003" "Device does not belong to your merchant account" [CLAIM-16]
    And the error details are {"device_id": "${device}"} [CLAIM-16]
    And the device reads "inactive", not claimed, code "pending" [CLAIM-17]
    When merchant A claims the code
    Then the status is 200 [CLAIM-17]

  @CLAIM-03 @CLAIM-04 @CLAIM-17
  Scenario Outline: A claim with <token> is refused with 401
    When merchant A claims the code with <token>
    Then the claim is refused with 401 or 403 [CLAIM-03]
    And the error is 401 "4010" "Unauthorized" [CLAIM-04]
    And the device reads "inactive", not claimed, code "pending" [CLAIM-17]

    Examples:
      | token                      |
      | no Authorization header    |
      | a garbage token            |
      | an alg none token          |
      | a tampered token           |
      | a token signed by another key |
      | the Basic scheme           |
      | an empty Bearer token      |

  @CLAIM-03 @CLAIM-04 @AUTH-14 @clock @token-expiry @slow @serial
  Scenario: An expired token is refused with 401
    Given a fresh device "D2" of merchant A
    And merchant A is signed in
    When the token's lifetime passes
    And device "D2" requests a pairing code
    And merchant A claims the code of device "D2" with the old token
    Then the claim is refused with 401 or 403 [CLAIM-03]
    And the error is 401 "4010" "Unauthorized" [CLAIM-04]

  @CLAIM-05 @CLAIM-06
  Scenario: A body without pairing_code gets the documented validator message
    When merchant A claims with the body {}
    Then the error is 400 "4000" "Invalid request body" [CLAIM-05]
    And the error details message is "Key: 'ClaimDeviceRequest.PairingCode' Error:Field validation for 'PairingCode' failed on the 'required' tag" [CLAIM-06]

  @CLAIM-07
  Scenario Outline: An <what> pairing_code gets the same message as a missing one
    When merchant A claims with the body <body>
    Then the error is 400 "4000" "Invalid request body" [CLAIM-05]
    And the error details message is "Key: 'ClaimDeviceRequest.PairingCode' Error:Field validation for 'PairingCode' failed on the 'required' tag" [CLAIM-07]

    Examples:
      | what  | body                   |
      | empty | {"pairing_code": ""}   |
      | null  | {"pairing_code": null} |

  @CLAIM-24 @CLAIM-17
  Scenario Outline: The simulator refuses content type <content type> with a valid body
    When merchant A claims with content type "<content type>" and the body {"pairing_code": "${code}"}
    Then the error is 400 "4000" "Invalid request body" [CLAIM-24]
    And the error details message is not empty [CLAIM-24]
    And the device reads "inactive", not claimed, code "pending" [CLAIM-17]

    Examples:
      | content type                      |
      | text/plain                        |
      | application/x-www-form-urlencoded |

  @CLAIM-24
  Scenario: The simulator refuses a claim without Content-Type
    When merchant A claims without a content type and the body {"pairing_code": "${code}"}
    Then the error is 400 "4000" "Invalid request body" [CLAIM-24]

  @CLAIM-05
  Scenario: Malformed JSON is refused
    When merchant A claims with the body {"pairing_code":
    Then the error is 400 "4000" "Invalid request body" [CLAIM-05]
    And the error details message is not empty [CLAIM-05]

  @CLAIM-08
  Scenario Outline: A body that is <what> is refused with 4000
    When merchant A claims with the body <body>
    Then the error is 400 "4000" "Invalid request body" [CLAIM-08]
    And the error details message is not empty [CLAIM-08]

    Examples:
      | what                       | body                              |
      | an array                   | ["${code}"]                        |
      | a string                   | "${code}"                          |
      | a number as pairing_code   | {"pairing_code": 123456}          |
      | a boolean as pairing_code  | {"pairing_code": true}            |
      | an object as pairing_code  | {"pairing_code": {"v": "${code}"}} |

  @CLAIM-09
  Scenario: application/json with parameters is accepted
    When merchant A claims with content type "application/json; charset=utf-8" and the body {"pairing_code": "${code}"}
    Then the status is 200 [CLAIM-09]

  @CLAIM-10
  Scenario: Unknown body fields are ignored
    When merchant A claims with the body {"pairing_code": "${code}", "note": "typed at the till", "attempt": 1}
    Then the status is 200 [CLAIM-10]

  @CLAIM-11
  Scenario: The code is trimmed and uppercased before lookup
    When merchant A claims the code written in lowercase with surrounding spaces
    Then the status is 200 [CLAIM-11]

  @CLAIM-12 @CLAIM-13
  Scenario Outline: An unknown code "<code value>" is not found
    When merchant A claims with the body {"pairing_code": "<code value>"}
    Then the error is 400 "4004" "Pairing code not found" [CLAIM-12]
    And the error details are {"pairing_code": "<code value>"} [CLAIM-12]

    Examples:
      | code value |
      | 222222     |

  @CLAIM-13
  Scenario Outline: A code of another length or alphabet ("<code value>") is looked up and not found
    When merchant A claims with the body {"pairing_code": "<code value>"}
    Then the error is 400 "4004" "Pairing code not found" [CLAIM-13]

    Examples:
      | code value  |
      | K7M3N0      |
      | TOOLONGCODE |
      | AB          |

  @CLAIM-14
  Scenario: A device_id that is not the device behind the code is "not found"
    Given a fresh device "D2" of merchant A
    When merchant A claims with the body {"pairing_code": "${code}", "device_id": "${device D2}"}
    Then the error is 400 "4004" "Pairing code not found" [CLAIM-14]
    And the device reads "inactive", not claimed, code "pending" [CLAIM-17]
    When merchant A claims with the body {"pairing_code": "${code}", "device_id": "${device}"}
    Then the status is 200 [CLAIM-14]

  @CLAIM-15 @clock @slow @serial
  Scenario: Ownership is checked before used, and used before expired
    Given merchant A has claimed the code
    When 301 seconds pass
    And merchant B claims the code
    Then the error is 403 "4003" "Device does not belong to your merchant account" [CLAIM-15]
    When merchant A claims the code
    Then the error is 400 "4220" "Pairing code has already been used" [CLAIM-15]

  @CLAIM-15
  Scenario: Another merchant's used code gets the ownership error first
    Given merchant A has claimed the code
    When merchant B claims the code
    Then the error is 403 "4003" "Device does not belong to your merchant account" [CLAIM-15]

  @CLAIM-18
  Scenario: A used code cannot be claimed again
    Given merchant A has claimed the code
    When merchant A claims the code
    Then the error is 400 "4220" "Pairing code has already been used" [CLAIM-18]
    And the error details are {"pairing_code": "${code}"} [CLAIM-18]

  @CLAIM-19 @clock @slow @serial
  Scenario: An expired code cannot be claimed
    When 301 seconds pass
    And merchant A claims the code
    Then the error is 400 "4220" "Pairing code has expired" [CLAIM-19]
    And the error details are {"pairing_code": "${code}"} [CLAIM-19]
    And the device reads "inactive", not claimed, code "expired" [CLAIM-17]

  @CLAIM-21
  Scenario: Of 32 concurrent claims of one code exactly one succeeds
    When merchant A sends 32 concurrent claims of the code
    Then exactly one of those claims succeeded [CLAIM-21]
    And every other claim got 400 "4220" "Pairing code has already been used" [CLAIM-21]

  @DEV-04 @DEV-05 @CLAIM-17
  Scenario: Nothing moves a claimed device back
    Given merchant A has claimed the code
    When the device calls bootstrap
    And the device requests a pairing code
    And merchant B claims the code
    And merchant A claims the code
    Then the device reads "claimed", claimed, code "used" [DEV-04]
