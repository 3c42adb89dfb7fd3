//! The start-up text, so that a newcomer can curl at once.

use std::fmt::Write;

use crate::auth::TokenIssuer;
use crate::clock::Clock;
use crate::ids::DeviceId;
use crate::kustom::KustomStore;
use crate::settings::Settings;
use crate::store::ViopayStore;
use crate::time_fmt::rfc3339;

/// How many device ids are shown per merchant.
const SHOWN: usize = 6;

/// What the summary reads.
pub(crate) struct Parts<'a> {
    pub(crate) store: &'a ViopayStore,
    pub(crate) kustom: &'a KustomStore,
    pub(crate) clock: &'a Clock,
    pub(crate) tokens: &'a TokenIssuer,
    pub(crate) settings: &'a Settings,
    /// Where the fixtures came from (a file, or the built-in ones).
    pub(crate) fixtures_source: &'a str,
}

pub(crate) fn render(sim: &Parts<'_>) -> String {
    let store = sim.store.read();
    let state = &store.state;
    let merchants: Vec<_> = state.merchants().collect();
    // One pass over all devices: counts and the smallest ids per merchant (a million devices must
    // not mean a million lines, nor a scan per merchant).
    let mut counts = vec![0usize; merchants.len()];
    let mut samples: Vec<Vec<DeviceId>> = vec![Vec::new(); merchants.len()];
    for (id, device) in state.devices() {
        let i = device.owner.get();
        counts[i] += 1;
        let sample = &mut samples[i];
        if sample.len() < SHOWN || sample.last().is_some_and(|last| id < *last) {
            let at = sample.partition_point(|x| *x < id);
            sample.insert(at, id);
            sample.truncate(SHOWN);
        }
    }
    let sample_device = samples.iter().find_map(|s| s.first().copied());

    let mut out = String::new();
    let url = &sim.settings.listen_url;
    let _ = writeln!(out, "viopay-sim listening on {url}");
    if sim.settings.base_url != sim.settings.listen_url {
        let _ = writeln!(out, "public URL: {}", sim.settings.base_url);
    }
    let _ = writeln!(
        out,
        "clock: {}, now {}",
        match sim.clock.mode() {
            crate::clock::ClockMode::System => "system",
            crate::clock::ClockMode::Virtual => "virtual (move it: POST /_sim/clock/advance)",
        },
        rfc3339(sim.clock.now())
    );
    let _ = writeln!(
        out,
        "fixtures: {} ({} merchants, {} devices), min_supported_version {}",
        sim.fixtures_source,
        merchants.len(),
        state.device_count(),
        sim.settings.min_version
    );
    let _ = writeln!(out, "merchants (client credentials for POST /client/session):");
    for (idx, m) in &merchants {
        let i = idx.get();
        let _ = writeln!(out, "  {:<20} id {}  client_id {}  client_secret {}", m.name, m.id, m.client_id, m.client_secret);
        let shown: Vec<String> = samples[i].iter().map(ToString::to_string).collect();
        let more = if counts[i] > shown.len() { format!(", … ({} in all)", counts[i]) } else { String::new() };
        let _ = writeln!(out, "    devices: {}{more}", if shown.is_empty() { "none".into() } else { shown.join(", ") });
    }
    let _ = writeln!(out, "tokens: issuer {}, JWKS {}/protocol/openid-connect/certs", sim.tokens.issuer(), sim.tokens.issuer());
    let _ = writeln!(
        out,
        "  token endpoint (form-encoded, Keycloak's): {}/protocol/openid-connect/token (client_credentials; password with client_id {})",
        sim.tokens.issuer(),
        crate::auth::grant::PORTAL_CLIENT_ID
    );
    let kustom_store = sim.kustom.read();
    let kustom = &kustom_store.state.merchants;
    if !kustom.is_empty() {
        let _ = writeln!(out, "kustom /ipp/v1 merchants (Authorization: Basic <api_key>; x-merchant-id: <id> on lists):");
        for m in kustom {
            let locations: Vec<String> = m.locations.iter().map(|l| format!("{} {}", l.name, l.id)).collect();
            let _ = writeln!(out, "  {:<20} id {}  api_key {}  username {}", m.name, m.id, m.api_key, m.username);
            let _ = writeln!(out, "    locations: {}", if locations.is_empty() { "none".into() } else { locations.join(", ") });
        }
    }
    let _ = writeln!(out, "control API: {}", if sim.settings.control { "on, under /_sim/ (see README)" } else { "off" });
    if sim.settings.control {
        let _ = writeln!(out, "merchant portal: {url}/portal");
        let users: Vec<_> = state.users().collect();
        if users.is_empty() {
            let _ = writeln!(out, "  no portal user: add [[users]] (username, password, merchant_id) to the fixtures");
        }
        for u in users {
            let _ = writeln!(out, "  user {}  password {}  ({})", u.username, u.password, state.merchant(u.merchant).name);
        }
    }
    if let Some(device) = sample_device {
        let _ = writeln!(out, "try:");
        let _ = writeln!(
            out,
            "  curl -s -X POST {url}/pos/bootstrap -H 'X-Device-Id: {device}' -H 'User-Agent: Viopay-POS/1.4.2 (Android 12; PAX-A920)' -H 'X-Client-Type: pos'"
        );
        if let Some(m) = kustom.iter().find(|m| m.locations.len() == 1) {
            let _ = writeln!(
                out,
                "  curl -s -X POST {url}/ipp/v1/enrollments -H 'Authorization: Basic {}' -d '{{\"metadata\": {{\"store_id\": \"123\"}}}}'",
                m.api_key
            );
        }
    }
    out
}
