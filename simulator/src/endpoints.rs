//! The one table of the API endpoints the simulator serves (both APIs), and what each module needs
//! to know of them: the router builds its routes from it (one handler per [`Route`], matched
//! exhaustively, so a row without a handler does not compile), the journal names paths by it,
//! faults take their scopes and steps from it, and the client verdict its endpoint sets. Adding
//! an endpoint is a row here, a route variant and its handler.
//!
//! The simulator's own surface (`/_sim/`, `/portal`) and the realm's Keycloak-shaped routes are
//! not here: they are neither journaled nor faulted.

/// Which handler serves an endpoint: each API's router matches its own enum exhaustively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Viopay(ViopayRoute),
    Kustom(KustomRoute),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ViopayRoute {
    Status,
    Bootstrap,
    PairingCode,
    Claim,
    Attest,
    Keys,
    Config,
    TerminalParameters,
    Activate,
    ClientSession,
    AuthToken,
    SessionInitiate,
    Health,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KustomRoute {
    Enrollments,
    Enrollment,
    Register,
    Devices,
    DeviceMe,
    Device,
    Locations,
    Location,
    SimulatedDevice,
}

/// Who calls an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// The POS device (steps 1–3 and 5–8).
    Pos,
    /// A merchant's backend or portal (the claim, sign-in).
    Merchant,
    /// Kustom's `/ipp/v1`.
    Kustom,
    /// Anyone (the health check).
    Public,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Endpoint {
    pub(crate) route: Route,
    /// The path as the router knows it; `{id}` stands for one segment.
    pub(crate) path: &'static str,
    pub(crate) caller: Caller,
    /// The activation step of the overview (1 bootstrap … 8 activate), for fault scopes.
    pub(crate) step: Option<u8>,
    /// The request carries the three POS headers (§1.8; the verdict's CLI-01).
    pub(crate) pos_headers: bool,
    /// Behind attestation auth (ATT-35; the verdict's CLI-13 and CLI-14).
    pub(crate) attested: bool,
    /// Faults can be armed on it.
    pub(crate) faultable: bool,
}

const fn pos(route: ViopayRoute, path: &'static str, step: u8, attested: bool) -> Endpoint {
    Endpoint { route: Route::Viopay(route), path, caller: Caller::Pos, step: Some(step), pos_headers: !attested, attested, faultable: true }
}

const fn kustom(route: KustomRoute, path: &'static str) -> Endpoint {
    other(Route::Kustom(route), path, Caller::Kustom, None)
}

const fn other(route: Route, path: &'static str, caller: Caller, step: Option<u8>) -> Endpoint {
    Endpoint { route, path, caller, step, pos_headers: false, attested: false, faultable: !matches!(caller, Caller::Public) }
}

/// In the order the journal and the fault scopes have always listed them (status first: the
/// path every poll looks up).
pub(crate) const ENDPOINTS: [Endpoint; 22] = {
    use KustomRoute as K;
    use ViopayRoute as V;
    [
        pos(V::Status, "/pos/status", 3, false),
        pos(V::Bootstrap, "/pos/bootstrap", 1, false),
        pos(V::PairingCode, "/pos/pairing-code", 2, false),
        other(Route::Viopay(V::Claim), "/pos/claim", Caller::Merchant, Some(4)),
        pos(V::Attest, "/pos/attest", 5, false),
        pos(V::Keys, "/pos/keys", 6, true),
        pos(V::Config, "/pos/config", 7, true),
        pos(V::TerminalParameters, "/pos/terminal-parameters", 7, true),
        pos(V::Activate, "/pos/activate", 8, true),
        other(Route::Viopay(V::ClientSession), "/client/session", Caller::Merchant, None),
        other(Route::Viopay(V::AuthToken), "/auth/token", Caller::Merchant, None),
        other(Route::Viopay(V::SessionInitiate), "/session/initiate", Caller::Merchant, None),
        kustom(K::Enrollments, "/ipp/v1/enrollments"),
        kustom(K::Enrollment, "/ipp/v1/enrollments/{id}"),
        kustom(K::Register, "/ipp/v1/devices/register"),
        kustom(K::Devices, "/ipp/v1/devices"),
        kustom(K::DeviceMe, "/ipp/v1/devices/me"),
        kustom(K::Device, "/ipp/v1/devices/{id}"),
        kustom(K::Locations, "/ipp/v1/locations"),
        kustom(K::Location, "/ipp/v1/locations/{id}"),
        kustom(K::SimulatedDevice, "/ipp/v1/dev/devices"),
        other(Route::Viopay(V::Health), "/health/live", Caller::Public, None),
    ]
};

/// The endpoint at exactly this path (no template filled in).
pub(crate) fn exact(path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.path == path)
}

/// The endpoints a POS device calls, in step order (the verdict's device history).
pub(crate) fn device_endpoint(path: &str) -> bool {
    exact(path).is_some_and(|e| e.caller == Caller::Pos)
}

const fn faultable_count() -> usize {
    let (mut i, mut n) = (0, 0);
    while i < ENDPOINTS.len() {
        if ENDPOINTS[i].faultable {
            n += 1;
        }
        i += 1;
    }
    n
}

/// Endpoints a fault can be armed on, in table order (computed from the table at compile time).
pub(crate) const FAULTABLE: [&str; faultable_count()] = {
    let mut out = [""; faultable_count()];
    let (mut i, mut j) = (0, 0);
    while i < ENDPOINTS.len() {
        if ENDPOINTS[i].faultable {
            out[j] = ENDPOINTS[i].path;
            j += 1;
        }
        i += 1;
    }
    out
};

/// The endpoints of one activation step.
pub(crate) fn of_step(step: u8) -> impl Iterator<Item = &'static str> {
    ENDPOINTS.iter().filter(move |e| e.step == Some(step)).map(|e| e.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_looked_up_exactly() {
        assert_eq!(exact("/ipp/v1/devices/me").map(|e| e.route), Some(Route::Kustom(KustomRoute::DeviceMe)));
        assert_eq!(exact("/pos/status").map(|e| e.route), Some(Route::Viopay(ViopayRoute::Status)));
        assert!(exact("/ipp/v1/devices/abc").is_none(), "a filled-in template is not a route name");
    }

    #[test]
    fn the_sets_the_modules_use() {
        assert_eq!(FAULTABLE.len(), 21);
        assert!(!FAULTABLE.contains(&"/health/live"));
        assert_eq!(of_step(7).collect::<Vec<_>>(), ["/pos/config", "/pos/terminal-parameters"]);
        let device: Vec<&str> = ENDPOINTS.iter().map(|e| e.path).filter(|p| device_endpoint(p)).collect();
        assert_eq!(device.len(), 8);
        assert!(!device_endpoint("/pos/claim"));
    }
}
