//! `load --export locust DIR`: the same fleet as a runnable Locust project, for a load past one
//! machine on Locust's distributed engine (a master and workers). The project's files are kept in
//! `src/load/locust/` and written as they are; `profile.json` carries this run's target, workload
//! and, for a real deployment, its merchants and a `fleet.jsonl` of devices with their secrets.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::json;

use super::Workload;
use crate::TargetSpec;
use crate::profile::Profile;

const FILES: [(&str, &str); 3] = [
    ("locustfile.py", include_str!("locust/locustfile.py")),
    ("requirements.txt", include_str!("locust/requirements.txt")),
    ("README.md", include_str!("locust/README.md")),
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the exported project talks to a running target: give --target URL or --profile FILE")]
    Embedded,
    #[error(transparent)]
    Profile(#[from] crate::ProfileError),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, ExportError> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|source| ExportError::Write { path: path.clone(), source })?;
    Ok(path)
}

/// Writes the project into `dir` (created if missing); returns the files written.
pub fn locust(spec: &TargetSpec, workload: &Workload, dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Write { path: dir.to_owned(), source })?;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let (host, control, merchants, devices) = match spec {
        TargetSpec::Embedded => return Err(ExportError::Embedded),
        TargetSpec::Simulator(url) => (url.clone(), true, Vec::new(), None),
        TargetSpec::Profile(path) => {
            let (profile, merchants): (Profile, _) = Profile::load(path)?;
            let mut lines = String::new();
            for (m, merchant) in merchants.iter().enumerate() {
                for id in &merchant.devices {
                    let secrets = merchant.secrets.iter().find(|(d, _)| d == id).map(|(_, s)| s);
                    let line = json!({
                        "id": id,
                        "merchant": m,
                        "identity_key_id": secrets.map(|s| s.identity_key_id.clone()),
                        "identity_secret": secrets.map(|s| b64(&s.identity_secret)),
                        "zmk": secrets.and_then(|s| s.zmk.as_ref().map(|z| b64(z))),
                    });
                    lines.push_str(&line.to_string());
                    lines.push('\n');
                }
            }
            let merchants: Vec<_> =
                merchants.iter().map(|m| json!({ "client_id": m.client_id, "client_secret": m.client_secret })).collect();
            (profile.base_url, false, merchants, Some(lines))
        }
    };
    let mut written = Vec::new();
    for (name, text) in FILES {
        written.push(write(dir, name, text)?);
    }
    if let Some(lines) = &devices {
        written.push(write(dir, "fleet.jsonl", lines)?);
    }
    let profile = json!({
        "host": host,
        "control": control,
        "steps": if workload.activate { "1-8" } else { "1-4" },
        "poll_min_s": workload.poll.0,
        "poll_max_s": workload.poll.1,
        "claim_after_min_s": workload.claim_after.0,
        "claim_after_max_s": workload.claim_after.1,
        "never_claim_share": workload.never_claim,
        "double_claim_share": workload.double_claim,
        "devices_file": devices.as_ref().map(|_| "fleet.jsonl"),
        "merchants": merchants,
    });
    written.push(write(dir, "profile.json", &serde_json::to_string_pretty(&profile).unwrap_or_default())?);
    Ok(written)
}
