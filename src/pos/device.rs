//! One device as the harness plays it in steps 5–8: what it sends (attests signed with its
//! identity key, step requests with its attestation token, activate bodies under its MSK) and what
//! it remembers (tokens, nonces, keys). Scenarios and the fuzzer both drive devices through here
//! and judge the answers through the shared model, so they build and read requests alike.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::attest::{nonce, signature, timestamp};
use super::envelope::seal;
use super::verify::Terminal;
use crate::client::ApiRequest;
use crate::exchange::Exchange;
use crate::model::{ActivateBody, AttestFault, Credential, Step};
use crate::session::Session;

/// Which token a step request carries, in the features' words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenChoice {
    /// The device's latest token.
    Latest,
    /// The device's first token of the scenario.
    First,
    /// Another device's latest token (its model index and id).
    Of {
        device: usize,
    },
    /// `Authorization` left out.
    Missing,
    /// `Bearer {the merchant's token}` (KEYS-01: the scheme word is `Attestation`).
    Bearer(String),
    /// `Attestation att_` + 24 characters the target never issued.
    NeverIssued,
    /// `Attestation` and nothing after it.
    Empty,
    /// The latest token after the scheme word written `attestation` (ATT-36).
    LowercaseScheme,
    /// The latest token, without `X-Device-Id` (ATT-39) or with a malformed one (ATT-40).
    NoDeviceId,
    BadDeviceId,
}

/// An attestation token the target issued.
#[derive(Clone, Debug)]
pub struct Issued {
    pub value: String,
    /// Model seconds at issue.
    pub at: f64,
}

#[derive(Clone, Debug)]
pub struct PosDevice {
    pub index: usize,
    pub terminal: Terminal,
    pub tokens: Vec<Issued>,
    /// Nonces of attests that passed the signature check, with model time (ATT-16).
    pub nonces: Vec<(String, f64)>,
    /// Identity keys revoked through the control API (IDK-06).
    pub revoked: Vec<String>,
    /// The identity key not in use, after a second one was added (IDK-06).
    pub spare: Option<super::DeviceSecrets>,
    /// The id of the device's first identity key, once it has a second.
    pub first_key_id: Option<String>,
}

/// An attest about to be sent, with what it carries.
pub struct AttestCall {
    pub request: ApiRequest,
    pub nonce: String,
}

impl PosDevice {
    pub fn new(index: usize, terminal: Terminal) -> Self {
        PosDevice { index, terminal, tokens: Vec::new(), nonces: Vec::new(), revoked: Vec::new(), spare: None, first_key_id: None }
    }

    pub fn id(&self) -> &str {
        &self.terminal.device_id
    }

    /// Builds `POST /pos/attest` with `fault` (ATT-02…ATT-06); `now` is the target's time. `None`
    /// when the device's secrets are not known (the caller reports "n/a"), or no nonce was used yet
    /// for a replay.
    pub fn attest(&self, fault: &AttestFault, now: OffsetDateTime, model_now: f64) -> Option<AttestCall> {
        let secrets = self.terminal.secrets.as_ref()?;
        let mut key_id = secrets.identity_key_id.clone();
        let mut secret = secrets.identity_secret.clone();
        let mut ts = timestamp(now);
        let mut n = nonce();
        match fault {
            AttestFault::Skewed(s) => ts = super::attest::skewed_timestamp(now, *s),
            AttestFault::ReusedNonce { .. } => n = self.nonces.iter().rev().find(|(_, at)| *at <= model_now)?.0.clone(),
            AttestFault::BadSignature => secret = secret.iter().map(|b| b ^ 0x5A).collect(),
            AttestFault::UnknownKey => key_id = format!("idk-unknown-{}", &n[..8]),
            // Signed with the revoked key's own secret, as a device that kept using it would.
            AttestFault::RevokedKey => {
                key_id = self.revoked.last()?.clone();
                if let Some(old) = self.spare.as_ref().filter(|s| s.identity_key_id == key_id) {
                    secret.clone_from(&old.identity_secret);
                }
            }
            _ => {}
        }
        let sig = signature(&secret, self.id(), &key_id, &ts, &n);
        let mut values = vec![("X-Key-Id", key_id), ("X-Timestamp", ts), ("X-Nonce", n.clone()), ("X-Signature", sig)];
        match fault {
            AttestFault::Missing(h) => values.retain(|(k, _)| *k != h.name()),
            AttestFault::Invalid(h) => {
                for (k, v) in &mut values {
                    if *k == h.name() {
                        *v = h.invalid_value().to_owned();
                    }
                }
            }
            _ => {}
        }
        let mut request = Session::pos("POST", "/pos/attest", self.id());
        request.headers.retain(|(k, _)| k != "Content-Type");
        for (k, v) in values {
            request = request.header(k, &v);
        }
        Some(AttestCall { request, nonce: n })
    }

    /// Follows an attest's answer: a 200 issued a token; a request that passed the signature check
    /// used up its nonce (ATT-16: a 200, or the simulator's "not claimed").
    pub fn attested(&mut self, call: &AttestCall, ex: &Exchange, label: &str, model_now: f64) {
        if ex.status == Some(200) || label == "not-claimed" {
            self.nonces.push((call.nonce.clone(), model_now));
        }
        if ex.status == Some(200)
            && let Some(token) = ex.json().and_then(|v| v["attestation_token"].as_str().map(str::to_owned))
        {
            self.tokens.push(Issued { value: token, at: model_now });
        }
    }

    /// Builds a step request (§5.2.5) and the credential the model judges it by. `other` is the
    /// device whose token `TokenChoice::Of` names. `None` when the token does not exist yet.
    pub fn step(
        &self,
        step: Step,
        choice: &TokenChoice,
        other: Option<&PosDevice>,
        body: Option<&ActivateBody>,
    ) -> Option<(ApiRequest, Credential)> {
        let latest = self.tokens.last();
        let (auth, device_header, credential) = match choice {
            TokenChoice::Latest | TokenChoice::LowercaseScheme => {
                let t = latest?;
                let scheme = if *choice == TokenChoice::LowercaseScheme { "attestation" } else { "Attestation" };
                (Some(format!("{scheme} {}", t.value)), Some(self.id().to_owned()), Credential::Issued { owner: self.index, issued: t.at })
            }
            TokenChoice::First => {
                let t = self.tokens.first()?;
                (
                    Some(format!("Attestation {}", t.value)),
                    Some(self.id().to_owned()),
                    Credential::Issued { owner: self.index, issued: t.at },
                )
            }
            TokenChoice::Of { .. } => {
                let o = other?;
                let t = o.tokens.last()?;
                (Some(format!("Attestation {}", t.value)), Some(self.id().to_owned()), Credential::Issued { owner: o.index, issued: t.at })
            }
            TokenChoice::Missing => (None, Some(self.id().to_owned()), Credential::Refused),
            TokenChoice::Bearer(token) => (Some(format!("Bearer {token}")), Some(self.id().to_owned()), Credential::Refused),
            TokenChoice::NeverIssued => {
                (Some("Attestation att_NeverIssuedByTheTarget0".to_owned()), Some(self.id().to_owned()), Credential::Refused)
            }
            TokenChoice::Empty => (Some("Attestation".to_owned()), Some(self.id().to_owned()), Credential::Refused),
            TokenChoice::NoDeviceId => {
                let t = latest?;
                (Some(format!("Attestation {}", t.value)), None, Credential::NoDeviceId { owner: self.index, issued: t.at })
            }
            TokenChoice::BadDeviceId => {
                let t = latest?;
                (
                    Some(format!("Attestation {}", t.value)),
                    Some("POS-XYZ".to_owned()),
                    Credential::BadDeviceId { owner: self.index, issued: t.at },
                )
            }
        };
        // A firmware sends its usual POS headers; ATT-35 says only two of them are needed here.
        let mut req = Session::pos("POST", step.path(), self.id());
        req.headers.retain(|(k, _)| k != "X-Device-Id" && (step == Step::Activate || k != "Content-Type"));
        if let Some(d) = device_header {
            req = req.header("X-Device-Id", &d);
        }
        if let Some(a) = auth {
            req = req.header("Authorization", &a);
        }
        if step == Step::Activate {
            req = req.body(self.activate_body(body.unwrap_or(&ActivateBody::ready()))?.to_string());
        }
        Some((req, credential))
    }

    /// An activate body (ACT-01, MSK-08) under the device's MSK. Without a key set the device
    /// has no MSK: the body is then sealed under a zero key, which MSK-10 refuses before reading.
    pub fn activate_body(&self, body: &ActivateBody) -> Option<Value> {
        let msk = self.terminal.keys.as_ref().and_then(|k| k.msk()).copied().unwrap_or([0; 32]);
        let flags = |e: bool, k: bool, n: bool| json!({ "emv_ready": e, "keys_installed": k, "network_ok": n }).to_string();
        Some(match body {
            ActivateBody::Flags { emv_ready, keys_installed, network_ok } => {
                seal(&msk, flags(*emv_ready, *keys_installed, *network_ok).as_bytes())
            }
            ActivateBody::LowercaseHex => {
                let mut v = seal(&msk, flags(true, true, true).as_bytes());
                for f in ["ciphertext", "initialization_vector"] {
                    v[f] = json!(v[f].as_str().unwrap_or_default().to_lowercase());
                }
                v
            }
            ActivateBody::NoKcv => {
                let mut v = seal(&msk, flags(true, true, true).as_bytes());
                if let Some(o) = v.as_object_mut() {
                    o.remove("key_kcv");
                }
                v
            }
            ActivateBody::MissingFlag => seal(&msk, br#"{"emv_ready":true,"keys_installed":true}"#),
            ActivateBody::StringFlag => seal(&msk, br#"{"emv_ready":"true","keys_installed":true,"network_ok":true}"#),
            ActivateBody::Garbage => json!({ "hello": "world" }),
            ActivateBody::WrongKey => {
                let other: super::Key32 = std::array::from_fn(|i| msk[i] ^ 0xA5);
                let mut v = seal(&other, flags(true, true, true).as_bytes());
                v["key_kcv"] = json!(super::envelope::kcv(&msk));
                v
            }
            ActivateBody::WrongKcv => {
                let mut v = seal(&msk, flags(true, true, true).as_bytes());
                v["key_kcv"] = json!(if super::envelope::kcv(&msk) == "000000" { "FFFFFF" } else { "000000" });
                v
            }
            ActivateBody::Chunked => {
                let single = seal(&msk, flags(true, true, true).as_bytes());
                json!({
                    "format": "TR31-DATA-CHUNKED", "content_encoding": "gzip", "mode": "CBC", "key_kcv": single["key_kcv"],
                    "chunks": [{ "ciphertext": single["ciphertext"], "initialization_vector": single["initialization_vector"], "mode": "CBC" }]
                })
            }
        })
    }
}
