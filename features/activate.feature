Feature: Step 8 - POST /pos/activate
  The device reports that it is ready in a TR31-DATA envelope under its MSK; the answer, under
  the same key, says it is activated and when.

  Background:
    Given a fresh device of merchant A
    And the device has its keys

  @ACT-01 @ACT-02 @ACT-03 @ACT-08 @DEV-03 @MSK-02
  Scenario: A ready device activates
    When the device calls config
    And the device calls terminal-parameters
    And the device activates with all three flags true
    Then the status is 200 [ACT-01]
    And the activate answer decrypts to a status and an activated_at time [ACT-02]
    And the target recorded no finding for ACT-08 [ACT-08]
    And the device reads "activated", claimed, code "used" [ACT-03]

  @ACT-09 @ACT-10
  Scenario: Activating again changes nothing
    When the device activates with all three flags true
    And the device activates with all three flags true
    Then the status is 200 [ACT-09]
    And the device's activated_at is unchanged [ACT-09]
    And the target recorded no finding for ACT-09 [ACT-09]
    When the device activates with emv_ready false
    Then the error is 400 "4220" "Device is not ready for activation" [ACT-10]
    And the device reads "activated", claimed, code "used" [ACT-10]

  @ACT-07
  Scenario: A false flag is refused and names the flags, and nothing changes
    When the device activates with keys_installed and network_ok false
    Then the error is 400 "4220" "Device is not ready for activation" [ACT-07]
    And the error details are {"not_ready": ["keys_installed", "network_ok"]} [ACT-07]
    And the device reads "claimed", claimed, code "used" [ACT-07]

  @ACT-05 @ACT-06
  Scenario Outline: An activate whose plaintext is <what> is refused
    When the device activates with <what>
    Then the error is 400 "4000" "Invalid envelope" [ACT-06]
    And the error details message is not empty [ACT-06]
    And the device reads "claimed", claimed, code "used" [ACT-05]

    Examples:
      | what                                    |
      | a plaintext without network_ok          |
      | a plaintext whose emv_ready is a string |

  @ACT-01 @MSK-08 @MSK-09 @ACT-05
  Scenario Outline: An activate with <what> is refused
    When the device activates with <what>
    Then the status is not 200 [ACT-01]
    And the error is 400 "4000" "Invalid envelope" [MSK-09]
    And the error details message is not empty [MSK-09]
    And the device reads "claimed", claimed, code "used" [MSK-08]

    Examples:
      | what                          |
      | a body that is not an envelope |
      | an envelope under another key |
      | another key_kcv               |
      | a chunked envelope            |

  @MSK-05 @MSK-07
  Scenario Outline: An activate with <what> is accepted
    When the device activates with <what>
    Then the status is 200 [MSK-05]

    Examples:
      | what          |
      | lowercase hex |
      | no key_kcv    |

  @MSK-10 @FLOW-03
  Scenario: Activate needs a key set
    Given a fresh device "D2" of merchant A
    And device "D2" has attested
    When device "D2" calls activate
    Then the error is 400 "4220" "Keys have not been issued" [MSK-10]
