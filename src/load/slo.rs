//! Service-level objectives as a release manager writes them: `status.p99<200ms`,
//! `journey.p95<120s`, `errors<0.1%`, `rps>=500`. Each is held or not against the run's figures.

use std::fmt;

use super::stats::Stats;

#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// A latency percentile (0–100) or the maximum (100) of an endpoint, `all` or `journey`, in ms.
    Latency { of: String, quantile: f64 },
    /// Failed requests (no response or a 5xx) as a share of all, in percent.
    Errors,
    /// Requests per second over the run.
    Rps,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub text: String,
    pub metric: Metric,
    pub op: Op,
    /// Milliseconds, percent or requests per second, as the metric reads.
    pub bound: f64,
}

/// One objective, judged.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Judged {
    pub slo: String,
    /// The figure, in the objective's unit (`None`: nothing measured, e.g. no journey ended).
    pub actual: Option<f64>,
    pub unit: &'static str,
    pub held: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("--slo `{text}`: {why} (e.g. status.p99<200ms, journey.p95<120s, errors<0.1%, rps>=500)")]
pub struct SloError {
    text: String,
    why: String,
}

fn error(text: &str, why: impl Into<String>) -> SloError {
    SloError { text: text.to_owned(), why: why.into() }
}

/// The endpoints a latency objective may name, besides `all` and `journey`.
pub const ENDPOINTS: &[&str] =
    &["bootstrap", "pairing-code", "status", "claim", "session", "initiate", "attest", "keys", "config", "terminal-parameters", "activate"];

impl std::str::FromStr for Slo {
    type Err = SloError;

    fn from_str(text: &str) -> Result<Self, SloError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (at, op, width) = ["<=", ">=", "<", ">"]
            .iter()
            .filter_map(|o| compact.find(o).map(|i| (i, *o)))
            .min_by_key(|(i, o)| (*i, std::cmp::Reverse(o.len())))
            .map(|(i, o)| (i, o, o.len()))
            .ok_or_else(|| error(text, "no comparison (<, <=, >, >=)"))?;
        let op = match op {
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            _ => Op::Ge,
        };
        let (left, right) = (&compact[..at], &compact[at + width..]);
        let number = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        let (metric, bound) = match left {
            "errors" => {
                let v = right.strip_suffix('%').and_then(number).ok_or_else(|| error(text, "errors take a percentage, e.g. 0.1%"))?;
                (Metric::Errors, v)
            }
            "rps" => (Metric::Rps, number(right).ok_or_else(|| error(text, "rps takes a number"))?),
            _ => {
                let (of, stat) = left.split_once('.').ok_or_else(|| error(text, "expected METRIC.STAT, errors or rps"))?;
                if of != "all" && of != "journey" && !ENDPOINTS.contains(&of) {
                    return Err(error(text, format!("unknown metric `{of}`: one of all, journey, {}", ENDPOINTS.join(", "))));
                }
                let quantile = match stat {
                    "max" => 100.0,
                    "median" => 50.0,
                    _ => stat
                        .strip_prefix('p')
                        .and_then(number)
                        .filter(|q| *q > 0.0 && *q <= 100.0)
                        .ok_or_else(|| error(text, format!("unknown statistic `{stat}`: p50, p90, p99, p99.9, max")))?,
                };
                let (value, scale) = if let Some(v) = right.strip_suffix("ms") {
                    (v, 1.0)
                } else if let Some(v) = right.strip_suffix("us").or_else(|| right.strip_suffix("µs")) {
                    (v, 0.001)
                } else if let Some(v) = right.strip_suffix('s') {
                    (v, 1000.0)
                } else {
                    return Err(error(text, "a latency needs a unit: us, ms or s"));
                };
                let v = number(value).ok_or_else(|| error(text, format!("`{right}` is not a duration")))?;
                (Metric::Latency { of: of.to_owned(), quantile }, v * scale)
            }
        };
        Ok(Slo { text: text.trim().to_owned(), metric, op, bound })
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Slo {
    pub fn judge(&self, stats: &Stats, seconds: f64) -> Judged {
        let (actual, unit) = match &self.metric {
            Metric::Errors => ((stats.requests > 0).then(|| stats.error_rate() * 100.0), "%"),
            Metric::Rps => (Some(if seconds > 0.0 { stats.requests as f64 / seconds } else { 0.0 }), "req/s"),
            Metric::Latency { of, quantile } => {
                let h = match of.as_str() {
                    "all" => Some(stats.all()),
                    "journey" => Some(stats.journey.clone()),
                    endpoint => stats.endpoints.get(endpoint).cloned(),
                };
                let ms = h.filter(|h| !h.is_empty()).map(|h| h.value_at_quantile(quantile / 100.0) as f64 / 1000.0);
                (ms, "ms")
            }
        };
        let held = actual.is_some_and(|a| match self.op {
            Op::Lt => a < self.bound,
            Op::Le => a <= self.bound,
            Op::Gt => a > self.bound,
            Op::Ge => a >= self.bound,
        });
        Judged { slo: self.text.clone(), actual, unit, held }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn objectives_parse_in_the_release_managers_words() {
        let s: Slo = "status.p99<200ms".parse().expect("parses");
        assert_eq!((s.metric, s.op, s.bound), (Metric::Latency { of: "status".into(), quantile: 99.0 }, Op::Lt, 200.0));
        let s: Slo = "journey.p95 < 120s".parse().expect("parses");
        assert_eq!(s.bound, 120_000.0);
        let s: Slo = "errors<0.1%".parse().expect("parses");
        assert_eq!((s.metric, s.bound), (Metric::Errors, 0.1));
        let s: Slo = "rps>=500".parse().expect("parses");
        assert_eq!((s.metric, s.op), (Metric::Rps, Op::Ge));
        assert!("status.p99<200".parse::<Slo>().is_err(), "a latency needs its unit");
        assert!("stauts.p99<2ms".parse::<Slo>().is_err());
        assert!("errors<0.1".parse::<Slo>().is_err());
    }

    #[test]
    fn an_objective_is_held_on_the_figures_and_never_on_nothing() {
        let mut stats = Stats::default();
        for ms in [10, 20, 30, 400] {
            stats.record("status", 0.0, Duration::from_millis(ms), false);
        }
        let p50: Slo = "status.p50<100ms".parse().expect("parses");
        let max: Slo = "status.max<100ms".parse().expect("parses");
        assert!(p50.judge(&stats, 1.0).held);
        assert!(!max.judge(&stats, 1.0).held);
        let journey: Slo = "journey.p95<120s".parse().expect("parses");
        assert!(!journey.judge(&stats, 1.0).held, "no journey ended: not held");
    }
}
