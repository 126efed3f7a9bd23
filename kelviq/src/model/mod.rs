//! The SDK's own response types: what every operation answers.
//!
//! They are converted from the generated client's types here and nowhere else, so that a
//! change of the document or of the generator changes this module, not your code. Types the
//! service may extend are `#[non_exhaustive]`: read their fields, match them with `..`.
//! Values the service may add to (a feature type, a usage behaviour) are kept as they came
//! rather than failing the call.
//!
//! # Access when a customer holds several entries for one feature
//!
//! A customer with several subscriptions can hold several entries for one feature.
//! `has_access` and [`CustomerEntitlements::feature`] combine them by one rule, chosen to
//! agree with the service's own `hasAccess`:
//!
//! - no entry for the feature: no access;
//! - `METER`: limits and usages are summed over the entries that have them (unknown when none
//!   has); `remaining` is limit − usage when both are known; the meter is hard when any entry
//!   is; access when any entry grants it, except that a hard meter with `remaining` ≤ 0 has
//!   none;
//! - `BOOLEAN`, `CUSTOMIZABLE` and types this SDK does not know: access when any entry grants it.
//!
//! The official Python client (2.9) differs: for `METER` it ignores the service's
//! `hasAccess` and grants access exactly when `remaining` is unknown or above 0, so a
//! soft-limited meter at its limit reads as denied there and as granted here (a soft limit
//! is meant to be exceeded). Version 1.0.0 of that client had yet another rule.

#[cfg(feature = "admin")]
mod admin;
#[cfg(feature = "catalog")]
mod catalog;
mod customers;
mod entitlements;
mod licenses;
mod page;
#[cfg(feature = "partner")]
mod partner;
mod payments;
mod reports;
mod subscriptions;

#[cfg(feature = "admin")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
pub use admin::{
    CheckoutSessionDetail, CheckoutSessionEvent, CheckoutSessionOrder, CheckoutSessionRecord,
    CheckoutSessionSubscription, Order, OrderCustomer, OrderEvent, OrderPaymentMethod,
    OrderSubscription, WebhookEventLog,
};
#[cfg(feature = "catalog")]
#[cfg_attr(docsrs, doc(cfg(feature = "catalog")))]
pub use catalog::{
    CatalogFeature, CatalogPlan, CatalogProduct, EntitlementDetails, FeaturePrice, PlanCharge,
    PlanEntitlement, PlanFile, PlanLicense, PlanLink, PlanPrice, PlanPublished, PriceTier,
    ProductImage, Promotion, PromotionSecurity, PromotionWidget, UsageAlerts,
};
pub use customers::{BillingAddress, CheckoutSession, Customer, CustomerArchived, PortalSession};
pub use entitlements::{Access, CustomerEntitlements, Entitlement, FeatureEntitlement, Freshness};
pub use licenses::{License, LicenseActivation, LicenseDeactivation, LicenseValidation};
pub use page::Page;
#[cfg(feature = "partner")]
#[cfg_attr(docsrs, doc(cfg(feature = "partner")))]
pub use partner::{PartnerOrganization, PartnerOrganizationList};
pub use payments::{PaymentMethod, Refund, Transaction};
pub use reports::{Delivery, EventReport, FlushReport, UsageReport};
pub use subscriptions::{
    PlanRef, PreviewInvoice, Subscription, SubscriptionCancelled, SubscriptionUpdatePreview,
    SubscriptionUpdated,
};

pub(crate) use entitlements::{index_grants, EntitlementSet, FeatureIndex};

/// Conversion from the generated client's type `W`: crate-private, so that no generated
/// type shows in the public API, not even in a `From` impl.
pub(crate) trait FromWire<W>: Sized {
    fn from_wire(wire: W) -> Self;
}
