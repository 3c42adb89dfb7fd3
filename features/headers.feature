Feature: POS activation headers on bootstrap, pairing-code and status
  The POS endpoints authenticate with three headers alone: X-Device-Id, User-Agent and
  X-Client-Type. Each scenario puts exactly one fault in a request.

  Background:
    Given a fresh device of merchant A

  @HDR-02
  Scenario Outline: A missing X-Device-Id is refused on <endpoint>
    When the device calls <endpoint> without the "X-Device-Id" header
    Then the error is 400 "4000" "X-Device-Id header is required" [HDR-02]
    And the error has no details [ERR-06]

    Examples:
      | endpoint     |
      | bootstrap    |
      | pairing-code |
      | status       |

  @HDR-03 @HDR-04
  Scenario Outline: A malformed X-Device-Id "<value>" is refused on <endpoint>
    When the device calls <endpoint> with header "X-Device-Id" set to "<value>"
    Then the error is 400 "4000" [HDR-03]
    And the error message is "X-Device-Id header is invalid" [HDR-04]

    Examples:
      | endpoint     | value          |
      | bootstrap    | POS-5D1E07B    |
      | pairing-code | POS-5D1E07B33  |
      | status       | POS-5D1E07ZZ   |
      | status       | DEV-5D1E07B3   |
      | bootstrap    |                |

  @HDR-05 @HDR-04
  Scenario Outline: The simulator's pattern is exactly ^POS-[0-9A-F]{8}$ ("<value>" on <endpoint>)
    When the device calls <endpoint> with header "X-Device-Id" set to "<value>"
    Then the error is 400 "4000" [HDR-05]
    And the error message is "X-Device-Id header is invalid" [HDR-04]

    Examples:
      | endpoint     | value        |
      | bootstrap    | POS-5d1e07b3 |
      | status       | pos-5D1E07B3 |
      | pairing-code | POS-5d1e07b3 |

  @HDR-06 @HDR-07
  Scenario Outline: A User-Agent "<value>" is refused on <endpoint>
    When the device calls <endpoint> with header "User-Agent" set to "<value>"
    Then the error is 400 "4000" [HDR-06]
    And the error message is "User-Agent header must start with Viopay-POS/" [HDR-07]

    Examples:
      | endpoint     | value                |
      | bootstrap    | curl/8.5.0           |
      | pairing-code | Mozilla/5.0          |
      | status       | viopay-pos/1.4.2     |

  @HDR-06 @HDR-07
  Scenario Outline: A missing User-Agent is refused on <endpoint>
    When the device calls <endpoint> without the "User-Agent" header
    Then the error is 400 "4000" [HDR-06]
    And the error message is "User-Agent header must start with Viopay-POS/" [HDR-07]

    Examples:
      | endpoint     |
      | bootstrap    |
      | pairing-code |
      | status       |

  @HDR-09 @HDR-10
  Scenario Outline: X-Client-Type "<value>" is refused on <endpoint>
    When the device calls <endpoint> with header "X-Client-Type" set to "<value>"
    Then the error is 400 "4000" [HDR-09]
    And the error message is "X-Client-Type header must be pos" [HDR-10]

    Examples:
      | endpoint     | value |
      | bootstrap    | web   |
      | pairing-code | POS   |
      | status       | pos2  |

  @HDR-09 @HDR-10
  Scenario Outline: A missing X-Client-Type is refused on <endpoint>
    When the device calls <endpoint> without the "X-Client-Type" header
    Then the error is 400 "4000" [HDR-09]
    And the error message is "X-Client-Type header must be pos" [HDR-10]

    Examples:
      | endpoint     |
      | bootstrap    |
      | pairing-code |
      | status       |

  @HDR-08
  Scenario Outline: Only the Viopay-POS/ prefix of the User-Agent is checked (<endpoint>)
    When the device calls <endpoint> with header "User-Agent" set to "Viopay-POS/anything at all"
    Then the status is 200 [HDR-08]

    Examples:
      | endpoint     |
      | bootstrap    |
      | status       |
      | pairing-code |

  @HDR-11
  Scenario: Several faults: the device id is reported first, then the user agent, then the client type
    When the device calls status with header "X-Device-Id" set to "bad" and header "X-Client-Type" set to "web"
    Then the error message is "X-Device-Id header is invalid" [HDR-11]
    When the device calls status with header "User-Agent" set to "curl/8" and header "X-Client-Type" set to "web"
    Then the error message is "User-Agent header must start with Viopay-POS/" [HDR-11]

  @HDR-11
  Scenario: Header checks come before the device lookup
    Given an unprovisioned device
    When the device calls status with header "X-Client-Type" set to "web"
    Then the error message is "X-Client-Type header must be pos" [HDR-11]

  @HDR-12 @HDR-01
  Scenario Outline: Header names are case-insensitive (<case> on the wire)
    When the device polls status with header names in <case>
    Then the status is 200 [HDR-12]

    Examples:
      | case       |
      | lowercase  |
      | Title-Case |
