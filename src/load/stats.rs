//! Latency as it was felt: HDR histograms per endpoint and for the whole journey, each sample
//! measured from the moment the request was due (a terminal polls on a schedule; a request sent
//! late because the target was slow still counts its wait: coordinated omission corrected), and
//! one-second buckets for throughput, errors and p99 over time.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Highest latency recorded exactly (an hour); longer ones are clamped.
const MAX_MICROS: u64 = 3_600_000_000;

pub fn histogram() -> Histogram<u64> {
    // Three significant figures from 1 µs to an hour: the bounds are constants, the call cannot fail.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant histogram bounds")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(MAX_MICROS).clamp(1, MAX_MICROS)
}

/// One second of the run.
#[derive(Debug, Clone)]
pub struct Second {
    pub requests: u64,
    pub errors: u64,
    pub latency: Histogram<u64>,
}

/// Everything measured during a run.
#[derive(Debug, Clone)]
pub struct Stats {
    pub endpoints: BTreeMap<&'static str, Histogram<u64>>,
    /// Power-on to the journey's end (claimed, or activated with steps 5–8), in µs.
    pub journey: Histogram<u64>,
    pub seconds: Vec<Second>,
    pub requests: u64,
    /// No response, or a 5xx.
    pub errors: u64,
    /// Time the harness spent judging answers (the model, schemas, the judge), in total.
    pub judging: Duration,
    pub judged: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            endpoints: BTreeMap::new(),
            journey: histogram(),
            seconds: Vec::new(),
            requests: 0,
            errors: 0,
            judging: Duration::ZERO,
            judged: 0,
        }
    }
}

impl Stats {
    /// An answer to a request due at `due` seconds into the run, complete `latency` after that.
    pub fn record(&mut self, endpoint: &'static str, due: f64, latency: Duration, error: bool) {
        let us = micros(latency);
        let h = self.endpoints.entry(endpoint).or_insert_with(histogram);
        let _ = h.record(us);
        self.requests += 1;
        self.errors += u64::from(error);
        let second = (due + latency.as_secs_f64()).max(0.0) as usize;
        while self.seconds.len() <= second {
            self.seconds.push(Second { requests: 0, errors: 0, latency: histogram() });
        }
        let s = &mut self.seconds[second];
        s.requests += 1;
        s.errors += u64::from(error);
        let _ = s.latency.record(us);
    }

    pub fn journey_done(&mut self, took: Duration) {
        let _ = self.journey.record(micros(took));
    }

    pub fn judged(&mut self, took: Duration) {
        self.judging += took;
        self.judged += 1;
    }

    /// All endpoints together.
    pub fn all(&self) -> Histogram<u64> {
        let mut all = histogram();
        for h in self.endpoints.values() {
            let _ = all.add(h);
        }
        all
    }

    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { self.errors as f64 / self.requests as f64 }
    }

    /// Mean µs the harness spent judging one answer.
    pub fn judge_micros(&self) -> f64 {
        if self.judged == 0 { 0.0 } else { self.judging.as_secs_f64() * 1e6 / self.judged as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_counts_from_when_the_request_was_due() {
        let mut s = Stats::default();
        // Due at 1.0 s, answered 2.5 s later (sent late behind a slow answer): 2.5 s is recorded.
        s.record("status", 1.0, Duration::from_millis(2500), false);
        s.record("status", 1.2, Duration::from_millis(5), true);
        let h = &s.endpoints["status"];
        assert!(h.max() >= 2_499_000 && h.min() <= 5_010);
        assert_eq!(s.seconds.len(), 4, "the late answer lands in second 3");
        assert_eq!((s.seconds[1].requests, s.seconds[1].errors), (1, 1));
        assert!((s.error_rate() - 0.5).abs() < f64::EPSILON);
    }
}
