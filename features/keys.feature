Feature: Step 6 - POST /pos/keys
  The device receives its key hierarchy as TR-31 key blocks: the TMK under its ZMK, the KEK
  under the TMK, and the MSK, TPK, TDK and MAC keys under the KEK, each with its check value.

  Background:
    Given a fresh device of merchant A
    And the device has attested

  @KEYS-01 @KEYS-02 @KEYS-03 @KEYS-05 @KEYS-06 @KEYS-07 @KEYS-08 @KEYS-09 @KEYS-10 @KEYS-11 @KEYS-13 @IDK-04
  Scenario: The key hierarchy unwraps from the ZMK down and every KCV matches
    When the device calls keys
    Then the status is 200 [KEYS-01]
    And the body field "transport" is {"format": "TR31", "encryption": "AES-256", "wrapped_under": "kek"} [KEYS-02]
    And the device holds 6 keys unwrapped from its ZMK down [KEYS-11]
    And the target recorded no finding for KEYS-03 [KEYS-03]
    And the target recorded no finding for KEYS-09 [KEYS-09]
    And the target recorded no finding for KEYS-10 [KEYS-10]
    And the key set is "ks-2025-01"-style with sequence 1 [KEYS-13]

  @KEYS-12
  Scenario: The key set is stable across calls and tokens
    When the device calls keys
    And the device attests
    And the device calls keys
    Then the status is 200 [KEYS-12]
    And the target recorded no finding for KEYS-12 [KEYS-12]

  @KEYS-14 @MSK-10 @FLOW-03
  Scenario: Keys rotated mid-flow: the old set is gone until the next keys call
    When the device calls keys
    And the device calls config
    Then the status is 200 [FLOW-03]
    When the control API rotates the device's key set
    And the device calls config
    Then the error is 400 "4220" "Keys have not been issued" [MSK-10]
    When the device calls keys
    Then the key set is "ks-2025-02"-style with sequence 2 [KEYS-14]
    And the target recorded no finding for KEYS-14 [KEYS-14]
    When the device calls config
    Then the status is 200 [KEYS-14]
