//! `viopay-sim verdict`: what a firmware CI runs after its test. It asks a running simulator for
//! the client verdict, prints it, optionally writes JUnit, and exits 0 when no REQUIRED client
//! rule broke (1 when one did, 2 when the verdict could not be had).

use std::fmt::Write;
use std::path::PathBuf;

use super::{DeviceVerdict, Outcome, Report, RuleVerdict};

#[derive(Debug, clap::Args)]
pub struct VerdictArgs {
    /// The simulator's base URL (its control API must be on).
    #[arg(long, env = "VIOPAY_SIM_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Only this device (e.g. POS-8F3A2C91).
    #[arg(long)]
    pub device: Option<String>,
    /// Write the verdict as JUnit XML (one test case per rule and device).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the verdict as JSON, as the control API gives it.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// SIMULATOR rules count as failures too.
    #[arg(long)]
    pub strict: bool,
    /// A CA certificate (PEM) to trust for an https:// URL (the one `--tls` wrote).
    #[arg(long, value_name = "PEM")]
    pub cacert: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum VerdictError {
    #[error("cannot reach the simulator at {url}: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    #[error("{url} answered {status}: {body}")]
    Refused { url: String, status: u16, body: String },
    #[error("{url} did not answer a verdict: {0}", url = .1)]
    NotAVerdict(String, String),
    #[error("cannot read --cacert {path}: {message}")]
    CaCert { path: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// Fetches the verdict; the device form is wrapped into a one-device report.
pub(crate) async fn fetch(args: &VerdictArgs) -> Result<Report, VerdictError> {
    let base = args.url.trim_end_matches('/');
    let url = match &args.device {
        Some(d) => format!("{base}/_sim/devices/{d}/verdict"),
        None => format!("{base}/_sim/verdict"),
    };
    let mut client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60));
    if let Some(path) = &args.cacert {
        let ca_err = |message: String| VerdictError::CaCert { path: path.display().to_string(), message };
        let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
        client = client.add_root_certificate(reqwest::Certificate::from_pem(&pem).map_err(|e| ca_err(e.to_string()))?);
    }
    let client = client.build().map_err(|source| VerdictError::Unreachable { url: url.clone(), source })?;
    let res = client.get(&url).send().await.map_err(|source| VerdictError::Unreachable { url: url.clone(), source })?;
    let status = res.status().as_u16();
    let body = res.text().await.map_err(|source| VerdictError::Unreachable { url: url.clone(), source })?;
    if status != 200 {
        return Err(VerdictError::Refused { url, status, body });
    }
    serde_json::from_str(&body).map_err(|e| VerdictError::NotAVerdict(e.to_string(), url))
}

/// Whether the run passes: no REQUIRED rule broken (nor SIMULATOR with `strict`).
pub(crate) fn passes(report: &Report, strict: bool) -> bool {
    let bad = |r: &RuleVerdict| r.outcome == Outcome::Fail || (strict && r.outcome == Outcome::Advisory);
    !report.devices.iter().flat_map(|d| &d.rules).chain(&report.run).any(bad)
}

fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::Advisory => "advisory",
        Outcome::NotJudged => "not judged",
    }
}

fn device_text(out: &mut String, d: &DeviceVerdict) {
    let _ = writeln!(
        out,
        "{}: {} ({} request(s), {} failure(s), {} advisory)",
        d.device_id,
        if d.passed { "pass" } else { "FAIL" },
        d.requests,
        d.failures,
        d.advisories
    );
    for r in &d.rules {
        rule_text(out, r);
    }
}

fn rule_text(out: &mut String, r: &RuleVerdict) {
    let tail = match (&r.reason, r.findings.first()) {
        (Some(reason), _) => format!(" ({reason})"),
        (None, Some(f)) => format!(": {}", f.message),
        (None, None) => String::new(),
    };
    let _ = writeln!(out, "  {:<10} {} {}{tail}", mark(r.outcome), r.rule, r.title);
    for f in r.findings.iter().skip(1) {
        let _ = writeln!(out, "             {}", f.message);
    }
}

/// The text a person reads in the CI log.
pub(crate) fn render(report: &Report, strict: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "client verdict: {} device(s), clock {}{}, journal {} exchange(s){}",
        report.devices.len(),
        if report.pacing_judged { "system" } else { "virtual" },
        if report.pacing_judged { "" } else { " (pacing not judged)" },
        report.journal.total,
        if report.journal.dropped > 0 { format!(", {} dropped", report.journal.dropped) } else { String::new() }
    );
    for d in &report.devices {
        device_text(&mut out, d);
    }
    if report.run.iter().any(|r| r.outcome != Outcome::NotJudged) {
        let _ = writeln!(out, "requests naming no device:");
        for r in &report.run {
            rule_text(&mut out, r);
        }
    }
    let _ = writeln!(out, "{}", if passes(report, strict) { "PASS" } else { "FAIL" });
    out
}

/// Runs the command; the exit code is the CI gate.
pub async fn run(args: VerdictArgs) -> u8 {
    let report = match fetch(&args).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("viopay-sim verdict: {e}");
            return 2;
        }
    };
    print!("{}", render(&report, args.strict));
    let writes = [
        (args.junit.as_ref(), super::junit::to_junit(&report, args.strict)),
        (args.json.as_ref(), serde_json::to_string_pretty(&report).unwrap_or_default()),
    ];
    for (path, text) in writes {
        if let Some(path) = path
            && let Err(source) = std::fs::write(path, text)
        {
            eprintln!("viopay-sim verdict: {}", VerdictError::Write { path: path.display().to_string(), source });
            return 2;
        }
    }
    if passes(&report, args.strict) { 0 } else { 1 }
}
