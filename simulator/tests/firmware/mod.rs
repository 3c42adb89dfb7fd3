//! A scripted POS firmware over real HTTP: the good one does what §5.8 asks (bootstrap first,
//! polls every 3 s, stops on claim, a new code after expiry, fresh nonces, right signatures,
//! backoff after a failure); each `Slip` makes it break one client rule on purpose.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use viopay_sim::crypto::signature::{sign, signing_string};
use viopay_sim::crypto::{envelope, tr31};

pub const UA: &str = "Viopay-POS/1.4.2 (Android 12; PAX-A920)";

/// One deliberate mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slip {
    /// One status poll without `X-Client-Type` (CLI-01).
    NoClientTypeOnce,
    /// `User-Agent: Viopay-POS/1.4.2` (CLI-02, and so CLI-03).
    UaWithoutDevice,
    /// `Viopay-POS/1.4.2-beta (…)`: the documented shape, not the exact pattern (CLI-03).
    UaBetaVersion,
    /// Pairs without bootstrapping first (CLI-04).
    SkipBootstrap,
    /// Polls every second while pending (CLI-05).
    PollEverySecond,
    /// Polls once more after reading "claimed" (CLI-06).
    PollAfterClaim,
    /// Polls once more after reading "expired" (CLI-07).
    PollAfterExpiry,
    /// Asks for a second code at once, while the first is pending (CLI-08).
    SecondCodeAtOnce,
    /// Asks for config before keys (CLI-09).
    ConfigBeforeKeys,
    /// A first attest stamped 400 s in the past (CLI-10).
    StaleTimestamp,
    /// Attests again with the nonce of the last attest (CLI-11).
    ReuseNonce,
    /// A first attest signed with the wrong secret (CLI-12).
    WrongSignature,
    /// Sends keys with `Bearer` instead of `Attestation` once (CLI-13).
    BearerScheme,
    /// Lets the token expire before keys (CLI-14).
    ExpiredToken,
    /// A first activate with an envelope under the wrong key (CLI-15).
    BadActivateEnvelope,
    /// Activate with `Content-Type: text/plain` (CLI-16).
    TextPlainActivate,
    /// Retries at once after a failure (CLI-17).
    RetryAtOnce,
}

pub struct Firmware {
    http: reqwest::Client,
    base: String,
    pub id: String,
    slips: HashSet<Slip>,
    key_id: String,
    secret: [u8; 32],
    zmk: [u8; 32],
    nonces: u32,
    last_nonce: String,
    /// The simulator runs on its virtual clock: waits are clock moves, not sleeps; and the test
    /// bench plays the merchant, claiming a code once the terminal shows it (a real-time run
    /// uses `--auto-claim` instead).
    virtual_clock: bool,
}

fn key(v: &Value) -> [u8; 32] {
    STANDARD.decode(v.as_str().expect("base64")).expect("base64").try_into().expect("32 bytes")
}

impl Firmware {
    /// The device's secrets come from the control API, as a firmware test bench provisions them.
    pub async fn new(base: &str, id: &str, slips: &[Slip]) -> Firmware {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
        let state: Value = http.get(format!("{base}/_sim/devices/{id}")).send().await.expect("state").json().await.expect("json");
        let clock: Value = http.get(format!("{base}/_sim/clock")).send().await.expect("clock").json().await.expect("json");
        Firmware {
            http,
            base: base.to_owned(),
            id: id.to_owned(),
            slips: slips.iter().copied().collect(),
            key_id: state["identity_keys"][0]["key_id"].as_str().expect("key id").to_owned(),
            secret: key(&state["identity_keys"][0]["secret"]),
            zmk: key(&state["zmk"]),
            nonces: 0,
            last_nonce: String::new(),
            virtual_clock: clock["mode"] == "virtual",
        }
    }

    fn slip(&mut self, s: Slip) -> bool {
        self.slips.contains(&s)
    }

    /// A slip that happens only once.
    fn slip_once(&mut self, s: Slip) -> bool {
        self.slips.remove(&s)
    }

    fn ua(&self) -> &'static str {
        if self.slips.contains(&Slip::UaWithoutDevice) {
            "Viopay-POS/1.4.2"
        } else if self.slips.contains(&Slip::UaBetaVersion) {
            "Viopay-POS/1.4.2-beta (Android 12; PAX-A920)"
        } else {
            UA
        }
    }

    fn pos(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("X-Device-Id", &self.id)
            .header("User-Agent", self.ua())
            .header("X-Client-Type", "pos")
    }

    /// Waits `secs` as the firmware would: real time, or a move of the virtual clock.
    pub async fn wait(&self, secs: f64) {
        if self.virtual_clock {
            let body = json!({ "seconds": secs.ceil() as u64 });
            let r = self.http.post(format!("{}/_sim/clock/advance", self.base)).json(&body).send().await.expect("advance");
            assert!(r.status().is_success(), "advance");
        } else {
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            // A lost connection: no status.
            Err(_) => (0, Value::Null),
        }
    }

    /// Sends until answered 2xx or 4xx: after a 5xx or a lost connection, waits (1.2 s) unless
    /// the firmware is the impatient one.
    async fn with_retry(&mut self, build: impl Fn(&Self) -> reqwest::RequestBuilder) -> (u16, Value) {
        for _ in 0..5 {
            let (status, body) = self.send(build(self)).await;
            if status != 0 && status < 500 {
                return (status, body);
            }
            if !self.slip(Slip::RetryAtOnce) {
                self.wait(1.2).await;
            }
        }
        panic!("no answer after 5 tries");
    }

    pub async fn bootstrap(&mut self) {
        let (status, _) = self.with_retry(|f| f.pos(reqwest::Method::POST, "/pos/bootstrap")).await;
        assert_eq!(status, 200);
    }

    pub async fn pairing_code(&mut self) -> String {
        let (status, body) = self.with_retry(|f| f.pos(reqwest::Method::POST, "/pos/pairing-code")).await;
        assert_eq!(status, 200, "{body}");
        body["pairing_code"].as_str().expect("code").to_owned()
    }

    pub async fn status(&mut self) -> Value {
        if self.slip_once(Slip::NoClientTypeOnce) {
            let req = self.http.get(format!("{}/pos/status", self.base)).header("X-Device-Id", &self.id).header("User-Agent", self.ua());
            assert_eq!(self.send(req).await.0, 400);
            self.wait(3.0).await;
        }
        let (status, body) = self.with_retry(|f| f.pos(reqwest::Method::GET, "/pos/status")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Steps 1–4 from power-on: bootstrap, a code, polling until claimed (a new code on expiry).
    /// With `expire_first`, nobody claims the first code and it expires.
    pub async fn pair(&mut self, mut expire_first: bool) {
        if !self.slip(Slip::SkipBootstrap) {
            self.bootstrap().await;
        }
        self.pairing_code().await;
        if self.slip_once(Slip::SecondCodeAtOnce) {
            self.pairing_code().await;
        }
        let gap = if self.slip(Slip::PollEverySecond) { 1.0 } else { 3.0 };
        loop {
            let s = self.status().await;
            match (s["device_status"].as_str(), s["pairing_code_status"].as_str()) {
                (Some("claimed"), _) => {
                    if self.slip_once(Slip::PollAfterClaim) {
                        self.status().await;
                    }
                    return;
                }
                (_, Some("expired")) => {
                    if self.slip_once(Slip::PollAfterExpiry) {
                        self.status().await;
                    }
                    self.pairing_code().await;
                }
                (_, Some("pending")) if expire_first => {
                    expire_first = false;
                    self.wait(301.0).await;
                    continue;
                }
                (_, Some("pending")) if self.virtual_clock => {
                    let r = self.http.post(format!("{}/_sim/devices/{}/claim", self.base, self.id)).send().await.expect("bench claim");
                    assert_eq!(r.status(), 200, "the bench claims the code shown");
                }
                _ => {}
            }
            self.wait(gap).await;
        }
    }

    async fn now(&self) -> time::OffsetDateTime {
        let clock: Value = self.http.get(format!("{}/_sim/clock", self.base)).send().await.expect("clock").json().await.expect("json");
        time::OffsetDateTime::parse(clock["now"].as_str().expect("now"), &time::format_description::well_known::Rfc3339).expect("rfc 3339")
    }

    fn fresh_nonce(&mut self) -> String {
        self.nonces += 1;
        format!("fw{:010}nonce{}", self.nonces, &self.id[4..])
    }

    /// One attest, retried after a 5xx or a lost connection with a fresh nonce and timestamp
    /// each time (a nonce is never sent twice, CLI-11).
    async fn attest_once(&mut self, offset_s: i64, nonce: String, secret: [u8; 32]) -> (u16, Value) {
        let mut nonce = nonce;
        for _ in 0..5 {
            let ts = viopay_sim::time_fmt::rfc3339(self.now().await + time::Duration::seconds(offset_s));
            let sig = sign(&secret, &signing_string(&self.id, &self.key_id, &ts, &nonce));
            self.last_nonce = nonce.clone();
            let req = self
                .pos(reqwest::Method::POST, "/pos/attest")
                .header("X-Key-Id", &self.key_id)
                .header("X-Timestamp", &ts)
                .header("X-Nonce", &nonce)
                .header("X-Signature", &sig);
            let (status, body) = self.send(req).await;
            if status != 0 && status < 500 {
                return (status, body);
            }
            if !self.slip(Slip::RetryAtOnce) {
                self.wait(1.2).await;
            }
            nonce = self.fresh_nonce();
        }
        panic!("no attest answer after 5 tries");
    }

    /// Step 5: an attestation token.
    pub async fn attest(&mut self) -> String {
        if self.slip_once(Slip::StaleTimestamp) {
            let nonce = self.fresh_nonce();
            assert_eq!(self.attest_once(-400, nonce, self.secret).await.0, 401);
        }
        if self.slip_once(Slip::WrongSignature) {
            let nonce = self.fresh_nonce();
            assert_eq!(self.attest_once(0, nonce, [7; 32]).await.0, 401);
        }
        let nonce = self.fresh_nonce();
        let (status, body) = self.attest_once(0, nonce, self.secret).await;
        assert_eq!(status, 200, "{body}");
        let token = body["attestation_token"].as_str().expect("token").to_owned();
        if self.slip_once(Slip::ReuseNonce) {
            let nonce = self.last_nonce.clone();
            assert_eq!(self.attest_once(0, nonce, self.secret).await.0, 401);
        }
        token
    }

    fn attested(&self, path: &str, scheme: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).header("Authorization", format!("{scheme} {token}")).header("X-Device-Id", &self.id)
    }

    /// Steps 5–8, in order, re-attesting when a token expired.
    pub async fn activate(&mut self) {
        let mut token = self.attest().await;
        if self.slip_once(Slip::ConfigBeforeKeys) {
            let t = token.clone();
            assert_eq!(self.with_retry(move |f| f.attested("/pos/config", "Attestation", &t)).await.0, 400);
        }
        if self.slip_once(Slip::BearerScheme) {
            let t = token.clone();
            assert_eq!(self.with_retry(move |f| f.attested("/pos/keys", "Bearer", &t)).await.0, 401);
        }
        if self.slip_once(Slip::ExpiredToken) {
            self.wait(300.0).await;
            let t = token.clone();
            assert_eq!(self.with_retry(move |f| f.attested("/pos/keys", "Attestation", &t)).await.0, 401);
            token = self.attest().await;
        }
        let t = token.clone();
        let (status, keys) = self.with_retry(move |f| f.attested("/pos/keys", "Attestation", &t)).await;
        assert_eq!(status, 200, "{keys}");
        let block = |name: &str| {
            String::from_utf8(STANDARD.decode(keys["keys"][name]["key_block"].as_str().expect("block")).expect("b64")).expect("ascii")
        };
        let open =
            |kbpk: &[u8; 32], name: &str| -> [u8; 32] { tr31::unwrap(kbpk, &block(name)).expect("unwrap").1.try_into().expect("32") };
        let tmk = open(&self.zmk, "tmk");
        let kek = open(&tmk, "kek");
        let msk = open(&kek, "msk");
        for path in ["/pos/config", "/pos/terminal-parameters"] {
            let t = token.clone();
            assert_eq!(self.with_retry(move |f| f.attested(path, "Attestation", &t)).await.0, 200, "{path}");
        }
        if self.slip_once(Slip::BadActivateEnvelope) {
            let body = envelope::single(&[1; 32], &[9; 16], b"{}").to_string();
            let t = token.clone();
            let (status, _) = self
                .with_retry(move |f| {
                    f.attested("/pos/activate", "Attestation", &t).header("Content-Type", "application/json").body(body.clone())
                })
                .await;
            assert_eq!(status, 400);
        }
        let body =
            envelope::single(&msk, &[9; 16], json!({"emv_ready": true, "keys_installed": true, "network_ok": true}).to_string().as_bytes())
                .to_string();
        let content_type = if self.slip(Slip::TextPlainActivate) { "text/plain" } else { "application/json" };
        let t = token.clone();
        let (status, answer) = self
            .with_retry(move |f| f.attested("/pos/activate", "Attestation", &t).header("Content-Type", content_type).body(body.clone()))
            .await;
        assert_eq!(status, 200, "{answer}");
    }
}
