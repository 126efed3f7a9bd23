//! License keys: activations, deactivations, validation.

use chrono::{DateTime, Utc};
use kelviq_gen::types as wire;
use serde_json::{Map, Value};

use super::FromWire;

/// A license key and its state.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct License {
    /// Its identifier.
    pub id: String,
    /// The key.
    pub license_key: String,
    /// When it was first activated.
    pub activated_on: Option<DateTime<Utc>>,
    /// When it expires.
    pub expires_on: Option<DateTime<Utc>>,
    /// Activations in use.
    pub activation_usage: i64,
    /// Activations allowed (none: unlimited).
    pub activation_limit: Option<i64>,
    /// Whether it is enabled.
    pub enabled: bool,
    /// The customer it belongs to, as the service describes them.
    pub customer_id: Option<String>,
    /// The plan that issued it.
    pub plan_identifier: Option<String>,
    /// The subscription that issued it.
    pub subscription: Option<Box<super::Subscription>>,
}

impl FromWire<wire::License> for License {
    fn from_wire(license: wire::License) -> Self {
        Self {
            id: license.id.to_string(),
            license_key: license.license_key,
            activated_on: license.activated_on,
            expires_on: license.expires_on,
            activation_usage: license.activation_usage.unwrap_or(0),
            activation_limit: license.activation_limit,
            enabled: license.enabled.unwrap_or(true),
            customer_id: license.customer.and_then(|c| c.customer_id),
            plan_identifier: license.plan.and_then(|p| p.identifier),
            subscription: license
                .subscription
                .map(|s| Box::new(super::Subscription::from_wire(s))),
        }
    }
}

/// An activation of a license on one instance.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct LicenseActivation {
    /// The instance: keep it to validate or deactivate this activation.
    pub instance_id: String,
    /// When it was activated.
    pub activated_at: DateTime<Utc>,
    /// When the activation expires.
    pub expires_on: Option<DateTime<Utc>>,
    /// The license, after the activation.
    pub license: License,
}

impl FromWire<wire::LicenseActivation> for LicenseActivation {
    fn from_wire(activation: wire::LicenseActivation) -> Self {
        Self {
            instance_id: activation.instance_id,
            activated_at: activation.activated_at,
            expires_on: activation.expires_on,
            license: License::from_wire(activation.license),
        }
    }
}

/// The answer to a deactivation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct LicenseDeactivation {
    /// The service's confirmation.
    pub message: String,
    /// When it was deactivated.
    pub deactivated_at: DateTime<Utc>,
}

impl FromWire<wire::LicenseDeactivation> for LicenseDeactivation {
    fn from_wire(answer: wire::LicenseDeactivation) -> Self {
        Self {
            message: answer.message,
            deactivated_at: answer.deactivated_at,
        }
    }
}

/// Whether a license (and instance) is valid. An unknown key or instance is an answer
/// with `valid: false`, not an error.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct LicenseValidation {
    /// Whether it is valid.
    pub valid: bool,
    /// Why: `VALID`, `INVALID_KEY`, `INSTANCE_NOT_FOUND`, … (an open set).
    pub code: String,
    /// The service's explanation.
    pub detail: Option<String>,
    /// The instance's metadata.
    pub metadata: Map<String, Value>,
    /// The license, when the key is known.
    pub license: Option<License>,
}

impl FromWire<wire::LicenseValidation> for LicenseValidation {
    fn from_wire(answer: wire::LicenseValidation) -> Self {
        Self {
            valid: answer.valid,
            code: answer.code,
            detail: answer.detail,
            metadata: answer.metadata.unwrap_or_default(),
            license: answer.license.map(License::from_wire),
        }
    }
}
