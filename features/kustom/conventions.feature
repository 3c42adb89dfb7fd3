Feature: Kustom conventions and paging (KUSTOM-API.md §1.1, §1.2)

  @KCONV-01 @KCONV-05 @KCONV-08
  Scenario: Paths under /ipp/v1, header names in any case, lenient bodies
    When merchant A sends GET "/ipp/v1/locations" with headers {"AUTHORIZATION": "Basic {key:A}", "X-Merchant-Id": "{mid:A}"}
    Then the answer is a success [KCONV-05]
    When merchant A sends POST "/ipp/v1/enrollments" with headers {"content-type": "text/plain"} and body {"colour": "red", "metadata": null}
    Then the answer is 201 [KCONV-08]
    And the answer's "/metadata" is {} [KCONV-08]
    When merchant A sends POST "/ipp/v1/enrollments"
    Then the answer is 201 [KCONV-01]

  @KCONV-06 @KCONV-10
  Scenario: UUIDs in any case; a path id that is not a UUID names nothing
    When merchant A creates an enrollment "E"
    And merchant A sends GET "/ipp/v1/enrollments/{E.id}"
    Then the answer's "/enrollment_id" is "{E.id}" [KCONV-06]
    When merchant A sends GET "/ipp/v1/enrollments/not-a-uuid"
    Then the problem is 404 "Enrollment not found" [KCONV-10]
    When merchant A sends DELETE "/ipp/v1/devices/not-a-uuid"
    Then the problem is 404 "Device not found" [KCONV-10]

  @KCONV-14 @KCONV-12
  Scenario: Page arithmetic (over this scenario's records: they carry its own metadata)
    When merchant A creates an enrollment "E1" with {"metadata": {"run": "{run}"}}
    And merchant A creates an enrollment "E2" with {"metadata": {"run": "{run}"}}
    And merchant A creates an enrollment "E3" with {"metadata": {"run": "{run}"}}
    And merchant A lists enrollments with "metadata=run:{run}&page_size=2&page_number=1"
    Then the list holds 1 [KCONV-14]
    And the answer's "/total_pages" is 2 [KCONV-14]
    And the answer's "/first" is false [KCONV-14]
    And the answer's "/last" is true [KCONV-14]
    When merchant A lists enrollments with "metadata=run:{run}&page_number=5"
    Then the list holds 0 [KCONV-14]
    And the answer's "/last" is true [KCONV-12]

  @KCONV-15 @KCONV-16
  Scenario: Paging parameters out of range, repeated or malformed
    When merchant A lists devices with "page_size=101"
    Then the problem names "page_size" [KCONV-16]
    When merchant A lists enrollments with "page_number=1&page_number=2"
    Then the problem names "page_number" [KCONV-15]
    When merchant A lists locations with "page_size=5000&colour=red"
    Then the answer is 200 [KCONV-15]
