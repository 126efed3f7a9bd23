//! Customers and checkout sessions.

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
    pub metadata: Map<String, Value>,
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
            metadata: customer.metadata,
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
