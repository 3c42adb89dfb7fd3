Feature: Kustom authentication (KUSTOM-API.md §1.5, §1.6)

  @KAUTH-01 @KAUTH-04 @KAUTH-03 @KAUTH-10
  Scenario: The API key as Basic, the scheme word in any case; a wrong key is refused
    When merchant A sends GET "/ipp/v1/locations" with headers {"authorization": "Basic {key:A}", "x-merchant-id": "{mid:A}"}
    Then the answer is a success [KAUTH-01]
    When merchant A sends GET "/ipp/v1/locations" with headers {"authorization": "BASIC {key:A}", "x-merchant-id": "{mid:A}"}
    Then the answer is 200 [KAUTH-04]
    When merchant A sends GET "/ipp/v1/locations" with headers {"authorization": "Basic {wrongkey:A}", "x-merchant-id": "{mid:A}"}
    Then the answer is 401 [KAUTH-10]
    When merchant A sends GET "/ipp/v1/locations" with headers {"authorization": "Basic kco_test_ipp_000000000000000000000000", "x-merchant-id": "{mid:A}"}
    Then the answer is 401 [KAUTH-03]

  @KAUTH-02
  Scenario: HTTP Basic without a username, with a wrong one, and with the key's
    When merchant A sends GET "/ipp/v1/locations" with headers {"authorization": "Basic {basic:A:anon}", "x-merchant-id": "{mid:A}"}
    Then the answer is a success [KAUTH-02]
    When merchant A sends GET "/ipp/v1/locations" with headers {"authorization": "Basic {basic:A:other}", "x-merchant-id": "{mid:A}"}
    Then the answer is 401 [KAUTH-02]
    When merchant A sends GET "/ipp/v1/locations" with headers {"authorization": "Basic {basic:A}", "x-merchant-id": "{mid:A}"}
    Then the answer is a success [KAUTH-02]

  @KAUTH-10 @KAUTH-11
  Scenario: No key, a wrong key, another scheme: 401
    When someone sends POST "/ipp/v1/enrollments" and body {}
    Then the answer is 401 [KAUTH-10]
    And the problem is 401 "Access Denied" [KAUTH-11]
    And the header "www-authenticate" is "Basic realm=\"ipp\"" [KAUTH-11]
    When someone sends POST "/ipp/v1/enrollments" with headers {"authorization": "Bearer {key:A}"} and body {}
    Then the problem is 401 "Access Denied" [KAUTH-11]
    When someone sends POST "/ipp/v1/enrollments" with headers {"authorization": "Basic {wrongkey:A}"} and body {}
    Then the answer is 401 [KAUTH-10]
    When someone sends POST "/ipp/v1/enrollments" with headers {"authorization": "Basic {wrongkey:B}"} and body {}
    Then the answer is 401 [KAUTH-10]

  @KAUTH-05 @KAUTH-07
  Scenario: The key alone names the merchant; x-merchant-id is ignored off the lists
    When merchant A sends POST "/ipp/v1/enrollments" with headers {"x-merchant-id": "{mid:B}"} and body {"merchant_id": "{mid:B}"}
    Then the answer's "/location_id" is "{location:A}" [KAUTH-05]
    When merchant A creates an enrollment "E"
    And merchant A sends GET "/ipp/v1/enrollments/{E.id}" with headers {"x-merchant-id": "anything"}
    Then the answer is 200 [KAUTH-07]

  @KAUTH-06 @KAUTH-12 @KAUTH-13
  Scenario: The lists need x-merchant-id, equal to the key's merchant
    When merchant A sends GET "/ipp/v1/devices"
    Then the problem names "x-merchant-id" [KAUTH-12]
    When merchant A sends GET "/ipp/v1/devices" with headers {"x-merchant-id": "{mid:B}"}
    Then the problem is 403 "x-merchant-id does not match the API key" [KAUTH-13]
    When merchant A sends GET "/ipp/v1/devices" with headers {"x-merchant-id": "{mid:A}"}
    Then the answer is a success [KAUTH-06]

  @KAUTH-16 @KAUTH-17 @KAUTH-18
  Scenario: The device token: RS256, the documented header, a registered device of its merchant
    When merchant A creates an enrollment "E"
    And the POS app registers "D" with the code of "E"
    Then the answer's "/credentials/bearer_token" matches "^eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6" [KAUTH-16]
    And the device token of "D" verifies against the realm's keys [KAUTH-17]
    When someone sends GET "/ipp/v1/devices/me" with headers {"authorization": "bearer {D.token}"}
    Then the answer is 200 [KAUTH-18]
    When someone sends GET "/ipp/v1/devices/me" with headers {"authorization": "Basic {key:A}"}
    Then the answer is 401 [KAUTH-20]
