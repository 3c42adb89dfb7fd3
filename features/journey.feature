Feature: The activation journey, steps 1 to 4 in order
  What a POS terminal and a merchant do together: bootstrap, show a code, poll status every few
  seconds while the merchant signs in and claims, until the device reads claimed.

  @FLOW-01 @TIME-02 @AUTH-10 @CONV-01 @DEV-02 @serial
  Scenario: Bootstrap, pairing code, status polling, merchant sign-in and claim
    Given a fresh device of merchant A
    When the device calls bootstrap
    Then the status is 200 [FLOW-01]
    When the device requests a pairing code
    Then the status is 200 [FLOW-01]
    When the device polls status every 3 seconds, 3 times
    Then every poll read "pending" [TIME-02]
    Given merchant A is signed in
    When merchant A claims the code
    Then the status is 200 [FLOW-01]
    When the device polls status
    Then the body is {"device_status": "claimed", "is_claimed": true, "pairing_code_status": "used"} [DEV-02]

  @TIME-03 @clock @slow @serial
  Scenario: One clock drives server_time and code expiry
    Given a fresh device of merchant A
    And the device has a pairing code
    When the device calls bootstrap
    And 300 seconds pass
    Then bootstrap's server_time moved by 300 seconds [TIME-03]
    And the device reads "inactive", not claimed, code "expired" [TIME-03]

  @FLOW-01 @FLOW-03 @ATT-01 @KEYS-01 @CFG-01 @TPAR-01 @ACT-03 @DEV-03 @TIME-05 @serial
  Scenario: Steps 1 to 8, as a terminal walks them
    Given a fresh device of merchant A
    When the device calls bootstrap
    And the device requests a pairing code
    And the device polls status every 4 seconds, 2 times
    Then every poll read "pending" [TIME-02]
    When merchant A claims the code
    And the device polls status
    Then the body is {"device_status": "claimed", "is_claimed": true, "pairing_code_status": "used"} [DEV-02]
    When the device attests
    Then the status is 200 [ATT-01]
    When the device calls keys
    Then the device holds 6 keys unwrapped from its ZMK down [KEYS-03]
    When the device calls config
    Then the status is 200 [CFG-01]
    When the device calls terminal-parameters
    Then the status is 200 [TPAR-01]
    When the device activates with all three flags true
    Then the activate answer decrypts to a status and an activated_at time [ACT-02]
    When the device polls status
    Then the body is {"device_status": "activated", "is_claimed": true, "pairing_code_status": "used"} [DEV-03]
