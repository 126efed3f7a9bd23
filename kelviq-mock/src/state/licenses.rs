//! License keys: issued by a purchase of a plan that has one, activated per instance up to
//! the plan's limit, deactivated, validated.

use std::collections::HashMap;

use kelviq_gen::types as wire;
use serde_json::{json, Map, Value};

use super::{new_id, now, Tenant};
use crate::catalogue::Catalogue;
use crate::error::ApiError;

#[derive(Debug, Default)]
pub(super) struct Licenses {
    by_key: HashMap<String, License>,
}

#[derive(Debug, Clone)]
pub(super) struct License {
    pub(super) id: String,
    pub(super) license_key: String,
    customer_id: String,
    plan_identifier: String,
    subscription_id: String,
    pub(super) activation_limit: i64,
    pub(super) enabled: bool,
    pub(super) activated_on: Option<String>,
    pub(super) expires_on: Option<String>,
    instances: HashMap<String, Instance>,
    pub(super) activation_usage: i64,
}

#[derive(Debug, Clone)]
struct Instance {
    metadata: Map<String, Value>,
}

fn error(status: u16, message: &str) -> ApiError {
    let status = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    ApiError::status(status, message)
}

impl Tenant {
    pub(super) fn issue_license(
        &mut self,
        customer_id: &str,
        plan_identifier: &str,
        subscription_id: &str,
        activation_limit: i64,
    ) {
        let key = format!("LIC-{}", uuid::Uuid::new_v4().to_string().to_uppercase());
        self.licenses.by_key.insert(
            key.clone(),
            License {
                id: new_id(),
                license_key: key,
                customer_id: customer_id.to_owned(),
                plan_identifier: plan_identifier.to_owned(),
                subscription_id: subscription_id.to_owned(),
                activation_limit,
                enabled: true,
                activated_on: None,
                expires_on: None,
                instances: HashMap::new(),
                activation_usage: 0,
            },
        );
    }

    pub(super) fn licenses_of_subscription(&self, subscription_id: &str) -> Vec<License> {
        self.licenses
            .by_key
            .values()
            .filter(|l| l.subscription_id == subscription_id)
            .cloned()
            .collect()
    }

    /// The keys of a customer's licenses, for the control surface.
    pub fn license_keys_of(&self, customer_id: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .licenses
            .by_key
            .values()
            .filter(|l| l.customer_id == customer_id)
            .map(|l| l.license_key.clone())
            .collect();
        keys.sort();
        keys
    }

    fn license_json(&self, catalogue: &Catalogue, license: &License) -> Value {
        let customer = self.customers.get(&license.customer_id);
        let subscription = self.subscription_json(catalogue, &license.subscription_id);
        json!({
            "id": license.id,
            "licenseKey": license.license_key,
            "activatedOn": license.activated_on,
            "expiresOn": license.expires_on,
            "activationUsage": license.activation_usage,
            "activationLimit": license.activation_limit,
            "enabled": license.enabled,
            "customer": {
                "customerId": license.customer_id,
                "name": customer.and_then(|c| c.name.clone()),
                "email": customer.and_then(|c| c.email.clone()),
            },
            "plan": {"identifier": license.plan_identifier, "name": license.plan_identifier, "product": null},
            "subscription": subscription,
        })
    }

    /// `POST /api/v1/license/activate/`: one more instance, up to the limit.
    pub fn activate_license(
        &mut self,
        catalogue: &Catalogue,
        request: wire::ActivateLicenseRequest,
    ) -> Result<Value, ApiError> {
        let key = request.license_key.to_string();
        let customer = request.customer_id.map(|c| c.to_string());
        let license = self
            .licenses
            .by_key
            .get_mut(&key)
            .filter(|l| customer.as_ref().is_none_or(|c| c == &l.customer_id))
            .ok_or_else(|| error(404, "Invalid license key or customer ID."))?;
        if !license.enabled {
            return Err(error(403, "This license is disabled."));
        }
        if license.activation_usage >= license.activation_limit {
            return Err(error(
                403,
                &format!(
                    "Activation limit reached ({}/{}).",
                    license.activation_usage, license.activation_limit
                ),
            ));
        }
        let at = now();
        let instance_id = new_id();
        license.instances.insert(
            instance_id.clone(),
            Instance {
                metadata: request.metadata.map(|m| m.0).unwrap_or_default(),
            },
        );
        license.activation_usage += 1;
        license.activated_on.get_or_insert_with(|| at.to_rfc3339());
        let license = license.clone();
        Ok(json!({
            "instanceId": instance_id,
            "activatedAt": at.to_rfc3339(),
            "expiresOn": null,
            "license": self.license_json(catalogue, &license),
        }))
    }

    /// `POST /api/v1/license/deactivate/`: frees one instance's activation.
    pub fn deactivate_license(
        &mut self,
        request: wire::DeactivateLicenseRequest,
    ) -> Result<wire::LicenseDeactivation, ApiError> {
        let key = request.license_key.to_string();
        let instance = request.instance_id.to_string();
        let license = self
            .licenses
            .by_key
            .get_mut(&key)
            .filter(|l| l.instances.contains_key(&instance))
            .ok_or_else(|| error(404, "Invalid license key or instance ID."))?;
        license.instances.remove(&instance);
        license.activation_usage -= 1;
        Ok(wire::LicenseDeactivation {
            message: "License instance deactivated successfully.".into(),
            deactivated_at: now(),
        })
    }

    /// `POST /api/v1/license/validate/`: an unknown key or instance is a 404 carrying the
    /// validation (`valid: false`).
    pub fn validate_license(
        &self,
        catalogue: &Catalogue,
        request: wire::ValidateLicenseRequest,
    ) -> Result<Value, (u16, Value)> {
        let key = request.license_key.to_string();
        let Some(license) = self.licenses.by_key.get(&key) else {
            return Err((
                404,
                json!({"valid": false, "code": "INVALID_KEY", "detail": "License key not found.", "metadata": {}}),
            ));
        };
        let metadata = match request.instance_id.map(|i| i.to_string()) {
            Some(instance) => match license.instances.get(&instance) {
                Some(found) => json!(found.metadata),
                None => {
                    return Err((
                        404,
                        json!({"valid": false, "code": "INSTANCE_NOT_FOUND", "detail": "Instance ID invalid for this license.", "metadata": {}}),
                    ))
                }
            },
            None => json!({}),
        };
        let (valid, code, detail) = if license.enabled {
            (true, "VALID", "License is valid.")
        } else {
            (false, "DISABLED", "This license is disabled.")
        };
        Ok(json!({
            "valid": valid,
            "code": code,
            "detail": detail,
            "metadata": metadata,
            "license": self.license_json(catalogue, license),
        }))
    }
}
