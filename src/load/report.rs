//! What `load` reports: the fleet's outcome, latency per endpoint and for the journey (from the
//! intended send time), throughput and errors over time, each objective held or not, and every
//! rule judged with the breaks found; as text, JSON, JUnit and one self-contained HTML page.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

use maud::html;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};

use super::stats::Stats;
use super::{LoadOptions, Shared, slo};
use crate::report::svg::{Series, line_chart};
use crate::verdict::Finding;

const QUANTILES: [(&str, f64); 5] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999), ("max", 1.0)];

/// The fleet's outcome.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Fleet {
    pub terminals: u64,
    pub arrived: u64,
    pub claimed: u64,
    /// Claimed and activated (steps 5–8).
    pub activated: u64,
    pub halted: u64,
    pub unfinished: u64,
    pub never_claimed: u64,
}

#[derive(Debug, Clone)]
pub struct LoadReport {
    pub target: String,
    pub seed: u64,
    pub duration: Duration,
    pub fleet: Fleet,
    pub stats: Stats,
    pub slos: Vec<slo::Judged>,
    /// Rule ID → (answers that broke it, the first).
    pub findings: BTreeMap<String, (u64, Finding)>,
    /// Every rule some answer was judged on.
    pub exercised: Vec<String>,
    /// Requests that got no answer, and the first.
    pub transport: (u64, Option<String>),
    /// Why the run ended early.
    pub stopped: Option<String>,
    pub strict: bool,
}

/// The live line: where the fleet is, and how the target is doing.
pub(super) fn progress_line(shared: &Shared, total: usize) -> String {
    let p = &shared.progress;
    let t = shared.start.elapsed().as_secs_f64();
    let stats = shared.stats.lock();
    let recent: Vec<&super::stats::Second> = stats.seconds.iter().rev().skip(1).take(5).collect();
    let rps = recent.iter().map(|s| s.requests).sum::<u64>() as f64 / recent.len().max(1) as f64;
    let mut h = super::stats::histogram();
    for s in &recent {
        let _ = h.add(&s.latency);
    }
    let breaks: u64 = shared.findings.lock().values().filter(|(_, f)| f.is_failure(shared.judge.strict)).map(|(n, _)| *n).sum();
    format!(
        "[{t:>6.1}s] terminals {}/{total} arrived, {} waiting, {} claimed, {} activated, {} halted | {rps:.0} req/s | p99 {:.1} ms | errors {} | breaks {breaks}",
        p.arrived.load(Ordering::Relaxed),
        p.waiting.load(Ordering::Relaxed),
        p.claimed.load(Ordering::Relaxed),
        p.activated.load(Ordering::Relaxed),
        p.halted.load(Ordering::Relaxed),
        h.value_at_quantile(0.99) as f64 / 1000.0,
        stats.errors,
    )
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl LoadReport {
    pub(super) fn new(shared: &Shared, target: &str, opts: &LoadOptions, duration: Duration) -> Self {
        let p = &shared.progress;
        let stats = shared.stats.lock().clone();
        let slos = opts.slos.iter().map(|s| s.judge(&stats, duration.as_secs_f64())).collect();
        LoadReport {
            target: target.to_owned(),
            seed: opts.seed,
            duration,
            fleet: Fleet {
                terminals: opts.terminals as u64,
                arrived: p.arrived.load(Ordering::Relaxed),
                claimed: p.claimed.load(Ordering::Relaxed),
                activated: p.activated.load(Ordering::Relaxed),
                halted: p.halted.load(Ordering::Relaxed),
                unfinished: p.unfinished.load(Ordering::Relaxed),
                never_claimed: p.unclaimed_by_design.load(Ordering::Relaxed),
            },
            stats,
            slos,
            findings: shared.findings.lock().clone(),
            exercised: shared.exercised.lock().iter().cloned().collect(),
            transport: shared.transport.lock().clone(),
            stopped: shared.stopped.lock().clone(),
            strict: shared.judge.strict,
        }
    }

    /// Rules broken at failure level.
    pub fn broken(&self) -> Vec<&str> {
        self.findings.iter().filter(|(_, (_, f))| f.is_failure(self.strict)).map(|(r, _)| r.as_str()).collect()
    }

    /// 0: every objective held and no rule broke at failure level; 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        i32::from(!self.broken().is_empty() || self.slos.iter().any(|s| !s.held) || self.stopped.is_some())
    }

    pub fn rps(&self) -> f64 {
        self.stats.requests as f64 / self.duration.as_secs_f64().max(1e-9)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let f = &self.fleet;
        let _ = writeln!(out, "\nviopay-check load: {} (seed {})", self.target, self.seed);
        let _ = writeln!(
            out,
            "  fleet: {} terminals, {} arrived, {} claimed, {} activated, {} never claimed (by design), {} not claimed in time, {} halted",
            f.terminals, f.arrived, f.claimed, f.activated, f.never_claimed, f.unfinished, f.halted
        );
        let _ = writeln!(
            out,
            "  {} requests in {:.1} s ({:.0} req/s), {} errors ({:.3}%), {} without an answer; judging {:.1} µs per answer",
            self.stats.requests,
            self.duration.as_secs_f64(),
            self.rps(),
            self.stats.errors,
            self.stats.error_rate() * 100.0,
            self.transport.0,
            self.stats.judge_micros()
        );
        let _ = writeln!(out, "\n  latency from the intended send time, ms     count      p50      p90      p99    p99.9      max");
        let mut rows: Vec<(&str, &hdrhistogram::Histogram<u64>)> = self.stats.endpoints.iter().map(|(k, v)| (*k, v)).collect();
        let all = self.stats.all();
        rows.push(("all", &all));
        for (name, h) in rows {
            let _ = write!(out, "  {name:<42} {:>6}", h.len());
            for (_, q) in QUANTILES {
                let _ = write!(out, " {:>8.1}", ms(h.value_at_quantile(q)));
            }
            let _ = writeln!(out);
        }
        if !self.stats.journey.is_empty() {
            let j = &self.stats.journey;
            let _ = writeln!(
                out,
                "  {:<42} {:>6} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1}   (seconds)",
                if self.fleet.activated > 0 { "journey: power-on to activated" } else { "journey: power-on to claimed" },
                j.len(),
                j.value_at_quantile(0.5) as f64 / 1e6,
                j.value_at_quantile(0.9) as f64 / 1e6,
                j.value_at_quantile(0.99) as f64 / 1e6,
                j.value_at_quantile(0.999) as f64 / 1e6,
                j.max() as f64 / 1e6
            );
        }
        if !self.slos.is_empty() {
            let _ = writeln!(out, "\n  objectives:");
            for s in &self.slos {
                let actual = s.actual.map_or_else(|| "nothing measured".to_owned(), |a| format!("{a:.3} {}", s.unit));
                let _ = writeln!(out, "    {} {}  ({actual})", if s.held { "held  " } else { "FAILED" }, s.slo);
            }
        }
        let _ = writeln!(out, "\n  rules: {} judged under load", self.exercised.len());
        for (rule, (n, finding)) in &self.findings {
            let mark = if finding.is_failure(self.strict) { "FAIL    " } else { "advisory" };
            let _ = writeln!(out, "    {mark} {rule} ({}) ×{n}: {}", finding.level.as_str(), finding.message);
            if let Some(ex) = &finding.exchange {
                let _ = writeln!(out, "      got:    {}", ex.excerpt().trim_end());
                let _ = writeln!(out, "      replay: {}", ex.curl());
            }
        }
        if let Some(first) = &self.transport.1 {
            let _ = writeln!(out, "  first request without an answer: {first}");
        }
        if let Some(why) = &self.stopped {
            let _ = writeln!(out, "  stopped early: {why}");
        }
        let failed: Vec<&str> = self.slos.iter().filter(|s| !s.held).map(|s| s.slo.as_str()).collect();
        let broken = self.broken();
        let verdict = if self.exit_code() == 0 {
            "PASS: every objective held, no rule broken (exit 0)".to_owned()
        } else {
            let mut why = Vec::new();
            if !broken.is_empty() {
                why.push(format!("rules broken: {}", broken.join(", ")));
            }
            if !failed.is_empty() {
                why.push(format!("objectives missed: {}", failed.join(", ")));
            }
            if self.stopped.is_some() {
                why.push("the run stopped early".to_owned());
            }
            format!("FAIL: {} (exit 1)", why.join("; "))
        };
        let _ = writeln!(out, "\n{verdict}");
        out
    }

    fn histogram_json(h: &hdrhistogram::Histogram<u64>) -> Value {
        let mut v = json!({ "count": h.len(), "mean_ms": h.mean() / 1000.0 });
        for (name, q) in QUANTILES {
            v[format!("{name}_ms")] = json!(ms(h.value_at_quantile(q)));
        }
        v
    }

    pub fn to_json(&self) -> Value {
        json!({
            "target": self.target,
            "seed": self.seed,
            "duration_s": self.duration.as_secs_f64(),
            "exit_code": self.exit_code(),
            "fleet": self.fleet,
            "requests": self.stats.requests,
            "errors": self.stats.errors,
            "error_rate": self.stats.error_rate(),
            "rps": self.rps(),
            "judge_us_per_answer": self.stats.judge_micros(),
            "latency": self.stats.endpoints.iter().map(|(k, h)| ((*k).to_owned(), Self::histogram_json(h))).collect::<serde_json::Map<_, _>>(),
            "all": Self::histogram_json(&self.stats.all()),
            "journey": Self::histogram_json(&self.stats.journey),
            "over_time": self.stats.seconds.iter().enumerate().map(|(i, s)| json!({
                "second": i, "requests": s.requests, "errors": s.errors, "p99_ms": ms(s.latency.value_at_quantile(0.99)),
            })).collect::<Vec<_>>(),
            "slos": self.slos,
            "rules_judged": self.exercised,
            "findings": self.findings.values().map(|(n, f)| json!({
                "rule": f.rule.as_str(), "level": f.level.as_str(), "count": n, "fails": f.is_failure(self.strict),
                "message": f.message, "curl": f.exchange.as_ref().map(|e| e.curl()),
            })).collect::<Vec<_>>(),
            "stopped": self.stopped,
        })
    }

    /// One test case per objective and per rule judged.
    pub fn to_junit(&self) -> String {
        let mut suite = TestSuite::new("viopay-check load");
        for s in &self.slos {
            let status = if s.held {
                TestCaseStatus::success()
            } else {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(format!(
                    "{}: {}",
                    s.slo,
                    s.actual.map_or_else(|| "nothing measured".to_owned(), |a| format!("{a:.3} {}", s.unit))
                ));
                st
            };
            let mut case = TestCase::new(format!("SLO {}", s.slo), status);
            case.set_classname("slo");
            suite.add_test_case(case);
        }
        for rule in &self.exercised {
            let status = match self.findings.get(rule) {
                Some((n, f)) if f.is_failure(self.strict) => {
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    st.set_message(format!("{rule} broken {n} time(s) under load: {}", f.message));
                    if let Some(ex) = &f.exchange {
                        st.set_description(format!("got: {}\nreplay: {}", ex.excerpt(), ex.curl()));
                    }
                    st
                }
                _ => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(format!("{rule} under load"), status);
            case.set_classname("rule");
            case.add_property(Property::new("rule", rule.clone()));
            suite.add_test_case(case);
        }
        let mut report = quick_junit::Report::new("viopay-check load");
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
    }

    pub fn to_html(&self) -> String {
        let (class, verdict) = if self.exit_code() == 0 { ("verdict ok", "PASS") } else { ("verdict fail", "FAIL") };
        let seconds = &self.stats.seconds;
        let rps = Series { name: "requests/s", points: seconds.iter().enumerate().map(|(i, s)| (i as f64, s.requests as f64)).collect() };
        let errors = Series { name: "errors/s", points: seconds.iter().enumerate().map(|(i, s)| (i as f64, s.errors as f64)).collect() };
        let p99 = Series {
            name: "p99 (ms)",
            points: seconds
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.latency.is_empty())
                .map(|(i, s)| (i as f64, ms(s.latency.value_at_quantile(0.99))))
                .collect(),
        };
        let p50 = Series {
            name: "p50 (ms)",
            points: seconds
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.latency.is_empty())
                .map(|(i, s)| (i as f64, ms(s.latency.value_at_quantile(0.5))))
                .collect(),
        };
        let percentiles: Vec<Series<'_>> = self
            .stats
            .endpoints
            .iter()
            .map(|(name, h)| Series {
                name,
                points: [50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 100.0].iter().map(|q| (*q, ms(h.value_at_quantile(q / 100.0)))).collect(),
            })
            .collect();
        let f = &self.fleet;
        let body = html! {
            p { span class=(class) { (verdict) } " " (self.target) }
            table {
                tr { th { "fleet" } td { (f.terminals) " terminals: " (f.claimed) " claimed, " (f.activated) " activated, " (f.never_claimed) " never claimed by design, " (f.unfinished) " not claimed in time, " (f.halted) " halted" } }
                tr { th { "traffic" } td { (self.stats.requests) " requests in " (format!("{:.1}", self.duration.as_secs_f64())) " s (" (format!("{:.0}", self.rps())) " req/s), " (self.stats.errors) " errors" } }
                tr { th { "judging" } td { (format!("{:.1}", self.stats.judge_micros())) " µs per answer, " (self.exercised.len()) " rules judged" } }
            }
            h2 { "Objectives" }
            @if self.slos.is_empty() { p.muted { "No --slo given." } }
            @else {
                table.slos {
                    tr { th { "objective" } th { "measured" } th { "verdict" } }
                    @for s in &self.slos {
                        tr {
                            td { code { (s.slo) } }
                            td { (s.actual.map_or_else(|| "nothing measured".to_owned(), |a| format!("{a:.3} {}", s.unit))) }
                            td class=(if s.held { "kind-baseline_breaks" } else { "kind-candidate_breaks" }) { (if s.held { "held" } else { "missed" }) }
                        }
                    }
                }
            }
            h2 { "Over time" }
            (line_chart("Throughput and errors", "seconds into the run", "per second", &[rps, errors]))
            (line_chart("Latency from the intended send time", "seconds into the run", "ms", &[p50, p99]))
            h2 { "Percentiles by endpoint" }
            (line_chart("Latency by percentile", "percentile", "ms", &percentiles))
            table.latency {
                tr { th { "endpoint" } th { "count" } @for (name, _) in QUANTILES { th { (name) " ms" } } }
                @for (name, h) in &self.stats.endpoints {
                    tr { td { code { (name) } } td { (h.len()) } @for (_, q) in QUANTILES { td { (format!("{:.1}", ms(h.value_at_quantile(q)))) } } }
                }
            }
            h2 { "Rules under load" }
            table.rules {
                tr { th { "rule" } th { "verdict" } th { "evidence" } }
                @for rule in &self.exercised {
                    tr {
                        td { code { (rule) } }
                        @match self.findings.get(rule) {
                            Some((n, finding)) => {
                                td class=(if finding.is_failure(self.strict) { "kind-candidate_breaks" } else { "kind-allowed" }) {
                                    (if finding.is_failure(self.strict) { "FAIL" } else { "advisory" }) " ×" (n)
                                }
                                td { (finding.message) @if let Some(ex) = &finding.exchange { pre { (ex.excerpt()) } pre { (ex.curl()) } } }
                            }
                            None => { td { "pass" } td {} }
                        }
                    }
                }
            }
        };
        crate::report::html::page("viopay-check load", &format!("seed {}", self.seed), body)
    }
}
