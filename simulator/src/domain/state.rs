//! The simulator's whole state: merchants, devices and the index of pairing codes. Lookups by
//! device id, merchant id, client id and code value are all O(1) hash lookups.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use super::DeviceNotFound;
use super::attest::TokenRecord;
use super::device::{Device, DeviceStatus};
use super::merchant::{Merchant, MerchantIdx};
use super::secrets::SecretSeed;
use crate::ids::{DeviceId, PairingCode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProvisionError {
    #[error("merchant id `{0}` is already provisioned")]
    DuplicateMerchant(String),
    #[error("client_id `{0}` already belongs to another merchant")]
    DuplicateClient(String),
    #[error("device {0} is already provisioned")]
    DuplicateDevice(DeviceId),
    #[error("a device range starting at {first} with {count} devices runs past POS-FFFFFFFF")]
    RangeOverflow { first: DeviceId, count: u32 },
    #[error("`{0}` must not be empty")]
    Empty(&'static str),
    #[error("terminal id TERM-{0:06} is already used by another device")]
    DuplicateTerminal(u32),
    #[error("device {0} is not provisioned")]
    UnknownDevice(DeviceId),
    #[error("username `{0}` is already taken (usernames ignore case)")]
    DuplicateUser(String),
}

#[derive(Debug, Default, Clone)]
pub(crate) struct State {
    merchants: Vec<Merchant>,
    by_merchant_id: HashMap<String, MerchantIdx>,
    by_client_id: HashMap<String, MerchantIdx>,
    /// foldhash rather than SipHash: the status hot path is one lookup here, and the keys are
    /// 32-bit ids (randomly seeded, so still not trivially collidable).
    pub(super) devices: HashMap<DeviceId, Device, RandomState>,
    /// Code value → the device holding the newest record with that value. Only live codes are
    /// unique (PAIR-07), so a value may be reissued after its record expired or was used; the
    /// newest record then wins a lookup.
    pub(super) codes: HashMap<PairingCode, DeviceId, RandomState>,
    /// IDK-05: identity secrets and ZMKs are derived from this and the device id.
    pub(super) secret_seed: SecretSeed,
    /// Attestation tokens (ATT-17, ATT-18), expired ones swept as new ones come.
    pub(super) tokens: HashMap<String, TokenRecord>,
    pub(super) tokens_swept_at: usize,
    /// CFG-06: the last terminal number given out, and the numbers fixtures set explicitly
    /// (skipped by the automatic numbering, so terminal ids stay unique).
    last_terminal: u32,
    explicit_terminals: std::collections::HashSet<u32>,
    /// CFG-07: the config values a merchant's fixtures set.
    merchant_config: HashMap<MerchantIdx, serde_json::Map<String, serde_json::Value>>,
    /// Portal users (password grant); a handful, so a list.
    pub(super) users: Vec<super::user::User>,
}

impl State {
    pub(crate) fn new() -> Self {
        State::default()
    }

    pub(crate) fn add_merchant(&mut self, merchant: Merchant) -> Result<MerchantIdx, ProvisionError> {
        for (field, value) in [("id", &merchant.id), ("client_id", &merchant.client_id), ("client_secret", &merchant.client_secret)] {
            if value.is_empty() {
                return Err(ProvisionError::Empty(field));
            }
        }
        if self.by_merchant_id.contains_key(&merchant.id) {
            return Err(ProvisionError::DuplicateMerchant(merchant.id));
        }
        if self.by_client_id.contains_key(&merchant.client_id) || merchant.client_id == super::PORTAL_CLIENT_ID {
            return Err(ProvisionError::DuplicateClient(merchant.client_id));
        }
        let idx = MerchantIdx::new(self.merchants.len());
        self.by_merchant_id.insert(merchant.id.clone(), idx);
        self.by_client_id.insert(merchant.client_id.clone(), idx);
        self.merchants.push(merchant);
        Ok(idx)
    }

    /// DEV-01: a provisioned device starts `inactive` unless fixtures say otherwise. CFG-06: it
    /// gets the next terminal number.
    pub(crate) fn add_device(&mut self, id: DeviceId, owner: MerchantIdx, status: DeviceStatus) -> Result<(), ProvisionError> {
        if self.devices.contains_key(&id) {
            return Err(ProvisionError::DuplicateDevice(id));
        }
        self.last_terminal += 1;
        while self.explicit_terminals.contains(&self.last_terminal) {
            self.last_terminal += 1;
        }
        self.devices.insert(id, Device::new(owner, status, self.last_terminal));
        Ok(())
    }

    /// CFG-06: a terminal number set by fixtures; refused when another device has it.
    pub(crate) fn set_terminal(&mut self, id: DeviceId, number: u32) -> Result<(), ProvisionError> {
        if self.devices.iter().any(|(other, d)| *other != id && d.terminal == number) {
            return Err(ProvisionError::DuplicateTerminal(number));
        }
        let device = self.devices.get_mut(&id).ok_or(ProvisionError::UnknownDevice(id))?;
        device.terminal = number;
        self.explicit_terminals.insert(number);
        Ok(())
    }

    /// IDK-05: where derived secrets come from (the simulator's seed).
    pub(crate) fn set_secret_seed(&mut self, seed: SecretSeed) {
        self.secret_seed = seed;
    }

    /// The device's steps 5–8 state, created when first needed.
    pub(crate) fn device_ext_mut(&mut self, id: DeviceId) -> Result<&mut super::secrets::DeviceExt, DeviceNotFound> {
        let device = self.devices.get_mut(&id).ok_or(DeviceNotFound(id))?;
        Ok(device.ext.get_or_insert_with(Default::default))
    }

    /// Provisions `count` devices with ids counting up in hex from `first`.
    pub(crate) fn add_device_range(&mut self, first: DeviceId, count: u32, owner: MerchantIdx) -> Result<(), ProvisionError> {
        if count > 0 && first.checked_add(count - 1).is_none() {
            return Err(ProvisionError::RangeOverflow { first, count });
        }
        self.devices.reserve(count as usize);
        for offset in 0..count {
            let id = first.checked_add(offset).ok_or(ProvisionError::RangeOverflow { first, count })?;
            self.add_device(id, owner, DeviceStatus::Inactive)?;
        }
        Ok(())
    }

    pub(crate) fn merchant(&self, idx: MerchantIdx) -> &Merchant {
        // An index comes only from this state's own merchants (see `MerchantIdx`).
        &self.merchants[idx.get()]
    }

    /// AUTH-04, AUTH-07: the merchant whose API client these credentials are, compared in
    /// constant time so that a wrong secret's timing says nothing about the right one.
    pub(crate) fn authenticate_client(&self, client_id: &str, client_secret: &str) -> Result<&Merchant, super::merchant::BadCredentials> {
        let m = self.merchant_by_client_id(client_id).map(|idx| self.merchant(idx)).ok_or(super::merchant::BadCredentials)?;
        if super::user::same_secret(&m.client_secret, client_secret) { Ok(m) } else { Err(super::merchant::BadCredentials) }
    }

    pub(crate) fn merchants(&self) -> impl Iterator<Item = (MerchantIdx, &Merchant)> {
        self.merchants.iter().enumerate().map(|(i, m)| (MerchantIdx::new(i), m))
    }

    /// CFG-07: config values for the merchant's devices, over the defaults.
    pub(crate) fn set_merchant_config(&mut self, idx: MerchantIdx, config: serde_json::Map<String, serde_json::Value>) {
        self.merchant_config.insert(idx, config);
    }

    pub(crate) fn merchant_config(&self, idx: MerchantIdx) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.merchant_config.get(&idx)
    }

    pub(crate) fn merchant_by_id(&self, id: &str) -> Option<MerchantIdx> {
        self.by_merchant_id.get(id).copied()
    }

    pub(crate) fn merchant_by_client_id(&self, client_id: &str) -> Option<MerchantIdx> {
        self.by_client_id.get(client_id).copied()
    }

    pub(crate) fn device(&self, id: DeviceId) -> Result<&Device, DeviceNotFound> {
        self.devices.get(&id).ok_or(DeviceNotFound(id))
    }

    pub(crate) fn contains_device(&self, id: DeviceId) -> bool {
        self.devices.contains_key(&id)
    }

    pub(crate) fn device_count(&self) -> usize {
        self.devices.len()
    }

    pub(crate) fn devices(&self) -> impl Iterator<Item = (DeviceId, &Device)> {
        self.devices.iter().map(|(id, d)| (*id, d))
    }
}
