//! Unattended claims (`--auto-claim SECS`, per device through the control API): the simulator
//! claims each newly issued code as the device's own merchant, SECS seconds on its clock after
//! issue, through the same domain path as a merchant's claim. Claims are materialised lazily: the
//! first request at or after a claim's due time runs it, dated at that due time, exactly as if a
//! merchant had claimed then (so a code that expired first is not claimed). Between due times a
//! request costs one atomic load.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::Mutex;
use time::OffsetDateTime;

use crate::ids::{DeviceId, PairingCode};
use crate::journal::{Journal, SimulatorClaim};
use crate::store::ViopayStore;
use crate::trace::TraceIds;

/// No claim is due.
const NEVER: i64 = i64::MAX;

#[derive(Debug, Default)]
struct Schedule {
    /// `--auto-claim`, for devices without their own setting.
    default: Option<u32>,
    /// The control API's per-device setting: `Some(n)` on, `None` off.
    per_device: HashMap<DeviceId, Option<u32>>,
    /// Due time → the codes to claim then.
    due: BTreeMap<(OffsetDateTime, DeviceId), PairingCode>,
}

/// The schedule, with what running it needs: VioPay's store it claims in, the journal and the
/// trace ids it records each claim with.
pub(crate) struct AutoClaims {
    schedule: Mutex<Schedule>,
    /// Unix nanoseconds of the earliest due claim ([`NEVER`] when none): the fast path.
    next_due: AtomicI64,
    configured: Option<u32>,
    store: Arc<ViopayStore>,
    journal: Arc<Journal>,
    trace: Arc<TraceIds>,
}

fn nanos(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(NEVER)
}

impl AutoClaims {
    pub(crate) fn new(default: Option<u32>, store: Arc<ViopayStore>, journal: Arc<Journal>, trace: Arc<TraceIds>) -> Self {
        AutoClaims {
            schedule: Mutex::new(Schedule { default, ..Default::default() }),
            next_due: AtomicI64::new(NEVER),
            configured: default,
            store,
            journal,
            trace,
        }
    }

    /// The control API's setting for one device (`None`: no automatic claim for it).
    pub(crate) fn set_device(&self, device: DeviceId, delay: Option<u32>) {
        self.schedule.lock().per_device.insert(device, delay);
    }

    /// A code was issued: schedule its claim if automatic claims apply to the device.
    pub(crate) fn issued(&self, device: DeviceId, code: PairingCode, at: OffsetDateTime) {
        let mut s = self.schedule.lock();
        let Some(delay) = s.per_device.get(&device).copied().unwrap_or(s.default) else { return };
        let due = at + time::Duration::seconds(i64::from(delay));
        s.due.insert((due, device), code);
        self.next_due.fetch_min(nanos(due), Ordering::AcqRel);
    }

    /// Forgets every schedule and per-device setting (`/_sim/reset`); `--auto-claim` stays.
    pub(crate) fn reset(&self) {
        *self.schedule.lock() = Schedule { default: self.configured, ..Default::default() };
        self.next_due.store(NEVER, Ordering::Release);
    }

    /// Forgets one device's pending claims (`/_sim/devices/{id}/reset`).
    pub(crate) fn forget(&self, device: DeviceId) {
        let mut s = self.schedule.lock();
        s.due.retain(|(_, d), _| *d != device);
        s.per_device.remove(&device);
    }

    /// The claims due by `now`, removed from the schedule, earliest first.
    fn take_due(&self, now: OffsetDateTime) -> Vec<(OffsetDateTime, DeviceId, PairingCode)> {
        if nanos(now) < self.next_due.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut s = self.schedule.lock();
        let mut out = Vec::new();
        while let Some(entry) = s.due.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((at, device), code) = entry.remove_entry();
            out.push((at, device, code));
        }
        self.next_due.store(s.due.first_key_value().map_or(NEVER, |((t, _), _)| nanos(*t)), Ordering::Release);
        out
    }

    /// Runs the automatic claims due by `now`: each claims the device's code if it is still the
    /// latest and claimable at its due time (a superseded, used or expired code is left alone), and
    /// is journaled as the claim it stands for. One atomic load when none is due.
    pub(crate) fn run_due(&self, now: OffsetDateTime) {
        for (at, device, code) in self.take_due(now) {
            let claimed = {
                let mut store = self.store.write();
                let latest = store.state.device(device).ok().and_then(|d| d.latest_code().map(|c| c.code));
                if latest != Some(code) {
                    continue;
                }
                store
                    .state
                    .claim_as_owner(device, at)
                    .ok()
                    .map(|_| store.state.device(device).map(|d| store.state.merchant(d.owner).id.clone()).unwrap_or_default())
            };
            let Some(merchant) = claimed else { continue };
            tracing::info!(%device, %code, %merchant, "automatic claim");
            let claim = SimulatorClaim { device, code, merchant: &merchant, at, how: "auto-claim" };
            self.journal.record_simulator_claim(self.trace.next_id(), claim);
        }
    }
}
