//! The harness's self-test: a catalogue of deliberately broken targets, each breaking one REQUIRED
//! rule of steps 1–4, or one REQUIRED or SIMULATOR rule of steps 5–8 (`broken_activation`). `run`
//! and `fuzz` both go against each (with `--strict` where the rule is SIMULATOR: an advisory is
//! how a difference shows otherwise); every one must be caught, with the broken rule named. The sensitivity matrix is printed and written to
//! `target/selftest-sensitivity.md`. The correct simulator must pass both, 20 times in a row.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::json;
use viopay_check::TargetSpec;
use viopay_check::fuzz::{FuzzOptions, fuzz};

use crate::common::*;

fn error_of(res: &ProxyResponse) -> (String, String) {
    let v = res.json();
    (v["error"]["code"].as_str().unwrap_or_default().to_owned(), v["error"]["message"].as_str().unwrap_or_default().to_owned())
}

fn code_of(req: &ProxyRequest) -> String {
    serde_json::from_slice::<serde_json::Value>(&req.body)
        .ok()
        .and_then(|v| v["pairing_code"].as_str().map(|c| c.trim().to_uppercase()))
        .unwrap_or_default()
}

fn device_of(req: &ProxyRequest) -> String {
    req.headers.get("x-device-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

fn claimed(res: &mut ProxyResponse, device: &str) {
    res.status = 200;
    res.set_json(&json!({ "status": "claimed", "device_id": device }));
}

/// Issued codes rewritten on the way out and back on the way in.
fn rewrite_codes(name: &'static str, rule: &'static str, rewrite: fn(&str) -> String) -> Broken {
    let fakes: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let out = fakes.clone();
    let breakage = Breakage {
        before: Some(Arc::new(move |req: &mut ProxyRequest| {
            if req.path == "/pos/claim" {
                let code = code_of(req);
                if let Some(real) = fakes.lock().get(&code).cloned() {
                    req.body = json!({ "pairing_code": real }).to_string().into_bytes();
                }
            }
        })),
        after: Some(Arc::new(move |req: &ProxyRequest, res: &mut ProxyResponse| {
            if req.path == "/pos/pairing-code" && res.status == 200 {
                let mut v = res.json();
                let real = v["pairing_code"].as_str().unwrap_or_default().to_owned();
                let fake = rewrite(&real);
                out.lock().insert(fake.to_uppercase(), real);
                v["pairing_code"] = json!(fake);
                res.set_json(&v);
            }
        })),
        around: None,
    };
    Broken { name, rule, breakage }
}

/// The catalogue. Each entry breaks one REQUIRED rule; the proxy keeps the rest of the
/// simulator's behaviour.
fn catalogue() -> Vec<Broken> {
    let codes: Arc<Mutex<HashMap<String, String>>> = Arc::default(); // code -> device
    let track = |codes: &Arc<Mutex<HashMap<String, String>>>| {
        let codes = codes.clone();
        move |req: &ProxyRequest, res: &ProxyResponse| {
            if req.path == "/pos/pairing-code" && res.status == 200 {
                let code = res.json()["pairing_code"].as_str().unwrap_or_default().to_owned();
                codes.lock().insert(code, device_of(req));
            }
        }
    };
    let mut list = vec![
        rewrite_codes("ambiguous characters in codes", "PAIR-03", |c| format!("{}O", &c[..5])),
        rewrite_codes("codes of the wrong length", "PAIR-03", |c| format!("{c}7")),
        Broken {
            name: "wrong TTL (600 s)",
            rule: "PAIR-02",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/pairing-code" && res.status == 200 {
                    let mut v = res.json();
                    v["expires_in_sec"] = json!(600);
                    res.set_json(&v);
                }
            }),
        },
        Broken {
            name: "codes never expire",
            rule: "STAT-06",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/status" && res.status == 200 {
                    let mut v = res.json();
                    if v["pairing_code_status"] == "expired" {
                        v["pairing_code_status"] = json!("pending");
                        res.set_json(&v);
                    }
                }
            }),
        },
        Broken {
            name: "no ownership check",
            rule: "CLAIM-16",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/claim" && res.status == 403 {
                    let device = res.json()["error"]["details"]["device_id"].as_str().unwrap_or_default().to_owned();
                    claimed(res, &device);
                }
            }),
        },
        Broken {
            name: "wrong error code string (4040 for not found)",
            rule: "CLAIM-12",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/claim" && error_of(res).0 == "4004" {
                    let mut v = res.json();
                    v["error"]["code"] = json!("4040");
                    res.set_json(&v);
                }
            }),
        },
        Broken { name: "numeric error codes", rule: "ERR-02", breakage: numeric_error_codes() },
        Broken {
            name: "missing trace ids",
            rule: "ERR-04",
            breakage: Breakage::after(|_, res| {
                let mut v = res.json();
                if let Some(e) = v["error"].as_object_mut() {
                    e.remove("trace_id");
                    res.set_json(&v);
                }
            }),
        },
        Broken {
            name: "is_claimed inconsistent with device_status",
            rule: "STAT-04",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/status" && res.status == 200 {
                    let mut v = res.json();
                    if v["device_status"] == "claimed" {
                        v["is_claimed"] = json!(false);
                        res.set_json(&v);
                    }
                }
            }),
        },
        Broken {
            name: "status stuck on pending after a claim",
            rule: "STAT-08",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/status" && res.status == 200 {
                    let mut v = res.json();
                    if v["pairing_code_status"] == "used" {
                        v["pairing_code_status"] = json!("pending");
                        res.set_json(&v);
                    }
                }
            }),
        },
        Broken {
            name: "malformed server_time",
            rule: "BOOT-03",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/bootstrap" && res.status == 200 {
                    let mut v = res.json();
                    let t = v["server_time"].as_str().unwrap_or_default().replace('T', " ").trim_end_matches('Z').to_owned();
                    v["server_time"] = json!(t);
                    res.set_json(&v);
                }
            }),
        },
        Broken {
            name: "no X-Client-Type validation",
            rule: "HDR-09",
            breakage: Breakage::before(|req| {
                if req.path.starts_with("/pos/") && req.path != "/pos/claim" {
                    req.headers.insert("x-client-type", axum::http::HeaderValue::from_static("pos"));
                }
            }),
        },
        Broken {
            name: "unknown device accepted by status",
            rule: "STAT-12",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/status" && res.status == 404 {
                    res.status = 200;
                    res.set_json(&json!({ "device_status": "inactive", "is_claimed": false, "pairing_code_status": "none" }));
                }
            }),
        },
        Broken {
            name: "code issued to an unprovisioned device",
            rule: "PAIR-09",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/pairing-code" && res.status == 404 {
                    res.status = 200;
                    res.set_json(&json!({ "pairing_code": "ABCDEF", "expires_in_sec": 300 }));
                }
            }),
        },
        Broken {
            name: "claim without a token accepted",
            rule: "CLAIM-03",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/claim" && res.status == 401 && !req.headers.contains_key("authorization") {
                    claimed(res, "POS-00000000");
                }
            }),
        },
        Broken {
            name: "5xx for malformed JSON",
            rule: "CLAIM-05",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/claim" && res.status == 400 && serde_json::from_slice::<serde_json::Value>(&req.body).is_err() {
                    let trace = res.json()["error"]["trace_id"].clone();
                    res.status = 500;
                    res.set_json(&json!({ "error": { "code": "5000", "message": "Internal error", "trace_id": trace } }));
                }
            }),
        },
        Broken {
            name: "wrong message for an expired code",
            rule: "CLAIM-19",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/claim" && error_of(res).1 == "Pairing code has expired" {
                    let mut v = res.json();
                    v["error"]["message"] = json!("Code expired");
                    res.set_json(&v);
                }
            }),
        },
        Broken {
            name: "bootstrap status \"OK\"",
            rule: "BOOT-02",
            breakage: Breakage::after(|req, res| {
                if req.path == "/pos/bootstrap" && res.status == 200 {
                    let mut v = res.json();
                    v["status"] = json!("OK");
                    res.set_json(&v);
                }
            }),
        },
        Broken {
            name: "another validator message for a missing code",
            rule: "CLAIM-06",
            breakage: Breakage::after(|req, res| {
                let mut v = res.json();
                if req.path == "/pos/claim"
                    && v["error"]["details"]["message"].as_str().is_some_and(|m| m.starts_with("Key: 'ClaimDeviceRequest"))
                {
                    v["error"]["details"]["message"] = json!("pairing_code is required");
                    res.set_json(&v);
                }
            }),
        },
    ];

    // A used code claimable again (CLAIM-18).
    let used_codes = codes.clone();
    let track_used = track(&codes);
    list.push(Broken {
        name: "a used code claimable again",
        rule: "CLAIM-18",
        breakage: Breakage::after(move |req, res| {
            track_used(req, res);
            if req.path == "/pos/claim" && error_of(res).1 == "Pairing code has already been used" {
                let device = used_codes.lock().get(&code_of(req)).cloned().unwrap_or_default();
                claimed(res, &device);
            }
        }),
    });

    // A new code that does not supersede the old one (CODE-04).
    let by_device: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
    let issued = by_device.clone();
    list.push(Broken {
        name: "a new code does not supersede the old one",
        rule: "CODE-04",
        breakage: Breakage::after(move |req, res| {
            if req.path == "/pos/pairing-code" && res.status == 200 {
                let code = res.json()["pairing_code"].as_str().unwrap_or_default().to_owned();
                issued.lock().entry(device_of(req)).or_default().push(code);
            }
            if req.path == "/pos/claim" && error_of(res).0 == "4004" {
                let code = code_of(req);
                let owner = issued.lock().iter().find(|(_, codes)| codes.iter().rev().skip(1).any(|c| *c == code)).map(|(d, _)| d.clone());
                if let Some(device) = owner {
                    claimed(res, &device);
                }
            }
        }),
    });

    // A refused claim that consumes the code (CLAIM-17).
    let consumed: Arc<Mutex<Vec<String>>> = Arc::default();
    list.push(Broken {
        name: "a refused claim consumes the code",
        rule: "CLAIM-17",
        breakage: Breakage::after(move |req, res| {
            if req.path != "/pos/claim" {
                return;
            }
            let code = code_of(req);
            if res.status == 403 {
                consumed.lock().push(code);
            } else if consumed.lock().contains(&code) {
                let trace = res.json()["error"]["trace_id"].as_str().map(str::to_owned).unwrap_or_else(|| "consumed".into());
                res.status = 400;
                res.set_json(&json!({ "error": { "code": "4220", "message": "Pairing code has already been used", "details": { "pairing_code": code }, "trace_id": trace } }));
                if let Ok(v) = axum::http::HeaderValue::from_str(&trace) {
                    res.headers.insert("x-trace-id", v);
                }
            }
        }),
    });

    // A non-atomic claim race: "already used" within a second of the winning claim becomes 200
    // (a second, not milliseconds, so that a loaded CI machine still shows the race).
    let wins: Arc<Mutex<HashMap<String, (Instant, String)>>> = Arc::default();
    list.push(Broken {
        name: "a non-atomic claim race",
        rule: "CLAIM-21",
        breakage: Breakage::after(move |req, res| {
            if req.path != "/pos/claim" {
                return;
            }
            let code = code_of(req);
            if res.status == 200 {
                let device = res.json()["device_id"].as_str().unwrap_or_default().to_owned();
                wins.lock().insert(code, (Instant::now(), device));
            } else if error_of(res).1 == "Pairing code has already been used"
                && let Some((at, device)) = wins.lock().get(&code).cloned()
                && at.elapsed() < Duration::from_secs(1)
            {
                claimed(res, &device);
            }
        }),
    });
    list.extend(crate::broken_activation::catalogue());
    list
}

fn fuzz_options(seed: u64) -> FuzzOptions {
    FuzzOptions {
        // Steps 5–8 lie deep in a sequence (a code, a claim, an attest, keys, then time passing):
        // 150 cases of up to 30 steps reach them on every target of the catalogue. A run stops at
        // its first failure, so a target caught early costs little.
        cases: 150,
        max_steps: 30,
        seed: Some(seed),
        devices: 3,
        merchants: 2,
        persist: None,
        request_timeout: Duration::from_secs(30),
        ..FuzzOptions::default()
    }
}

#[test]
fn every_broken_target_is_caught_with_its_rule_named() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let catalogue = catalogue();
    assert!(catalogue.len() >= 30, "at least 30 broken targets");
    let rules = viopay_check::Catalogue::builtin();
    let mut rows = Vec::new();
    for broken in catalogue {
        let strict = rules.get(broken.rule).is_some_and(|r| r.level == viopay_check::Level::Simulator);
        let server = rt.block_on(broken_target(broken.breakage.clone()));
        let spec = TargetSpec::Simulator(server.uri());
        let mut opts = options(None);
        opts.strict = strict;
        let run = rt.block_on(certify(spec.clone(), &opts));
        let run_rules: Vec<String> =
            run.scenarios.iter().flat_map(|s| &s.findings).filter(|f| f.is_failure(strict)).map(|f| f.rule.to_string()).collect();
        let fz = fuzz(rt.handle(), &spec, &FuzzOptions { strict, ..fuzz_options(7) }).expect("fuzz runs");
        let fuzz_rule = fz.failure.as_ref().and_then(|f| f.finding.as_ref()).map(|f| f.rule.to_string());
        rows.push((broken.name, broken.rule, run.exit_code == 1 && run_rules.iter().any(|r| r == broken.rule), run_rules, fuzz_rule));
        drop(server);
    }
    let mut table = String::from("| broken target | rule | caught by scenarios | caught by fuzz | rule named |\n|---|---|---|---|---|\n");
    let mut caught = 0;
    for (name, rule, by_run, _, fuzz_rule) in &rows {
        let by_fuzz = fuzz_rule.as_deref() == Some(*rule);
        let named = *by_run || by_fuzz;
        caught += usize::from(named);
        let fuzz_cell = match fuzz_rule {
            Some(r) if r == rule => "yes".to_owned(),
            Some(r) => format!("other rule ({r})"),
            None => "no".to_owned(),
        };
        table.push_str(&format!(
            "| {name} | {rule} | {} | {fuzz_cell} | {} |\n",
            if *by_run { "yes" } else { "no" },
            if named { "yes" } else { "NO" }
        ));
    }
    let by_run = rows.iter().filter(|r| r.2).count();
    let by_fuzz = rows.iter().filter(|r| r.4.as_deref() == Some(r.1)).count();
    table.push_str(&format!(
        "\n{caught} of {} broken targets caught with the broken rule named ({by_run} by scenarios, {by_fuzz} by fuzz).\n",
        rows.len()
    ));
    println!("{table}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/selftest-sensitivity.md");
    let _ = std::fs::write(out, &table);
    let missed: Vec<String> = rows
        .iter()
        .filter(|(_, rule, by_run, _, fr)| !*by_run && fr.as_deref() != Some(*rule))
        .map(|(n, r, _, run_rules, fr)| format!("{n} ({r}): run named {run_rules:?}, fuzz named {fr:?}"))
        .collect();
    assert!(missed.is_empty(), "missed:\n{}\n{table}", missed.join("\n"));
}

#[test]
fn the_correct_simulator_passes_run_and_fuzz_20_times_in_a_row() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    for round in 0..20u64 {
        let report = rt.block_on(certify(TargetSpec::Embedded, &options(None)));
        let problems: Vec<String> = report
            .scenarios
            .iter()
            .filter(|s| !matches!(s.status, viopay_check::ScenarioStatus::Passed | viopay_check::ScenarioStatus::NotApplicable(_)))
            .map(|s| format!("{}:{} {:?} {:?}", s.file, s.line, s.status, s.findings.iter().map(|f| &f.message).collect::<Vec<_>>()))
            .collect();
        assert_eq!(
            (report.exit_code, report.counts.failed, report.counts.advisory, report.counts.errors),
            (0, 0, 0, 0),
            "round {round}: {:?}\n{}",
            failing_rules(&report),
            problems.join("\n")
        );
        let fz = fuzz(rt.handle(), &TargetSpec::Embedded, &FuzzOptions { cases: 25, ..fuzz_options(1000 + round) }).expect("fuzz runs");
        assert!(fz.failure.is_none() && fz.advisories.is_empty() && fz.stopped.is_none(), "round {round}:\n{}", fz.render());
    }
}

#[test]
fn a_fuzz_failure_is_shrunk_and_replayable_as_steps_curl_and_gherkin() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let broken = catalogue().into_iter().find(|b| b.rule == "CLAIM-16").expect("CLAIM-16 target");
    let server = rt.block_on(broken_target(broken.breakage));
    let spec = TargetSpec::Simulator(server.uri());
    // The target also breaks CLAIM-21 (another merchant's concurrent claims all win): a seed may
    // meet that first. The first seed from 11 whose failure is CLAIM-16 is the one replayed here.
    let rule_of = |r: &viopay_check::fuzz::FuzzReport| r.failure.as_ref().and_then(|f| f.finding.as_ref()).map(|f| f.rule.to_string());
    let (seed, report) = (11..31)
        .map(|seed| (seed, fuzz(rt.handle(), &spec, &fuzz_options(seed)).expect("fuzz runs")))
        .find(|(_, r)| rule_of(r).as_deref() == Some("CLAIM-16"))
        .expect("within 20 seeds the fuzzer names the missing ownership check");
    let failure = report.failure.as_ref().expect("a failure");
    assert!(failure.steps.len() <= 4, "shrunk to a short sequence: {}", report.render());
    let text = report.render();
    println!("{text}");
    for needle in
        ["Shortest failing sequence", "  1. ", "curl -i -X POST", "@regression @CLAIM-16", "Then the error is 403 \"4003\"", "--seed "]
    {
        assert!(text.contains(needle), "the report lacks {needle:?}:\n{text}");
    }
    // The same seed replays the same run.
    assert!(text.contains(&format!("--seed {seed}")), "{text}");
    let again = fuzz(rt.handle(), &spec, &fuzz_options(seed)).expect("fuzz runs");
    assert_eq!(
        again.failure.as_ref().map(|f| f.steps.iter().map(|s| s.op.clone()).collect::<Vec<_>>()),
        Some(failure.steps.iter().map(|s| s.op.clone()).collect())
    );

    // The Gherkin regression fails the broken target for CLAIM-16 and passes the simulator.
    let feature = viopay_check::features::FeatureFile {
        path: "features/regressions.feature".into(),
        text: format!("Feature: Regressions found by viopay-check fuzz\n\n{}", viopay_check::fuzz::render_gherkin(&report)),
    };
    let mut opts = options(None);
    opts.features = vec![feature];
    let on_broken = rt.block_on(certify(spec, &opts));
    assert_eq!(failing_rules(&on_broken), vec!["CLAIM-16".to_owned()]);
    let on_sim = rt.block_on(certify(TargetSpec::Embedded, &opts));
    assert_eq!(on_sim.exit_code, 0, "{:?}", on_sim.scenarios);
}
