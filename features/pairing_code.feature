Feature: Step 2 - POST /pos/pairing-code
  The device shows a 6-character code that the merchant types into the portal. A code lives
  300 seconds; a device has at most one pending code.

  Background:
    Given a fresh device of merchant A

  @PAIR-01 @PAIR-02 @PAIR-03 @CODE-01
  Scenario: The documented request gets a 6-character code valid for 300 seconds
    When the device requests a pairing code
    Then the status is 200 [PAIR-01]
    And the body field "expires_in_sec" is the integer 300 [PAIR-02]
    And the body field "pairing_code" is 6 characters of the pairing alphabet [PAIR-03]
    And the device reads "inactive", not claimed, code "pending" [CODE-01]

  @PAIR-03
  Scenario: Codes never use the ambiguous characters 0, O, I and 1
    When the device requests a pairing code 20 times
    Then every code is 6 characters of the pairing alphabet [PAIR-03]

  @PAIR-04 @CODE-04 @STAT-10
  Scenario: A new code supersedes the pending one, which can never be claimed
    Given the device has a pairing code
    When the device requests a pairing code
    Then the new code differs from the first [PAIR-04]
    And the device reads "inactive", not claimed, code "pending" [STAT-10]
    When merchant A claims the first code
    Then the claim is refused [CODE-04]
    And the error is 400 with code "4004" or "4220" [PAIR-05]
    When merchant A claims the code
    Then the status is 200 [PAIR-04]

  @PAIR-05
  Scenario: The simulator answers a superseded code with 4004 Pairing code not found
    Given the device has a pairing code
    And the device has a pairing code
    When merchant A claims the first code
    Then the error is 400 "4004" "Pairing code not found" [PAIR-05]
    And the error details are {"pairing_code": "${first code}"} [PAIR-05]

  @PAIR-04
  Scenario: Concurrent requests leave exactly one claimable code
    When the device requests 8 pairing codes concurrently
    And merchant A claims each of those codes
    Then exactly one of those claims succeeded [PAIR-04]

  @PAIR-06 @CODE-06 @clock @slow @serial
  Scenario: After expiry a request issues a new pending code, and the old one stays expired
    Given the device has a pairing code
    When 300 seconds pass
    Then the device reads "inactive", not claimed, code "expired" [PAIR-06]
    When the device requests a pairing code
    Then the status is 200 [PAIR-06]
    And the device reads "inactive", not claimed, code "pending" [PAIR-06]
    When merchant A claims the first code
    Then the error is 400 "4220" "Pairing code has expired" [CODE-06]

  @PAIR-06
  Scenario: A device that never had a code gets one
    Then the device reads "inactive", not claimed, code "none" [PAIR-06]
    When the device requests a pairing code
    Then the status is 200 [PAIR-06]

  @PAIR-07
  Scenario: Live codes are unique across devices
    Given a fresh device "D2" of merchant A
    And a fresh device "D3" of merchant B
    And a fresh device "D4" of merchant B
    When each of the devices requests a pairing code
    Then the codes of the devices are all different [PAIR-07]

  @PAIR-08 @faults
  Scenario: A failure to create the code is 500 5000 and changes nothing
    Given the target will fail the device's next pairing code request
    When the device requests a pairing code
    Then the error is 500 "5000" "Failed to create pairing code" [PAIR-08]
    And the device reads "inactive", not claimed, code "none" [PAIR-08]

  @PAIR-09 @PAIR-10
  Scenario: No code for an unprovisioned device
    Given an unprovisioned device
    When the device requests a pairing code
    Then the status is not 200 [PAIR-09]
    And the error is 404 "4004" "Device not found" [PAIR-10]
    And the error details are {"device_id": "${device}"} [PAIR-10]

  @PAIR-11
  Scenario: A claimed device gets no new code and nothing changes
    Given the device has a pairing code
    And merchant A has claimed the code
    When the device requests a pairing code
    Then the error is 400 "4220" "Device is already claimed" [PAIR-11]
    And the error details are {"device_id": "${device}"} [PAIR-11]
    And the device reads "claimed", claimed, code "used" [PAIR-11]
