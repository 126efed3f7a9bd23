//! Customers and checkout sessions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kelviq_gen::types as wire;

use super::FromWire;
use serde_json::{Map, Value};

/// A customer record, as the service returns it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Customer {
    /// Kelviq's own id of the record.
    pub id: String,
    /// The identifier you gave the customer.
    pub customer_id: String,
    /// The customer's name.
    pub name: Option<String>,
    /// The customer's e-mail address (the service sends it, null when unset).
    pub email: Option<String>,
    /// Details the service keeps about the customer.
    pub details: Map<String, Value>,
    /// The key-value pairs stored with the customer.
    pub metadata: BTreeMap<String, String>,
    /// The customer's billing address, when one was given.
    pub billing_address: Option<BillingAddress>,
    /// When the record was created.
    pub created_on: DateTime<Utc>,
    /// When the record last changed.
    pub modified_on: DateTime<Utc>,
}

impl FromWire<wire::Customer> for Customer {
    fn from_wire(customer: wire::Customer) -> Self {
        Self {
            id: customer.id.to_string(),
            customer_id: customer.customer_id,
            name: customer.name,
            email: customer.email,
            details: customer.details,
            metadata: customer.metadata.unwrap_or_default().into_iter().collect(),
            billing_address: customer.billing_address.map(BillingAddress::from_wire),
            created_on: customer.created_on,
            modified_on: customer.modified_on,
        }
    }
}

/// A checkout session: where to send the customer to pay.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct CheckoutSession {
    /// The session's id.
    pub checkout_session_id: String,
    /// The page the customer pays on.
    pub checkout_url: String,
}

impl FromWire<wire::CheckoutSession> for CheckoutSession {
    fn from_wire(session: wire::CheckoutSession) -> Self {
        Self {
            checkout_session_id: session.checkout_session_id,
            checkout_url: session.checkout_url,
        }
    }
}

/// A billing address: what a customer's record holds, and what you set on creation or
/// update. Every part is optional; `country` is an ISO 3166-1 alpha-2 code, checked before
/// sending.
///
/// ```
/// let address = kelviq::model::BillingAddress::default()
///     .country("IN")
///     .line1("123 Main Street")
///     .postal_code("560001")
///     .city("Bangalore");
/// assert_eq!(address.country.as_deref(), Some("IN"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct BillingAddress {
    /// The country, ISO 3166-1 alpha-2 (`IN`).
    pub country: Option<String>,
    /// Address line 1.
    pub line1: Option<String>,
    /// Address line 2.
    pub line2: Option<String>,
    /// The postal or ZIP code.
    pub postal_code: Option<String>,
    /// The city.
    pub city: Option<String>,
    /// The state or province.
    pub state: Option<String>,
}

impl BillingAddress {
    /// Sets the country (ISO 3166-1 alpha-2).
    pub fn country(mut self, country: impl Into<String>) -> Self {
        self.country = Some(country.into());
        self
    }

    /// Sets address line 1.
    pub fn line1(mut self, line1: impl Into<String>) -> Self {
        self.line1 = Some(line1.into());
        self
    }

    /// Sets address line 2.
    pub fn line2(mut self, line2: impl Into<String>) -> Self {
        self.line2 = Some(line2.into());
        self
    }

    /// Sets the postal or ZIP code.
    pub fn postal_code(mut self, postal_code: impl Into<String>) -> Self {
        self.postal_code = Some(postal_code.into());
        self
    }

    /// Sets the city.
    pub fn city(mut self, city: impl Into<String>) -> Self {
        self.city = Some(city.into());
        self
    }

    /// Sets the state or province.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// The generated client's value, checked (crate-private: no generated type is public).
    pub(crate) fn to_wire(&self) -> Result<wire::BillingAddress, crate::ValidationError> {
        let country = self
            .country
            .as_deref()
            // The generated client is built without the document's patterns: checked here.
            .map(|country| crate::validate::country_code("billing_address.country", country))
            .transpose()?;
        Ok(wire::BillingAddress {
            country,
            line1: self.line1.clone(),
            line2: self.line2.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
            state: self.state.clone(),
        })
    }
}

impl FromWire<wire::BillingAddress> for BillingAddress {
    fn from_wire(address: wire::BillingAddress) -> Self {
        Self {
            country: address.country.map(|c| c.to_string()),
            line1: address.line1,
            line2: address.line2,
            postal_code: address.postal_code,
            city: address.city,
            state: address.state,
        }
    }
}

/// The answer to archiving a customer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct CustomerArchived {
    /// The service's confirmation (a default one when it answered 204 without a body).
    pub message: String,
}

impl CustomerArchived {
    pub(crate) fn archived_without_a_body() -> Self {
        Self {
            message: "Customer archived successfully.".to_owned(),
        }
    }
}

impl FromWire<wire::CustomerArchived> for CustomerArchived {
    fn from_wire(answer: wire::CustomerArchived) -> Self {
        Self {
            message: answer.message,
        }
    }
}

/// A customer billing portal session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PortalSession {
    /// The session token.
    pub token: String,
    /// The customer's e-mail address.
    pub email: String,
    /// The portal's URL, not signed: see [`signed_url`](Self::signed_url).
    pub customer_portal_url: String,
}

impl PortalSession {
    /// The link to hand the customer: the portal URL with the token as `?token=`.
    pub fn signed_url(&self) -> String {
        let mut url = match reqwest::Url::parse(&self.customer_portal_url) {
            Ok(url) => url,
            Err(_) => return format!("{}?token={}", self.customer_portal_url, self.token),
        };
        url.query_pairs_mut().append_pair("token", &self.token);
        url.to_string()
    }
}

impl FromWire<wire::PortalSession> for PortalSession {
    fn from_wire(session: wire::PortalSession) -> Self {
        Self {
            token: session.token,
            email: session.email,
            customer_portal_url: session.customer_portal_url,
        }
    }
}
