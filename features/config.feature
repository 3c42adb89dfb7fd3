Feature: Step 7 - POST /pos/config and POST /pos/terminal-parameters
  The device decrypts its core config, a single TR31-DATA envelope under the MSK, and its
  terminal parameters, gzipped and cut into chunks that are decrypted one by one.

  Background:
    Given a fresh device of merchant A
    And the device has its keys

  @CFG-01 @CFG-02 @CFG-04 @CFG-05 @CFG-06 @CFG-07 @MSK-01 @MSK-02 @MSK-05 @MSK-06 @MSK-07
  Scenario: The config decrypts under the MSK into the merchant's settings
    When the device calls config
    Then the status is 200 [CFG-01]
    And the body field "format" is "TR31-DATA" [CFG-01]
    And the decrypted config's "device_id" is "${device}" [CFG-05]
    And the target recorded no finding for CFG-02 [CFG-02]
    And the target recorded no finding for CFG-05 [CFG-05]
    And the target recorded no finding for CFG-06 [CFG-06]
    And the target recorded no finding for CFG-07 [CFG-07]
    And the target recorded no finding for MSK-07 [MSK-07]
    When the device calls config
    Then the target recorded no finding for CFG-04 [CFG-04]
    And the target recorded no finding for MSK-06 [MSK-06]

  @CFG-06
  Scenario: Terminal ids are unique among devices
    Given a fresh device "D2" of merchant A
    And device "D2" has its keys
    When the device calls config
    And device "D2" calls config
    Then the target recorded no finding for CFG-06 [CFG-06]

  @TPAR-08 @FLOW-03
  Scenario: Terminal parameters need no prior config call on the simulator
    When the device calls terminal-parameters with nothing before it
    Then the status is 200 [TPAR-08]

  @TPAR-01 @TPAR-02 @TPAR-03 @TPAR-05 @TPAR-06 @TPAR-07 @MSK-03
  Scenario: Terminal parameters come in chunks that decrypt, join and gunzip
    When the device calls terminal-parameters
    Then the status is 200 [TPAR-01]
    And the body field "format" is "TR31-DATA-CHUNKED" [TPAR-07]
    And the body field "content_encoding" is "gzip" [TPAR-02]
    And the target recorded no finding for TPAR-02 [TPAR-02]
    And the target recorded no finding for TPAR-05 [TPAR-05]
    And the target recorded no finding for TPAR-06 [TPAR-06]
    And the target recorded no finding for MSK-03 [MSK-03]
    When the device calls config
    And the device calls terminal-parameters
    Then the target recorded no finding for TPAR-05 [TPAR-05]
