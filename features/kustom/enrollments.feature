Feature: Kustom enrollments (KUSTOM-API.md §2.1–§2.4, §3.1)
  The merchant's backend creates an enrollment with its API key and gets a short-lived code; the
  list shows PENDING and CONSUMED enrollments only.

  @KEN-01 @KEN-02 @KEN-03 @KEN-04 @KEN-05 @KEN-39 @KEN-10 @KCONV-03 @KCONV-04 @KCONV-06 @KCONV-07 @KFLOW-02
  Scenario: An enrollment with no member gets the merchant's only location and a 2-hour code
    When merchant A creates an enrollment "E1"
    Then the answer is 201 [KEN-01]
    And the answer's "/status" is "PENDING" [KEN-39]
    And the answer has exactly the members "enrollment_id", "enrollment_code", "expires_at", "status", "metadata", "location_id", "created_at" [KEN-05]
    And the answer's "/metadata" is {} [KEN-05]
    And the answer's "/location_id" is "{location:A}" [KEN-10]
    And the answer's "/enrollment_id" matches "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$" [KCONV-06]
    And the answer's "/created_at" matches "^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$" [KCONV-04]
    And the header "content-type" is "application/json" [KCONV-07]

  @KEN-06 @KEN-07 @KEN-08 @KEN-11 @KEN-02
  Scenario: Metadata, expires_in and ttl at their limits are accepted
    When merchant A creates an enrollment "E1" with {"metadata": {"store_id": "123", "terminal_type": "checkout"}, "expires_in": 1000}
    Then the answer is 201 [KEN-07]
    And the answer's "/metadata" is {"store_id": "123", "terminal_type": "checkout"} [KEN-06]
    And the answer's "/enrollment_code" matches "^[A-HJ-NP-Z2-9]{8}$" [KEN-11]
    When merchant A creates an enrollment "E2" with {"expires_in": 259200000}
    Then the answer is 201 [KEN-07]
    When merchant A creates an enrollment "E3" with {"ttl": "SEVENTY_TWO_HOURS"}
    Then the answer is 201 [KEN-08]

  @KEN-17 @KEN-06 @KERR-03
  Scenario: Bad metadata is refused with the member named
    When merchant A sends POST "/ipp/v1/enrollments" and body {"metadata": {"k": 1}}
    Then the problem names "metadata" [KEN-17]
    When merchant A sends POST "/ipp/v1/enrollments" and body {"metadata": ["k"]}
    Then the problem names "metadata" [KEN-06]

  @KEN-18 @KEN-07
  Scenario: An expires_in out of range or with a fraction is refused
    When merchant A sends POST "/ipp/v1/enrollments" and body {"expires_in": 999}
    Then the problem names "expires_in" [KEN-18]
    When merchant A sends POST "/ipp/v1/enrollments" and body {"expires_in": 1000.5}
    Then the problem names "expires_in" [KEN-07]

  @KEN-19 @KEN-09
  Scenario: A bad ttl, or both lifetimes, is refused
    When merchant A sends POST "/ipp/v1/enrollments" and body {"ttl": "two_hours"}
    Then the problem names "ttl" [KEN-19]
    When merchant A sends POST "/ipp/v1/enrollments" and body {"ttl": "TWO_HOURS", "expires_in": 7200000}
    Then the problem names "ttl" [KEN-09]

  @KEN-20 @KEN-10
  Scenario: A merchant with two locations must name one of its own
    When merchant B sends POST "/ipp/v1/enrollments" and body {}
    Then the problem names "location_id" [KEN-20]
    When merchant B sends POST "/ipp/v1/enrollments" and body {"location_id": "{location:A}"}
    Then the problem names "location_id" [KEN-10]
    When merchant B creates an enrollment "E1" with {"location_id": "{location:B:2}"}
    Then the answer's "/location_id" is "{location:B:2}" [KEN-10]

  @KEN-12
  Scenario: Codes of pending enrollments are unique
    When merchant A creates an enrollment "E1"
    And merchant B creates an enrollment "E2" with {"location_id": "{location:B}"}
    And merchant A creates an enrollment "E3"
    Then the codes of "E1", "E2" and "E3" differ [KEN-12]

  @KEN-21 @KEN-29 @KEN-28 @KCONV-12 @KCONV-13 @KAUTH-06
  Scenario: The list shows the merchant's enrollments, newest first, in a page
    When merchant A creates an enrollment "E1" with {"metadata": {"run": "{run}"}}
    And the clock moves 1 second
    And merchant A creates an enrollment "E2" with {"metadata": {"run": "{run}"}}
    And merchant B creates an enrollment "E3" with {"location_id": "{location:B}", "metadata": {"run": "{run}"}}
    And merchant A lists enrollments with "metadata=run:{run}"
    Then the answer is 200 [KEN-21]
    And the list holds 2 [KEN-29]
    And the answer's "/content/0/enrollment_id" is "{E2.id}" [KEN-28]
    And the answer's "/page_number" is 0 [KCONV-13]
    And the answer's "/page_size" is 20 [KCONV-13]
    And the answer's "/total_elements" is 2 [KCONV-12]
    And enrollment "E3" is not listed [KEN-29]

  @KEN-22 @KEN-40 @KEN-41 @KEN-42 @KEN-35 @KEN-36 @KEN-24 @KEN-26 @clock
  Scenario: CANCELLED and EXPIRED enrollments leave the list; CONSUMED ones stay unless left out
    When merchant A creates an enrollment "P" with {"metadata": {"run": "{run}"}}
    And merchant A creates an enrollment "C" with {"metadata": {"store_id": "1", "run": "{run}"}}
    And merchant A creates an enrollment "X" with {"metadata": {"run": "{run}"}}
    And merchant A creates an enrollment "S" with {"expires_in": 1000, "metadata": {"run": "{run}"}}
    And the POS app registers "D" with the code of "C"
    And merchant A cancels "X"
    Then the answer is 204 [KEN-36]
    When the clock moves 2 seconds
    And merchant A lists enrollments with "metadata=run:{run}"
    Then enrollment "P" is listed [KEN-21]
    And enrollment "C" is listed [KEN-40]
    And the enrollment "C" reads "CONSUMED" at "/status" [KEN-40]
    And enrollment "X" is not listed [KEN-42]
    And enrollment "S" is not listed [KEN-41]
    When merchant A lists enrollments with "metadata=run:{run}&include_consumed=FALSE"
    Then enrollment "C" is not listed [KEN-26]
    And enrollment "P" is listed [KEN-24]

  @KEN-24 @KEN-25 @KEN-27 @KEN-30 @KEN-31
  Scenario: List filters: metadata, location, and their refusals
    When merchant A creates an enrollment "E1" with {"metadata": {"store_id": "123", "url": "http://x:1", "run": "{run}"}}
    And merchant A creates an enrollment "E2" with {"metadata": {"store_id": "456", "run": "{run}"}}
    And merchant A lists enrollments with "metadata=store_id:123&metadata=url:http://x:1&metadata=run:{run}"
    Then enrollment "E1" is listed [KEN-25]
    And enrollment "E2" is not listed [KEN-24]
    When merchant A lists enrollments with "location_id=0cb1e29c-658c-4a14-95e6-0af593bd04cf"
    Then the list holds 0 [KEN-27]
    When merchant A lists enrollments with "metadata=nocolon"
    Then the problem names "metadata" [KEN-30]
    When merchant A lists enrollments with "include_consumed=maybe"
    Then the problem names "include_consumed" [KEN-31]

  @KEN-32 @KEN-34
  Scenario: One enrollment, any status; another merchant's is not found
    When merchant A creates an enrollment "E1"
    And merchant A cancels "E1"
    And merchant A sends GET "/ipp/v1/enrollments/{E1.id}"
    Then the answer is 200 [KEN-32]
    And the answer's "/status" is "CANCELLED" [KEN-32]
    When merchant B sends GET "/ipp/v1/enrollments/{E1.id}"
    Then the problem is 404 "Enrollment not found" [KEN-34]

  @KEN-38 @KEN-43 @clock
  Scenario: Only a PENDING enrollment can be cancelled; the other statuses are terminal
    When merchant A creates an enrollment "C"
    And the POS app registers "D" with the code of "C"
    And merchant A cancels "C"
    Then the problem is 409 "Enrollment is CONSUMED" [KEN-38]
    When the clock moves 300000 seconds
    And merchant A sends GET "/ipp/v1/enrollments/{C.id}"
    Then the answer's "/status" is "CONSUMED" [KEN-43]
