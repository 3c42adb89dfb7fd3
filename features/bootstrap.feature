Feature: Step 1 - POST /pos/bootstrap
  A POS device calls bootstrap when it powers on or connects to the network: a connectivity
  check that returns the server time and the minimum supported app version.

  Background:
    Given a fresh device of merchant A

  @BOOT-01 @BOOT-02 @BOOT-05 @HDR-01 @CONV-01 @CONV-02
  Scenario: The documented request gets 200 with status, server_time and min_supported_version
    When the device calls bootstrap
    Then the status is 200 [BOOT-01]
    And the body field "status" is "ok" [BOOT-02]
    And the body field "min_supported_version" is a version string [BOOT-05]

  @BOOT-03 @BOOT-04
  Scenario: server_time is the server's current time in RFC 3339 UTC, in whole seconds
    When the device calls bootstrap
    Then the body field "server_time" is an RFC 3339 UTC time ending in Z [BOOT-03]
    And the body field "server_time" is in whole seconds [BOOT-04]

  @BOOT-03
  Scenario: server_time is the target's current time
    When the device calls bootstrap
    Then the body field "server_time" is the target's current time [BOOT-03]

  @BOOT-06
  Scenario: min_supported_version is the configured version
    When the device calls bootstrap
    Then the body field "min_supported_version" is the configured minimum version [BOOT-06]

  @BOOT-07
  Scenario: A well-formed but unprovisioned device gets 404 Device not found
    Given an unprovisioned device
    When the device calls bootstrap
    Then the error is 404 "4004" "Device not found" [BOOT-07]
    And the error details are {"device_id": "${device}"} [BOOT-07]

  @BOOT-08
  Scenario: An app older than min_supported_version still gets 200
    When the device calls bootstrap with User-Agent "Viopay-POS/1.0.0 (Android 9; PAX-A80)"
    Then the status is 200 [BOOT-08]

  @BOOT-09 @BOOT-10 @DEV-05
  Scenario: Bootstrap can be repeated and changes nothing
    Given the device has a pairing code
    When the device calls bootstrap 3 times
    Then every response had status 200 [BOOT-09]
    And the device reads "inactive", not claimed, code "pending" [BOOT-10]

  @BOOT-10
  Scenario: Bootstrap still answers 200 once the device is claimed
    Given the device has a pairing code
    And merchant A has claimed the code
    When the device calls bootstrap
    Then the status is 200 [BOOT-10]
    And the device reads "claimed", claimed, code "used" [BOOT-10]
