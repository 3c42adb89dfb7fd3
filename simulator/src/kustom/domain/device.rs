//! Devices (§3.2): listed (KDEV-06…KDEV-10), updated (KDEV-12…KDEV-19), deregistered
//! (KDEV-20…KDEV-23), and named by their token (KAUTH-18).

use serde::Serialize;
use time::OffsetDateTime;

use super::KustomState;
use super::enrollment::ListFilter;
use super::metadata::{self, Metadata};
use crate::time_fmt::rfc3339_millis;

/// KDEV-01, KREG-06.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Platform {
    #[serde(rename = "IOS")]
    Ios,
    #[serde(rename = "ANDROID")]
    Android,
    #[serde(rename = "TERMINAL")]
    Terminal,
}

impl Platform {
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        match raw {
            "IOS" => Some(Platform::Ios),
            "ANDROID" => Some(Platform::Android),
            "TERMINAL" => Some(Platform::Terminal),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "IOS",
            Platform::Android => "ANDROID",
            Platform::Terminal => "TERMINAL",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) id: String,
    pub(crate) hardware_id: String,
    pub(crate) merchant: usize,
    pub(crate) location_id: Option<String>,
    pub(crate) name: String,
    pub(crate) platform: Platform,
    pub(crate) metadata: Metadata,
    pub(crate) created_at: OffsetDateTime,
    /// §3.2: `false` once deregistered (terminal, KDEV-30).
    pub(crate) registered: bool,
    pub(crate) enrollment: String,
}

/// KREG-12: `<platform> <last 4 characters of hardware_id>` (the whole id when shorter).
pub(crate) fn default_name(platform: Platform, hardware_id: &str) -> String {
    let chars: Vec<char> = hardware_id.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("{} {tail}", platform.as_str())
}

/// KDEV-02: the device record, every member present.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeviceView {
    pub(crate) id: String,
    pub(crate) hardware_id: String,
    pub(crate) merchant_id: String,
    pub(crate) location_id: Option<String>,
    pub(crate) name: String,
    pub(crate) platform: Platform,
    pub(crate) metadata: Metadata,
    pub(crate) created_at: String,
    pub(crate) open_cash_register_id: Option<i64>,
}

impl KustomState {
    /// KDEV-19: one of the merchant's registered devices, by id.
    pub(crate) fn device(&self, merchant: usize, raw_id: &str) -> Option<usize> {
        let id = super::ids::parse_uuid(raw_id)?;
        self.devices.iter().position(|d| d.id == id && d.merchant == merchant && d.registered)
    }

    /// KAUTH-18: the registered device a token names, when its merchant is the token's.
    pub(crate) fn device_for_token(&self, device_id: &str, merchant_id: &str) -> Option<usize> {
        self.devices
            .iter()
            .position(|d| d.id == device_id && d.registered && self.merchants.get(d.merchant).is_some_and(|m| m.id == merchant_id))
    }

    /// KDEV-20: deregistered; its token is refused from now on (KAUTH-18 reads `registered`).
    pub(crate) fn deregister(&mut self, idx: usize) {
        self.devices[idx].registered = false;
    }

    /// KDEV-09: the merchant's registered devices, filtered (KDEV-08: a detached device matches no
    /// location), newest first (KDEV-10).
    pub(crate) fn list_devices(&self, merchant: usize, filter: &ListFilter) -> Vec<&Device> {
        let matching = self.devices.iter().filter(|d| {
            d.registered
                && d.merchant == merchant
                && filter.location_id.as_ref().is_none_or(|l| d.location_id.as_ref() == Some(l))
                && metadata::matches(&d.metadata, &filter.metadata)
        });
        KustomState::newest_first(matching, |d| d.created_at)
    }

    /// KDEV-13: `name`, `metadata` and `location_id` replaced; an omitted name is the default one
    /// again (KREG-12), an omitted location detaches the device.
    pub(crate) fn update_device(&mut self, idx: usize, name: Option<String>, metadata: Metadata, location_id: Option<String>) {
        let d = &mut self.devices[idx];
        d.name = name.unwrap_or_else(|| default_name(d.platform, &d.hardware_id));
        d.metadata = metadata;
        d.location_id = location_id;
    }

    pub(crate) fn device_view(&self, d: &Device) -> DeviceView {
        DeviceView {
            id: d.id.clone(),
            hardware_id: d.hardware_id.clone(),
            merchant_id: self.merchants.get(d.merchant).map(|m| m.id.clone()).unwrap_or_default(),
            location_id: d.location_id.clone(),
            name: d.name.clone(),
            platform: d.platform,
            metadata: d.metadata.clone(),
            created_at: rfc3339_millis(d.created_at),
            open_cash_register_id: None,
        }
    }
}
