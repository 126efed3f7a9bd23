//! What subscription changes answer.

use kelviq_gen::types as wire;

use super::FromWire;

/// The answer to a subscription update.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SubscriptionUpdated {
    /// The subscription, now on its new plan.
    pub subscription_id: String,
}

impl FromWire<wire::SubscriptionUpdated> for SubscriptionUpdated {
    fn from_wire(answer: wire::SubscriptionUpdated) -> Self {
        Self {
            subscription_id: answer.subscription_id.to_string(),
        }
    }
}

/// The answer to a cancellation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SubscriptionCancelled {
    /// The service's message.
    pub message: String,
}

impl FromWire<wire::SubscriptionCancelled> for SubscriptionCancelled {
    fn from_wire(answer: wire::SubscriptionCancelled) -> Self {
        Self {
            message: answer.message,
        }
    }
}
