//! The harness's reference model of the activation rules, written from spec/VIOPAY-API.md and
//! independent of the simulator's code. For each operation it predicts the acceptable responses
//! ([`Expect`]) and, once the target has answered, follows the branch the target took.

use serde_json::json;

use super::expect::{Expect, Outcome};
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
}

#[derive(Clone, Debug)]
pub struct Device {
    pub id: String,
    pub owner: usize,
    pub claimed: bool,
    pub codes: Vec<Code>,
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

#[derive(Clone, Debug)]
pub struct Oracle {
    pub devices: Vec<Device>,
    /// Model seconds since the case started.
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
fn e_not_found() -> Outcome {
    Outcome::error("not-found", 400, "4004", "Pairing code not found")
}

impl Oracle {
    pub fn new(devices: Vec<Device>, real_clock: bool) -> Self {
        Oracle { devices, now: 0.0, slack: if real_clock { 1.5 } else { 0.0 } }
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
        let device_status = if dev.claimed { "claimed" } else { "inactive" };
        let body = |code: &str| json!({ "device_status": device_status, "is_claimed": dev.claimed, "pairing_code_status": code });
        let reading = |label: &'static str, code: &str| Outcome::ok(label, Some(body(code)));
        let Some(latest) = dev.codes.last() else { return Expect::only("STAT-05", reading("none", "none")) };
        let rule = if dev.claimed { "STAT-08" } else { "STAT-05" };
        match latest.state {
            CodeState::Used if self.now - latest.issued >= TTL => {
                Expect { rule: "STAT-08", required: vec![reading("used", "used"), reading("expired", "expired")], preferred: None }
                    .prefer(reading("used", "used"), "STAT-09")
            }
            CodeState::Used => Expect::only(rule, reading("used", "used")),
            CodeState::Expired if self.now - latest.issued >= TTL + 1.0 + self.slack => {
                Expect::only("STAT-06", reading("expired", "expired"))
            }
            CodeState::Expired => {
                Expect { rule: "STAT-06", required: vec![reading("expired", "expired"), reading("pending", "pending")], preferred: None }
                    .prefer(reading("expired", "expired"), "CODE-05")
            }
            CodeState::Superseded | CodeState::SupersededOrExpired => Expect::only(rule, reading("expired", "expired")),
            CodeState::Pending => match self.expiry(latest) {
                Expiry::Pending => {
                    Expect::only(if self.now - latest.issued >= TTL - 10.0 { "STAT-06" } else { rule }, reading("pending", "pending"))
                }
                Expiry::Expired => Expect::only("STAT-06", reading("expired", "expired")),
                Expiry::Either { sim_expired } => {
                    let e = Expect {
                        rule: "STAT-06",
                        required: vec![reading("pending", "pending"), reading("expired", "expired")],
                        preferred: None,
                    };
                    match sim_expired {
                        Some(true) => e.prefer(reading("expired", "expired"), "STAT-07"),
                        Some(false) => e.prefer(reading("pending", "pending"), "STAT-07"),
                        None => e,
                    }
                }
            },
        }
    }

    /// `POST /pos/bootstrap` (BOOT-09, BOOT-10).
    pub fn bootstrap(&self, d: usize) -> Expect {
        let ok = Outcome::ok("ok", Some(json!({ "status": "ok" })));
        if self.devices[d].claimed {
            Expect { rule: "BOOT-10", required: vec![ok.clone(), Outcome::refusal("refused")], preferred: None }.prefer(ok, "BOOT-10")
        } else {
            Expect::only("BOOT-09", ok)
        }
    }

    /// `POST /pos/pairing-code` (PAIR-02, PAIR-11; Q-04: the real answer for a claimed device is
    /// unknown, so only the simulator's is preferred).
    pub fn request_code(&self, d: usize) -> Expect {
        let issued = Outcome::ok("issued", Some(json!({ "expires_in_sec": CODE_TTL_SECS })));
        if self.devices[d].claimed {
            let claimed = Outcome::error("already-claimed", 400, "4220", "Device is already claimed")
                .with_fields(json!({ "device_id": self.devices[d].id }));
            Expect { rule: "PAIR-11", required: vec![Outcome::refusal("refused"), issued], preferred: None }.prefer(claimed, "PAIR-11")
        } else {
            Expect::only("PAIR-02", issued)
        }
    }

    /// Records a code the target issued (CODE-01, PAIR-04/CODE-04, CODE-06).
    pub fn issued(&mut self, d: usize, value: String) {
        let expiry = self.devices[d].codes.last().filter(|c| c.state == CodeState::Pending).map(|c| self.expiry(c));
        let now = self.now;
        let dev = &mut self.devices[d];
        if let (Some(last), Some(expiry)) = (dev.codes.last_mut(), expiry) {
            last.state = match expiry {
                Expiry::Pending => CodeState::Superseded,
                Expiry::Expired => CodeState::Expired,
                Expiry::Either { .. } => CodeState::SupersededOrExpired,
            };
        }
        dev.codes.push(Code { value, issued: now, state: CodeState::Pending });
    }

    /// `POST /pos/claim` by merchant `m` of code `k` of device `d`, with a valid token.
    pub fn claim(&self, m: usize, d: usize, k: usize) -> Expect {
        let dev = &self.devices[d];
        let code = &dev.codes[k];
        let details = json!({ "pairing_code": code.value });
        match code.state {
            // CODE-04: never claimable again. PAIR-05: "4004" (the harness accepts "4220").
            CodeState::Superseded => {
                let preferred = Outcome { codes: vec!["4004", "4220"], message: None, fields: None, ..e_not_found() };
                return Expect::only("CODE-04", Outcome::refusal("refused")).prefer(preferred, "PAIR-05");
            }
            CodeState::SupersededOrExpired => return Expect::only("CODE-04", Outcome::refusal("refused")),
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
        let expired = e_expired().with_fields(details);
        match (errors.first().cloned(), maybe_expired) {
            (None, None) => Expect::only("CLAIM-20", success),
            (None, Some(sim)) => {
                let e = Expect { rule: "CLAIM-19", required: vec![success.clone(), expired.clone()], preferred: None };
                match sim {
                    Some(true) => e.prefer(expired, "STAT-07"),
                    Some(false) => e.prefer(success, "STAT-07"),
                    None => e,
                }
            }
            (Some((first, rule)), sim) => {
                let mut required: Vec<Outcome> = errors.iter().map(|(o, _)| o.clone()).collect();
                if sim.is_some() {
                    required.push(expired);
                }
                let e = Expect { rule, required, preferred: None };
                if errors.len() > 1 || sim.is_some() { e.prefer(first, "CLAIM-15") } else { e }
            }
        }
    }

    /// Follows the branch the target took on a claim (CLAIM-20: code used, device claimed).
    pub fn claimed(&mut self, d: usize, k: usize, label: &str) {
        let dev = &mut self.devices[d];
        match label {
            "success" => {
                dev.codes[k].state = CodeState::Used;
                dev.claimed = true;
            }
            "expired" if dev.codes[k].state == CodeState::Pending => dev.codes[k].state = CodeState::Expired,
            _ => {}
        }
    }

    /// A status reading of "expired" makes a pending code expired for good (CODE-05).
    pub fn status_read(&mut self, d: usize, label: &str) {
        if label == "expired"
            && let Some(last) = self.devices[d].codes.last_mut()
            && last.state == CodeState::Pending
        {
            last.state = CodeState::Expired;
        }
    }

    /// CLAIM-12: a well-formed code that matches nothing.
    pub fn unknown(&self, code: &str) -> Expect {
        Expect::only("CLAIM-12", e_not_found().with_fields(json!({ "pairing_code": code })))
    }

    /// CLAIM-05…CLAIM-08.
    pub fn malformed(&self, body: super::ops::Malformed) -> Expect {
        use super::ops::Malformed;
        let invalid = || Outcome::error("invalid", 400, "4000", "Invalid request body");
        match body {
            Malformed::MissingCode => Expect::only("CLAIM-06", invalid().with_fields(json!({ "message": CLAIM_06_MESSAGE }))),
            Malformed::EmptyCode => {
                Expect::only("CLAIM-05", invalid()).prefer(invalid().with_fields(json!({ "message": CLAIM_06_MESSAGE })), "CLAIM-07")
            }
            Malformed::BrokenJson => Expect::only("CLAIM-05", invalid()),
            Malformed::NumericCode => Expect::only("CLAIM-08", Outcome::refusal("refused")).prefer(invalid(), "CLAIM-08"),
        }
    }

    /// CLAIM-03/CLAIM-04: a refused token changes nothing (CLAIM-17).
    pub fn bad_token(&self) -> Expect {
        let refused = Outcome { status: super::expect::StatusMatch::OneOf(&[401, 403]), ..Outcome::refusal("refused") };
        Expect::only("CLAIM-03", refused).prefer(Outcome::error("refused", 401, "4010", "Unauthorized"), "CLAIM-04")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle() -> Oracle {
        let dev = |id: &str, owner| Device { id: id.into(), owner, claimed: false, codes: Vec::new() };
        Oracle::new(vec![dev("POS-00000001", 0), dev("POS-00000002", 1)], false)
    }

    #[test]
    fn expiry_boundary_follows_stat_06_and_stat_07() {
        let mut o = oracle();
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
        let mut o = oracle();
        o.issued(0, "AAAAAA".into());
        let e = o.claim(1, 0, 0);
        assert_eq!(e.rule, "CLAIM-16");
        assert_eq!(e.required.iter().map(|x| x.label).collect::<Vec<_>>(), vec!["not-owner"]);
        o.claimed(0, 0, "success");
        let e = o.claim(1, 0, 0);
        assert_eq!(e.required.iter().map(|x| x.label).collect::<Vec<_>>(), vec!["not-owner", "used"]);
        assert_eq!(e.preferred.map(|(p, r)| (p.label, r)), Some(("not-owner", "CLAIM-15")));
    }

    #[test]
    fn a_new_code_supersedes_a_pending_one_but_not_an_expired_one() {
        let mut o = oracle();
        o.issued(0, "AAAAAA".into());
        o.issued(0, "BBBBBB".into());
        assert_eq!(o.devices[0].codes[0].state, CodeState::Superseded);
        o.now = 400.0;
        o.issued(0, "CCCCCC".into());
        assert_eq!(o.devices[0].codes[1].state, CodeState::Expired);
        assert_eq!(o.live_codes(), vec!["CCCCCC"]);
    }
}
