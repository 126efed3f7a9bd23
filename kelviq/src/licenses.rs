//! Licenses: activate a license key on an instance, deactivate it, validate it.
//!
//! ```no_run
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let activation = client
//!     .licenses()
//!     .activate("LIC-A8D5F89E-B46B-472C-9BED-66EE2545B85E")
//!     .instance_name("Geo's Workstation")
//!     .metadata([("os", "macOS")])
//!     .send()
//!     .await?;
//!
//! let check = client
//!     .licenses()
//!     .validate("LIC-A8D5F89E-B46B-472C-9BED-66EE2545B85E")
//!     .instance_id(activation.instance_id.as_str())
//!     .send()
//!     .await?;
//! assert!(check.valid, "{}", check.code);
//!
//! client
//!     .licenses()
//!     .deactivate("LIC-A8D5F89E-B46B-472C-9BED-66EE2545B85E", activation.instance_id)
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```

use kelviq_gen::types as wire;
use serde_json::{Map, Value};

use crate::error::{ErrorBody, ErrorKind, Result, ValidationError};
use crate::model::{FromWire, LicenseActivation, LicenseDeactivation, LicenseValidation};
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::transport::RetryRule;
use crate::validate;

/// The license operations, from [`Client::licenses`](crate::Client::licenses).
#[derive(Debug, Clone, Copy)]
pub struct Licenses<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Licenses<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Activates the license key on one instance, counting against its activation limit
    /// (a 403 when the license expired or the limit is reached). Not resent once the
    /// service may have received it: it would count twice.
    pub fn activate(&self, license_key: impl Into<String>) -> ActivateLicense<M> {
        ActivateLicense {
            ctx: self.ctx.clone(),
            license_key: license_key.into(),
            customer_id: None,
            instance_name: None,
            metadata: None,
            options: RequestOptions::default(),
        }
    }

    /// Deactivates one instance of the license key, freeing its activation.
    pub fn deactivate(
        &self,
        license_key: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> DeactivateLicense<M> {
        DeactivateLicense {
            ctx: self.ctx.clone(),
            license_key: license_key.into(),
            instance_id: instance_id.into(),
            options: RequestOptions::default(),
        }
    }

    /// Whether the license key (and, when set, an instance of it) is valid. An unknown key
    /// or instance is an answer with `valid: false`, not an error.
    pub fn validate(&self, license_key: impl Into<String>) -> ValidateLicense<M> {
        ValidateLicense {
            ctx: self.ctx.clone(),
            license_key: license_key.into(),
            instance_id: None,
            options: RequestOptions::default(),
        }
    }
}

/// Activates a license; made by [`Licenses::activate`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ActivateLicense<M = Async> {
    ctx: Ctx<M>,
    license_key: String,
    customer_id: Option<String>,
    instance_name: Option<String>,
    metadata: Option<Map<String, Value>>,
    options: RequestOptions,
}

impl<M> ActivateLicense<M> {
    /// The customer the license must belong to.
    pub fn customer_id(mut self, customer_id: impl Into<String>) -> Self {
        self.customer_id = Some(customer_id.into());
        self
    }

    /// A name for the instance.
    pub fn instance_name(mut self, name: impl Into<String>) -> Self {
        self.instance_name = Some(name.into());
        self
    }

    /// Key-value pairs stored with the activation.
    pub fn metadata<K, V>(mut self, metadata: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<Value>,
    {
        self.metadata = Some(
            metadata
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<LicenseActivation>> {
        const OPERATION: &str = "licenses.activate";
        let body = (|| {
            Ok::<_, ValidationError>(wire::ActivateLicenseRequest {
                license_key: validate::identifier("license_key", &self.license_key)?,
                customer_id: self
                    .customer_id
                    .as_deref()
                    .map(|id| validate::identifier("customer_id", id))
                    .transpose()?,
                instance_name: self.instance_name.clone(),
                metadata: self.metadata.clone().map(wire::LicenseMetadata),
            })
        })()
        .map_err(invalid(OPERATION))?;
        self.ctx
            .api_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.activate_license().body(body).send(),
            )
            .await
    }
}

request_options!([M] ActivateLicense<M>);
send_impls!(ActivateLicense => LicenseActivation);

/// Deactivates a license instance; made by [`Licenses::deactivate`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct DeactivateLicense<M = Async> {
    ctx: Ctx<M>,
    license_key: String,
    instance_id: String,
    options: RequestOptions,
}

impl<M> DeactivateLicense<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<LicenseDeactivation>> {
        const OPERATION: &str = "licenses.deactivate";
        let body = (|| {
            Ok::<_, ValidationError>(wire::DeactivateLicenseRequest {
                license_key: validate::identifier("license_key", &self.license_key)?,
                instance_id: validate::identifier("instance_id", &self.instance_id)?,
            })
        })()
        .map_err(invalid(OPERATION))?;
        let overrides = self
            .options
            .overrides(want_raw)
            .map_err(invalid(OPERATION))?;
        let core = &self.ctx.core;
        // Repeating it frees nothing more, but the second answer would be a 404.
        let spec = core.spec(OPERATION, RetryRule::NOT_IDEMPOTENT, &overrides);
        let answered = core
            .call(spec, core.api().deactivate_license().body(body).send())
            .await?;
        Ok(Response::new(
            FromWire::from_wire(answered.value),
            answered.raw,
        ))
    }
}

request_options!([M] DeactivateLicense<M>);
send_impls!(DeactivateLicense => LicenseDeactivation);

/// Validates a license; made by [`Licenses::validate`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ValidateLicense<M = Async> {
    ctx: Ctx<M>,
    license_key: String,
    instance_id: Option<String>,
    options: RequestOptions,
}

impl<M> ValidateLicense<M> {
    /// The instance to validate, as an activation returned it.
    pub fn instance_id(mut self, instance_id: impl Into<String>) -> Self {
        self.instance_id = Some(instance_id.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<LicenseValidation>> {
        const OPERATION: &str = "licenses.validate";
        let body = (|| {
            Ok::<_, ValidationError>(wire::ValidateLicenseRequest {
                license_key: validate::identifier("license_key", &self.license_key)?,
                instance_id: self
                    .instance_id
                    .as_deref()
                    .map(|id| validate::identifier("instance_id", id))
                    .transpose()?,
            })
        })()
        .map_err(invalid(OPERATION))?;
        let overrides = self
            .options
            .overrides(want_raw)
            .map_err(invalid(OPERATION))?;
        let core = &self.ctx.core;
        let spec = core.spec(OPERATION, RetryRule::IDEMPOTENT, &overrides);
        match core
            .call(spec, core.api().validate_license().body(body).send())
            .await
        {
            Ok(answered) => Ok(Response::new(
                FromWire::from_wire(answered.value),
                answered.raw,
            )),
            // An unknown key or instance is answered 404 with the validation itself.
            Err(error) if error.kind() == ErrorKind::NotFound => match error.body() {
                Some(ErrorBody::Json(body)) if body.get("valid").is_some() => {
                    match serde_json::from_value::<wire::LicenseValidation>(body.clone()) {
                        Ok(validation) => Ok(Response::new(
                            LicenseValidation::from_wire(validation),
                            None,
                        )),
                        Err(_) => Err(error),
                    }
                }
                _ => Err(error),
            },
            Err(error) => Err(error),
        }
    }
}

request_options!([M] ValidateLicense<M>);
send_impls!(ValidateLicense => LicenseValidation);
