Feature: Step 5 - POST /pos/attest
  Once the device reads claimed it proves who it is: the four POS headers plus X-Key-Id,
  X-Timestamp, X-Nonce and an HMAC-SHA256 signature under its identity secret. The answer is an
  attestation token for the steps that follow.

  Background:
    Given a fresh device of merchant A
    And the device is claimed

  @ATT-01 @ATT-02 @ATT-06 @ATT-07 @ATT-11 @ATT-12 @ATT-17 @ATT-20 @IDK-01 @IDK-03
  Scenario: A claimed device attests with its identity key
    When the device attests
    Then the status is 200 [ATT-01]
    And the body field "status" is "attested" [ATT-07]
    And the body field "expires_in_sec" is the integer 300 [ATT-07]
    And the attestation token is att_ and 24 letters and digits [ATT-17]
    And the device reads "claimed", claimed, code "used" [ATT-20]

  @IDK-02 @IDK-04 @IDK-05
  Scenario: Every device has its own identity key and ZMK
    Given a fresh device "D2" of merchant A
    Then the device's identity key id is idk- and its hex digits in lowercase [IDK-02]
    And the two devices' identity secrets and ZMKs differ and are 32 bytes [IDK-05]

  @ATT-04 @ATT-15
  Scenario Outline: A timestamp <skew> seconds from the target's time is inside the window
    When the device attests with X-Timestamp <skew> seconds from the target's time
    Then the status is 200 [ATT-04]

    Examples:
      | skew |
      | -295 |
      | 0    |
      | 55   |

  @ATT-04 @ATT-15 @frozen
  Scenario Outline: The window's edges, <skew> seconds, are inside it on a clock that stands still
    When the device attests with X-Timestamp <skew> seconds from the target's time
    Then the status is 200 [ATT-04]

    Examples:
      | skew |
      | -300 |
      | -299 |
      | 59   |
      | 60   |

  @ATT-04 @ATT-15 @ATT-31
  Scenario Outline: A timestamp <skew> seconds from the target's time is refused
    When the device attests with X-Timestamp <skew> seconds from the target's time
    Then the status is not 200 [ATT-04]
    And the error is 401 "4010" "Timestamp outside the accepted window" [ATT-31]
    And the error details field "server_time" is an RFC 3339 UTC time in whole seconds [ATT-31]

    Examples:
      | skew  |
      | -305  |
      | 65    |
      | -3600 |

  @ATT-04 @ATT-15 @ATT-31 @frozen
  Scenario Outline: One second past the window's edges, <skew> seconds, is refused on a clock that stands still
    When the device attests with X-Timestamp <skew> seconds from the target's time
    Then the status is not 200 [ATT-04]
    And the error is 401 "4010" "Timestamp outside the accepted window" [ATT-31]

    Examples:
      | skew |
      | -301 |
      | 61   |

  @ATT-05 @ATT-16 @ATT-32
  Scenario: A nonce is new for every request
    When the device attests
    Then the status is 200 [ATT-05]
    When the device attests again with the nonce of its last attest
    Then the status is not 200 [ATT-05]
    And the error is 401 "4010" "Nonce already used" [ATT-32]
    When the device attests
    Then the status is 200 [ATT-16]

  @ATT-16 @clock @slow @serial
  Scenario: The simulator remembers a nonce for 360 seconds
    When the device attests
    And 361 seconds pass
    And the device attests again with the nonce of its last attest
    Then the status is 200 [ATT-16]

  @ATT-06 @ATT-33
  Scenario: A signature under another secret is refused
    When the device attests with a signature under another secret
    Then the status is not 200 [ATT-06]
    And the error is 401 "4010" "Invalid signature" [ATT-33]

  @ATT-03 @ATT-30
  Scenario: A key id the device does not have is refused
    When the device attests with an unknown key id
    Then the status is not 200 [ATT-03]
    And the error is 401 "4010" "Invalid device key" [ATT-30]

  @IDK-06 @ATT-03 @ATT-30
  Scenario: A second identity key works beside the first, and a revoked key is refused
    Given the device has a second identity key
    When the device attests
    Then the status is 200 [IDK-06]
    When the device signs with its first identity key
    And the device attests
    Then the status is 200 [IDK-06]
    Given the device's first identity key is revoked
    When the device attests with its revoked key
    Then the status is not 200 [ATT-03]
    And the error is 401 "4010" "Invalid device key" [ATT-30]
    When the device attests
    Then the status is 200 [IDK-06]

  @ATT-02 @ATT-14 @ATT-22 @ATT-24 @ATT-26 @ATT-28
  Scenario Outline: An attest without <header> is refused
    When the device attests without the "<header>" header
    Then the status is not 200 [ATT-02]
    And the error is 400 "4000" "<header> header is required" [<rule>]

    Examples:
      | header      | rule   |
      | X-Key-Id    | ATT-22 |
      | X-Timestamp | ATT-24 |
      | X-Nonce     | ATT-26 |
      | X-Signature | ATT-28 |

  @ATT-02 @ATT-14 @ATT-23 @ATT-25 @ATT-27 @ATT-29
  Scenario Outline: An attest with a malformed <header> is refused
    When the device attests with an invalid "<header>" header
    Then the status is not 200 [ATT-02]
    And the error is 400 "4000" "<header> header is invalid" [<rule>]

    Examples:
      | header      | rule   |
      | X-Key-Id    | ATT-23 |
      | X-Timestamp | ATT-25 |
      | X-Nonce     | ATT-27 |
      | X-Signature | ATT-29 |

  @ATT-13
  Scenario: Attest reads no body
    When the device attests with a body and Content-Type text/plain
    Then the status is 200 [ATT-13]

  @ATT-14 @ATT-34
  Scenario: An inactive device is refused after its signature is checked
    Given a fresh device "D2" of merchant A
    When device "D2" attests
    Then the status is not 200 [ATT-34]
    And the error is 400 "4220" "Device is not claimed" [ATT-34]
    And the error details are {"device_id": "${device D2}"} [ATT-34]
    When device "D2" attests with a signature under another secret
    Then the error is 401 "4010" "Invalid signature" [ATT-14]

  @ATT-21
  Scenario: An unprovisioned device cannot attest
    When an unprovisioned device attests
    Then the error is 404 "4004" "Device not found" [ATT-21]

  @ATT-19 @ATT-08
  Scenario: An activated device attests again, and its older token still works
    Given the device is activated
    When the device attests
    Then the status is 200 [ATT-19]
    When the device calls keys with its first token
    Then the status is 200 [ATT-19]
