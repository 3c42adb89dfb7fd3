//! What `diff` reports: differences grouped by endpoint and rule, each group with its first
//! examples (request, both answers, curl replays); the terminal, JSON, JUnit and HTML views of it.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::time::Duration;

use maud::html;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};

use super::compare::{Difference, Kind};
use crate::catalogue::{Api, Catalogue};

/// Examples kept per group.
const EXAMPLES: usize = 3;

/// Differences on one endpoint under the same rules and meaning.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Group {
    pub endpoint: String,
    pub rules: Vec<String>,
    /// Each rule's level, in the order of `rules`.
    pub levels: Vec<&'static str>,
    pub kind: Kind,
    /// Every rule of the group is in `--accept`.
    pub accepted: bool,
    /// Exchanges that differ.
    pub count: usize,
    /// The fields that differ, with the first values seen.
    pub fields: Vec<(String, String, String)>,
    pub examples: Vec<Difference>,
}

#[derive(Debug, Clone)]
pub struct DiffReport {
    pub api: Api,
    pub baseline: String,
    pub candidate: String,
    pub baseline2: Option<String>,
    pub seed: u64,
    pub units: usize,
    pub scenarios: usize,
    pub exchanges: usize,
    pub candidate_exchanges: usize,
    /// `endpoint field` keys learned as noise.
    pub noise: Vec<String>,
    /// Exchanges that differed between the two copies of the baseline.
    pub noise_exchanges: usize,
    /// Differences left out because only noise differed.
    pub suppressed: usize,
    pub groups: Vec<Group>,
    pub accept: BTreeSet<String>,
    pub duration: Duration,
}

impl DiffReport {
    /// The report with `differences` grouped by endpoint, rules and meaning.
    pub(super) fn grouped(mut self, differences: Vec<Difference>, catalogue: &Catalogue) -> Self {
        let mut groups: Vec<Group> = Vec::new();
        for d in differences {
            let found = groups.iter_mut().find(|g| g.endpoint == d.endpoint && g.rules == d.rules && g.kind == d.kind);
            let group = match found {
                Some(g) => g,
                None => {
                    let levels = d.rules.iter().map(|r| catalogue.id(r).map_or("?", |id| id.level().as_str())).collect();
                    let accepted = !d.rules.is_empty() && d.rules.iter().all(|r| self.accept.contains(r));
                    groups.push(Group {
                        endpoint: d.endpoint.clone(),
                        rules: d.rules.clone(),
                        levels,
                        kind: d.kind,
                        accepted,
                        count: 0,
                        fields: Vec::new(),
                        examples: Vec::new(),
                    });
                    let last = groups.len() - 1;
                    &mut groups[last]
                }
            };
            group.count += 1;
            for c in &d.changes {
                if !group.fields.iter().any(|(f, _, _)| *f == c.field) {
                    group.fields.push((c.field.clone(), c.baseline.clone(), c.candidate.clone()));
                }
            }
            // Examples that show the difference itself come first; those that follow from it later.
            if group.examples.len() < EXAMPLES {
                group.examples.push(d);
            } else if d.follows.is_none()
                && let Some(slot) = group.examples.iter_mut().find(|e| e.follows.is_some())
            {
                *slot = d;
            }
        }
        groups.sort_by(|a, b| a.accepted.cmp(&b.accepted).then(a.kind.cmp(&b.kind)).then(b.count.cmp(&a.count)));
        self.groups = groups;
        self
    }

    /// Groups `--accept` does not cover.
    pub fn open(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().filter(|g| !g.accepted)
    }

    /// 0 when nothing differs beyond `--accept`, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.open().next().is_some())
    }

    /// Every rule some difference is tied to, with the meaning of its differences.
    pub fn rules(&self) -> BTreeSet<String> {
        self.groups.iter().flat_map(|g| g.rules.iter().cloned()).collect()
    }

    fn fuzz_cases(&self) -> usize {
        self.units - self.scenarios
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "viopay-check diff ({})", api_name(self.api));
        let _ = writeln!(out, "  baseline:  {}", self.baseline);
        let _ = writeln!(out, "  candidate: {}", self.candidate);
        match &self.baseline2 {
            Some(b2) => {
                let _ = writeln!(
                    out,
                    "  noise:     second baseline {b2}: {} exchanges differed, {} fields learned as noise, {} differences left out",
                    self.noise_exchanges,
                    self.noise.len(),
                    self.suppressed
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "  noise:     not learned (give --baseline2 or --noise-pass for a target whose answers vary by themselves)"
                );
            }
        }
        let _ = writeln!(
            out,
            "  compared:  {} scenarios and {} fuzz cases (seed {}), {} exchanges on the baseline and {} on the candidate, in {:.1} s",
            self.scenarios,
            self.fuzz_cases(),
            self.seed,
            self.exchanges,
            self.candidate_exchanges,
            self.duration.as_secs_f64()
        );
        if self.groups.is_empty() {
            let _ = writeln!(out, "\nNo difference: the candidate answers as the baseline does.");
            return out;
        }
        for g in &self.groups {
            let mark = if g.accepted {
                "accepted"
            } else if g.kind == Kind::CandidateBreaks {
                "BREAKS"
            } else {
                "DIFFERS"
            };
            let plural = if g.count == 1 { "" } else { "s" };
            let _ =
                writeln!(out, "\n{mark}  {}  [{}]  {} ({} exchange{plural})", g.endpoint, rules_with_levels(g), g.kind.describe(), g.count);
            for (field, a, b) in &g.fields {
                let _ = writeln!(out, "    {field}: {} → {}", short(a), short(b));
            }
            if let Some(e) = g.examples.first() {
                let _ = writeln!(out, "    first seen: {}, exchange {}", e.unit, e.position);
                if let Some(f) = e.follows {
                    let _ = writeln!(out, "      (follows from the unit's first difference, exchange {f})");
                }
                if let Some(x) = &e.baseline {
                    let _ = writeln!(out, "      baseline:  {}", x.excerpt().trim_end());
                }
                if let Some(x) = &e.candidate {
                    let _ = writeln!(out, "      candidate: {}", x.excerpt().trim_end());
                    let _ = writeln!(out, "      replay:    {}", x.curl());
                }
            }
        }
        let open = self.open().count();
        let _ = writeln!(
            out,
            "\n{} difference group(s), {} accepted (--accept {}). {}",
            self.groups.len(),
            self.groups.len() - open,
            if self.accept.is_empty() { "none".to_owned() } else { self.accept.iter().cloned().collect::<Vec<_>>().join(" ") },
            if open == 0 { "Exit 0." } else { "Exit 1: differences beyond --accept." }
        );
        out
    }

    pub fn to_json(&self) -> Value {
        json!({
            "api": api_name(self.api),
            "baseline": self.baseline,
            "candidate": self.candidate,
            "baseline2": self.baseline2,
            "seed": self.seed,
            "scenarios": self.scenarios,
            "fuzz_cases": self.fuzz_cases(),
            "exchanges": { "baseline": self.exchanges, "candidate": self.candidate_exchanges },
            "noise": { "fields": self.noise, "exchanges": self.noise_exchanges, "suppressed": self.suppressed },
            "accept": self.accept,
            "duration_ms": u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX),
            "exit_code": self.exit_code(),
            "groups": self.groups.iter().map(|g| json!({
                "endpoint": g.endpoint,
                "rules": g.rules,
                "levels": g.levels,
                "kind": g.kind,
                "accepted": g.accepted,
                "count": g.count,
                "fields": g.fields.iter().map(|(f, a, b)| json!({"field": f, "baseline": a, "candidate": b})).collect::<Vec<_>>(),
                "examples": g.examples.iter().map(|e| json!({
                    "unit": e.unit,
                    "position": e.position,
                    "follows": e.follows,
                    "request": e.request,
                    "changes": e.changes,
                    "baseline": e.baseline.as_ref().map(|x| json!({"status": x.status, "body": x.response_body, "curl": x.curl()})),
                    "candidate": e.candidate.as_ref().map(|x| json!({"status": x.status, "body": x.response_body, "curl": x.curl()})),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    /// One test case per difference group (failing unless accepted), or one passing case.
    pub fn to_junit(&self) -> String {
        let mut suite = TestSuite::new(format!("viopay-check diff {}", api_name(self.api)));
        if self.groups.is_empty() {
            let mut case = TestCase::new("no difference between baseline and candidate", TestCaseStatus::success());
            case.set_classname("diff");
            suite.add_test_case(case);
        }
        for g in &self.groups {
            let name = format!("{} [{}] {}", g.endpoint, g.rules.join(" "), g.kind.describe());
            let mut text = String::new();
            for (field, a, b) in &g.fields {
                let _ = writeln!(text, "{field}: {a} → {b}");
            }
            for e in &g.examples {
                let _ = writeln!(text, "{}, exchange {}", e.unit, e.position);
                if let Some(x) = &e.baseline {
                    let _ = writeln!(text, "  baseline:  {}", x.excerpt());
                }
                if let Some(x) = &e.candidate {
                    let _ = writeln!(text, "  candidate: {}\n  replay: {}", x.excerpt(), x.curl());
                }
            }
            let status = if g.accepted {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("{} exchanges differ: {}", g.count, g.kind.describe()));
                s.set_description(text.clone());
                s
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(g.endpoint.clone());
            for rule in &g.rules {
                case.add_property(Property::new("rule", rule.clone()));
            }
            if g.accepted {
                case.set_system_out(text);
            }
            suite.add_test_case(case);
        }
        let mut report = quick_junit::Report::new("viopay-check diff");
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
    }

    pub fn to_html(&self) -> String {
        let open = self.open().count();
        let (class, verdict) = if open > 0 {
            ("verdict fail", format!("{open} difference group(s) beyond --accept"))
        } else if self.groups.is_empty() {
            ("verdict ok", "no difference".to_owned())
        } else {
            ("verdict warn", "only accepted differences".to_owned())
        };
        let body = html! {
            p { span class=(class) { (verdict) } }
            table {
                tr { th { "baseline" } td { code { (self.baseline) } } }
                tr { th { "candidate" } td { code { (self.candidate) } } }
                tr { th { "noise" } td {
                    @match &self.baseline2 {
                        Some(b2) => { "second baseline " code { (b2) } ": " (self.noise.len()) " fields learned, " (self.suppressed) " differences left out" }
                        None => { "not learned (no second baseline)" }
                    }
                } }
                tr { th { "compared" } td { (self.scenarios) " scenarios, " (self.fuzz_cases()) " fuzz cases (seed " (self.seed) "), "
                    (self.exchanges) " / " (self.candidate_exchanges) " exchanges, " (format!("{:.1}", self.duration.as_secs_f64())) " s" } }
            }
            @if !self.groups.is_empty() {
                h2 { "Differences by endpoint and rule" }
                table {
                    tr { th { "endpoint" } th { "rule" } th { "meaning" } th { "exchanges" } th { "fields" } }
                    @for g in &self.groups {
                        tr {
                            td { code { (g.endpoint) } }
                            td { @for (r, l) in g.rules.iter().zip(&g.levels) { span.tag { (r) " " (l) } " " } }
                            td class=(format!("kind-{}", kind_slug(g.kind))) { (g.kind.describe()) @if g.accepted { " (accepted)" } }
                            td { (g.count) }
                            td { @for (f, a, b) in &g.fields { div { code { (f) } ": " code { (short(a)) } " → " code { (short(b)) } } } }
                        }
                    }
                }
                h2 { "Examples" }
                @for g in &self.groups {
                    @for e in &g.examples {
                        details {
                            summary { (g.endpoint) " · " (g.rules.join(" ")) " · " (e.unit) ", exchange " (e.position) }
                            @if let Some(f) = e.follows { p.muted { "Follows from the unit's first difference, exchange " (f) "." } }
                            @if !e.request.is_empty() { p { "Request: " code { (e.request) } } }
                            @if let Some(x) = &e.baseline { p { "Baseline answered:" } pre.baseline { (x.excerpt()) } p.muted { "Replay:" } pre.replay { (x.curl()) } }
                            @if let Some(x) = &e.candidate { p { "Candidate answered:" } pre.candidate { (x.excerpt()) } p.muted { "Replay:" } pre.replay { (x.curl()) } }
                        }
                    }
                }
            }
        };
        crate::report::html::page("viopay-check diff", &format!("{}: baseline against candidate", api_name(self.api)), body)
    }
}

fn kind_slug(k: Kind) -> &'static str {
    match k {
        Kind::CandidateBreaks => "candidate_breaks",
        Kind::BaselineBreaks => "baseline_breaks",
        Kind::Allowed => "allowed",
    }
}

fn api_name(api: Api) -> &'static str {
    match api {
        Api::Viopay => "VioPay",
        Api::Kustom => "Kustom",
    }
}

fn rules_with_levels(g: &Group) -> String {
    g.rules.iter().zip(&g.levels).map(|(r, l)| format!("{r} {l}")).collect::<Vec<_>>().join(", ")
}

/// A value shortened for one line.
fn short(s: &str) -> String {
    if s.chars().count() <= 120 {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(117).collect();
    t.push('…');
    t
}
