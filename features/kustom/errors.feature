Feature: Kustom errors (KUSTOM-API.md §1.7–§1.9)

  @KERR-01 @KERR-02 @KERR-04 @KERR-03
  Scenario: Problem details, with every invalid member named
    When merchant A sends POST "/ipp/v1/enrollments" and body {"metadata": [], "expires_in": 5, "location_id": "x"}
    Then the problem names "expires_in", "location_id", "metadata" [KERR-03]
    And the header "content-type" is "application/problem+json" [KERR-01]
    And the answer's "/type" is "about:blank" [KERR-01]
    And the answer's "/title" is "Validation Failed" [KERR-02]
    And the answer's "/status" is 400 [KERR-01]
    And the answer's "/detail" is "Invalid request content." [KERR-04]

  @KERR-06 @KERR-07
  Scenario: Unknown routes and wrong methods
    When someone sends GET "/ipp/v1/foo?x=1"
    Then the problem is 404 "No endpoint GET /ipp/v1/foo." [KERR-06]
    When someone sends PUT "/ipp/v1/devices/me"
    Then the problem is 405 "Method 'PUT' is not supported." [KERR-07]
    And the header "allow" is "GET" [KERR-07]
    When someone sends GET "/ipp/v1/devices/0cb1e29c-658c-4a14-95e6-0af593bd04cf"
    Then the header "allow" is "PUT, DELETE" [KERR-07]

  @KERR-08 @KERR-09 @KERR-11 @KERR-10
  Scenario: Bodies over 64 KiB, bodies that are not objects, and the order of checks
    When someone sends POST "/ipp/v1/enrollments" with a body of 70000 bytes
    Then the problem is 413 "Request body too large" [KERR-08]
    When merchant A sends POST "/ipp/v1/enrollments" and body [1]
    Then the problem is 400 "Failed to read request" [KERR-09]
    When someone sends POST "/ipp/v1/enrollments" and body [1]
    Then the answer is 401 [KERR-11]
    When merchant A sends GET "/ipp/v1/devices?page_size=0"
    Then the problem names "x-merchant-id" [KERR-11]
    When someone sends POST "/ipp/v1/devices/register" and body {
    Then the answer is 400 [KERR-10]
