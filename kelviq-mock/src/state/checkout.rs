//! Checkout sessions: created with the plan and the page's options, completed when the
//! customer "pays" (visiting the checkout URL, or the control surface), which starts the
//! subscription and sends `checkout.completed`.

use std::collections::HashMap;

use kelviq_gen::types as wire;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::subscriptions::{check_features, check_plan};
use super::Tenant;
use crate::catalogue::Catalogue;
use crate::error::ApiError;

#[derive(Debug, Default)]
pub(super) struct Checkouts {
    sessions: HashMap<String, Session>,
}

#[derive(Debug, Clone)]
struct Session {
    customer_id: String,
    plan_identifier: String,
    charge_period: String,
    quantities: HashMap<String, i64>,
    custom_amount_units: Option<i64>,
    metadata: Map<String, Value>,
    subscription_id: Option<String>,
}

/// What completing a checkout produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedCheckout {
    /// The new subscription.
    pub subscription_id: String,
    /// The customer who bought it.
    pub customer_id: String,
    /// The plan bought.
    pub plan_identifier: String,
}

impl Tenant {
    pub(super) fn has_checkout(&self, session_id: &str) -> bool {
        self.checkouts.sessions.contains_key(session_id)
    }

    /// `POST /api/v1/checkout/`. `base_url` is where the emulator is reached, for the
    /// checkout URL.
    pub fn create_checkout(
        &mut self,
        catalogue: &Catalogue,
        request: wire::CreateCheckoutSessionRequest,
        base_url: &str,
    ) -> Result<wire::CheckoutSession, ApiError> {
        let plan_identifier = request.plan_identifier.to_string();
        let charge_period = request.charge_period.to_string();
        check_plan(catalogue, &plan_identifier, &charge_period)?;
        let quantities = check_features(catalogue, &plan_identifier, &request.features)?;
        match (
            request.custom_amount,
            request.tax_behavior,
            &request.currency_code,
        ) {
            (Some(_), None, _) => {
                return Err(ApiError::field(
                    "taxBehavior",
                    "Required when customAmount is provided.",
                ))
            }
            (Some(_), Some(_), None) => {
                return Err(ApiError::field(
                    "currencyCode",
                    "Required when customAmount is provided with a server API key.",
                ))
            }
            (None, Some(_), _) => {
                return Err(ApiError::field(
                    "taxBehavior",
                    "Only allowed with customAmount.",
                ))
            }
            _ => {}
        }
        let customer_id = match request.customer_id {
            Some(id) => id.to_string(),
            None => format!("cus_{}", uuid::Uuid::new_v4().simple()),
        };
        if self.customers.ensure(&customer_id) {
            let customer = self.retrieve_customer(&customer_id)?;
            self.emit("customer.created", json!(customer), None);
        }
        let session_id = format!("cs_mock_{}", uuid::Uuid::new_v4().simple());
        self.checkouts.sessions.insert(
            session_id.clone(),
            Session {
                customer_id,
                plan_identifier,
                charge_period,
                quantities,
                custom_amount_units: request.custom_amount.map(|a| (a * 100.0).round() as i64),
                metadata: request.metadata.map(|m| m.0).unwrap_or_default(),
                subscription_id: None,
            },
        );
        Ok(wire::CheckoutSession {
            checkout_url: format!("{base_url}/_mock/checkout/{session_id}"),
            checkout_session_id: session_id,
        })
    }

    /// Completes a checkout as if the customer paid: the subscription starts and grants the
    /// plan's entitlements. Completing it again answers with the same subscription.
    pub fn complete_checkout(
        &mut self,
        catalogue: &Catalogue,
        session_id: &str,
    ) -> Result<CompletedCheckout, ApiError> {
        let session = self
            .checkouts
            .sessions
            .get(session_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("No checkout session {session_id:?}.")))?;
        let subscription_id = match &session.subscription_id {
            Some(id) => id.clone(),
            None => {
                let id = self.start_subscription(
                    catalogue,
                    &session.customer_id,
                    &session.plan_identifier,
                    &session.charge_period,
                    session.quantities.clone(),
                    session.custom_amount_units,
                );
                if let Some(stored) = self.checkouts.sessions.get_mut(session_id) {
                    stored.subscription_id = Some(id.clone());
                }
                self.emit(
                    "checkout.completed",
                    json!({
                        "id": session_id,
                        "customerId": session.customer_id,
                        "planIdentifier": session.plan_identifier,
                        "chargePeriod": session.charge_period,
                        "metadata": session.metadata,
                    }),
                    None,
                );
                id
            }
        };
        Ok(CompletedCheckout {
            subscription_id,
            customer_id: session.customer_id,
            plan_identifier: session.plan_identifier,
        })
    }
}
