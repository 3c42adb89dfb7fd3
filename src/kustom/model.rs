//! The harness's model of Kustom's rules, written from KUSTOM-API.md and the seed page, not from
//! the simulator: what each request may answer in the current state, and how the state moves with
//! the branch the target took. The fuzzer judges every answer through here.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::check::{Answer, page, problem_shape, refused};
use super::ops::METADATA;
use crate::judge::Ruling;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Pending,
    Consumed,
    Cancelled,
    /// The target took a branch after which the state is not known (an UNKNOWN rule's answer).
    Unknown,
}

#[derive(Clone, Debug)]
pub struct Enrollment {
    pub id: String,
    pub code: String,
    pub merchant: usize,
    pub location: Option<String>,
    pub metadata: Map<String, Value>,
    /// Model seconds at creation: the window of the creating exchange (the target's clock read
    /// somewhere inside it).
    pub created: (f64, f64),
    /// Seconds from `created_at` to `expires_at`, as the target answered them.
    pub lifetime: f64,
    /// `expires_at` as the target answered it: a later answer's own time is judged against it.
    pub expires_at: OffsetDateTime,
    pub stage: Stage,
}

#[derive(Clone, Debug)]
pub struct Device {
    pub id: String,
    /// As sent at registration (the scenarios' KREG-15).
    pub hardware: String,
    pub merchant: usize,
    pub token: String,
    pub metadata: Map<String, Value>,
    pub location: Option<String>,
    pub registered: bool,
}

/// Where a PENDING enrollment stands in time (KTIME-01: the REQUIRED test points are one second
/// either side of `expires_at`; KTIME-02, SIMULATOR: expired from `expires_at` on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    Live,
    Expired,
    /// Within a second of `expires_at`: either answer conforms.
    Boundary,
}

#[derive(Debug, Default)]
pub struct Model {
    /// The target holds records the harness did not make (a real backend, no reset): lists are
    /// judged on the harness's own records only, and "missing" only on a page that holds all.
    pub partial: bool,
    /// Where the target's clock stands: the harness's moves, and the time elapsed on a clock that
    /// keeps running.
    pub clock: crate::model::clock::ModelClock,
    /// The model times between which the target answered the exchange being judged: its clock
    /// was read somewhere in there, so every boundary is judged against the whole window.
    pub window: (f64, f64),
    /// How many answers were judged on a code clear past its expiry (KTIME-01 exercised).
    pub expired_judged: u32,
    pub enrollments: Vec<Enrollment>,
    pub devices: Vec<Device>,
}

pub fn metadata(i: usize) -> Map<String, Value> {
    METADATA[i % METADATA.len()].iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect()
}

/// What a list asks for: metadata `key:value` filters (all must match), a location, and whether
/// CONSUMED enrollments are included (KEN-24, KDEV-08).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub metadata: Map<String, Value>,
    pub location: Option<String>,
    pub include_consumed: bool,
}

impl Filter {
    fn matches(&self, metadata: &Map<String, Value>, location: Option<&str>) -> bool {
        // UUIDs compare in any case (KCONV-06).
        self.metadata.iter().all(|(k, v)| metadata.get(k) == Some(v))
            && self.location.as_deref().is_none_or(|l| location.is_some_and(|m| m.eq_ignore_ascii_case(l)))
    }
}

/// A device record's id: `id` in the reference (KDEV-01), `device_id` in the seed page ("a stable
/// `device_id`"); where they disagree the seed wins, so either names the device.
pub fn device_id(v: &Value) -> Option<&str> {
    v["id"].as_str().or_else(|| v["device_id"].as_str())
}

fn time(v: &Value) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v.as_str()?, &Rfc3339).ok()
}

impl Model {
    /// Some PENDING enrollment of this case lives at most `seconds` (worth waiting out).
    pub fn short_lived_pending(&self, seconds: f64) -> bool {
        self.enrollments.iter().any(|e| e.stage == Stage::Pending && e.lifetime <= seconds)
    }

    /// A model on a target whose clock stands still between moves (`frozen`) or runs.
    pub fn new(partial: bool, frozen: bool) -> Model {
        Model { partial, clock: crate::model::clock::ModelClock::new(frozen), ..Model::default() }
    }

    /// Call after an exchange that began at model time `sent` (`self.clock.now()` then).
    pub fn answered(&mut self, sent: f64) {
        self.window = (sent, self.clock.now().max(sent));
    }

    /// KTIME-01 at the target's time: the age of `e` when the target handled the exchange lies
    /// between the latest creation reading and the earliest answer reading, and the other way
    /// round; only an age clear of `expires_at` ± 1 s on both ends is judged.
    pub fn expiry(&self, e: &Enrollment) -> Expiry {
        let youngest = self.window.0 - e.created.1;
        let oldest = self.window.1 - e.created.0;
        if oldest <= e.lifetime - 1.0 {
            Expiry::Live
        } else if youngest >= e.lifetime + 1.0 {
            Expiry::Expired
        } else {
            Expiry::Boundary
        }
    }

    /// An answer on PENDING enrollment `i` is judged clear past its expiry (KTIME-01 exercised).
    fn count_expired(&mut self, i: usize, expiry: Expiry) {
        if expiry == Expiry::Expired && self.enrollments[i].stage == Stage::Pending {
            self.expired_judged += 1;
        }
    }

    /// `POST /ipp/v1/enrollments`: KEN-01, KEN-03, KEN-04, KEN-39 (REQUIRED); KEN-05, KEN-10,
    /// KEN-11 (SIMULATOR); a refusal of `expires_in` or `ttl` is KEN-15's (UNKNOWN).
    pub fn enrolled(&mut self, merchant: usize, location: &str, sent: &Map<String, Value>, a: &Answer, notes: &mut Vec<Ruling>) {
        if a.refusal() && (sent.contains_key("expires_in") || sent.contains_key("ttl")) {
            notes.push(Ruling::branch("KEN-15", format!("the lifetime member was refused: {}", a.excerpt())));
            return;
        }
        if a.status != 201 {
            notes.push(Ruling::broken("KEN-01", format!("expected 201 with the enrollment; got {}", a.excerpt())));
            return;
        }
        let b = &a.body;
        let (Some(id), Some(code), Some(expires)) = (b["enrollment_id"].as_str(), b["enrollment_code"].as_str(), time(&b["expires_at"]))
        else {
            notes.push(Ruling::broken(
                "KEN-04",
                format!("enrollment_id, enrollment_code and expires_at (RFC 3339) are required: {}", a.excerpt()),
            ));
            return;
        };
        if b["status"] != "PENDING" || !b["metadata"].is_object() {
            notes.push(Ruling::broken("KEN-39", format!("a new enrollment is PENDING with its metadata: {}", a.excerpt())));
        }
        // KEN-11: the simulator draws Kustom's codes from VioPay's alphabet (PAIR-03).
        let simulator_code = code.len() == 8 && code.bytes().all(|c| crate::spec::CODE_ALPHABET.as_bytes().contains(&c));
        if !simulator_code {
            notes.push(Ruling::differs("KEN-11", format!("the simulator's codes are 8 of A–Z 2–9 without 0 O I 1; got {code}")));
        }
        let members = b.as_object().map_or(0, Map::len);
        if members != 7 || b["location_id"].as_str() != Some(location) {
            notes.push(Ruling::differs(
                "KEN-05",
                format!("the simulator answers seven members with location_id {location}: {}", a.excerpt()),
            ));
        }
        let lifetime = match time(&b["created_at"]) {
            Some(created) => (expires - created).as_seconds_f64(),
            None => sent.get("expires_in").and_then(Value::as_f64).map_or(7_200.0, |ms| ms / 1000.0),
        };
        if !sent.contains_key("expires_in") && !sent.contains_key("ttl") && (lifetime - 7_200.0).abs() > 1.0 {
            notes.push(Ruling::broken("KEN-03", format!("without expires_in the code lives 2 h; expires_at − created_at is {lifetime} s")));
        }
        self.enrollments.push(Enrollment {
            id: id.to_owned(),
            code: code.to_owned(),
            merchant,
            // KEN-16 leaves defaulting open: what the target answered (a location, or null) is
            // the enrollment's location from here on (KREG-11 judges the device against it).
            location: match b.get("location_id") {
                Some(Value::String(l)) => Some(l.clone()),
                Some(_) => None,
                None => sent.get("location_id").and_then(Value::as_str).map(str::to_owned).or_else(|| Some(location.to_owned())),
            },
            metadata: sent.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default(),
            created: self.window,
            expires_at: expires,
            lifetime,
            stage: Stage::Pending,
        });
    }

    /// `GET /ipp/v1/enrollments`: KEN-21, KEN-22, KEN-24 (REQUIRED), KEN-40…KEN-42.
    pub fn listed_enrollments(&mut self, merchant: usize, filter: &Filter, a: &Answer, notes: &mut Vec<Ruling>) {
        let Some(content) = page(a, "KEN-21", notes) else { return };
        let include_consumed = filter.include_consumed;
        let matches = |e: &Enrollment| filter.matches(&e.metadata, e.location.as_deref());
        let listed: Vec<&str> = content.iter().filter_map(|e| e["enrollment_id"].as_str()).collect();
        let whole = !self.partial || a.body["total_elements"].as_u64().is_some_and(|t| t as usize <= content.len());
        for (item, id) in content.iter().zip(&listed) {
            let Some(e) = self.enrollments.iter().find(|e| e.id == *id) else {
                if !self.partial {
                    notes.push(Ruling::broken("KEN-21", format!("listed an enrollment that is not this merchant's: {id}")));
                }
                continue;
            };
            if e.merchant != merchant {
                notes.push(Ruling::broken("KEN-21", format!("another merchant's enrollment is listed: {id}")));
                continue;
            }
            if !matches(e) {
                notes.push(Ruling::broken("KEN-24", format!("{id} does not match the list's filters")));
            }
            match (e.stage, self.expiry(e)) {
                (Stage::Cancelled, _) => notes.push(Ruling::broken("KEN-22", format!("a CANCELLED enrollment is listed: {id}"))),
                (Stage::Pending, Expiry::Expired) => notes.push(Ruling::broken("KEN-22", format!("an EXPIRED enrollment is listed: {id}"))),
                (Stage::Consumed, _) if !include_consumed => {
                    notes.push(Ruling::broken("KEN-24", format!("include_consumed=false, and CONSUMED {id} is listed")));
                }
                (Stage::Consumed, _) if item["status"] != "CONSUMED" => {
                    notes.push(Ruling::broken("KEN-40", format!("{id} registered a device and reads {}", item["status"])));
                }
                (Stage::Pending, Expiry::Live) if item["status"] != "PENDING" => {
                    notes.push(Ruling::broken("KEN-39", format!("{id} is PENDING and reads {}", item["status"])));
                }
                _ => {}
            }
        }
        for e in self.enrollments.iter().filter(|e| whole && e.merchant == merchant && matches(e) && !listed.contains(&e.id.as_str())) {
            let due = match e.stage {
                Stage::Pending => self.expiry(e) == Expiry::Live,
                Stage::Consumed => include_consumed,
                Stage::Cancelled | Stage::Unknown => false,
            };
            if due {
                notes.push(Ruling::broken("KEN-21", format!("the merchant's enrollment {} is missing from the list", e.id)));
            }
        }
        let expired =
            self.enrollments.iter().filter(|e| e.merchant == merchant && e.stage == Stage::Pending && self.expiry(e) == Expiry::Expired);
        self.expired_judged += u32::try_from(expired.count()).unwrap_or(u32::MAX);
    }

    /// `DELETE /ipp/v1/enrollments/{id}`: KEN-35, KEN-42 (REQUIRED); KEN-36, KEN-38 (SIMULATOR);
    /// KEN-37 (UNKNOWN) leaves the statuses open.
    pub fn cancelled(&mut self, i: usize, a: &Answer, notes: &mut Vec<Ruling>) {
        let expiry = self.expiry(&self.enrollments[i]);
        self.count_expired(i, expiry);
        let e = &mut self.enrollments[i];
        match (e.stage, expiry) {
            (Stage::Pending, Expiry::Live) => {
                if a.success() {
                    if a.status != 204 {
                        notes.push(Ruling::differs("KEN-37", format!("the simulator answers 204; got {}", a.excerpt())));
                    }
                    e.stage = Stage::Cancelled;
                } else {
                    notes.push(Ruling::broken("KEN-35", format!("a PENDING enrollment must be cancellable; got {}", a.excerpt())));
                }
            }
            (Stage::Unknown, _) | (Stage::Pending, Expiry::Boundary) => {
                e.stage = if a.success() { Stage::Cancelled } else { Stage::Unknown }
            }
            (stage, _) => {
                let status = match stage {
                    Stage::Consumed => "CONSUMED",
                    Stage::Cancelled => "CANCELLED",
                    _ => "EXPIRED",
                };
                if a.success() {
                    // KEN-37: a real server's answer here is open; what it did is not known.
                    notes.push(Ruling::branch("KEN-38", format!("the simulator refuses with 409; got {}", a.excerpt())));
                    e.stage = if stage == Stage::Cancelled { Stage::Cancelled } else { Stage::Unknown };
                } else {
                    refused(a, 409, &format!("Enrollment is {status}"), "KEN-37", "KEN-37", notes);
                }
            }
        }
    }

    /// The POS app registers with enrollment `i`'s code: KREG-01, KREG-02, KREG-09…KREG-11,
    /// KREG-13, KTIME-01, KEN-40…KEN-42, KAUTH-14 (REQUIRED); KREG-12, KREG-19…KREG-22
    /// (SIMULATOR); KREG-17 (UNKNOWN) leaves the refusals' statuses open.
    pub fn registered(&mut self, i: usize, a: &Answer, notes: &mut Vec<Ruling>) {
        let mut expiry = self.expiry(&self.enrollments[i]);
        // The target's own reading of its clock beats the harness's estimate: a registration it
        // issued (KAUTH-14's issuedAt) within a second of its own `expires_at` is no KTIME-01
        // break, whatever time passed here (a test clock that stands still, a slow network).
        let issued = time(&a.body["credentials"]["issuedAt"]).or_else(|| time(&a.body["created_at"]));
        if expiry == Expiry::Expired
            && a.success()
            && let Some(issued) = issued
            && (issued - self.enrollments[i].expires_at).as_seconds_f64() < 1.0
        {
            expiry = Expiry::Boundary;
        }
        self.count_expired(i, expiry);
        let stage = self.enrollments[i].stage;
        let must_refuse = match (stage, expiry) {
            (Stage::Consumed, _) => Some(("KREG-13", 409, "Enrollment code has already been used")),
            (Stage::Cancelled, _) => Some(("KEN-42", 410, "Enrollment code has been cancelled")),
            (Stage::Pending, Expiry::Expired) => Some(("KTIME-01", 410, "Enrollment code has expired")),
            _ => None,
        };
        if let Some((rule, status, detail)) = must_refuse {
            refused(a, status, detail, "KREG-17", rule, notes);
            return;
        }
        if !a.success() {
            match (stage, expiry) {
                (Stage::Pending, Expiry::Live) => {
                    notes.push(Ruling::broken("KREG-02", format!("a PENDING code registers the app; got {}", a.excerpt())));
                }
                _ => self.enrollments[i].stage = Stage::Unknown,
            }
            return;
        }
        if a.status != 201 {
            notes.push(Ruling::differs("KREG-12", format!("the simulator answers 201; got {}", a.excerpt())));
        }
        let b = &a.body;
        let (Some(id), Some(token)) = (device_id(b), b["credentials"]["bearer_token"].as_str()) else {
            notes.push(Ruling::broken(
                "KAUTH-14",
                format!("registration returns the device record and credentials.bearer_token: {}", a.excerpt()),
            ));
            return;
        };
        if time(&b["credentials"]["issuedAt"]).is_none() {
            notes.push(Ruling::broken("KAUTH-14", "credentials.issuedAt is the RFC 3339 time the token was issued"));
        }
        let e = &self.enrollments[i];
        if b["metadata"].as_object() != Some(&e.metadata) {
            notes.push(Ruling::broken(
                "KREG-10",
                format!("the enrollment's metadata {} is not carried to the device: {}", Value::Object(e.metadata.clone()), b["metadata"]),
            ));
        }
        let same_location = match (b["location_id"].as_str(), e.location.as_deref()) {
            (Some(got), Some(want)) => got.eq_ignore_ascii_case(want),
            (got, want) => got == want,
        };
        if !same_location {
            notes.push(Ruling::broken(
                "KREG-11",
                format!("the device's location_id {} is not the enrollment's {:?}", b["location_id"], e.location),
            ));
        }
        let device = Device {
            id: id.to_owned(),
            hardware: b["hardware_id"].as_str().unwrap_or_default().to_owned(),
            merchant: e.merchant,
            token: token.to_owned(),
            metadata: e.metadata.clone(),
            location: e.location.clone(),
            registered: true,
        };
        self.enrollments[i].stage = Stage::Consumed;
        self.devices.push(device);
    }

    /// `GET /ipp/v1/devices`: KDEV-06, KDEV-07 (REQUIRED); KDEV-09 (SIMULATOR).
    pub fn listed_devices(&self, merchant: usize, filter: &Filter, a: &Answer, notes: &mut Vec<Ruling>) {
        let Some(content) = page(a, "KDEV-06", notes) else { return };
        let filtered = !filter.metadata.is_empty() || filter.location.is_some();
        let matches = |d: &Device| filter.matches(&d.metadata, d.location.as_deref());
        let listed: Vec<&str> = content.iter().filter_map(device_id).collect();
        let whole = !self.partial || a.body["total_elements"].as_u64().is_some_and(|t| t as usize <= content.len());
        for id in &listed {
            match self.devices.iter().find(|d| d.id == *id) {
                Some(d) if d.merchant != merchant => {
                    notes.push(Ruling::broken("KDEV-06", format!("another merchant's device is listed: {id}")))
                }
                Some(d) if !matches(d) => notes.push(Ruling::broken("KDEV-07", format!("{id} does not carry the metadata filtered for"))),
                Some(d) if !d.registered => notes.push(Ruling::broken("KDEV-09", format!("a deregistered device is listed: {id}"))),
                Some(_) => {}
                None if !self.partial => {
                    notes.push(Ruling::broken("KDEV-06", format!("listed a device that is not this merchant's: {id}")))
                }
                None => {}
            }
        }
        for d in self
            .devices
            .iter()
            .filter(|d| whole && d.merchant == merchant && d.registered && matches(d) && !listed.contains(&d.id.as_str()))
        {
            let rule = if filtered { "KDEV-07" } else { "KDEV-06" };
            notes.push(Ruling::broken(rule, format!("the merchant's device {} is missing from the list", d.id)));
        }
    }

    /// `PUT /ipp/v1/devices/{id}` with every member: KDEV-12 (REQUIRED); KDEV-19, KDEV-21
    /// (SIMULATOR) for a deregistered device (KDEV-18: a 404 where no device has the id).
    pub fn updated(&mut self, d: usize, sent: &Map<String, Value>, a: &Answer, notes: &mut Vec<Ruling>) {
        let dev = &mut self.devices[d];
        if !dev.registered {
            if a.success() {
                notes.push(Ruling::branch("KDEV-21", format!("the simulator refuses a deregistered device with 404; got {}", a.excerpt())));
            } else {
                refused(a, 404, "Device not found", "KDEV-19", "KDEV-18", notes);
            }
            return;
        }
        if a.status != 200 {
            notes.push(Ruling::broken("KDEV-12", format!("expected 200 with the device; got {}", a.excerpt())));
            return;
        }
        let metadata = sent.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
        if a.body["metadata"].as_object() != Some(&metadata) || device_id(&a.body) != Some(dev.id.as_str()) {
            notes.push(Ruling::broken("KDEV-12", format!("the update is not in the answer (or the id changed, KDEV-04): {}", a.excerpt())));
        }
        dev.metadata = metadata;
    }

    /// `DELETE /ipp/v1/devices/{id}`: KDEV-20 (REQUIRED); KDEV-21 (SIMULATOR); KDEV-24 (UNKNOWN).
    pub fn deregistered(&mut self, d: usize, a: &Answer, notes: &mut Vec<Ruling>) {
        let dev = &mut self.devices[d];
        if !dev.registered {
            if a.success() {
                notes.push(Ruling::differs("KDEV-24", format!("the simulator answers a second DELETE with 404; got {}", a.excerpt())));
            } else {
                refused(a, 404, "Device not found", "KDEV-24", "KDEV-24", notes);
            }
            return;
        }
        if !a.success() {
            notes.push(Ruling::broken("KDEV-20", format!("a registered device must be deregistered; got {}", a.excerpt())));
            return;
        }
        if a.status != 204 {
            notes.push(Ruling::differs("KDEV-24", format!("the simulator answers 204; got {}", a.excerpt())));
        }
        dev.registered = false;
    }

    /// `GET /ipp/v1/devices/me`: KDEV-20 (REQUIRED: a deregistered device's token is revoked at
    /// once); KDEV-25, KAUTH-20 (SIMULATOR).
    pub fn me(&self, d: usize, a: &Answer, notes: &mut Vec<Ruling>) {
        let dev = &self.devices[d];
        if dev.registered {
            if a.status != 200 || device_id(&a.body) != Some(dev.id.as_str()) {
                notes.push(Ruling::broken("KDEV-25", format!("the token of a registered device reads its record; got {}", a.excerpt())));
            }
            if a.body.get("credentials").is_some() {
                notes.push(Ruling::broken("KAUTH-15", "credentials appear only in the registering answer"));
            }
        } else if a.success() {
            notes.push(Ruling::broken("KDEV-20", format!("the token of a deregistered device still works: {}", a.excerpt())));
        } else {
            problem_shape(a, notes);
            if a.status != 401 {
                notes.push(Ruling::differs("KAUTH-20", format!("the simulator answers 401; got {}", a.excerpt())));
            }
        }
    }
}
