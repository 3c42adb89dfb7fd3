Feature: Attestation auth - keys, config, terminal-parameters and activate
  After step 5 the device sends "Authorization: Attestation {token}" and its own X-Device-Id. The
  token lives 300 seconds and belongs to the device it was issued to.

  Background:
    Given a fresh device of merchant A
    And the device has attested

  @KEYS-01 @ATT-35
  Scenario: Keys need only the token and X-Device-Id
    When the device calls keys with only the Authorization and X-Device-Id headers
    Then the status is 200 [ATT-35]

  @ATT-36
  Scenario: The scheme word is matched without regard to case
    When the device calls keys with the scheme word in lowercase
    Then the status is 200 [ATT-36]

  @KEYS-01 @ATT-38 @KEYS-15
  Scenario Outline: Keys with <credential> are refused with 401
    When the device calls keys with <credential>
    Then the status is not 200 [KEYS-01]
    And the error is 401 "4010" "Unauthorized" [ATT-38]

    Examples:
      | credential                  |
      | no Authorization header     |
      | its merchant's Bearer token |
      | a token never issued        |
      | an empty Attestation header |

  @KEYS-01 @ATT-39 @ATT-40
  Scenario: X-Device-Id is required with the token
    When the device calls keys with no X-Device-Id header
    Then the error is 400 "4000" "X-Device-Id header is required" [ATT-39]
    When the device calls keys with a malformed X-Device-Id
    Then the error is 400 "4000" "X-Device-Id header is invalid" [ATT-40]

  @ATT-08 @ATT-41 @KEYS-01
  Scenario: A token belongs to the device it was issued to
    Given a fresh device "D2" of merchant A
    And device "D2" has attested
    When the device calls keys with device "D2"'s token
    Then the status is not 200 [ATT-08]
    And the error is 403 "4003" "Attestation token does not belong to this device" [ATT-41]
    And the error details are {"device_id": "${device}"} [ATT-41]

  @ATT-37 @FLOW-03
  Scenario: Attestation auth is checked before the endpoint's own rules
    When the device calls config with no Authorization header
    Then the error is 401 "4010" "Unauthorized" [ATT-37]
    When the device calls config
    Then the error is 400 "4220" "Keys have not been issued" [FLOW-03]

  @ATT-08 @ATT-18 @TIME-05 @clock @slow @serial
  Scenario: A token expires 300 seconds after issue; the device attests again
    When 299 seconds pass
    And the device calls keys
    Then the status is 200 [ATT-18]
    When 1 second passes
    And the device calls keys
    Then the error is 401 "4010" "Unauthorized" [ATT-18]
    When 1 second passes
    And the device calls keys
    Then the status is not 200 [ATT-08]
    When the device attests
    And the device calls keys
    Then the status is 200 [TIME-05]
