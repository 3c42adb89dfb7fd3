//! The operations the fuzzer draws, and how proptest-state-machine generates and shrinks
//! sequences of them. Generation needs only the shape of a case (devices, merchants, which codes
//! exist); what each operation should answer is the oracle's business.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use proptest_state_machine::ReferenceStateMachine;

/// A bad `Authorization` header (CLAIM-03).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadToken {
    Missing,
    Garbage,
    Tampered,
}

pub use crate::model::{ActivateBody, HeaderFault, Malformed, PosEndpoint, SignatureHeader, Step};

/// An attest as the fuzzer sends it (ATT-02…ATT-06); the driver turns it into the model's
/// [`crate::model::AttestFault`] with what the device remembers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttestKind {
    Good,
    /// `X-Timestamp` this many seconds from the target's time.
    Skewed(i64),
    /// The nonce of the device's last accepted attest.
    ReusedNonce,
    BadSignature,
    UnknownKey,
    Missing(SignatureHeader),
}

/// Whose token a step request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRef {
    Own,
    /// The latest token of another device of the case.
    Of(usize),
    /// No `Authorization` header.
    Missing,
}

/// Which of a device's codes a claim names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeRef {
    Latest,
    /// The n-th code issued to the device in this case, from 1.
    Nth(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Bootstrap {
        device: usize,
    },
    Status {
        device: usize,
    },
    RequestCode {
        device: usize,
    },
    /// A claim with a valid token of `merchant`.
    Claim {
        merchant: usize,
        device: usize,
        code: CodeRef,
    },
    /// A well-formed code that no device has.
    ClaimUnknown {
        merchant: usize,
    },
    ClaimMalformed {
        merchant: usize,
        body: Malformed,
    },
    ClaimBadToken {
        device: usize,
        token: BadToken,
    },
    /// A POS request of the device with one header fault (HDR-02…HDR-10).
    BadHeader {
        device: usize,
        endpoint: PosEndpoint,
        fault: HeaderFault,
    },
    /// A POS request naming a well-formed device id that is not provisioned (BOOT-07, STAT-12,
    /// PAIR-09).
    UnknownDevice {
        endpoint: PosEndpoint,
    },
    /// A claim of the device's latest code sent as `text/plain` (CLAIM-24).
    ClaimAsText {
        merchant: usize,
        device: usize,
    },
    /// `n` claims of the device's latest code at once.
    Burst {
        merchant: usize,
        device: usize,
        n: usize,
    },
    /// The target's clock moves on (only where it can be moved).
    Advance {
        seconds: u32,
    },
    /// Steps 2–7 the way a firmware walks them, as far as `through` goes: 1 a code, 2 the owner's
    /// claim, 3 an attest, 4 keys, 5 config, 6 terminal parameters (each request judged as its own
    /// operation would be). Deep states
    /// are rare by chance alone; `through` shrinks toward 1, so shrunk sequences stay short.
    Onboard {
        device: usize,
        through: u8,
    },
    /// Step 5 (skipped for a device whose secrets the target does not give).
    Attest {
        device: usize,
        kind: AttestKind,
    },
    /// Keys, config or terminal-parameters (steps 6–7).
    Call {
        device: usize,
        step: Step,
        token: TokenRef,
    },
    /// Step 8 with a good, false, malformed or foreign body.
    Activate {
        device: usize,
        body: ActivateBody,
    },
}

/// What generation needs to know of a case.
#[derive(Clone, Debug)]
pub struct Shape {
    pub devices: usize,
    pub merchants: usize,
    pub clock: bool,
    /// Codes issued so far, per device.
    pub issued: Vec<usize>,
}

thread_local! {
    /// The case shape for this thread's runner: `ReferenceStateMachine::init_state` takes no
    /// arguments, so the fuzz command sets it before running.
    static SHAPE: RefCell<Shape> = const { RefCell::new(Shape { devices: 2, merchants: 2, clock: true, issued: Vec::new() }) };
}

pub fn set_shape(devices: usize, merchants: usize, clock: bool) {
    SHAPE
        .with(|s| *s.borrow_mut() = Shape { devices: devices.max(1), merchants: merchants.max(2), clock, issued: vec![0; devices.max(1)] });
}

/// Clock moves concentrated around the 300 s boundary of a pairing code.
fn seconds() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => prop::sample::select(vec![1u32, 2, 3, 5, 60, 120, 150, 240, 298, 299, 300, 301, 302, 359, 360, 361]),
        1 => 0u32..=400,
    ]
}

pub struct Generator;

impl ReferenceStateMachine for Generator {
    type State = Shape;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Shape> {
        Just(SHAPE.with(|s| s.borrow().clone())).boxed()
    }

    fn transitions(state: &Shape) -> BoxedStrategy<Op> {
        let d = 0..state.devices;
        let m = 0..state.merchants;
        let code = prop_oneof![3 => Just(CodeRef::Latest), 1 => (1usize..=4).prop_map(CodeRef::Nth)];
        let token = prop_oneof![Just(BadToken::Missing), Just(BadToken::Garbage), Just(BadToken::Tampered)];
        let body =
            prop_oneof![Just(Malformed::MissingCode), Just(Malformed::EmptyCode), Just(Malformed::BrokenJson), Just(Malformed::NotAString)];
        let endpoint = prop_oneof![Just(PosEndpoint::Bootstrap), Just(PosEndpoint::PairingCode), Just(PosEndpoint::Status)];
        let fault = prop_oneof![
            Just(HeaderFault::MissingDeviceId),
            Just(HeaderFault::InvalidDeviceId),
            Just(HeaderFault::ForeignUserAgent),
            Just(HeaderFault::MissingClientType)
        ];
        // proptest refuses a weight of 0: on a clock the harness cannot move, that arm polls.
        let (clock_weight, clock_op) = if state.clock {
            (3, seconds().prop_map(|seconds| Op::Advance { seconds }).boxed())
        } else {
            (1, d.clone().prop_map(|device| Op::Status { device }).boxed())
        };
        let merchants = state.merchants;
        let kind = prop_oneof![
            5 => Just(AttestKind::Good),
            2 => prop::sample::select(vec![-3600i64, -301, -300, -299, -1, 59, 60, 61]).prop_map(AttestKind::Skewed),
            2 => Just(AttestKind::ReusedNonce),
            2 => Just(AttestKind::BadSignature),
            1 => Just(AttestKind::UnknownKey),
            1 => prop::sample::select(SignatureHeader::ALL.to_vec()).prop_map(AttestKind::Missing),
        ];
        let step = prop_oneof![3 => Just(Step::Keys), 2 => Just(Step::Config), 2 => Just(Step::Parameters)];
        let step_token = prop_oneof![6 => Just(TokenRef::Own), 1 => d.clone().prop_map(TokenRef::Of), 1 => Just(TokenRef::Missing)];
        let flags = (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(emv_ready, keys_installed, network_ok)| ActivateBody::Flags {
            emv_ready,
            keys_installed,
            network_ok,
        });
        let activate_body = prop_oneof![
            4 => Just(ActivateBody::ready()),
            2 => flags,
            1 => prop::sample::select(ActivateBody::OTHERS.to_vec()),
        ];
        prop_oneof![
            1 => d.clone().prop_map(|device| Op::Bootstrap { device }),
            3 => d.clone().prop_map(|device| Op::Status { device }),
            4 => d.clone().prop_map(|device| Op::RequestCode { device }),
            5 => (m.clone(), d.clone(), code).prop_map(|(merchant, device, code)| Op::Claim { merchant, device, code }),
            1 => m.clone().prop_map(|merchant| Op::ClaimUnknown { merchant }),
            1 => (m.clone(), body).prop_map(|(merchant, body)| Op::ClaimMalformed { merchant, body }),
            1 => (d.clone(), token).prop_map(|(device, token)| Op::ClaimBadToken { device, token }),
            1 => (m.clone(), d.clone()).prop_map(|(merchant, device)| Op::ClaimAsText { merchant, device }),
            1 => (d.clone(), endpoint.clone(), fault).prop_map(|(device, endpoint, fault)| Op::BadHeader { device, endpoint, fault }),
            1 => endpoint.prop_map(|endpoint| Op::UnknownDevice { endpoint }),
            1 => (m, d.clone(), 2usize..=6).prop_map(|(merchant, device, n)| Op::Burst { merchant, device, n }),
            clock_weight => clock_op,
            // The owner claims: the way into steps 5–8.
            2 => d.clone().prop_map(move |device| Op::Claim { merchant: device % merchants, device, code: CodeRef::Latest }),
            2 => (d.clone(), 1u8..=6).prop_map(|(device, through)| Op::Onboard { device, through }),
            4 => (d.clone(), kind).prop_map(|(device, kind)| Op::Attest { device, kind }),
            3 => (d.clone(), step, step_token).prop_map(|(device, step, token)| Op::Call { device, step, token }),
            2 => (d, activate_body).prop_map(|(device, body)| Op::Activate { device, body }),
        ]
        .boxed()
    }

    fn apply(mut state: Shape, op: &Op) -> Shape {
        if let Op::RequestCode { device } | Op::Onboard { device, .. } = op
            && let Some(n) = state.issued.get_mut(*device)
        {
            *n += 1;
        }
        state
    }

    /// A claim names a code that was issued; shrinking that drops the issue drops the claim.
    fn preconditions(state: &Shape, op: &Op) -> bool {
        let issued = |d: &usize| state.issued.get(*d).copied().unwrap_or(0);
        match op {
            Op::Claim { device, code: CodeRef::Latest, .. }
            | Op::Burst { device, .. }
            | Op::ClaimBadToken { device, .. }
            | Op::ClaimAsText { device, .. } => issued(device) > 0,
            Op::Claim { device, code: CodeRef::Nth(n), .. } => *n <= issued(device),
            Op::Advance { .. } => state.clock,
            Op::Bootstrap { device }
            | Op::Status { device }
            | Op::RequestCode { device }
            | Op::BadHeader { device, .. }
            | Op::Attest { device, .. }
            | Op::Onboard { device, .. }
            | Op::Activate { device, .. } => *device < state.devices,
            Op::Call { device, token, .. } => *device < state.devices && !matches!(token, TokenRef::Of(o) if *o >= state.devices),
            Op::UnknownDevice { .. } => true,
            Op::ClaimUnknown { merchant } | Op::ClaimMalformed { merchant, .. } => *merchant < state.merchants,
        }
    }
}
