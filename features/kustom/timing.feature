Feature: Kustom timing and the flow (KUSTOM-API.md §4, §5)

  @KTIME-01 @KTIME-02 @KEN-41 @clock @frozen
  Scenario: One second either side of expires_at
    When merchant A creates an enrollment "E1" with {"expires_in": 10000}
    And merchant A creates an enrollment "E2" with {"expires_in": 10000}
    And the clock moves 9 seconds
    And merchant A lists enrollments
    Then enrollment "E2" is listed [KTIME-01]
    When the POS app registers "D" with the code of "E1"
    Then the answer is a success [KTIME-01]
    When the clock moves 1 second
    And merchant A sends GET "/ipp/v1/enrollments/{E2.id}"
    Then the answer's "/status" is "EXPIRED" [KTIME-02]
    When the clock moves 1 second
    And merchant A lists enrollments
    Then enrollment "E2" is not listed [KTIME-01]

  @KTIME-03 @KTIME-04 @KTIME-05 @clock
  Scenario: One clock, whole seconds, tokens that never expire
    When merchant A creates an enrollment "E" with {"expires_in": 2500}
    Then the answer's "/created_at" matches "^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$" [KTIME-04]
    And the answer's "/expires_at" matches "\.500Z$" [KTIME-04]
    When the POS app registers "D" with the code of "E"
    Then the answer's "/credentials/issuedAt" matches "^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$" [KTIME-03]
    When the clock moves 31536000 seconds
    And device "D" reads its own record
    Then the answer is 200 [KTIME-05]

  @KFLOW-01 @KFLOW-03 @KFLOW-05 @KDEV-07 @KDEV-20 @KREG-12
  Scenario: The worked example: enroll, register, find by metadata, rename, deregister
    When merchant A lists locations
    Then the answer is 200 [KFLOW-01]
    When merchant A creates an enrollment "E" with {"metadata": {"store_id": "123", "terminal_type": "checkout", "run": "{run}"}}
    And the POS app registers "D" with the code of "E" and {"hardware_id": "R58N90-{run}-ABCDE"}
    And merchant A lists devices with "metadata=store_id:123&metadata=run:{run}"
    Then device "D" is listed [KDEV-07]
    When device "D" reads its own record
    Then the answer's "/name" is "ANDROID BCDE" [KREG-12]
    When merchant A updates "D" with {"name": "Counter 1", "metadata": {"store_id": "123", "terminal_type": "checkout"}, "location_id": "{location:A}"}
    Then the answer's "/name" is "Counter 1" [KFLOW-03]
    When merchant A deregisters "D"
    And device "D" reads its own record
    Then the answer is a refusal [KDEV-20]
    When merchant A creates an enrollment "F"
    And the POS app registers "D2" with the code of "F" and {"hardware_id": "R58N90-{run}-ABCDE"}
    Then the answer is a success [KFLOW-05]
