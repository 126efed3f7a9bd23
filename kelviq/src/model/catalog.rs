//! What the catalog operations answer (feature `catalog`): features, products, plans, their
//! prices and entitlements.
//!
//! Strings the service may add values to (a tax code, a price type, a reset period) are kept
//! as they came; UUIDs are given as text, like every other identifier of the SDK.

use chrono::{DateTime, Utc};
use kelviq_gen::catalog::types as wire;
use serde_json::{Map, Value};

use super::{FromWire, Page};
use crate::types::FeatureType;

/// A feature of the catalog: what plans grant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CatalogFeature {
    /// Its UUID: what [`features().retrieve`](crate::catalog::Features::retrieve) and
    /// [`PlanEntitlementInput::new`](crate::catalog::PlanEntitlementInput::new) take.
    pub id: String,
    /// Its identifier, as entitlement checks and usage reports name it.
    pub identifier: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// `BOOLEAN`, `METER`, `CUSTOMIZABLE`, or a type this SDK does not know.
    pub feature_type: FeatureType,
    /// Its configuration; for a meter `featureSubType`, `units` and maybe `customerUnit`.
    pub feature_details: Map<String, Value>,
    /// How a `RAW_EVENTS` meter aggregates events.
    pub meter: Map<String, Value>,
    /// Further details, as the service gives them.
    pub details: Map<String, Value>,
    /// Your key-value data.
    pub metadata: Map<String, Value>,
    /// Whether it is archived.
    pub is_archived: Option<bool>,
    /// When it last changed.
    pub modified_on: Option<DateTime<Utc>>,
}

impl FromWire<wire::CatalogFeature> for CatalogFeature {
    fn from_wire(f: wire::CatalogFeature) -> Self {
        Self {
            id: f.id.to_string(),
            identifier: f.identifier,
            name: f.name,
            description: f.description,
            feature_type: FeatureType::from(f.feature_type.as_str()),
            feature_details: f.feature_details,
            meter: f.meter,
            details: f.details,
            metadata: f.metadata,
            is_archived: f.is_archived,
            modified_on: f.modified_on,
        }
    }
}

/// A product of the catalog.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CatalogProduct {
    /// Its UUID: what the product operations take.
    pub id: String,
    /// Its identifier.
    pub identifier: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its tax code (`saas`, `ebook`, …; open).
    pub tax_code: Option<String>,
    /// Who created it.
    pub created_by: Option<String>,
    /// When it last changed.
    pub modified_on: Option<DateTime<Utc>>,
    /// Its images.
    pub images: Vec<ProductImage>,
    /// The identifiers of its published plans. Only
    /// [`products().retrieve`](crate::catalog::Products::retrieve) answers them; empty
    /// elsewhere.
    pub plans: Vec<String>,
}

impl FromWire<wire::CatalogProduct> for CatalogProduct {
    fn from_wire(p: wire::CatalogProduct) -> Self {
        Self {
            id: p.id.to_string(),
            identifier: p.identifier,
            name: p.name,
            description: p.description,
            tax_code: p.tax_code,
            created_by: p.created_by,
            modified_on: p.modified_on,
            images: p.images.into_iter().map(ProductImage::from_wire).collect(),
            plans: Vec::new(),
        }
    }
}

impl FromWire<wire::CatalogProductDetail> for CatalogProduct {
    fn from_wire(p: wire::CatalogProductDetail) -> Self {
        Self {
            id: p.id.to_string(),
            identifier: p.identifier,
            name: p.name,
            description: p.description,
            tax_code: p.tax_code,
            created_by: p.created_by,
            modified_on: p.modified_on,
            images: p.images.into_iter().map(ProductImage::from_wire).collect(),
            plans: p.plans,
        }
    }
}

/// An image of a product.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ProductImage {
    /// Its UUID.
    pub id: String,
    /// Its file name.
    pub name: Option<String>,
    /// Where it is.
    pub image: Option<String>,
    /// Its place among the product's images.
    pub ordering: Option<i64>,
    /// Whether it is the product's thumbnail.
    pub thumbnail: Option<bool>,
    /// Whether it is shown.
    pub enabled: Option<bool>,
}

impl FromWire<wire::CatalogProductImage> for ProductImage {
    fn from_wire(i: wire::CatalogProductImage) -> Self {
        Self {
            id: i.id.to_string(),
            name: i.name,
            image: i.image,
            ordering: i.ordering,
            thumbnail: i.thumbnail,
            enabled: i.enabled,
        }
    }
}

/// One version of a plan. A change to the published version makes a new draft version.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CatalogPlan {
    /// Its identifier, the same for all its versions: what the plan operations take.
    pub identifier: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// The UUID of its product.
    pub product: String,
    /// Your key-value data.
    pub metadata: Map<String, Value>,
    /// This version's number.
    pub version: i64,
    /// Whether this version is the published one (false for a draft).
    pub is_latest: bool,
    /// When it last changed.
    pub modified_on: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_on: Option<DateTime<Utc>>,
    /// Further details, as the service gives them.
    pub details: Map<String, Value>,
    /// Whether it is shown on pricing pages.
    pub is_visible: Option<bool>,
    /// Whether it was imported from a billing provider.
    pub is_imported: Option<bool>,
    /// The countries it is sold in.
    pub countries: Vec<String>,
    /// The license keys it issues, if any.
    pub license: Option<PlanLicense>,
    /// Its links.
    pub links: Vec<PlanLink>,
    /// Its files.
    pub files: Vec<PlanFile>,
    /// Its place among the product's plans.
    pub ordering: Option<i64>,
}

impl FromWire<wire::CatalogPlan> for CatalogPlan {
    fn from_wire(p: wire::CatalogPlan) -> Self {
        Self {
            identifier: p.identifier,
            name: p.name,
            description: p.description,
            product: p.product.to_string(),
            metadata: p.metadata,
            version: p.version,
            is_latest: p.is_latest,
            modified_on: p.modified_on,
            created_on: p.created_on,
            details: p.details,
            is_visible: p.is_visible,
            is_imported: p.is_imported,
            countries: p.countries,
            license: p.license.map(|l| PlanLicense {
                enabled: l.enabled,
                activation_limit: l.activation_limit,
                activation_limit_enabled: l.activation_limit_enabled,
                duration_unit: l.duration_unit,
                duration_value: l.duration_value,
                has_expiry: l.has_expiry,
            }),
            links: p
                .links
                .into_iter()
                .map(|l| PlanLink {
                    name: l.name,
                    url: l.url,
                })
                .collect(),
            files: p
                .files
                .into_iter()
                .map(|f| PlanFile {
                    id: f.id.map(|id| id.to_string()),
                    name: f.name,
                    file: f.file,
                    download_url: f.download_url,
                    enabled: f.enabled,
                    ordering: f.ordering,
                })
                .collect(),
            ordering: p.ordering,
        }
    }
}

/// The license keys a plan issues.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PlanLicense {
    /// Whether the plan issues license keys.
    pub enabled: Option<bool>,
    /// How many activations a key allows.
    pub activation_limit: Option<i64>,
    /// Whether the activation limit applies.
    pub activation_limit_enabled: Option<bool>,
    /// `DAY`, `MONTH` or `YEAR` (open).
    pub duration_unit: Option<String>,
    /// How many duration units a key lasts.
    pub duration_value: Option<i64>,
    /// Whether keys expire.
    pub has_expiry: Option<bool>,
}

/// A link shown with a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PlanLink {
    /// What it is called.
    pub name: Option<String>,
    /// Where it goes.
    pub url: Option<String>,
}

impl PlanLink {
    /// A link named `name` to `url`, to send with a plan.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            url: Some(url.into()),
        }
    }
}

/// A file of a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PlanFile {
    /// Its UUID.
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Where it is stored.
    pub file: Option<String>,
    /// Its public download link, which redirects to a short-lived URL.
    pub download_url: Option<String>,
    /// Whether it is offered.
    pub enabled: Option<bool>,
    /// Its place among the plan's files.
    pub ordering: Option<i64>,
}

/// The answer to publishing a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PlanPublished {
    /// What the service says (`published`).
    pub status: String,
}

impl FromWire<wire::CatalogPlanPublished> for PlanPublished {
    fn from_wire(p: wire::CatalogPlanPublished) -> Self {
        Self { status: p.status }
    }
}

/// One price of a plan, in one currency.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PlanPrice {
    /// Its UUID.
    pub id: String,
    /// `FREE`, `PAID` or `CUSTOM` (open).
    pub price_type: String,
    /// The currency (ISO 4217).
    pub currency: Option<String>,
    /// Whether it has a free trial.
    pub free_trial: Option<bool>,
    /// The trial's days.
    pub trial_period: Option<i64>,
    /// Whether it is offered.
    pub enabled: Option<bool>,
    /// `INCLUSIVE`, `EXCLUSIVE` or `UNSPECIFIED` (open).
    pub tax_behavior: Option<String>,
    /// What is charged: the base price (no feature) and per feature.
    pub charge_catalog_price: Vec<FeaturePrice>,
}

impl FromWire<wire::CatalogPlanPrice> for PlanPrice {
    fn from_wire(p: wire::CatalogPlanPrice) -> Self {
        Self {
            id: p.id.to_string(),
            price_type: p.price_type,
            currency: p.currency,
            free_trial: p.free_trial,
            trial_period: p.trial_period,
            enabled: p.enabled,
            tax_behavior: p.tax_behavior,
            charge_catalog_price: p
                .charge_catalog_price
                .into_iter()
                .map(FeaturePrice::from_wire)
                .collect(),
        }
    }
}

impl FromWire<wire::CatalogPlanPricesSet> for Vec<PlanPrice> {
    fn from_wire(set: wire::CatalogPlanPricesSet) -> Self {
        set.prices.into_iter().map(PlanPrice::from_wire).collect()
    }
}

/// What a price charges for one feature, or for the plan itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct FeaturePrice {
    /// The feature's UUID; `None` for the plan's base price.
    pub feature: Option<String>,
    /// `FLAT`, `PACKAGE`, `TIERED`, `VOLUME` or `STAIRSTEP` (open).
    pub price_model: Option<String>,
    /// When usage resets (`EVERY_MONTH`, …; open).
    pub reset: Option<String>,
    /// When in the period it resets.
    pub reset_time: Option<String>,
    /// Whether usage is unlimited.
    pub has_unlimited_usage: Option<bool>,
    /// `ADVANCE_COMMITMENT` or `PAY_AS_YOU_GO` (open).
    pub payment_type: Option<String>,
    /// What unused usage carries over.
    pub rollover: Map<String, Value>,
    /// The usage alerts.
    pub usage_alerts: Option<UsageAlerts>,
    /// The charges, one per billing period.
    pub charges: Vec<PlanCharge>,
}

impl FromWire<wire::CatalogPlanFeaturePrice> for FeaturePrice {
    fn from_wire(p: wire::CatalogPlanFeaturePrice) -> Self {
        Self {
            feature: p.feature.map(|f| f.to_string()),
            price_model: p.price_model,
            reset: p.reset,
            reset_time: p.reset_time,
            has_unlimited_usage: p.has_unlimited_usage,
            payment_type: p.payment_type,
            rollover: p.rollover,
            usage_alerts: p.usage_alerts.map(UsageAlerts::from_wire),
            charges: p
                .charges
                .into_iter()
                .map(|c| PlanCharge {
                    charge_period: c.charge_period,
                    price_data: c.price_data,
                    tiers: c.tiers.into_iter().map(PriceTier::from_wire).collect(),
                    advanced: c.advanced,
                })
                .collect(),
        }
    }
}

/// One charge of a price, for one billing period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PlanCharge {
    /// `ONE_TIME`, `DAILY`, `MONTHLY`, `QUARTERLY`, `YEARLY` (open).
    pub charge_period: Option<String>,
    /// The amounts, such as `{"amount": 29.99}`.
    pub price_data: Map<String, Value>,
    /// The tiers of a tiered, volume or stairstep price.
    pub tiers: Vec<PriceTier>,
    /// Advanced settings, as the service gives them.
    pub advanced: Map<String, Value>,
}

/// One tier of a tiered price.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PriceTier {
    /// Where the tier ends: a number of units, or text such as `inf`; `None` when not given.
    pub up_to: Option<Value>,
    /// The price of each unit in the tier.
    pub unit_amount: Option<f64>,
    /// A flat amount for the tier.
    pub flat_amount: Option<f64>,
}

impl FromWire<wire::PriceTier> for PriceTier {
    fn from_wire(t: wire::PriceTier) -> Self {
        Self {
            up_to: t.up_to.map(|up_to| match up_to {
                wire::PriceTierUpTo::Int64(units) => Value::from(units),
                wire::PriceTierUpTo::String(text) => Value::from(text),
            }),
            unit_amount: t.unit_amount,
            flat_amount: t.flat_amount,
        }
    }
}

/// Usage alerts of a metered feature.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct UsageAlerts {
    /// Whether they are on.
    pub enabled: Option<bool>,
    /// The thresholds.
    pub thresholds: Vec<f64>,
    /// `PERCENTAGE` or `BALANCE` (open).
    pub threshold_type: Option<String>,
}

impl FromWire<wire::UsageAlerts> for UsageAlerts {
    fn from_wire(a: wire::UsageAlerts) -> Self {
        Self {
            enabled: a.enabled,
            thresholds: a.thresholds,
            threshold_type: a.threshold_type,
        }
    }
}

/// A feature a plan grants, with what it grants of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PlanEntitlement {
    /// The feature.
    pub feature: CatalogFeature,
    /// What the plan grants of it.
    pub details: EntitlementDetails,
}

impl FromWire<wire::CatalogPlanEntitlement> for PlanEntitlement {
    fn from_wire(e: wire::CatalogPlanEntitlement) -> Self {
        Self {
            feature: CatalogFeature::from_wire(e.feature),
            details: EntitlementDetails::from_wire(e.details),
        }
    }
}

/// What a plan grants of one feature.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct EntitlementDetails {
    /// The value: a boolean for `BOOLEAN`, a number for `METER` and `CUSTOMIZABLE`.
    pub value: Option<Value>,
    /// Whether usage is unlimited.
    pub has_unlimited_usage: Option<bool>,
    /// When usage resets (`EVERY_MONTH`, …; open).
    pub reset: Option<String>,
    /// When in the period it resets.
    pub reset_time: Option<String>,
    /// Whether the limit is hard.
    pub hard_limit: Option<bool>,
    /// Whether it comes from a base plan.
    pub is_inherited: Option<bool>,
    /// Whether an inherited value is overridden.
    pub is_value_overridden: Option<bool>,
    /// What unused usage carries over.
    pub rollover: Map<String, Value>,
    /// The usage alerts.
    pub usage_alerts: Option<UsageAlerts>,
}

impl FromWire<wire::PlanEntitlementDetails> for EntitlementDetails {
    fn from_wire(d: wire::PlanEntitlementDetails) -> Self {
        Self {
            value: d.value,
            has_unlimited_usage: d.has_unlimited_usage,
            reset: d.reset,
            reset_time: d.reset_time,
            hard_limit: d.hard_limit,
            is_inherited: d.is_inherited,
            is_value_overridden: d.is_value_overridden,
            rollover: d.rollover,
            usage_alerts: d.usage_alerts.map(UsageAlerts::from_wire),
        }
    }
}

impl FromWire<wire::CatalogPlanEntitlementUpdated> for EntitlementDetails {
    fn from_wire(u: wire::CatalogPlanEntitlementUpdated) -> Self {
        Self::from_wire(u.details)
    }
}

/// The answer of an operation the service answers without a body (204).
impl FromWire<()> for () {
    fn from_wire(_: ()) {}
}

/// Every catalog list becomes a page of the SDK's own items.
macro_rules! catalog_page_from_wire {
    ($($list:ident => $item:ty),* $(,)?) => {$(
        impl FromWire<wire::$list> for Page<$item> {
            fn from_wire(list: wire::$list) -> Self {
                Page::new(
                    list.count,
                    list.next,
                    list.previous,
                    list.results.into_iter().map(FromWire::from_wire).collect(),
                )
            }
        }
    )*};
}

catalog_page_from_wire!(
    CatalogFeatureList => CatalogFeature,
    CatalogProductList => CatalogProduct,
    CatalogPlanList => CatalogPlan,
    CatalogPlanPriceList => PlanPrice,
    CatalogPlanEntitlementList => PlanEntitlement,
);

/// A promotion resolved for the caller's location, from
/// [`promotions().retrieve`](crate::catalog::Promotions::retrieve).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Promotion {
    /// The discount in per cent; 0 when the location has none.
    pub percentage: f64,
    /// The coupon code to apply at checkout.
    pub code: Option<String>,
    /// The caller's country, by name.
    pub country: Option<String>,
    /// The caller's country (ISO 3166-1 alpha-2).
    pub country_code: Option<String>,
    /// A plain message, usually empty (the banner's text is in `widgets`).
    pub message: Option<String>,
    /// What to show; today one `BANNER`.
    pub widgets: Vec<PromotionWidget>,
    /// What the location checks found.
    pub security: Option<PromotionSecurity>,
}

/// How a promotion's banner looks.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PromotionWidget {
    /// `BANNER` (open).
    pub widget_type: Option<String>,
    /// A CSS colour.
    pub background_color: Option<String>,
    /// A CSS colour.
    pub font_color: Option<String>,
    /// The colour of the emphasised text (the discount, the code).
    pub highlight_font_color: Option<String>,
    /// A CSS size.
    pub font_size: Option<String>,
    /// A CSS size.
    pub border_radius: Option<String>,
    /// `top` or `bottom` of the page (open).
    pub placement: Option<String>,
    /// When true, the banner comes without default styles.
    pub un_styled: Option<bool>,
    /// Whether the banner has a close icon.
    pub add_close_icon: Option<bool>,
    /// The banner's text, HTML allowed, with the placeholders `{country}`,
    /// `{country_flag}`, `{coupon_code}` and `{discount_percentage}`.
    pub country_message: Option<String>,
}

/// What a promotion's location checks found; `Some(true)` means flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PromotionSecurity {
    /// A VPN.
    pub vpn: Option<bool>,
    /// Tor.
    pub tor: Option<bool>,
    /// A proxy.
    pub proxy: Option<bool>,
    /// Apple Private Relay.
    pub relay: Option<bool>,
    /// A bot or crawler.
    pub crawler: Option<bool>,
}

impl FromWire<wire::Promotion> for Promotion {
    fn from_wire(p: wire::Promotion) -> Self {
        Self {
            percentage: p.percentage,
            code: p.code,
            country: p.country,
            country_code: p.country_code,
            message: p.message,
            widgets: p
                .widgets
                .into_iter()
                .map(|w| PromotionWidget {
                    widget_type: w.type_,
                    background_color: w.background_color,
                    font_color: w.font_color,
                    highlight_font_color: w.highlight_font_color,
                    font_size: w.font_size,
                    border_radius: w.border_radius,
                    placement: w.placement,
                    un_styled: w.un_styled,
                    add_close_icon: w.add_close_icon,
                    country_message: w.country_message,
                })
                .collect(),
            security: p.security.map(|s| PromotionSecurity {
                vpn: s.vpn,
                tor: s.tor,
                proxy: s.proxy,
                relay: s.relay,
                crawler: s.crawler,
            }),
        }
    }
}
