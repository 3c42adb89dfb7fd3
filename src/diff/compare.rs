//! Pairs two tapes of the same scenario or case by position and says what differs, field by
//! field, after normalisation; ties each difference to the rule whose ground the exchange is on
//! (the rules the model judged on it, those whose marks differ first); after a unit's first
//! difference the two targets are in different states, so later differences follow from it.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Unit;
use super::normalise::{Normal, Normaliser};
use crate::exchange::Exchange;
use crate::judge::{Mark, Taped};

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// `status`, `request`, `header:content-type`, `body.error.code`, `body` (not JSON).
    pub field: String,
    pub baseline: String,
    pub candidate: String,
}

/// What a difference means under the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The candidate breaks a rule its answer is judged on (REQUIRED, or baselined).
    CandidateBreaks,
    /// The baseline breaks it and the candidate does not.
    BaselineBreaks,
    /// Both answers are allowed: a behaviour change the spec permits (the case that surprises
    /// firmware).
    Allowed,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::CandidateBreaks => "the candidate breaks the rule",
            Kind::BaselineBreaks => "the baseline breaks the rule; the candidate keeps it",
            Kind::Allowed => "both answers allowed: a behaviour change the spec permits",
        }
    }
}

/// One exchange (or group of exchanges sent at once) that differs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Difference {
    pub unit: String,
    /// 1-based position of the exchange in the unit.
    pub position: usize,
    pub endpoint: String,
    pub changes: Vec<Change>,
    /// The rules whose ground the exchange is on.
    pub rules: Vec<String>,
    pub kind: Kind,
    /// Position of the unit's first difference, which this one follows from (the two targets
    /// are in different states after it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follows: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Exchange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<Exchange>,
    /// The normalised request, for the report.
    pub request: String,
    /// The rules come from what the model judged on this exchange, not from the unit's tags.
    #[serde(skip)]
    pub grounded: bool,
}

/// What the comparison leaves out: learned noise and `--ignore`.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// `endpoint field` keys that differ between two copies of the baseline.
    pub noise: BTreeSet<String>,
    /// `--ignore`: a field, or a prefix ending a path segment (`body.error` covers
    /// `body.error.message`).
    pub ignore: Vec<String>,
}

impl Filter {
    fn drops(&self, endpoint: &str, field: &str) -> bool {
        self.noise.contains(&noise_key(endpoint, field))
            || self.ignore.iter().any(|i| field == i || field.strip_prefix(i.as_str()).is_some_and(|r| r.starts_with(['.', '['])))
    }
}

/// The key noise is learned under: array indexes do not matter.
pub fn noise_key(endpoint: &str, field: &str) -> String {
    let mut key = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                key.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => key.push(c),
        }
    }
    format!("{endpoint} {key}")
}

/// `scheme://authority` of a unit's target, read from its first exchange.
fn base_of(tape: &[Taped]) -> String {
    let Some(url) = tape.first().map(|t| t.exchange.url.as_str()) else { return String::new() };
    let Some((scheme, rest)) = url.split_once("://") else { return String::new() };
    format!("{scheme}://{}", rest.split('/').next().unwrap_or_default())
}

/// The tape split into exchanges sent one at a time and groups sent at once.
fn slots(tape: &[Taped]) -> Vec<&[Taped]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < tape.len() {
        let group = tape[start].group;
        let end = tape[start..].iter().position(|t| t.group != group).map_or(tape.len(), |n| start + n);
        out.push(&tape[start..end]);
        start = end;
    }
    out
}

/// Normalises a slot; a group's answers are compared as a set, so they are sorted.
fn normal(n: &mut Normaliser, slot: &[Taped]) -> Vec<Normal> {
    let mut normals: Vec<Normal> = slot.iter().map(|t| n.exchange(&t.exchange)).collect();
    if normals.len() > 1 {
        normals = normals.into_iter().map(Normal::unnumbered).collect();
        normals.sort_by_key(|x| format!("{} {}", x.status, x.body));
    }
    normals
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(Value::String(s)) => format!("\"{s}\""),
        Some(other) => other.to_string(),
    }
}

fn json_changes(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                json_changes(&format!("{path}.{k}"), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            if x.len() != y.len() {
                out.push(Change { field: format!("{path}.length"), baseline: x.len().to_string(), candidate: y.len().to_string() });
            }
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                json_changes(&format!("{path}[{i}]"), Some(p), Some(q), out);
            }
        }
        (a, b) if a != b => out.push(Change { field: path.to_owned(), baseline: show(a), candidate: show(b) }),
        _ => {}
    }
}

/// Field changes between two normalised exchanges.
fn changes(a: &Normal, b: &Normal) -> Vec<Change> {
    let mut out = Vec::new();
    if a.request != b.request {
        out.push(Change { field: "request".into(), baseline: a.request.clone(), candidate: b.request.clone() });
    }
    if a.status != b.status {
        out.push(Change { field: "status".into(), baseline: a.status.clone(), candidate: b.status.clone() });
    }
    let names: BTreeSet<&String> = a.headers.keys().chain(b.headers.keys()).collect();
    for name in names {
        let (x, y) = (a.headers.get(name), b.headers.get(name));
        if x != y {
            let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "(absent)".to_owned());
            out.push(Change { field: format!("header:{name}"), baseline: show(x), candidate: show(y) });
        }
    }
    json_changes("body", Some(&a.body), Some(&b.body), &mut out);
    out
}

fn marks(slot: &[Taped]) -> Vec<(String, Mark)> {
    let mut all: Vec<(String, Mark)> = Vec::new();
    for t in slot {
        for (rule, mark) in &t.marks {
            match all.iter_mut().find(|(r, _)| r == rule) {
                Some((_, m)) => *m = (*m).max(*mark),
                None => all.push((rule.clone(), *mark)),
            }
        }
    }
    all
}

/// The rules a difference is on, and what it means: rules whose marks differ between the two
/// answers first, else every rule judged on them; else the unit's own rule tags.
fn ground(a: &[(String, Mark)], b: &[(String, Mark)], fallback: &[String]) -> (Vec<String>, Kind) {
    let broken =
        |side: &[(String, Mark)]| -> Vec<String> { side.iter().filter(|(_, m)| *m == Mark::Broken).map(|(r, _)| r.clone()).collect() };
    let (broken_a, broken_b) = (broken(a), broken(b));
    let newly_broken: Vec<String> = broken_b.iter().filter(|r| !broken_a.contains(r)).cloned().collect();
    if !newly_broken.is_empty() {
        return (newly_broken, Kind::CandidateBreaks);
    }
    let healed: Vec<String> = broken_a.iter().filter(|r| !broken_b.contains(r)).cloned().collect();
    if !healed.is_empty() {
        return (healed, Kind::BaselineBreaks);
    }
    let mark_of = |side: &[(String, Mark)], rule: &str| side.iter().find(|(r, _)| r == rule).map(|(_, m)| *m);
    let all: BTreeSet<&String> = a.iter().chain(b).map(|(r, _)| r).collect();
    let flipped = |r: &&&String| mark_of(a, r) != mark_of(b, r);
    // An answer on another branch marks the rule that allows it instead of the one it replaced
    // (held on the other side): the rule that allows it is the ground.
    let off_choice = |r: &&&String| mark_of(a, r).max(mark_of(b, r)).is_some_and(|m| m > Mark::Held);
    let kind = if broken_b.is_empty() { Kind::Allowed } else { Kind::CandidateBreaks };
    for pick in [all.iter().filter(|r| flipped(r) && off_choice(r)).collect::<Vec<_>>(), all.iter().filter(flipped).collect()] {
        if !pick.is_empty() {
            return (pick.into_iter().map(|r| (*r).clone()).collect(), kind);
        }
    }
    let rules: Vec<String> = all.into_iter().cloned().collect();
    if rules.is_empty() { (fallback.to_vec(), kind) } else { (rules, kind) }
}

/// Whether the model judged the two answers differently on its own: some rule allowed one of
/// them off the simulator's choice (or found it broken) and not the other. Otherwise each answer
/// was the simulator's choice for the state its target was in, and what differs is the state,
/// which an earlier difference explains.
fn judged(a: &[(String, Mark)], b: &[(String, Mark)]) -> bool {
    let mark_of = |side: &[(String, Mark)], rule: &str| side.iter().find(|(r, _)| r == rule).map(|(_, m)| *m);
    a.iter().chain(b).any(|(r, m)| *m > Mark::Held && mark_of(a, r) != mark_of(b, r))
}

/// Compares one unit run on both targets.
pub fn unit(a: &Unit, b: &Unit, filter: &Filter) -> Vec<Difference> {
    let (mut na, mut nb) = (Normaliser::new(&base_of(&a.tape)), Normaliser::new(&base_of(&b.tape)));
    let (sa, sb) = (slots(&a.tape), slots(&b.tape));
    let mut out: Vec<Difference> = Vec::new();
    let mut parted = false;
    for (i, (x, y)) in sa.iter().zip(&sb).enumerate() {
        let (xs, ys) = (normal(&mut na, x), normal(&mut nb, y));
        if xs.iter().chain(&ys).any(Normal::is_control) {
            continue;
        }
        // The harness sent another request: it followed another branch an earlier answer opened,
        // and from here on positions no longer pair like with like.
        let endpoints = |n: &[Normal]| n.iter().map(|e| e.endpoint.clone()).collect::<Vec<_>>();
        if endpoints(&xs) != endpoints(&ys) {
            out.push(Difference {
                grounded: false,
                unit: a.name.clone(),
                position: i + 1,
                endpoint: xs.first().or(ys.first()).map(|n| n.endpoint.clone()).unwrap_or_default(),
                changes: vec![Change {
                    field: "request".into(),
                    baseline: format!("{} ({} exchanges left)", endpoints(&xs).join(" + "), sa.len() - i),
                    candidate: format!("{} ({} exchanges left)", endpoints(&ys).join(" + "), sb.len() - i),
                }],
                rules: a.rules.clone(),
                kind: Kind::Allowed,
                follows: None,
                baseline: x.first().map(|t| t.exchange.clone()),
                candidate: y.first().map(|t| t.exchange.clone()),
                request: xs.first().map(|n| n.request.clone()).unwrap_or_default(),
            });
            parted = true;
            break;
        }
        let mut found: Vec<Change> = Vec::new();
        if xs.len() != ys.len() {
            found.push(Change {
                field: "request".into(),
                baseline: format!("{} sent at once", xs.len()),
                candidate: format!("{} sent at once", ys.len()),
            });
        }
        let endpoint = xs.first().or(ys.first()).map(|n| n.endpoint.clone()).unwrap_or_default();
        for (p, q) in xs.iter().zip(&ys) {
            for c in changes(p, q) {
                if !filter.drops(&endpoint, &c.field) && !found.contains(&c) {
                    found.push(c);
                }
            }
        }
        if found.is_empty() {
            continue;
        }
        let (ma, mb) = (marks(x), marks(y));
        let (rules, kind) = ground(&ma, &mb, &a.rules);
        out.push(Difference {
            grounded: judged(&ma, &mb),
            unit: a.name.clone(),
            position: i + 1,
            endpoint,
            changes: found,
            rules,
            kind,
            follows: None,
            baseline: x.first().map(|t| t.exchange.clone()),
            candidate: y.first().map(|t| t.exchange.clone()),
            request: xs.first().map(|n| n.request.clone()).unwrap_or_default(),
        });
    }
    if sa.len() != sb.len() && !parted {
        let n = sa.len().min(sb.len());
        let (longer, shorter, side) = if sa.len() > sb.len() { (&sa, &sb, "baseline") } else { (&sb, &sa, "candidate") };
        let next = longer[n].first().map(|t| t.exchange.clone());
        // Where the shorter side stopped names the endpoint: the answer that ended it.
        let last = shorter.last().and_then(|s| s.first()).map(|t| t.exchange.clone());
        let (rules, kind) = match (&a.stop, &b.stop) {
            (_, Some(stop)) if !stop.broken.is_empty() => (stop.broken.clone(), Kind::CandidateBreaks),
            (Some(stop), _) if !stop.broken.is_empty() => (stop.broken.clone(), Kind::BaselineBreaks),
            _ => (a.rules.clone(), Kind::Allowed),
        };
        let base = |tape: &[Taped]| Normaliser::new(&base_of(tape));
        let (long_tape, short_tape) = if side == "baseline" { (&a.tape, &b.tape) } else { (&b.tape, &a.tape) };
        let endpoint = match (&last, &next) {
            (Some(e), _) => base(short_tape).exchange(e).endpoint,
            (None, Some(e)) => base(long_tape).exchange(e).endpoint,
            (None, None) => String::new(),
        };
        out.push(Difference {
            unit: a.name.clone(),
            position: n + 1,
            endpoint,
            changes: vec![Change {
                field: "exchanges".into(),
                baseline: format!("{} ({})", sa.len(), a.stop.as_ref().map_or("ran to the end", |s| s.why.as_str())),
                candidate: format!("{} ({})", sb.len(), b.stop.as_ref().map_or("ran to the end", |s| s.why.as_str())),
            }],
            grounded: a.stop.as_ref().or(b.stop.as_ref()).is_some_and(|s| !s.broken.is_empty()),
            rules,
            kind,
            follows: None,
            baseline: if side == "baseline" { next.clone() } else { None },
            candidate: if side == "candidate" { next } else { None },
            request: String::new(),
        });
    }
    // After the first difference the targets may be in different states: a later difference the
    // model did not judge differently on its own follows from it.
    if let Some(first) = out.first().map(|d| (d.position, d.rules.clone(), d.kind, d.grounded)) {
        for d in out.iter_mut().skip(1) {
            if !d.grounded {
                d.follows = Some(first.0);
                d.rules = first.1.clone();
                d.kind = first.2;
                d.grounded = first.3;
            }
        }
    }
    out
}

/// A difference on an exchange no rule was judged on (a scenario step that sends without asking
/// the model) takes the ground of the same change on the same endpoint where the model did judge
/// it; the unit's tags are the last resort.
pub fn adopt_grounds(differences: &mut [Difference]) {
    let shape = |d: &Difference| (d.endpoint.clone(), d.changes.iter().map(|c| c.field.clone()).collect::<Vec<_>>());
    let known: Vec<_> =
        differences.iter().filter(|d| d.grounded && d.follows.is_none()).map(|d| (shape(d), d.rules.clone(), d.kind)).collect();
    let mut adopted: Vec<(String, usize, Vec<String>, Kind)> = Vec::new();
    for d in differences.iter_mut().filter(|d| !d.grounded && d.follows.is_none()) {
        let key = shape(d);
        if let Some((_, rules, kind)) = known.iter().find(|(k, _, _)| *k == key) {
            d.rules = rules.clone();
            d.kind = *kind;
            d.grounded = true;
            adopted.push((d.unit.clone(), d.position, rules.clone(), *kind));
        }
    }
    for d in differences.iter_mut() {
        if let Some((_, _, rules, kind)) = adopted.iter().find(|(u, p, _, _)| *u == d.unit && d.follows == Some(*p)) {
            d.rules = rules.clone();
            d.kind = *kind;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_whose_marks_flip_come_first_and_a_new_break_is_the_candidates() {
        let a = vec![("CLAIM-16".to_owned(), Mark::Held), ("ERR-01".to_owned(), Mark::Held)];
        let b = vec![("CLAIM-16".to_owned(), Mark::Differs), ("ERR-01".to_owned(), Mark::Held)];
        assert_eq!(ground(&a, &b, &[]), (vec!["CLAIM-16".to_owned()], Kind::Allowed));
        let b = vec![("CODE-06".to_owned(), Mark::Differs), ("ERR-01".to_owned(), Mark::Held)];
        assert_eq!(ground(&a, &b, &[]), (vec!["CODE-06".to_owned()], Kind::Allowed), "the rule allowing the other branch");
        let b = vec![("CLAIM-16".to_owned(), Mark::Held), ("ERR-01".to_owned(), Mark::Broken)];
        assert_eq!(ground(&a, &b, &[]), (vec!["ERR-01".to_owned()], Kind::CandidateBreaks));
        assert_eq!(ground(&b, &a, &[]), (vec!["ERR-01".to_owned()], Kind::BaselineBreaks));
        assert_eq!(ground(&a, &a, &["X-1".to_owned()]).0, vec!["CLAIM-16".to_owned(), "ERR-01".to_owned()]);
        assert_eq!(ground(&[], &[], &["X-1".to_owned()]).0, vec!["X-1".to_owned()]);
    }

    #[test]
    fn noise_and_ignore_drop_fields() {
        let filter = Filter { noise: [noise_key("GET /a", "body.items[3].at")].into(), ignore: vec!["body.error".into()] };
        assert!(filter.drops("GET /a", "body.items[0].at"));
        assert!(!filter.drops("GET /b", "body.items[0].at"));
        assert!(filter.drops("GET /b", "body.error.message"));
        assert!(!filter.drops("GET /b", "body.errors"));
    }

    #[test]
    fn json_changes_name_the_path() {
        let mut out = Vec::new();
        let a = serde_json::json!({"error": {"code": "A", "details": [1, 2]}});
        let b = serde_json::json!({"error": {"code": "B", "details": [1]}, "extra": true});
        json_changes("body", Some(&a), Some(&b), &mut out);
        let fields: Vec<&str> = out.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, vec!["body.error.code", "body.error.details.length", "body.extra"]);
    }
}
