Feature: Step 3 - GET /pos/status
  The device polls status while its code is displayed, until a merchant claims it or the code
  expires. Status describes the device and its latest pairing code, and changes nothing.

  Background:
    Given a fresh device of merchant A

  @STAT-01 @STAT-02 @STAT-03 @STAT-04 @STAT-05 @DEV-01
  Scenario: A provisioned device starts inactive with no code; the three POS headers alone suffice
    When the device polls status with only the three POS headers
    Then the status is 200 [STAT-01]
    And the body is {"device_status": "inactive", "is_claimed": false, "pairing_code_status": "none"} [DEV-01]

  @STAT-06 @TIME-01 @CODE-03 @clock @slow @serial
  Scenario: A code reads pending at 299 seconds and expired at 301 seconds
    Given the device has a pairing code
    When 299 seconds pass
    Then the device reads "inactive", not claimed, code "pending" [STAT-06]
    When 2 seconds pass
    Then the device reads "inactive", not claimed, code "expired" [STAT-06]
    When merchant A claims the code
    Then the error is 400 "4220" "Pairing code has expired" [CODE-03]

  @STAT-07 @TIME-01 @clock @slow @serial
  Scenario: The expiry boundary is exactly 300 seconds
    Given the device has a pairing code
    When 300 seconds pass
    Then the device reads "inactive", not claimed, code "expired" [STAT-07]

  @STAT-08 @CODE-02 @DEV-02
  Scenario: After a successful claim the device reads claimed, true, used
    Given the device has a pairing code
    When merchant A claims the code
    Then the status is 200 [CODE-02]
    And the device reads "claimed", claimed, code "used" [STAT-08]

  @STAT-09 @CODE-05 @clock @slow @serial
  Scenario: A used code keeps reading used after its 300 seconds
    Given the device has a pairing code
    And merchant A has claimed the code
    When 301 seconds pass
    Then the device reads "claimed", claimed, code "used" [STAT-09]
    When merchant A claims the code
    Then the error is 400 "4220" "Pairing code has already been used" [CODE-05]

  @STAT-10
  Scenario: After a new code supersedes the pending one, status describes the new code
    Given the device has a pairing code
    And the device has a pairing code
    Then the device reads "inactive", not claimed, code "pending" [STAT-10]

  @STAT-11
  Scenario: Polling status changes nothing
    Given the device has a pairing code
    When the device polls status 5 times
    Then every response had status 200 [STAT-11]
    And the device reads "inactive", not claimed, code "pending" [STAT-11]
    When merchant A claims the code
    Then the status is 200 [STAT-11]

  @STAT-12
  Scenario: An unprovisioned device gets 404 Device not found
    Given an unprovisioned device
    When the device polls status
    Then the error is 404 "4004" "Device not found" [STAT-12]
    And the error details are {"device_id": "${device}"} [STAT-12]
