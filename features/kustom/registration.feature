Feature: Kustom registration (KUSTOM-API.md §2.5, §2.12)
  The POS app registers with the code the clerk typed, without authentication, and gets the
  device record and its credentials.

  @KREG-01 @KREG-02 @KREG-03 @KREG-05 @KREG-09 @KREG-10 @KREG-11 @KREG-12 @KAUTH-14 @KAUTH-16 @KDEV-27 @KCONV-02 @KFLOW-01
  Scenario: The app registers without authentication and gets the record and its credentials
    When merchant A creates an enrollment "E" with {"metadata": {"store_id": "123"}}
    And someone sends POST "/ipp/v1/devices/register" with headers {"authorization": "Basic nonsense"} and body {"enrollment_code": "{E.code}", "hardware_id": "R58N90-{run}-ABCDE", "platform": "ANDROID"}
    Then the answer is 201 [KREG-12]
    And the answer's "/metadata" is {"store_id": "123"} [KREG-10]
    And the answer's "/location_id" is {E.location} [KREG-11]
    And the answer's "/merchant_id" is "{mid:A}" [KREG-09]
    And the answer's "/name" is "ANDROID BCDE" [KREG-12]
    And the answer's "/open_cash_register_id" is null [KREG-12]
    And the answer's "/credentials/bearer_token" matches "^\S+$" [KAUTH-14]
    And the answer's "/credentials/bearer_token" matches "^eyJ" [KAUTH-16]
    And the answer's "/credentials/issuedAt" matches "^\d{4}-\d{2}-\d{2}T" [KCONV-02]
    When merchant A sends GET "/ipp/v1/enrollments/{E.id}"
    Then the answer's "/status" is "CONSUMED" [KREG-09]

  @KREG-06 @KREG-18
  Scenario: Every invalid member of a registration is named
    When someone sends POST "/ipp/v1/devices/register" and body {}
    Then the problem names "enrollment_code", "hardware_id", "platform" [KREG-18]
    When someone sends POST "/ipp/v1/devices/register" and body {"enrollment_code": " ", "hardware_id": "", "platform": "android", "name": ""}
    Then the problem names "enrollment_code", "hardware_id", "name", "platform" [KREG-06]

  @KREG-07 @KREG-19
  Scenario: The code is trimmed and uppercased; an unknown code is not found
    When merchant A creates an enrollment "E"
    And someone sends POST "/ipp/v1/devices/register" and body {"enrollment_code": "  {E.code}  ", "hardware_id": "HW-{run}-1", "platform": "IOS"}
    Then the answer is 201 [KREG-07]
    When someone sends POST "/ipp/v1/devices/register" and body {"enrollment_code": "NOT-A-CODE", "hardware_id": "HW-{run}-2", "platform": "IOS"}
    Then the problem is 404 "Enrollment code not found" [KREG-19]

  @KREG-13 @KREG-22 @KREG-08
  Scenario: A code registers one device only
    When merchant A creates an enrollment "E" with {"metadata": {"run": "{run}"}}
    And the POS app registers "D1" with the code of "E"
    And the POS app registers "D2" with the code of "E"
    Then the problem is 409 "Enrollment code has already been used" [KREG-22]
    When merchant A lists devices with "metadata=run:{run}"
    Then the list holds 1 [KREG-13]
    And device "D1" is listed [KREG-08]

  @KREG-20 @KTIME-01 @clock
  Scenario: An expired code registers nothing
    When merchant A creates an enrollment "E" with {"expires_in": 10000}
    And the clock moves 11 seconds
    And the POS app registers "D" with the code of "E"
    Then the problem is 410 "Enrollment code has expired" [KREG-20]

  @KREG-21
  Scenario: A cancelled code registers nothing
    When merchant A creates an enrollment "E"
    And merchant A cancels "E"
    And the POS app registers "D" with the code of "E"
    Then the problem is 410 "Enrollment code has been cancelled" [KREG-21]

  @KREG-15 @KREG-23 @KREG-16
  Scenario: Registered hardware blocks another registration of the same merchant, and nothing changes
    When merchant A creates an enrollment "E1"
    And merchant A creates an enrollment "E2"
    And the POS app registers "D1" with the code of "E1" and {"hardware_id": "SAME-HW-{run}"}
    And the POS app registers "D2" with the code of "E2" and {"hardware_id": "SAME-HW-{run}"}
    Then the problem is 409 "A device with this hardware_id is already registered" [KREG-23]
    When merchant A sends GET "/ipp/v1/enrollments/{E2.id}"
    Then the answer's "/status" is "PENDING" [KREG-16]
    When merchant B creates an enrollment "E3" with {"location_id": "{location:B}"}
    And the POS app registers "D3" with the code of "E3" and {"hardware_id": "SAME-HW-{run}"}
    Then the answer is 201 [KREG-15]

  @KREG-14
  Scenario: A code is consumed once even when registrations race
    When merchant A creates an enrollment "E"
    And 8 POS apps register with the code of "E" at once
    Then exactly one registration succeeds [KREG-14]

  @KREG-24 @KREG-25 @KREG-26 @KREG-27 @KREG-28 @KFLOW-04
  Scenario: The playground's simulated device, enrolled and registered at once
    When merchant A sends POST "/ipp/v1/dev/devices" and body {"name": "Test device", "metadata": {"store_id": "123", "simulated": "no", "run": "{run}"}}
    Then the answer is a success [KREG-26]
    And the answer's "/metadata" is {"store_id": "123", "simulated": "true", "run": "{run}"} [KREG-24]
    And the answer's "/name" is "Test device" [KREG-25]
    And the answer's "/hardware_id" matches "^SIM-[0-9A-F]{12}$" [KREG-28]
    And the answer's "/platform" is "TERMINAL" [KREG-28]
    And the answer's "/credentials/bearer_token" matches "^eyJ" [KREG-27]
    When merchant A lists enrollments with "metadata=run:{run}"
    Then the answer's "/content/0/status" is "CONSUMED" [KREG-28]

  @KREG-30
  Scenario: The simulated device needs a name
    When merchant A sends POST "/ipp/v1/dev/devices" and body {}
    Then the problem names "name" [KREG-30]
