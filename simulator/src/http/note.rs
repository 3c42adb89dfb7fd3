//! What a handler tells the journal beyond the request line.

use axum::response::Response;

use crate::ids::DeviceId;
use crate::journal::JournalDevice;

/// Carried in the response extensions and read by the envelope middleware.
#[derive(Debug, Clone, Default)]
pub(crate) struct JournalNote {
    /// The device an exchange concerns when the request does not name it (claim).
    pub(crate) device: Option<JournalDevice>,
    /// BOOT-08 and refused tokens: something a client developer should know.
    pub(crate) warning: Option<String>,
    /// Attest 200: the token issued (CLI-14 reads its issue time).
    pub(crate) issued_token: Option<crate::journal::TokenId>,
    /// Status 200: what the device was told (CLI-05…CLI-07).
    pub(crate) status: Option<crate::domain::StatusView>,
}

/// The rule an answer rendered by its own handler implements (Kustom's problem details), for the
/// journal's `rule` (never on the wire). Defined here, beside the envelope that reads it, so that
/// the API modules import `http` and not the other way round.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProblemRule(pub(crate) &'static str);

impl JournalNote {
    /// A note naming a device.
    pub(crate) fn device(id: DeviceId) -> Self {
        JournalNote { device: Some(JournalDevice::Id(id)), ..JournalNote::default() }
    }

    pub(crate) fn attach(self, mut res: Response) -> Response {
        res.extensions_mut().insert(self);
        res
    }
}
