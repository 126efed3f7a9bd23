//! What the partner operations answer (feature `partner`): the organisations a partner
//! owns.

use std::fmt;

use kelviq_gen::partner::types as wire;

use super::FromWire;

/// An organisation a partner owns, with its API keys.
///
/// [`server_key`](Self::server_key) is the organisation's secret Server API Key: it is
/// shown as `<redacted>` by `Debug`, and kept by `Serialize` (to store it, you serialise
/// it).
#[derive(Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PartnerOrganization {
    /// The organisation's UUID, as text: what
    /// [`organizations().retrieve`](crate::partner::Organizations::retrieve) takes.
    pub organization_id: String,
    /// The Kelviq user number of the organisation's owner.
    pub user_id: Option<i64>,
    /// The organisation's slug.
    pub organization_slug: Option<String>,
    /// The organisation's public Client API Key.
    pub client_key: Option<String>,
    /// The organisation's Server API Key: a secret, the key of a client acting for this
    /// organisation.
    pub server_key: Option<String>,
    /// Your own identifier of the organisation (`externalId` when it was provisioned).
    pub external_id: Option<String>,
}

impl fmt::Debug for PartnerOrganization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerOrganization")
            .field("organization_id", &self.organization_id)
            .field("user_id", &self.user_id)
            .field("organization_slug", &self.organization_slug)
            .field("client_key", &self.client_key)
            .field(
                "server_key",
                &self.server_key.as_ref().map(|_| "<redacted>"),
            )
            .field("external_id", &self.external_id)
            .finish()
    }
}

impl FromWire<wire::PartnerOrganization> for PartnerOrganization {
    fn from_wire(o: wire::PartnerOrganization) -> Self {
        Self {
            organization_id: o.organization_identifier.to_string(),
            user_id: o.user_id,
            organization_slug: o.organization_slug,
            client_key: o.client_key,
            server_key: o.server_key,
            external_id: o.partner_external_id,
        }
    }
}

/// Every organisation of a partner that matched a list (the list is not paged).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PartnerOrganizationList {
    /// How many matched.
    pub count: u64,
    /// The organisations.
    pub results: Vec<PartnerOrganization>,
}

impl FromWire<wire::PartnerOrganizationList> for PartnerOrganizationList {
    fn from_wire(list: wire::PartnerOrganizationList) -> Self {
        Self {
            count: u64::try_from(list.count).unwrap_or_default(),
            results: list
                .results
                .into_iter()
                .map(PartnerOrganization::from_wire)
                .collect(),
        }
    }
}
