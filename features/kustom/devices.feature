Feature: Kustom devices (KUSTOM-API.md §2.6–§2.10, §3.2)
  The merchant lists its devices (filtered by the metadata they carry over), updates and
  deregisters them; deregistering revokes the device's token at once.

  @KDEV-01 @KDEV-02 @KDEV-03 @KDEV-25 @KAUTH-15
  Scenario: The device record, read by the device itself
    When merchant A creates an enrollment "E" with {"metadata": {"a": "b"}}
    And the POS app registers "D" with the code of "E"
    And device "D" reads its own record
    Then the answer is 200 [KDEV-25]
    And the answer has exactly the members "id", "hardware_id", "merchant_id", "location_id", "name", "platform", "metadata", "created_at", "open_cash_register_id" [KDEV-02]
    And the answer's "/platform" is "ANDROID" [KDEV-01]
    And the answer's "/merchant_id" is "{mid:A}" [KDEV-03]
    And the answer's "/credentials" is null [KAUTH-15]

  @KDEV-06 @KDEV-07 @KDEV-08 @KDEV-09 @KDEV-10 @KFLOW-03 @clock
  Scenario: The merchant's registered devices, newest first, filtered by carried-over metadata
    When merchant A creates an enrollment "E1" with {"metadata": {"store_id": "123", "run": "{run}"}, "location_id": "{location:A}"}
    And merchant A creates an enrollment "E2" with {"metadata": {"store_id": "456", "run": "{run}"}, "location_id": "{location:A}"}
    And merchant A creates an enrollment "E3" with {"metadata": {"store_id": "123", "run": "{run}"}, "location_id": "{location:A}"}
    And the POS app registers "D1" with the code of "E1"
    And the clock moves 1 second
    And the POS app registers "D2" with the code of "E2"
    And the POS app registers "D3" with the code of "E3"
    And merchant A deregisters "D3"
    And merchant A lists devices with "metadata=run:{run}"
    Then the answer is 200 [KDEV-06]
    And the answer's "/content/0/id" is "{D2.id}" [KDEV-10]
    And device "D3" is not listed [KDEV-09]
    When merchant A lists devices with "metadata=store_id:123&metadata=run:{run}"
    Then device "D1" is listed [KDEV-07]
    And device "D2" is not listed [KDEV-07]
    When merchant A lists devices with "location_id={location:A}&metadata=run:{run}&page_size=1&page_number=1"
    Then the answer's "/content/0/id" is "{D1.id}" [KDEV-08]

  @KDEV-12 @KDEV-13 @KDEV-14 @KDEV-15 @KDEV-28 @KDEV-04
  Scenario: An update replaces name, metadata and location, and nothing else
    When merchant A creates an enrollment "E" with {"metadata": {"store_id": "123"}}
    And the POS app registers "D" with the code of "E" and {"hardware_id": "R58N90-{run}-ABCDE"}
    And merchant A updates "D" with {"name": "Counter 1", "metadata": {"x": "y"}, "location_id": "{location:A}"}
    Then the answer is 200 [KDEV-12]
    And the answer's "/name" is "Counter 1" [KDEV-12]
    And the answer is the record of device "D" [KDEV-04]
    When merchant A updates "D" with {}
    Then the answer's "/metadata" is {} [KDEV-13]
    And the answer's "/location_id" is null [KDEV-13]
    And the answer's "/name" is "ANDROID BCDE" [KDEV-13]
    And the answer's "/hardware_id" is "R58N90-{run}-ABCDE" [KDEV-15]
    When device "D" reads its own record
    Then the answer is 200 [KDEV-28]
    When merchant A updates "D" with {"name": "", "metadata": [], "location_id": "{location:B}"}
    Then the problem names "location_id", "metadata", "name" [KDEV-14]

  @KDEV-17 @KDEV-18 @KDEV-19
  Scenario: Unknown, foreign and invalid updates
    When merchant A sends PUT "/ipp/v1/devices/0cb1e29c-658c-4a14-95e6-0af593bd04cf" and body {}
    Then the answer is 404 [KDEV-18]
    And the problem is 404 "Device not found" [KDEV-19]
    When merchant A creates an enrollment "E"
    And the POS app registers "D" with the code of "E"
    And merchant B sends PUT "/ipp/v1/devices/{D.id}" and body {}
    Then the problem is 404 "Device not found" [KDEV-19]
    When merchant A sends PUT "/ipp/v1/devices/{D.id}" and body {"name": 5}
    Then the problem names "name" [KDEV-17]

  @KDEV-20 @KDEV-21 @KDEV-29 @KDEV-30 @KAUTH-20
  Scenario: Deregistering revokes the token at once, for good
    When merchant A creates an enrollment "E"
    And the POS app registers "D" with the code of "E"
    And device "D" reads its own record
    Then the answer is 200 [KDEV-25]
    When merchant A deregisters "D"
    Then the answer is 204 [KDEV-21]
    When device "D" reads its own record
    Then the answer is a refusal [KDEV-20]
    And the problem is 401 "Access Denied" [KAUTH-20]
    And the header "www-authenticate" is "Bearer realm=\"ipp\"" [KAUTH-20]
    When merchant A deregisters "D"
    Then the problem is 404 "Device not found" [KDEV-30]
    When merchant A lists devices
    Then device "D" is not listed [KDEV-29]

  @KDEV-22 @KDEV-23
  Scenario: A deregistered device needs a new enrollment, and gets a new id
    When merchant A creates an enrollment "E1"
    And the POS app registers "D1" with the code of "E1" and {"hardware_id": "SAME-HW-{run}"}
    And merchant A deregisters "D1"
    And the POS app registers "D2" with the code of "E1" and {"hardware_id": "SAME-HW-{run}"}
    Then the answer is a refusal [KDEV-22]
    When merchant A creates an enrollment "E2"
    And the POS app registers "D3" with the code of "E2" and {"hardware_id": "SAME-HW-{run}"}
    Then the answer is 201 [KDEV-23]
    When merchant A sends GET "/ipp/v1/enrollments/{E1.id}"
    Then the answer's "/status" is "CONSUMED" [KDEV-23]
