//! Partner organisations (feature `partner`): a Kelviq partner provisions organisations for
//! its own customers, and reads them back.
//!
//! These operations authenticate with the partner's secret, sent as `X-Kelviq-Partner-Key`,
//! not with the organisation's API key: [`Client::partner`](crate::Client::partner) takes a
//! [`PartnerKey`], and its calls send that key alone (no `Authorization`). The key never
//! shows in `Debug` output or in an error. A partner with no organisation of its own builds
//! its client with any placeholder API key: partner calls never send it.
//!
//! ```no_run
//! use kelviq::partner::PartnerKey;
//!
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let key = PartnerKey::new("kvqp_…")?;
//! let organizations = client.partner(&key).organizations();
//! let acme = organizations
//!     .provision("acme-corp", "owner@acme.example.com")
//!     .business_name("Acme Corp")
//!     .send()
//!     .await?;
//! let again = organizations.retrieve_by_external_id("acme-corp").send().await?;
//! assert_eq!(again.organization_id, acme.organization_id);
//! # Ok(()) }
//! ```
//!
//! Identifiers are checked before sending: an organisation's UUID must be a UUID, and an
//! external identifier travels as one percent-encoded path segment (empty, `.` and `..`
//! refused). Reads are retried; provisioning is never resent once the service may have
//! received it (a second one would be refused: the e-mail address is taken).

use std::fmt;
use std::sync::Arc;

use http::header::{HeaderName, HeaderValue};
use kelviq_gen::partner::types as wire;

use crate::error::{Result, ValidationError};
use crate::model::{PartnerOrganization, PartnerOrganizationList};
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::transport::{RetryRule, PARTNER_KEY_HEADER};
use crate::validate;

/// A partner's secret (it starts with `kvqp_`), issued by Kelviq: what the partner
/// operations authenticate with.
///
/// Cheap to clone. `Debug` shows `PartnerKey(<redacted>)`, and an error about a key never
/// repeats it.
///
/// ```
/// use kelviq::partner::PartnerKey;
///
/// let key = PartnerKey::new("kvqp_live_0123456789")?;
/// assert_eq!(format!("{key:?}"), "PartnerKey(<redacted>)");
/// assert!(PartnerKey::new("").is_err());
/// # Ok::<(), kelviq::ValidationError>(())
/// ```
#[derive(Clone)]
pub struct PartnerKey(Arc<HeaderValue>);

impl PartnerKey {
    /// The key, checked: not empty, visible ASCII without spaces (what a header can carry).
    pub fn new(key: impl Into<String>) -> Result<Self, ValidationError> {
        let key = key.into();
        let refused = || {
            ValidationError::new(
                "partner_key",
                "<not shown>",
                "a partner key: visible ASCII without spaces, such as kvqp_…",
            )
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(refused());
        }
        let mut value = HeaderValue::try_from(key).map_err(|_| refused())?;
        value.set_sensitive(true);
        Ok(Self(Arc::new(value)))
    }

    /// The header that carries the key.
    fn header(&self) -> (HeaderName, HeaderValue) {
        (
            HeaderName::from_static(PARTNER_KEY_HEADER),
            HeaderValue::clone(&self.0),
        )
    }
}

impl fmt::Debug for PartnerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PartnerKey(<redacted>)")
    }
}

/// The partner's groups, from [`Client::partner`](crate::Client::partner).
#[derive(Debug, Clone)]
pub struct Partner<'a, M = Async> {
    ctx: &'a Ctx<M>,
    key: PartnerKey,
}

impl<'a, M: Clone> Partner<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>, key: &PartnerKey) -> Self {
        Self {
            ctx,
            key: key.clone(),
        }
    }

    /// Provision, list and read the partner's organisations.
    pub fn organizations(&self) -> Organizations<'a, M> {
        Organizations {
            ctx: self.ctx,
            key: self.key.clone(),
        }
    }
}

/// The organisation operations, from [`Partner::organizations`].
#[derive(Debug, Clone)]
pub struct Organizations<'a, M = Async> {
    ctx: &'a Ctx<M>,
    key: PartnerKey,
}

impl<M: Clone> Organizations<'_, M> {
    /// Provisions an organisation: a Kelviq user with the e-mail address `email` (no user
    /// may have it yet: 409 otherwise), an organisation owned by the partner with your
    /// identifier `external_id` (unique among yours: 400 otherwise), and its API keys. The
    /// user is e-mailed a link to set a password. Not resent once the service may have
    /// received it.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client, key: kelviq::partner::PartnerKey) -> kelviq::Result<()> {
    /// let org = client
    ///     .partner(&key)
    ///     .organizations()
    ///     .provision("acme-corp", "owner@acme.example.com")
    ///     .business_name("Acme Corp")
    ///     .send()
    ///     .await?;
    /// // Store the organisation's Server API Key as the secret it is.
    /// let server_key = org.server_key.expect("a new organisation has its keys");
    /// # drop(server_key);
    /// # Ok(()) }
    /// ```
    pub fn provision(
        &self,
        external_id: impl Into<String>,
        email: impl Into<String>,
    ) -> ProvisionOrganization<M> {
        ProvisionOrganization {
            ctx: self.ctx.clone(),
            key: self.key.clone(),
            external_id: external_id.into(),
            email: email.into(),
            business_name: None,
            options: RequestOptions::default(),
        }
    }

    /// Lists every organisation the partner owns, oldest first (not paged).
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client, key: kelviq::partner::PartnerKey) -> kelviq::Result<()> {
    /// let all = client.partner(&key).organizations().list().send().await?;
    /// for org in all.results {
    ///     println!("{} {:?}", org.organization_id, org.external_id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListOrganizations<M> {
        ListOrganizations {
            ctx: self.ctx.clone(),
            key: self.key.clone(),
            external_id: None,
            options: RequestOptions::default(),
        }
    }

    /// Reads one organisation by its UUID
    /// ([`PartnerOrganization::organization_id`]). Another partner's is not found.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client, key: kelviq::partner::PartnerKey) -> kelviq::Result<()> {
    /// let org = client
    ///     .partner(&key)
    ///     .organizations()
    ///     .retrieve("8e1d7b1a-6c4d-4e3a-9b2d-3f6e4c2b1ad0")
    ///     .send()
    ///     .await?;
    /// println!("{:?}", org.organization_slug);
    /// # Ok(()) }
    /// ```
    pub fn retrieve(&self, organization_id: impl Into<String>) -> RetrieveOrganization<M> {
        RetrieveOrganization {
            ctx: self.ctx.clone(),
            key: self.key.clone(),
            organization_id: organization_id.into(),
            options: RequestOptions::default(),
        }
    }

    /// Reads one organisation by your identifier of it (`external_id` when it was
    /// provisioned).
    ///
    /// ```no_run
    /// # fn run(client: kelviq::blocking::Client, key: kelviq::partner::PartnerKey) -> kelviq::Result<()> {
    /// let org = client.partner(&key).organizations().retrieve_by_external_id("acme-corp").send()?;
    /// println!("{}", org.organization_id);
    /// # Ok(()) }
    /// ```
    pub fn retrieve_by_external_id(
        &self,
        external_id: impl Into<String>,
    ) -> RetrieveOrganizationByExternalId<M> {
        RetrieveOrganizationByExternalId {
            ctx: self.ctx.clone(),
            key: self.key.clone(),
            external_id: external_id.into(),
            options: RequestOptions::default(),
        }
    }
}

/// Provisions an organisation; made by [`Organizations::provision`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ProvisionOrganization<M = Async> {
    ctx: Ctx<M>,
    key: PartnerKey,
    external_id: String,
    email: String,
    business_name: Option<String>,
    options: RequestOptions,
}

impl<M> ProvisionOrganization<M> {
    /// The organisation's name (up to 200 characters); its slug is made from it.
    pub fn business_name(mut self, business_name: impl Into<String>) -> Self {
        self.business_name = Some(business_name.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<PartnerOrganization>> {
        const OPERATION: &str = "partner.organizations.provision";
        let check = || -> Result<wire::ProvisionPartnerOrganizationRequest, ValidationError> {
            Ok(wire::ProvisionPartnerOrganizationRequest {
                external_id: self.external_id.parse().map_err(|_| {
                    ValidationError::new(
                        "external_id",
                        self.external_id.as_str(),
                        "a non-empty identifier of at most 128 characters",
                    )
                })?,
                email: validate::email("email", &self.email)?,
                business_name: self
                    .business_name
                    .as_deref()
                    .map(|name| {
                        name.parse().map_err(|_| {
                            ValidationError::new(
                                "business_name",
                                name,
                                "a name of at most 200 characters",
                            )
                        })
                    })
                    .transpose()?,
            })
        };
        let body = check().map_err(invalid(OPERATION))?;
        let api = self
            .ctx
            .family_client(kelviq_gen::partner::Client::new_with_client);
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                Some(self.key.header()),
                api.provision_partner_organization().body(body).send(),
            )
            .await
    }
}

request_options!([M] ProvisionOrganization<M>);
send_impls!(ProvisionOrganization => PartnerOrganization);

/// Lists the partner's organisations; made by [`Organizations::list`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListOrganizations<M = Async> {
    ctx: Ctx<M>,
    key: PartnerKey,
    external_id: Option<String>,
    options: RequestOptions,
}

impl<M> ListOrganizations<M> {
    /// Only the organisation with this identifier of yours (an empty list when none has
    /// it).
    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<PartnerOrganizationList>> {
        const OPERATION: &str = "partner.organizations.list";
        let external_id = self
            .external_id
            .as_deref()
            .map(|id| {
                validate::identifier::<wire::ListPartnerOrganizationsExternalId>("external_id", id)
            })
            .transpose()
            .map_err(invalid(OPERATION))?;
        let api = self
            .ctx
            .family_client(kelviq_gen::partner::Client::new_with_client);
        let mut request = api.list_partner_organizations();
        if let Some(external_id) = external_id {
            request = request.external_id(external_id);
        }
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                Some(self.key.header()),
                request.send(),
            )
            .await
    }
}

request_options!([M] ListOrganizations<M>);
send_impls!(ListOrganizations => PartnerOrganizationList);

/// Reads one organisation by its UUID; made by [`Organizations::retrieve`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrieveOrganization<M = Async> {
    ctx: Ctx<M>,
    key: PartnerKey,
    organization_id: String,
    options: RequestOptions,
}

impl<M> RetrieveOrganization<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<PartnerOrganization>> {
        const OPERATION: &str = "partner.organizations.retrieve";
        let identifier =
            validate::uuid("organization_id", &self.organization_id).map_err(invalid(OPERATION))?;
        let api = self
            .ctx
            .family_client(kelviq_gen::partner::Client::new_with_client);
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                Some(self.key.header()),
                api.retrieve_partner_organization()
                    .identifier(identifier)
                    .send(),
            )
            .await
    }
}

request_options!([M] RetrieveOrganization<M>);
send_impls!(RetrieveOrganization => PartnerOrganization);

/// Reads one organisation by your identifier of it; made by
/// [`Organizations::retrieve_by_external_id`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrieveOrganizationByExternalId<M = Async> {
    ctx: Ctx<M>,
    key: PartnerKey,
    external_id: String,
    options: RequestOptions,
}

impl<M> RetrieveOrganizationByExternalId<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<PartnerOrganization>> {
        const OPERATION: &str = "partner.organizations.retrieve_by_external_id";
        let external_id: wire::RetrievePartnerOrganizationByExternalIdExternalId =
            validate::path_segment("external_id", &self.external_id).map_err(invalid(OPERATION))?;
        let api = self
            .ctx
            .family_client(kelviq_gen::partner::Client::new_with_client);
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                Some(self.key.header()),
                api.retrieve_partner_organization_by_external_id()
                    .external_id(external_id)
                    .send(),
            )
            .await
    }
}

request_options!([M] RetrieveOrganizationByExternalId<M>);
send_impls!(RetrieveOrganizationByExternalId => PartnerOrganization);
