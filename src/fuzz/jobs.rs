//! Fuzz cases at once (`--jobs`), for both APIs: each job runs its own proptest runner on a seed
//! derived from the run's, the first job to fail stands the others down and goes on shrinking
//! alone, and its shortest sequence is the run's.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::test_runner::{RngAlgorithm, TestError, TestRng};

pub(crate) struct Jobs {
    pub count: usize,
    /// 0: no job failed yet; else the first failing job + 1.
    failed: AtomicUsize,
}

impl Jobs {
    pub fn new(count: usize) -> Self {
        Jobs { count: count.clamp(1, 64), failed: AtomicUsize::new(0) }
    }

    /// Job 0 draws from the seed itself, so `--jobs 1` replays a run exactly; job n from a seed
    /// derived from it.
    pub fn rng(&self, seed_bytes: &[u8; 32], job: usize) -> TestRng {
        let mut bytes = *seed_bytes;
        bytes[8..16].copy_from_slice(&(job as u64).to_le_bytes());
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
    }

    /// How many of `total` cases job `job` runs: `total` split as evenly as it goes, so the run
    /// makes exactly the cases asked for (at least one per job).
    pub fn cases(&self, total: u32, job: usize) -> u32 {
        let n = u32::try_from(self.count).unwrap_or(1);
        let j = u32::try_from(job).unwrap_or(0);
        (total / n + u32::from(j < total % n)).max(1)
    }

    /// Another job failed first: this one's remaining cases pass untouched.
    pub fn stood_down(&self, job: usize) -> bool {
        let first = self.failed.load(Ordering::Relaxed);
        first != 0 && first != job + 1
    }

    /// Job `job` found a failure (the first to say so keeps shrinking).
    pub fn failing(&self, job: usize) {
        let _ = self.failed.compare_exchange(0, job + 1, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Runs every job (on threads when there are several) and returns the outcome of the job
    /// that failed first, else of any that aborted, else success.
    pub fn run<T: Clone + Debug + Send>(&self, run_job: impl Fn(usize) -> Result<(), TestError<T>> + Sync) -> Result<(), TestError<T>> {
        let outcomes: Vec<Result<(), TestError<T>>> = if self.count == 1 {
            vec![run_job(0)]
        } else {
            let run_job = &run_job;
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..self.count).map(|j| s.spawn(move || run_job(j))).collect();
                handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(TestError::Abort("a fuzz job panicked".into())))).collect()
            })
        };
        let first = self.failed.load(Ordering::Relaxed);
        first.checked_sub(1).and_then(|j| outcomes.get(j)).or_else(|| outcomes.iter().find(|o| o.is_err())).cloned().unwrap_or(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cases_asked_for_are_split_exactly() {
        let jobs = Jobs::new(16);
        assert_eq!((0..16).map(|j| jobs.cases(200, j)).sum::<u32>(), 200);
        assert_eq!(jobs.cases(200, 0), 13);
        assert_eq!(jobs.cases(200, 15), 12);
        assert_eq!(Jobs::new(1).cases(200, 0), 200);
        assert_eq!(Jobs::new(8).cases(3, 7), 1, "a job runs at least one case");
    }
}
