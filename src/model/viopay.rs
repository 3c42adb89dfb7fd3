//! The harness's model of the VioPay activation rules (steps 1–4; steps 5–8 are in
//! [`super::activation`]), written from the spec and not from the simulator's code. For each
//! request in the current state it lists every acceptable answer ([`Expect`]); once the target has
//! answered, the model follows the branch the target took. The Gherkin steps and the fuzzer both
//! judge through here, so they cannot disagree.

use std::sync::{Arc, LazyLock};

use serde_json::{Value, json};

use super::activation::Activation;
use super::allowed::{Expect, Outcome, StatusMatch};
use super::call::{ContentType, HeaderFault, Malformed};
use crate::spec::{CLAIM_06_MESSAGE, CODE_TTL_SECS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeState {
    Pending,
    Used,
    Superseded,
    /// The target reported it expired; expiry is terminal (CODE-05).
    Expired,
    /// Replaced while at the expiry boundary: either superseded or expired, both refuse claims.
    SupersededOrExpired,
}

#[derive(Clone, Debug)]
pub struct Code {
    pub value: String,
    /// Model seconds.
    pub issued: f64,
    pub state: CodeState,
    /// A claim of it was refused before (CLAIM-17: that must have changed nothing).
    pub refused: bool,
    /// Model time at which the target read it `pending` at the expiry boundary (STAT-07 left
    /// open): at that same instant a new code supersedes it rather than finding it expired.
    pub pending_read_at: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Device {
    pub id: String,
    pub owner: usize,
    pub claimed: bool,
    pub codes: Vec<Code>,
    /// Steps 5–8 ([`super::activation`]).
    pub activation: Activation,
}

impl Device {
    pub fn new(id: String, owner: usize) -> Self {
        Device { id, owner, claimed: false, codes: Vec::new(), activation: Activation::default() }
    }
}

/// Where a pending code stands in time (TIME-01, STAT-06, STAT-07).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Expiry {
    Pending,
    Expired,
    /// Between 299 s and 301 s: the REQUIRED rules accept both; the simulator's choice (expired
    /// from 300 s) is known only on a clock the harness moves itself.
    Either {
        sim_expired: Option<bool>,
    },
}

/// The POS endpoints, for requests about a device the target does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PosEndpoint {
    Bootstrap,
    PairingCode,
    Status,
}

impl PosEndpoint {
    /// Method and path (§2).
    pub fn route(self) -> (&'static str, &'static str) {
        match self {
            PosEndpoint::Bootstrap => ("POST", "/pos/bootstrap"),
            PosEndpoint::PairingCode => ("POST", "/pos/pairing-code"),
            PosEndpoint::Status => ("GET", "/pos/status"),
        }
    }

    /// The word the features use for it.
    pub fn name(self) -> &'static str {
        match self {
            PosEndpoint::Bootstrap => "bootstrap",
            PosEndpoint::PairingCode => "pairing-code",
            PosEndpoint::Status => "status",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [PosEndpoint::Bootstrap, PosEndpoint::PairingCode, PosEndpoint::Status].into_iter().find(|e| e.name() == name)
    }
}

#[derive(Clone, Debug)]
pub struct Model {
    pub devices: Vec<Device>,
    /// Model seconds since the scenario or case started.
    pub now: f64,
    /// Slack around the boundary on a real clock (request latency).
    pub slack: f64,
}

const TTL: f64 = CODE_TTL_SECS as f64;

fn e_owner() -> Outcome {
    Outcome::error("not-owner", 403, "4003", "Device does not belong to your merchant account")
}
fn e_used() -> Outcome {
    Outcome::error("used", 400, "4220", "Pairing code has already been used")
}
fn e_expired() -> Outcome {
    Outcome::error("expired", 400, "4220", "Pairing code has expired")
}
/// Seconds past a code's lifetime during which its record must still answer CLAIM-18/CLAIM-19.
const RECORD_KEPT_AT_LEAST: f64 = 60.0;

fn e_not_found() -> Outcome {
    Outcome::error("not-found", 400, "4004", "Pairing code not found")
}
fn e_invalid_body() -> Outcome {
    Outcome::error("invalid", 400, "4000", "Invalid request body")
}

impl Model {
    pub fn new(devices: Vec<Device>, real_clock: bool) -> Self {
        Model { devices, now: 0.0, slack: if real_clock { 1.5 } else { 0.0 } }
    }

    /// Adds a provisioned, inactive device of merchant `owner` (DEV-01); returns its index.
    pub fn add_device(&mut self, id: String, owner: usize) -> usize {
        self.devices.push(Device::new(id, owner));
        self.devices.len() - 1
    }

    pub fn expiry(&self, code: &Code) -> Expiry {
        let age = self.now - code.issued;
        if age + self.slack <= TTL - 1.0 {
            Expiry::Pending
        } else if age - self.slack >= TTL + 1.0 {
            Expiry::Expired
        } else if self.slack > 0.0 {
            Expiry::Either { sim_expired: None }
        } else {
            Expiry::Either { sim_expired: Some(age >= TTL) }
        }
    }

    /// Codes that could still be claimed (PAIR-07 keeps these unique).
    pub fn live_codes(&self) -> Vec<&str> {
        self.devices
            .iter()
            .flat_map(|d| &d.codes)
            .filter(|c| c.state == CodeState::Pending && self.expiry(c) != Expiry::Expired)
            .map(|c| c.value.as_str())
            .collect()
    }

    /// `GET /pos/status` (STAT-02…STAT-10): the body for each acceptable reading.
    pub fn status(&self, d: usize) -> Expect {
        let dev = &self.devices[d];
        // DEV-03, ACT-03: a successful activate moves a claimed device to `activated`.
        let device_status = if dev.activation.activated {
            "activated"
        } else if dev.claimed {
            "claimed"
        } else {
            "inactive"
        };
        let reading = |label: &'static str, code: &'static str| Outcome::ok_shared(label, status_reading(device_status, dev.claimed, code));
        let Some(latest) = dev.codes.last() else { return Expect::only("STAT-05", reading("none", "none")) };
        // DEV-03: once activated, the reading must say so.
        let rule = if dev.activation.activated {
            "DEV-03"
        } else if dev.claimed {
            "STAT-08"
        } else {
            "STAT-05"
        };
        match latest.state {
            CodeState::Used if self.now - latest.issued >= TTL => {
                Expect::only(if dev.activation.activated { "DEV-03" } else { "STAT-08" }, reading("used", "used"))
                    .or_differs(reading("expired", "expired"), "STAT-09")
            }
            CodeState::Used => Expect::only(rule, reading("used", "used")),
            CodeState::Expired if self.now - latest.issued >= TTL + 1.0 + self.slack => {
                Expect::only("STAT-06", reading("expired", "expired"))
            }
            CodeState::Expired => {
                Expect::only("STAT-06", reading("expired", "expired")).or_differs(reading("pending", "pending"), "CODE-05")
            }
            CodeState::Superseded | CodeState::SupersededOrExpired => Expect::only(rule, reading("expired", "expired")),
            CodeState::Pending => match self.expiry(latest) {
                Expiry::Pending => {
                    Expect::only(if self.now - latest.issued >= TTL - 10.0 { "STAT-06" } else { rule }, reading("pending", "pending"))
                }
                Expiry::Expired => Expect::only("STAT-06", reading("expired", "expired")),
                Expiry::Either { sim_expired: Some(true) } => {
                    Expect::only("STAT-06", reading("expired", "expired")).or_differs(reading("pending", "pending"), "STAT-07")
                }
                Expiry::Either { sim_expired: Some(false) } => {
                    Expect::only("STAT-06", reading("pending", "pending")).or_differs(reading("expired", "expired"), "STAT-07")
                }
                // On a real clock the simulator's choice cannot be told: both readings conform.
                Expiry::Either { sim_expired: None } => {
                    Expect::only("STAT-06", reading("pending", "pending")).or_permitted(reading("expired", "expired"), "STAT-06")
                }
            },
        }
    }

    /// `POST /pos/bootstrap` (BOOT-09, BOOT-10).
    pub fn bootstrap(&self, d: usize) -> Expect {
        let ok = Outcome::ok("ok", Some(json!({ "status": "ok" })));
        if self.devices[d].claimed {
            Expect::only("BOOT-10", ok).or_differs(Outcome::refusal("refused"), "BOOT-10")
        } else {
            Expect::only("BOOT-09", ok)
        }
    }

    /// `POST /pos/pairing-code` (PAIR-02, PAIR-11; Q-04: the real answer for a claimed device is
    /// unknown, so the simulator's is only preferred).
    pub fn request_code(&self, d: usize) -> Expect {
        let issued = Outcome::ok("issued", Some(json!({ "expires_in_sec": CODE_TTL_SECS })));
        if self.devices[d].claimed {
            let claimed = Outcome::error("already-claimed", 400, "4220", "Device is already claimed")
                .with_fields(json!({ "device_id": self.devices[d].id }));
            Expect::only("PAIR-11", claimed).or_differs(Outcome::refusal("refused"), "PAIR-11").or_differs(issued, "PAIR-11")
        } else {
            Expect::only("PAIR-02", issued)
        }
    }

    /// A POS request naming a well-formed device id that is not provisioned (BOOT-07, STAT-12
    /// REQUIRED; PAIR-09 REQUIRED with PAIR-10's 404 the simulator's choice).
    pub fn unknown_device(&self, endpoint: PosEndpoint, id: &str) -> Expect {
        let not_found = Outcome::error("not-found", 404, "4004", "Device not found").with_fields(json!({ "device_id": id }));
        match endpoint {
            PosEndpoint::Bootstrap => Expect::only("BOOT-07", not_found),
            PosEndpoint::Status => Expect::only("STAT-12", not_found),
            PosEndpoint::PairingCode => Expect::only("PAIR-09", not_found).or_differs(Outcome::refusal("refused"), "PAIR-10"),
        }
    }

    /// A POS request with one header fault: 400 `"4000"` on every POS endpoint, before the device
    /// is looked up (HDR-11); where the message is the simulator's choice, another is a difference.
    pub fn header_fault(&self, fault: HeaderFault) -> Expect {
        let any_message = Outcome { codes: vec!["4000"], message: None, fields: None, ..Outcome::error("refused", 400, "4000", "") };
        match fault {
            HeaderFault::MissingDeviceId => {
                Expect::only("HDR-02", Outcome::error("refused", 400, "4000", "X-Device-Id header is required"))
            }
            HeaderFault::InvalidDeviceId => Expect::only("HDR-03", Outcome::error("refused", 400, "4000", "X-Device-Id header is invalid"))
                .or_differs(any_message, "HDR-04"),
            HeaderFault::ForeignUserAgent => {
                Expect::only("HDR-06", Outcome::error("refused", 400, "4000", "User-Agent header must start with Viopay-POS/"))
                    .or_differs(any_message, "HDR-07")
            }
            HeaderFault::MissingClientType => {
                Expect::only("HDR-09", Outcome::error("refused", 400, "4000", "X-Client-Type header must be pos"))
                    .or_differs(any_message, "HDR-10")
            }
        }
    }

    /// Records a code the target issued (CODE-01, PAIR-04/CODE-04, CODE-06).
    pub fn issued(&mut self, d: usize, value: String) {
        let expiry = self.devices[d].codes.last().filter(|c| c.state == CodeState::Pending).map(|c| match self.expiry(c) {
            // The target read it pending at this very instant: it is pending, so superseded now.
            Expiry::Either { sim_expired: Some(true) } if c.pending_read_at == Some(self.now) => {
                Expiry::Either { sim_expired: Some(false) }
            }
            other => other,
        });
        let now = self.now;
        let dev = &mut self.devices[d];
        if let (Some(last), Some(expiry)) = (dev.codes.last_mut(), expiry) {
            // At the boundary the simulator's choice is known on a moved clock (STAT-07: expired
            // from 300 s, and an expired code stays expired, CODE-06); on a real one it is not.
            last.state = match expiry {
                Expiry::Pending | Expiry::Either { sim_expired: Some(false) } => CodeState::Superseded,
                Expiry::Expired | Expiry::Either { sim_expired: Some(true) } => CodeState::Expired,
                Expiry::Either { sim_expired: None } => CodeState::SupersededOrExpired,
            };
        }
        dev.codes.push(Code { value, issued: now, state: CodeState::Pending, refused: false, pending_read_at: None });
    }

    /// `POST /pos/claim` by merchant `m` of code `k` of device `d`, with a valid token and a JSON
    /// body.
    pub fn claim(&self, m: usize, d: usize, k: usize) -> Expect {
        let dev = &self.devices[d];
        let code = &dev.codes[k];
        let details = json!({ "pairing_code": code.value });
        let replaced = k + 1 < dev.codes.len();
        match code.state {
            // CODE-04: never claimable again. PAIR-05: "4004" Pairing code not found; the harness
            // accepts "4004" or "4220".
            CodeState::Superseded | CodeState::SupersededOrExpired => {
                if code.state == CodeState::SupersededOrExpired {
                    // Replaced at the boundary on a real clock: superseded or expired, and which
                    // refusal the simulator would give is not known.
                    return Expect::only("CODE-04", Outcome::refusal("refused"));
                }
                let either = Outcome { codes: vec!["4004", "4220"], message: None, fields: None, ..Outcome::refusal("refused") };
                return Expect::only("CODE-04", e_not_found().with_fields(details))
                    .or_permitted(either, "PAIR-05")
                    .or_differs(Outcome::refusal("refused"), "PAIR-05");
            }
            _ => {}
        }
        // CLAIM-15: ownership, used, expired; where several apply any of them is accepted.
        let mut errors: Vec<(Outcome, &'static str)> = Vec::new();
        if dev.owner != m {
            errors.push((e_owner().with_fields(json!({ "device_id": dev.id })), "CLAIM-16"));
        }
        let mut maybe_expired = None;
        match code.state {
            CodeState::Used => errors.push((e_used().with_fields(details.clone()), "CLAIM-18")),
            CodeState::Expired => errors.push((e_expired().with_fields(details.clone()), "CLAIM-19")),
            CodeState::Pending => match self.expiry(code) {
                Expiry::Pending => {}
                Expiry::Expired => errors.push((e_expired().with_fields(details.clone()), "CLAIM-19")),
                Expiry::Either { sim_expired } => maybe_expired = Some(sim_expired),
            },
            CodeState::Superseded | CodeState::SupersededOrExpired => {}
        }
        let success = Outcome::ok("success", Some(json!({ "status": "claimed", "device_id": dev.id })));
        let expired = e_expired().with_fields(details.clone());
        // A claim that should succeed after an earlier refusal fails CLAIM-17 if it does not.
        let succeeds = if code.refused { "CLAIM-17" } else { "CLAIM-20" };
        let expect = match (errors.first().cloned(), maybe_expired) {
            (None, None) => Expect::only(succeeds, success),
            (None, Some(Some(true))) => Expect::only("CLAIM-19", expired).or_differs(success, "STAT-07"),
            (None, Some(Some(false))) => Expect::only("CLAIM-19", success).or_differs(expired, "STAT-07"),
            (None, Some(None)) => Expect::only("CLAIM-19", success).or_permitted(expired, "STAT-06"),
            (Some((first, rule)), sim) => {
                let mut e = Expect::only(rule, first);
                for (other, _) in errors.iter().skip(1) {
                    e = e.or_differs(other.clone(), "CLAIM-15");
                }
                if sim.is_some() {
                    e = e.or_differs(expired, "CLAIM-15");
                }
                e
            }
        };
        // CODE-06: an expired code that a newer code replaced stays expired while its record is
        // kept; how long that is, is UNKNOWN (Q-07, TIME-06): "not found" differs from the simulator.
        if code.state == CodeState::Expired && replaced {
            return expect.or_differs(e_not_found().with_fields(details), "CODE-06");
        }
        // TIME-06 (UNKNOWN, Q-07): how long a used or expired code's record is kept. A minute past
        // the code's own lifetime a server may have forgotten it and answer "not found"; before
        // that CLAIM-18 and CLAIM-19 are judged.
        let ended = match code.state {
            CodeState::Used | CodeState::Expired => true,
            CodeState::Pending => self.expiry(code) == Expiry::Expired,
            _ => false,
        };
        if ended && self.now - code.issued >= TTL + RECORD_KEPT_AT_LEAST + self.slack {
            return expect.or_permitted(e_not_found(), "TIME-06");
        }
        expect
    }

    /// A claim whose `Content-Type` is missing or not JSON (CLAIM-24): the simulator refuses it;
    /// a server that decodes the body anyway answers as for a JSON claim, or refuses otherwise.
    pub fn claim_with_content_type(&self, m: usize, d: usize, k: usize, content_type: &ContentType) -> Expect {
        let json_claim = self.claim(m, d, k);
        if content_type.is_json() {
            return json_claim;
        }
        instead(e_invalid_body(), "CLAIM-24", json_claim)
    }

    /// A claim whose body also names a device (CLAIM-14): a device that is not the one behind the
    /// code is "not found" on the simulator; a server that ignores the field claims as usual.
    pub fn claim_naming(&self, m: usize, d: usize, k: usize, named: &str) -> Expect {
        let json_claim = self.claim(m, d, k);
        if named == self.devices[d].id {
            return json_claim;
        }
        let code = &self.devices[d].codes[k].value;
        instead(e_not_found().with_fields(json!({ "pairing_code": code })), "CLAIM-14", json_claim)
    }

    /// Follows the branch the target took on a claim (CLAIM-20: code used, device claimed; any
    /// refusal changes nothing, CLAIM-17).
    pub fn claimed(&mut self, d: usize, k: usize, label: &str) {
        let dev = &mut self.devices[d];
        match label {
            "success" => {
                dev.codes[k].state = CodeState::Used;
                dev.claimed = true;
            }
            "expired" if dev.codes[k].state == CodeState::Pending => dev.codes[k].state = CodeState::Expired,
            _ => dev.codes[k].refused = true,
        }
    }

    /// Follows a claim's answer: the branch the model judged, except that a claim the target
    /// accepted bound the device even where that broke a rule (a baselined or advisory-level
    /// break goes on, and what follows is judged against the target's real state).
    pub fn claim_answered(&mut self, d: usize, k: usize, label: &str, status: Option<u16>) {
        self.claimed(d, k, if status == Some(200) { "success" } else { label });
    }

    /// A status reading of "expired" makes a pending code expired for good (CODE-05); one of
    /// "pending" at the boundary is remembered (the target's branch of STAT-07).
    pub fn status_read(&mut self, d: usize, label: &str) {
        let now = self.now;
        if label == "pending"
            && let Some(last) = self.devices[d].codes.last_mut()
            && last.state == CodeState::Pending
        {
            last.pending_read_at = Some(now);
        }
        if label == "expired"
            && let Some(last) = self.devices[d].codes.last_mut()
            && last.state == CodeState::Pending
        {
            last.state = CodeState::Expired;
        }
    }

    /// A claim of a code written in lowercase with surrounding spaces (CLAIM-11): the simulator
    /// normalises it; a server that does not finds nothing, or refuses the form outright (a format
    /// check, CLAIM-13, Q-08). Neither is a CLAIM-20 break: the code sent is not the code issued.
    pub fn claim_unnormalised(&self, m: usize, d: usize, k: usize) -> Expect {
        self.claim(m, d, k).or_differs(e_not_found(), "CLAIM-11").or_differs(Outcome::refusal("refused"), "CLAIM-13")
    }

    /// CLAIM-12: a code that matches nothing. One of another length or alphabet is looked up too
    /// on the simulator (CLAIM-13); a server may refuse it as invalid instead.
    pub fn unknown(&self, code: &str) -> Expect {
        let not_found = Expect::only("CLAIM-12", e_not_found().with_fields(json!({ "pairing_code": code })));
        let well_formed = code.len() == 6 && code.chars().all(|c| crate::spec::CODE_ALPHABET.contains(c));
        if well_formed { not_found } else { not_found.or_differs(Outcome::refusal("refused"), "CLAIM-13") }
    }

    /// CLAIM-05…CLAIM-08.
    pub fn malformed(&self, body: Malformed) -> Expect {
        let required_message = json!({ "message": CLAIM_06_MESSAGE });
        match body {
            Malformed::MissingCode => Expect::only("CLAIM-06", e_invalid_body().with_fields(required_message)),
            Malformed::EmptyCode | Malformed::NullCode => {
                Expect::only("CLAIM-05", e_invalid_body().with_fields(required_message)).or_differs(e_invalid_body(), "CLAIM-07")
            }
            Malformed::BrokenJson => Expect::only("CLAIM-05", e_invalid_body()),
            Malformed::NotAString | Malformed::NotAnObject => {
                Expect::only("CLAIM-08", e_invalid_body()).or_differs(Outcome::refusal("refused"), "CLAIM-08")
            }
        }
    }

    /// CLAIM-03/CLAIM-04: a refused token changes nothing (CLAIM-17).
    pub fn bad_token(&self) -> Expect {
        let refused = Outcome { status: StatusMatch::OneOf(&[401, 403]), ..Outcome::refusal("refused") };
        Expect::only("CLAIM-03", Outcome::error("refused", 401, "4010", "Unauthorized")).or_differs(refused, "CLAIM-04")
    }
}

/// The simulator answers `first` (under SIMULATOR rule `rule`) where a server without that choice
/// answers as `otherwise` predicts, or refuses in its own words: each of those differs from `rule`.
fn instead(first: Outcome, rule: &'static str, otherwise: Expect) -> Expect {
    let mut e = Expect::only(otherwise.rule, first);
    for alternative in otherwise.alternatives {
        e = e.or_differs(alternative.outcome, rule);
    }
    e.or_differs(Outcome::refusal("refused"), rule)
}

/// A status answer's expected fields (STAT-02): one of 24, each built once, since a fleet's every
/// poll is judged against one.
fn status_reading(device_status: &'static str, claimed: bool, code: &'static str) -> Arc<Value> {
    /// Device status, claimed, code status, and the fields.
    type Reading = (&'static str, bool, &'static str, Arc<Value>);
    static READINGS: LazyLock<Vec<Reading>> = LazyLock::new(|| {
        let mut all = Vec::new();
        for d in ["inactive", "claimed", "activated"] {
            for c in [false, true] {
                for k in ["none", "pending", "used", "expired"] {
                    all.push((d, c, k, reading_fields(d, c, k)));
                }
            }
        }
        all
    });
    READINGS
        .iter()
        .find(|(d, c, k, _)| *d == device_status && *c == claimed && *k == code)
        .map_or_else(|| reading_fields(device_status, claimed, code), |(.., v)| Arc::clone(v))
}

fn reading_fields(device_status: &str, claimed: bool, code: &str) -> Arc<Value> {
    Arc::new(json!({ "device_status": device_status, "is_claimed": claimed, "pairing_code_status": code }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::allowed::Basis;

    fn model() -> Model {
        Model::new(vec![Device::new("POS-00000001".into(), 0), Device::new("POS-00000002".into(), 1)], false)
    }

    /// STAT-02: the shared readings are the fields they name, the same one each time.
    #[test]
    fn stat_02_shared_readings_hold_the_fields_they_name() {
        for d in ["inactive", "claimed", "activated"] {
            for c in [false, true] {
                for k in ["none", "pending", "used", "expired"] {
                    let reading = status_reading(d, c, k);
                    assert_eq!(*reading, json!({ "device_status": d, "is_claimed": c, "pairing_code_status": k }));
                    assert!(Arc::ptr_eq(&reading, &status_reading(d, c, k)), "built once");
                }
            }
        }
    }

    fn labels(e: &Expect) -> Vec<(&'static str, Basis)> {
        e.alternatives.iter().map(|a| (a.outcome.label, a.basis)).collect()
    }

    #[test]
    fn expiry_boundary_follows_stat_06_and_stat_07() {
        let mut o = model();
        o.issued(0, "AAAAAA".into());
        o.now = 299.0;
        assert_eq!(o.expiry(&o.devices[0].codes[0]), Expiry::Pending);
        o.now = 300.0;
        assert_eq!(o.expiry(&o.devices[0].codes[0]), Expiry::Either { sim_expired: Some(true) });
        o.now = 301.0;
        assert_eq!(o.expiry(&o.devices[0].codes[0]), Expiry::Expired);
    }

    #[test]
    fn another_merchants_claim_is_refused_with_every_applicable_error_accepted() {
        let mut o = model();
        o.issued(0, "AAAAAA".into());
        let e = o.claim(1, 0, 0);
        assert_eq!(e.rule, "CLAIM-16");
        assert_eq!(labels(&e), vec![("not-owner", Basis::Choice)]);
        o.claimed(0, 0, "success");
        let e = o.claim(1, 0, 0);
        assert_eq!(labels(&e), vec![("not-owner", Basis::Choice), ("used", Basis::Differs("CLAIM-15"))]);
    }

    #[test]
    fn a_code_replaced_at_the_boundary_is_what_the_simulator_says_on_a_moved_clock() {
        let mut o = model();
        o.issued(0, "AAAAAA".into());
        o.now = 300.0;
        o.issued(0, "BBBBBB".into());
        assert_eq!(o.devices[0].codes[0].state, CodeState::Expired, "STAT-07: expired from 300 s");
        let mut real = Model::new(vec![Device::new("POS-00000001".into(), 0)], true);
        real.issued(0, "AAAAAA".into());
        real.now = 300.0;
        real.issued(0, "BBBBBB".into());
        assert_eq!(real.devices[0].codes[0].state, CodeState::SupersededOrExpired);
    }

    #[test]
    fn a_new_code_supersedes_a_pending_one_but_not_an_expired_one() {
        let mut o = model();
        o.issued(0, "AAAAAA".into());
        o.issued(0, "BBBBBB".into());
        assert_eq!(o.devices[0].codes[0].state, CodeState::Superseded);
        o.now = 400.0;
        o.issued(0, "CCCCCC".into());
        assert_eq!(o.devices[0].codes[1].state, CodeState::Expired);
        assert_eq!(o.live_codes(), vec!["CCCCCC"]);
    }

    /// Issue 7, instance 4: a backend that forgets an expired code once a newer one exists answers
    /// "not found" to another merchant's claim of it; that differs from CODE-06, it breaks nothing.
    #[test]
    fn a_forgotten_expired_code_is_a_code_06_difference_not_a_claim_16_failure() {
        let mut o = model();
        o.issued(0, "AAAAAA".into());
        o.now = 301.0;
        o.status_read(0, "expired");
        o.issued(0, "BBBBBB".into());
        let e = o.claim(1, 0, 0);
        assert_eq!(e.rule, "CLAIM-16");
        assert!(labels(&e).contains(&("not-found", Basis::Differs("CODE-06"))), "{:?}", labels(&e));
    }

    #[test]
    fn a_claim_sent_as_text_plain_may_be_decoded_anyway() {
        let mut o = model();
        o.issued(0, "AAAAAA".into());
        let e = o.claim_with_content_type(0, 0, 0, &ContentType::Other("text/plain".into()));
        assert_eq!(e.choice().map(|c| c.label), Some("invalid"));
        assert!(labels(&e).contains(&("success", Basis::Differs("CLAIM-24"))));
    }
}
