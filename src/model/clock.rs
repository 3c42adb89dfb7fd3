//! Model time: where the target's clock stands, as seconds since the case or scenario began.
//! The harness's own moves (`/_sim/clock/advance`) always count; on a clock that keeps running
//! between moves (real time, or a test clock that adds an offset to it) the time elapsed counts
//! too. Both APIs' models and both drivers (scenarios, fuzz) read it, so the rule lives once.

use std::time::Instant;

#[derive(Debug, Clone, Copy, Default)]
pub struct ModelClock {
    moved: f64,
    /// `Some` on a clock that keeps running: the instant model time began.
    running_since: Option<Instant>,
}

impl ModelClock {
    /// `frozen`: the target's clock stands still between the harness's moves.
    pub fn new(frozen: bool) -> Self {
        ModelClock { moved: 0.0, running_since: (!frozen).then(Instant::now) }
    }

    /// The harness moved the target's clock by `seconds`.
    pub fn moved(&mut self, seconds: f64) {
        self.moved += seconds;
    }

    /// Whether time passes between the harness's moves.
    pub fn running(&self) -> bool {
        self.running_since.is_some()
    }

    pub fn now(&self) -> f64 {
        self.moved + self.running_since.map_or(0.0, |t| t.elapsed().as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_clock_moves_only_when_moved_and_a_running_one_also_with_time() {
        let mut frozen = ModelClock::new(true);
        frozen.moved(300.0);
        assert!((frozen.now() - 300.0).abs() < f64::EPSILON);
        let mut running = ModelClock::new(false);
        running.moved(10.0);
        assert!(running.now() >= 10.0 && running.running() && !frozen.running());
    }
}
