//! `GET /pos/status`, step 3 (STAT-*).

use std::sync::{Arc, LazyLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::note::JournalNote;
use super::pos_headers::PosDevice;
use crate::clock::Clock;
use crate::domain::{DeviceStatus, StatusView};
use crate::errors::STAT_12;
use crate::store::ViopayStore;

/// STAT-01: the three POS headers alone. STAT-11: a read lock, so it cannot change state.
/// The answer's fields go to the journal too: the client verdict reads what the device was told.
pub(crate) async fn status(
    State(clock): State<Arc<Clock>>,
    State(store): State<Arc<ViopayStore>>,
    device: PosDevice,
) -> Result<Response, ApiError> {
    let now = clock.now();
    let view = store.read().state.status(device.id, now).map_err(|_| ApiError::with_device(&STAT_12, device.id))?;
    let res = ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], rendered(view)).into_response();
    Ok(JournalNote { status: Some(view), ..JournalNote::default() }.attach(res))
}

/// STAT-02's answer, serialized once per possible value: the status poll is the request a fleet
/// sends most, and it has only 3 × 2 × 4 answers. Each is written by serde, as `Json` would write
/// it, so the bytes are the same; a value outside the table is serialized on the spot.
fn rendered(view: StatusView) -> Bytes {
    static BODIES: LazyLock<Vec<(StatusView, &'static [u8])>> = LazyLock::new(|| {
        let mut bodies = Vec::new();
        for device_status in [DeviceStatus::Inactive, DeviceStatus::Claimed, DeviceStatus::Activated] {
            for is_claimed in [false, true] {
                for pairing_code_status in ["none", "pending", "used", "expired"] {
                    let view = StatusView { device_status, is_claimed, pairing_code_status };
                    if let Ok(body) = serde_json::to_vec(&view) {
                        bodies.push((view, &*Box::leak(body.into_boxed_slice())));
                    }
                }
            }
        }
        bodies
    });
    match BODIES.iter().find(|(v, _)| *v == view) {
        Some((_, body)) => Bytes::from_static(body),
        None => Bytes::from(serde_json::to_vec(&view).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table answers exactly what serializing the view answers, for every view it holds.
    #[test]
    fn stat_02_prerendered_bodies_are_the_serialized_views() {
        for device_status in [DeviceStatus::Inactive, DeviceStatus::Claimed, DeviceStatus::Activated] {
            for pairing_code_status in ["none", "pending", "used", "expired"] {
                let view = StatusView { device_status, is_claimed: device_status.is_claimed(), pairing_code_status };
                let expected = serde_json::to_vec(&view).expect("serializes");
                assert_eq!(rendered(view).as_ref(), expected.as_slice());
            }
        }
        let outside = StatusView { device_status: DeviceStatus::Claimed, is_claimed: true, pairing_code_status: "other" };
        assert_eq!(rendered(outside).as_ref(), serde_json::to_vec(&outside).expect("serializes").as_slice());
    }
}
