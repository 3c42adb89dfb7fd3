Feature: Kustom locations (KUSTOM-API.md §2.11)

  @KLOC-01
  Scenario: The merchant's locations, a page at a time
    When merchant B lists locations
    Then the answer is 200 [KLOC-01]
    And the answer's "/content/0/id" matches "(?i)^({location:B:1}|{location:B:2})$" [KLOC-01]
    When merchant B lists locations with "page_size=1&page_number=1"
    Then the answer's "/content/0/id" matches "(?i)^({location:B:1}|{location:B:2})$" [KLOC-01]

  @KLOC-03 @KLOC-04 @KLOC-05 @fresh
  Scenario: The simulator's locations, from its fixtures, in their order
    When merchant B lists locations
    Then the answer's "/total_elements" is 2 [KLOC-05]
    And the answer's "/content/0/id" is "{location:B:1}" [KLOC-04]
    And the answer's "/content/1/id" is "{location:B:2}" [KLOC-04]
    When merchant A lists locations
    Then the answer's "/total_elements" is 1 [KLOC-05]
    And the answer's "/content/0/id" is "{location:A}" [KLOC-03]

  @KLOC-02 @KLOC-07 @KLOC-03
  Scenario: One location of the merchant; another merchant's is not found
    When merchant A sends GET "/ipp/v1/locations/{location:A}" with headers {"x-merchant-id": "{mid:A}"}
    Then the answer is 200 [KLOC-02]
    And the answer has exactly the members "id", "name", "city" [KLOC-03]
    When merchant A sends GET "/ipp/v1/locations/{location:B}" with headers {"x-merchant-id": "{mid:A}"}
    Then the problem is 404 "Location not found" [KLOC-07]
