//! The SDK's own response types: what every operation answers.
//!
//! They are converted from the generated client's types here and nowhere else, so that a
//! change of the document or of the generator changes this module, not your code. Types the
//! service may extend are `#[non_exhaustive]`: read their fields, match them with `..`.
//! Values the service may add to (a feature type, a usage behaviour) are kept as they came
//! rather than failing the call.

mod customers;
mod entitlements;
mod reports;
mod subscriptions;

pub use customers::{CheckoutSession, Customer};
pub use entitlements::{Access, CustomerEntitlements, Entitlement, FeatureEntitlement, Freshness};
pub use reports::{Delivery, EventReport, FlushReport, UsageReport};
pub use subscriptions::{SubscriptionCancelled, SubscriptionUpdated};

pub(crate) use entitlements::{index_grants, EntitlementSet, FeatureIndex};
