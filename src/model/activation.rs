//! Steps 5–8 in the shared model: attest (ATT-01…ATT-34), attestation auth (ATT-35…ATT-41), keys,
//! config, terminal parameters and activate (KEYS-*, CFG-*, TPAR-*, ACT-*, MSK-09, MSK-10). As for
//! steps 1–4, each request lists every acceptable answer: the simulator's, the differences a
//! SIMULATOR rule fixes (advisories), and what an UNKNOWN rule leaves open. What a 200 must
//! contain once decrypted is judged by [`crate::pos::verify`].

use serde_json::json;

use super::allowed::{Expect, Outcome};
use super::viopay::Model;

/// The attestation token's lifetime (ATT-08, TIME-05).
pub const TOKEN_TTL: f64 = 300.0;
/// How far back and ahead `X-Timestamp` may be (ATT-04, ATT-15).
pub const WINDOW_PAST: i64 = 300;
pub const WINDOW_FUTURE: i64 = 60;
/// How long the simulator remembers a nonce (ATT-16).
pub const NONCE_MEMORY: f64 = 360.0;

/// One of the four signature headers (ATT-02).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureHeader {
    KeyId,
    Timestamp,
    Nonce,
    Signature,
}

impl SignatureHeader {
    pub const ALL: [SignatureHeader; 4] =
        [SignatureHeader::KeyId, SignatureHeader::Timestamp, SignatureHeader::Nonce, SignatureHeader::Signature];

    pub fn name(self) -> &'static str {
        match self {
            SignatureHeader::KeyId => "X-Key-Id",
            SignatureHeader::Timestamp => "X-Timestamp",
            SignatureHeader::Nonce => "X-Nonce",
            SignatureHeader::Signature => "X-Signature",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.name().eq_ignore_ascii_case(name))
    }

    /// A malformed value: an empty key id, a date that is not RFC 3339, a short nonce, the docs'
    /// placeholder with the URL-safe alphabet and no padding.
    pub fn invalid_value(self) -> &'static str {
        match self {
            SignatureHeader::KeyId => "",
            SignatureHeader::Timestamp => "13/12/2025 14:25:30",
            SignatureHeader::Nonce => "abc-123",
            SignatureHeader::Signature => "v1=SGVsbG8gV29ybGQ",
        }
    }

    /// The REQUIRED rule the header belongs to (a server that ignores it breaks this).
    fn required(self) -> &'static str {
        match self {
            SignatureHeader::KeyId => "ATT-03",
            SignatureHeader::Timestamp => "ATT-04",
            SignatureHeader::Nonce => "ATT-05",
            SignatureHeader::Signature => "ATT-06",
        }
    }

    /// The simulator's errors: absent (ATT-22, 24, 26, 28) and invalid (ATT-23, 25, 27, 29).
    fn errors(self) -> [(&'static str, &'static str); 2] {
        match self {
            SignatureHeader::KeyId => [("ATT-22", "X-Key-Id header is required"), ("ATT-23", "X-Key-Id header is invalid")],
            SignatureHeader::Timestamp => [("ATT-24", "X-Timestamp header is required"), ("ATT-25", "X-Timestamp header is invalid")],
            SignatureHeader::Nonce => [("ATT-26", "X-Nonce header is required"), ("ATT-27", "X-Nonce header is invalid")],
            SignatureHeader::Signature => [("ATT-28", "X-Signature header is required"), ("ATT-29", "X-Signature header is invalid")],
        }
    }
}

/// What is wrong with an attest request, if anything. The harness builds the request from this, so
/// the model knows exactly what was sent.
#[derive(Clone, Debug, PartialEq)]
pub enum AttestFault {
    None,
    Missing(SignatureHeader),
    Invalid(SignatureHeader),
    /// A key id the device does not have (ATT-30), or one revoked through the control API.
    UnknownKey,
    RevokedKey,
    /// `X-Timestamp` this many seconds from the target's time (negative: in the past).
    Skewed(i64),
    /// The nonce of an attest the target accepted `age` model seconds ago, signed afresh.
    ReusedNonce {
        age: f64,
    },
    /// Signed with another secret.
    BadSignature,
}

/// The endpoints behind attestation auth (§5.2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Keys,
    Config,
    Parameters,
    Activate,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Keys, Step::Config, Step::Parameters, Step::Activate];

    pub fn path(self) -> &'static str {
        match self {
            Step::Keys => "/pos/keys",
            Step::Config => "/pos/config",
            Step::Parameters => "/pos/terminal-parameters",
            Step::Activate => "/pos/activate",
        }
    }

    /// The word the features use.
    pub fn name(self) -> &'static str {
        match self {
            Step::Keys => "keys",
            Step::Config => "config",
            Step::Parameters => "terminal-parameters",
            Step::Activate => "activate",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The credential a step request carries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Credential {
    /// `Attestation {token}` with a token the target issued to device `owner` at model time
    /// `issued`, and the request's own well-formed `X-Device-Id`.
    Issued {
        owner: usize,
        issued: f64,
    },
    /// No `Authorization`, another scheme (`Bearer`), no token after the scheme, or a token never
    /// issued (ATT-38).
    Refused,
    /// A valid token, but no `X-Device-Id` (ATT-39) or a malformed one (ATT-40).
    NoDeviceId {
        owner: usize,
        issued: f64,
    },
    BadDeviceId {
        owner: usize,
        issued: f64,
    },
}

/// The body of an activate request (ACT-01, ACT-05, MSK-08).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActivateBody {
    /// The three flags, under the MSK, as a firmware sends them.
    Flags { emv_ready: bool, keys_installed: bool, network_ok: bool },
    /// All three `true`, in lowercase hex (MSK-05).
    LowercaseHex,
    /// All three `true`, without `key_kcv` (the docs' example leaves it out).
    NoKcv,
    /// A plaintext that is a JSON object without `network_ok` (ACT-06).
    MissingFlag,
    /// A plaintext whose `emv_ready` is the string "true" (ACT-06).
    StringFlag,
    /// Not an envelope at all: `{"hello": "world"}` (MSK-09).
    Garbage,
    /// The flags under a key that is not the MSK (MSK-09).
    WrongKey,
    /// The flags under the MSK with another `key_kcv` (MSK-07).
    WrongKcv,
    /// A `TR31-DATA-CHUNKED` envelope (ACT-05).
    Chunked,
}

impl ActivateBody {
    /// Every body other than the flags, in a fixed order (the fuzzer draws from these).
    pub const OTHERS: [ActivateBody; 8] = [
        ActivateBody::LowercaseHex,
        ActivateBody::NoKcv,
        ActivateBody::MissingFlag,
        ActivateBody::StringFlag,
        ActivateBody::Garbage,
        ActivateBody::WrongKey,
        ActivateBody::WrongKcv,
        ActivateBody::Chunked,
    ];

    /// The words the features use for each body (`When the device activates with …`).
    pub fn words(&self) -> String {
        match self {
            ActivateBody::Flags { emv_ready, keys_installed, network_ok } => {
                format!("flags emv_ready={emv_ready}, keys_installed={keys_installed}, network_ok={network_ok}")
            }
            ActivateBody::LowercaseHex => "lowercase hex".into(),
            ActivateBody::NoKcv => "no key_kcv".into(),
            ActivateBody::MissingFlag => "a plaintext without network_ok".into(),
            ActivateBody::StringFlag => "a plaintext whose emv_ready is a string".into(),
            ActivateBody::Garbage => "a body that is not an envelope".into(),
            ActivateBody::WrongKey => "an envelope under another key".into(),
            ActivateBody::WrongKcv => "another key_kcv".into(),
            ActivateBody::Chunked => "a chunked envelope".into(),
        }
    }

    pub fn from_words(words: &str) -> Option<Self> {
        if words == "all three flags true" {
            return Some(Self::ready());
        }
        if let Some(rest) = words.strip_prefix("flags ") {
            let flag = |name: &str| {
                rest.split(", ").find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('='))).and_then(|v| v.parse::<bool>().ok())
            };
            return Some(ActivateBody::Flags {
                emv_ready: flag("emv_ready")?,
                keys_installed: flag("keys_installed")?,
                network_ok: flag("network_ok")?,
            });
        }
        Self::OTHERS.into_iter().find(|b| b.words() == words)
    }

    pub fn ready() -> Self {
        ActivateBody::Flags { emv_ready: true, keys_installed: true, network_ok: true }
    }

    /// The flags that are false, in ACT-07's order.
    pub fn not_ready(&self) -> Vec<&'static str> {
        match self {
            ActivateBody::Flags { emv_ready, keys_installed, network_ok } => {
                [("emv_ready", *emv_ready), ("keys_installed", *keys_installed), ("network_ok", *network_ok)]
                    .into_iter()
                    .filter(|(_, v)| !v)
                    .map(|(k, _)| k)
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

/// A device's state in steps 5–8, as far as the model needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Activation {
    pub activated: bool,
    /// Config and terminal parameters answered 200 since the key set was issued (FLOW-01's order).
    pub config: bool,
    pub parameters: bool,
    /// A key set issued by a keys 200 and not rotated since (MSK-10, KEYS-14).
    pub keys: bool,
}

fn e_unauthorized() -> Outcome {
    Outcome::error("unauthorized", 401, "4010", "Unauthorized")
}

fn refused(required: &'static str, simulator: Outcome, simulator_rule: &'static str) -> Expect {
    Expect::only(required, simulator).or_differs(Outcome::refusal("refused"), simulator_rule)
}

impl Model {
    /// Is the attest timestamp `skew` seconds from the target's time inside the window (ATT-04,
    /// ATT-15)? `None` where the slack of a real clock leaves it open.
    fn inside_window(&self, skew: i64) -> Option<bool> {
        #[allow(clippy::cast_precision_loss)]
        let (s, past, future) = (skew as f64, -(WINDOW_PAST as f64), WINDOW_FUTURE as f64);
        if s >= past + self.slack + 1.0 && s <= future - self.slack - 1.0 {
            Some(true)
        } else if s < past - self.slack - 1.0 || s > future + self.slack + 1.0 {
            Some(false)
        } else if self.slack > 0.0 {
            None
        } else {
            Some(s >= past && s <= future)
        }
    }

    /// `POST /pos/attest` of device `d` (ATT-14's order: headers, key, window, nonce, signature,
    /// device state).
    pub fn attest(&self, d: usize, fault: &AttestFault) -> Expect {
        let e = |code: &'static str, message: &'static str| Outcome::error("refused", 401, code, message);
        match fault {
            AttestFault::Missing(h) => {
                let [(rule, message), _] = h.errors();
                refused(h.required(), Outcome::error("refused", 400, "4000", message), rule)
            }
            AttestFault::Invalid(h) => {
                let [_, (rule, message)] = h.errors();
                refused(h.required(), Outcome::error("refused", 400, "4000", message), rule)
            }
            AttestFault::UnknownKey | AttestFault::RevokedKey => refused("ATT-03", e("4010", "Invalid device key"), "ATT-30"),
            AttestFault::Skewed(skew) => {
                let outside = e("4010", "Timestamp outside the accepted window");
                match self.inside_window(*skew) {
                    Some(true) => self.attest_signed(d, "ATT-04"),
                    Some(false) => refused("ATT-04", outside, "ATT-31"),
                    None => {
                        let mut either = self.attest_signed(d, "ATT-04");
                        either = either.or_permitted(outside, "ATT-04");
                        either.or_permitted(Outcome::refusal("refused"), "ATT-04")
                    }
                }
            }
            AttestFault::ReusedNonce { age } if *age <= NONCE_MEMORY - self.slack => {
                refused("ATT-05", e("4010", "Nonce already used"), "ATT-32")
            }
            // After the simulator's memory ends, a server that remembers longer refuses: how long
            // nonces are kept is a real server's own (ATT-10).
            AttestFault::ReusedNonce { .. } => self.attest_signed(d, "ATT-07").or_permitted(Outcome::refusal("refused"), "ATT-10"),
            AttestFault::BadSignature => refused("ATT-06", e("4010", "Invalid signature"), "ATT-33"),
            AttestFault::None => self.attest_signed(d, "ATT-07"),
        }
    }

    /// A well-signed attest: by device state (ATT-01, ATT-19, ATT-34). A claimed device must get a
    /// token; a refusal breaks `required` (ATT-04 for a timestamp inside the window, else ATT-07).
    fn attest_signed(&self, d: usize, required: &'static str) -> Expect {
        let dev = &self.devices[d];
        let attested = Outcome::ok("attested", Some(json!({ "status": "attested", "expires_in_sec": 300 })));
        if dev.activation.activated {
            Expect::only("ATT-19", attested).or_differs(Outcome::refusal("refused"), "ATT-19")
        } else if dev.claimed {
            Expect::only(required, attested)
        } else {
            let not_claimed =
                Outcome::error("not-claimed", 400, "4220", "Device is not claimed").with_fields(json!({ "device_id": dev.id }));
            refused("ATT-34", not_claimed, "ATT-34")
        }
    }

    /// Is a token issued at model time `issued` still valid (ATT-08, ATT-18)? `None` at the
    /// boundary where the slack of a real clock leaves it open; on a moved clock 300 s exactly is
    /// expired on the simulator and either on a server that reads "5 minutes" inclusively.
    fn token_valid(&self, issued: f64) -> Option<bool> {
        let age = self.now - issued;
        if age + self.slack < TOKEN_TTL {
            Some(true)
        } else if age - self.slack > TOKEN_TTL {
            Some(false)
        } else {
            None
        }
    }

    /// A request to keys, config, terminal-parameters or activate by device `d` (ATT-37's order:
    /// `Authorization`, `X-Device-Id`, the token's device, then the endpoint's own checks).
    pub fn step(&self, d: usize, step: Step, credential: Credential, body: Option<&ActivateBody>) -> Expect {
        let (owner, issued) = match credential {
            Credential::Refused => return refused("KEYS-01", e_unauthorized(), "ATT-38"),
            Credential::Issued { owner, issued } | Credential::NoDeviceId { owner, issued } | Credential::BadDeviceId { owner, issued } => {
                (owner, issued)
            }
        };
        let expired = refused("ATT-08", e_unauthorized(), "ATT-38");
        let valid = self.token_valid(issued);
        if valid == Some(false) {
            return expired;
        }
        let after_auth = match credential {
            Credential::NoDeviceId { .. } => {
                refused("KEYS-01", Outcome::error("refused", 400, "4000", "X-Device-Id header is required"), "ATT-39")
            }
            Credential::BadDeviceId { .. } => {
                refused("KEYS-01", Outcome::error("refused", 400, "4000", "X-Device-Id header is invalid"), "ATT-40")
            }
            _ if owner != d => {
                let other = Outcome::error("other-device", 403, "4003", "Attestation token does not belong to this device")
                    .with_fields(json!({ "device_id": self.devices[d].id }));
                refused("ATT-08", other, "ATT-41")
            }
            _ => self.served(d, step, body),
        };
        match valid {
            // At the boundary: the simulator's answer is known on a moved clock (expired from
            // 300 s, ATT-18); a server that keeps it one more instant differs from ATT-18.
            None if self.slack == 0.0 => {
                let mut e = expired;
                for alt in after_auth.alternatives {
                    e = e.or_differs(alt.outcome, "ATT-18");
                }
                e
            }
            None => {
                let mut e = after_auth;
                e = e.or_permitted(e_unauthorized(), "ATT-08");
                e.or_permitted(Outcome::refusal("refused"), "ATT-08")
            }
            _ => after_auth,
        }
    }

    /// The endpoint's own answer once attestation auth passed (KEYS-15, MSK-10, ACT-05…ACT-10).
    fn served(&self, d: usize, step: Step, body: Option<&ActivateBody>) -> Expect {
        let dev = &self.devices[d];
        if step == Step::Keys {
            return Expect::only("KEYS-02", Outcome::ok("keys", None));
        }
        let label = match step {
            Step::Config => "config",
            Step::Parameters => "parameters",
            _ => "activated",
        };
        if !dev.activation.keys {
            // Config before keys: FLOW-02 leaves a real server's answer open, MSK-10 is the
            // simulator's.
            let not_issued = Outcome::error("no-keys", 400, "4220", "Keys have not been issued");
            return Expect::only("MSK-10", not_issued)
                .or_differs(Outcome::refusal("refused"), "MSK-10")
                .or_differs(Outcome::ok(label, None), "MSK-10");
        }
        let expect = match step {
            Step::Config => Expect::only("CFG-01", Outcome::ok(label, None)),
            Step::Parameters => Expect::only("TPAR-02", Outcome::ok(label, None)),
            _ => self.activate(d, body.unwrap_or(&ActivateBody::ready())),
        };
        // FLOW-03: the simulator does not enforce the order of config, terminal parameters and
        // activate; a real server may refuse a step whose predecessors it has not served.
        let skipped = match step {
            Step::Parameters => !dev.activation.config,
            Step::Activate => !(dev.activation.activated || (dev.activation.config && dev.activation.parameters)),
            _ => false,
        };
        if skipped { expect.or_differs(Outcome::refusal("out-of-order"), "FLOW-03") } else { expect }
    }

    /// The steps a client following FLOW-01 performs before `step`, of those not yet served.
    pub fn predecessors(&self, d: usize, step: Step) -> Vec<Step> {
        let a = &self.devices[d].activation;
        let mut out = Vec::new();
        if matches!(step, Step::Parameters | Step::Activate) && a.keys && !a.config && !a.activated {
            out.push(Step::Config);
        }
        if step == Step::Activate && a.keys && !a.parameters && !a.activated {
            out.push(Step::Parameters);
        }
        out
    }

    fn activate(&self, d: usize, body: &ActivateBody) -> Expect {
        let dev = &self.devices[d];
        let ok = Outcome::ok("activated", None);
        let good = || {
            if dev.activation.activated {
                Expect::only("ACT-09", ok.clone()).or_differs(Outcome::refusal("refused"), "ACT-09")
            } else {
                Expect::only("ACT-03", ok.clone())
            }
        };
        let invalid = Outcome::error("invalid-envelope", 400, "4000", "Invalid envelope");
        match body {
            ActivateBody::Flags { .. } if body.not_ready().is_empty() => good(),
            // ACT-04: a real server's behaviour on a false flag is its own; ACT-07 is ours.
            ActivateBody::Flags { .. } => {
                let not_ready = Outcome::error("not-ready", 400, "4220", "Device is not ready for activation")
                    .with_fields(json!({ "not_ready": body.not_ready() }));
                Expect::only("ACT-07", not_ready).or_differs(Outcome::refusal("refused"), "ACT-07").or_differs(ok, "ACT-07")
            }
            ActivateBody::LowercaseHex => good().or_differs(Outcome::refusal("refused"), "MSK-05"),
            ActivateBody::NoKcv => good().or_permitted(Outcome::refusal("refused"), "MSK-04"),
            ActivateBody::MissingFlag | ActivateBody::StringFlag => {
                Expect::only("ACT-06", invalid).or_differs(Outcome::refusal("refused"), "ACT-06").or_differs(ok, "ACT-04")
            }
            ActivateBody::WrongKcv => {
                Expect::only("MSK-07", invalid).or_differs(Outcome::refusal("refused"), "MSK-09").or_permitted(ok, "MSK-04")
            }
            ActivateBody::Chunked => {
                Expect::only("ACT-05", invalid).or_differs(Outcome::refusal("refused"), "MSK-09").or_differs(ok, "ACT-05")
            }
            // A body that is not an envelope under the MSK activates nothing (ACT-01, MSK-02).
            ActivateBody::Garbage | ActivateBody::WrongKey => {
                Expect::only("ACT-01", invalid).or_differs(Outcome::refusal("refused"), "MSK-09")
            }
        }
    }

    /// Follows a step's answer: a keys 200 issues the set; an activate 200 activates (ACT-03).
    pub fn stepped(&mut self, d: usize, step: Step, status: Option<u16>) {
        if status != Some(200) {
            return;
        }
        let dev = &mut self.devices[d];
        match step {
            Step::Keys => {
                dev.activation.keys = true;
                dev.activation.config = false;
                dev.activation.parameters = false;
            }
            Step::Activate => dev.activation.activated = true,
            Step::Config => dev.activation.config = true,
            Step::Parameters => dev.activation.parameters = true,
        }
    }

    /// The control API rotated the device's key set (KEYS-14).
    pub fn rotated(&mut self, d: usize) {
        self.devices[d].activation.keys = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::allowed::Basis;
    use crate::model::viopay::Device;

    fn claimed() -> Model {
        let mut m = Model::new(vec![Device::new("POS-00000001".into(), 0), Device::new("POS-00000002".into(), 0)], false);
        m.devices[0].claimed = true;
        m
    }

    #[test]
    fn the_window_edges_are_inclusive_on_a_moved_clock() {
        let m = claimed();
        for (skew, inside) in [(-301, false), (-300, true), (0, true), (60, true), (61, false)] {
            let e = m.attest(0, &AttestFault::Skewed(skew));
            assert_eq!(e.choice().map(|c| c.label) == Some("attested"), inside, "skew {skew}");
        }
        let real = Model { slack: 1.5, ..claimed() };
        let e = real.attest(0, &AttestFault::Skewed(-300));
        assert!(e.alternatives.iter().any(|a| a.basis == Basis::Permitted("ATT-04")), "a real clock leaves the edge open");
    }

    #[test]
    fn a_token_is_valid_for_300_seconds_and_bound_to_its_device() {
        let mut m = claimed();
        let own = Credential::Issued { owner: 0, issued: 0.0 };
        m.now = 299.0;
        assert_eq!(m.step(0, Step::Keys, own, None).choice().map(|c| c.label), Some("keys"));
        m.now = 300.0;
        let e = m.step(0, Step::Keys, own, None);
        assert_eq!(e.choice().map(|c| c.label), Some("unauthorized"));
        assert!(e.alternatives.iter().any(|a| a.basis == Basis::Differs("ATT-18")));
        m.now = 10.0;
        let e = m.step(1, Step::Keys, own, None);
        assert_eq!((e.rule, e.choice().map(|c| c.label)), ("ATT-08", Some("other-device")));
    }

    #[test]
    fn activate_bodies_read_back_from_their_words() {
        for body in [
            ActivateBody::ready(),
            ActivateBody::Flags { emv_ready: false, keys_installed: true, network_ok: false },
            ActivateBody::Chunked,
            ActivateBody::StringFlag,
        ] {
            assert_eq!(ActivateBody::from_words(&body.words()), Some(body.clone()), "{}", body.words());
        }
        assert_eq!(ActivateBody::from_words("all three flags true"), Some(ActivateBody::ready()));
        assert_eq!(ActivateBody::from_words("flags emv_ready=maybe"), None);
    }

    #[test]
    fn config_needs_keys_and_a_false_flag_is_ours_to_refuse() {
        let mut m = claimed();
        let own = Credential::Issued { owner: 0, issued: 0.0 };
        assert_eq!(m.step(0, Step::Config, own, None).rule, "MSK-10");
        m.stepped(0, Step::Keys, Some(200));
        assert_eq!(m.step(0, Step::Config, own, None).rule, "CFG-01");
        let flag = ActivateBody::Flags { emv_ready: true, keys_installed: false, network_ok: false };
        let e = m.step(0, Step::Activate, own, Some(&flag));
        assert_eq!(e.rule, "ACT-07");
        assert!(e.alternatives.iter().any(|a| a.outcome.label == "activated" && a.basis == Basis::Differs("ACT-07")));
        let garbage = m.step(0, Step::Activate, own, Some(&ActivateBody::Garbage));
        assert!(garbage.alternatives.iter().all(|a| a.outcome.label != "activated"), "garbage never activates");
        // FLOW-03: before config and terminal parameters a refusal is the target's to give.
        assert!(garbage.alternatives.iter().any(|a| a.basis == Basis::Differs("FLOW-03")));
        assert_eq!(m.predecessors(0, Step::Activate), vec![Step::Config, Step::Parameters]);
        m.stepped(0, Step::Config, Some(200));
        m.stepped(0, Step::Parameters, Some(200));
        assert!(m.predecessors(0, Step::Activate).is_empty());
        let ready = m.step(0, Step::Activate, own, Some(&ActivateBody::ready()));
        assert!(ready.alternatives.iter().all(|a| a.basis != Basis::Differs("FLOW-03")), "in order, no excuse");
    }
}
