//! The catalog API's state: products and their settings, features, and plans with their
//! versions (drafts and published ones), prices and entitlements.
//!
//! A plan is a list of versions, oldest first. The most recent one is "the latest version"
//! the operations read and change: a draft (never published) is changed in place; a change
//! to a published version makes a new draft version, a copy of it. Publishing makes the
//! draft the published version (`isLatest` true) and the version published before a
//! superseded one; it also makes the plan sellable in the emulator's [`Catalogue`] (see
//! [`sellable`]), so that checkouts and subscriptions can name it.

use chrono::{DateTime, Utc};
use kelviq_gen::catalog::types as wire;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{now, page_of};
use crate::catalogue::{self, Catalogue, FeatureKind, LicenseTerms, PlanFeature};
use crate::error::ApiError;

/// How many items a catalog list page holds when the request does not say.
const CATALOG_PAGE_SIZE: u64 = 100;

/// Who the emulator says created what it creates.
const CREATED_BY: &str = "Kelviq Emulator";

/// The default currency of a product's settings.
const DEFAULT_CURRENCY: &str = "USD";

/// One tenant's catalog.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    products: Vec<Product>,
    features: Vec<wire::CatalogFeature>,
    plans: Vec<Plan>,
}

#[derive(Debug, Clone)]
struct Product {
    product: wire::CatalogProduct,
    archived: bool,
    /// Made with the defaults on first read.
    settings: Option<wire::CatalogProductSettings>,
    /// Upload keys of the product's files (the answer does not show them).
    files: Vec<String>,
}

#[derive(Debug, Clone)]
struct Plan {
    identifier: String,
    archived: bool,
    /// Oldest first; never empty.
    versions: Vec<Version>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Never published.
    Draft,
    /// The published version (`isLatest`).
    Published,
    /// Published once, then replaced by a newer published version.
    Superseded,
}

#[derive(Debug, Clone)]
struct Version {
    plan: wire::CatalogPlan,
    stage: Stage,
    prices: Vec<wire::CatalogPlanPrice>,
    /// What the version grants: the feature's UUID and the details as sent.
    entitlements: Vec<(Uuid, Map<String, Value>)>,
}

/// The version a request names: `version`, or the most recent one.
fn pick(plan: &Plan, version: Option<i64>) -> Result<usize, ApiError> {
    match version {
        None => Ok(plan.versions.len() - 1),
        Some(number) => plan
            .versions
            .iter()
            .position(|v| v.plan.version == number)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "Plan {:?} has no version {number}.",
                    plan.identifier
                ))
            }),
    }
}

/// A URL-safe identifier made from a name: lower case, runs of other characters as `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "item".to_owned()
    } else {
        out.to_owned()
    }
}

/// `given`, refused when taken; or one made from `name`, numbered until free.
fn identifier_for(
    given: Option<String>,
    name: &str,
    taken: impl Fn(&str) -> bool,
    what: &str,
) -> Result<String, ApiError> {
    if let Some(given) = given {
        if taken(&given) {
            return Err(ApiError::field(
                "identifier",
                format!("A {what} with identifier {given:?} already exists."),
            ));
        }
        return Ok(given);
    }
    let base = slug(name);
    let mut candidate = base.clone();
    let mut n = 2;
    while taken(&candidate) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    Ok(candidate)
}

/// The file name at the end of an upload key (`tmp/<uuid>/<file name>`).
fn file_name(key: &str) -> String {
    key.rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or(key)
        .to_owned()
}

/// A file name as it may stand in a URL path.
fn url_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn matches_search(search: Option<&str>, fields: &[Option<&str>]) -> bool {
    let Some(search) = search else {
        return true;
    };
    let search = search.to_lowercase();
    fields
        .iter()
        .flatten()
        .any(|f| f.to_lowercase().contains(&search))
}

fn to_values<T: serde::Serialize>(items: impl IntoIterator<Item = T>) -> Vec<Value> {
    items
        .into_iter()
        .map(|item| serde_json::to_value(item).unwrap_or(Value::Null))
        .collect()
}

/// A price as answered: the plan's own charges say `"feature": null`, as the service
/// writes them, rather than leaving `feature` out.
fn price_value(price: &wire::CatalogPlanPrice) -> Value {
    let mut value = serde_json::to_value(price).unwrap_or(Value::Null);
    if let Some(entries) = value
        .get_mut("chargeCatalogPrice")
        .and_then(Value::as_array_mut)
    {
        for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
            entry.entry("feature").or_insert(Value::Null);
        }
    }
    value
}

/// Every item in one page (`next` and `previous` null).
fn one_page(results: Vec<Value>) -> Value {
    serde_json::json!({
        "count": results.len(),
        "next": null,
        "previous": null,
        "results": results,
    })
}

fn license(config: wire::LicenseConfig) -> wire::PlanLicense {
    wire::PlanLicense {
        activation_limit: config
            .activation_limit
            .map(|n| i64::try_from(n.get()).unwrap_or(i64::MAX)),
        activation_limit_enabled: config.activation_limit_enabled,
        duration_unit: config.duration_unit.map(|u| u.to_string()),
        duration_value: config
            .duration_value
            .map(|n| i64::try_from(n.get()).unwrap_or(i64::MAX)),
        enabled: config.enabled,
        has_expiry: config.has_expiry,
    }
}

/// A sent value in the shape of the answer that mirrors it (enums become their strings).
fn reshape<T: serde::de::DeserializeOwned>(value: impl serde::Serialize) -> Result<T, ApiError> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| ApiError::field("body", e.to_string()))
}

/// The keys of a `chargeCatalogPrice` entry, and of one of its charges, as the API's price
/// has them.
const ENTRY_KEYS: &[&str] = &[
    "charges",
    "feature",
    "hasUnlimitedUsage",
    "paymentType",
    "priceModel",
    "reset",
    "resetTime",
    "rollover",
    "usageAlerts",
];
const CHARGE_KEYS: &[&str] = &["advanced", "chargePeriod", "priceData", "tiers"];

/// Refuses a key of a file's `chargeCatalogPrice` entry `entry` (at `at`), or of one of its
/// charges, that the API's price has not (`null`s aside), rather than dropping it.
fn unknown_keys(at: &str, entry: &Value) -> Result<(), String> {
    let unknown = |at: &str, value: &Value, known: &[&str]| {
        let fields = value.as_object().into_iter().flatten();
        match fields
            .into_iter()
            .find(|(k, v)| !v.is_null() && !known.contains(&k.as_str()))
        {
            Some((key, _)) => Err(format!(
                "{at}.{key}: not a field of the API's price (expected one of {})",
                known.join(", ")
            )),
            None => Ok(()),
        }
    };
    unknown(at, entry, ENTRY_KEYS)?;
    let charges = entry.get("charges").and_then(Value::as_array);
    for (k, charge) in charges.into_iter().flatten().enumerate() {
        unknown(&format!("{at}.charges[{k}]"), charge, CHARGE_KEYS)?;
    }
    Ok(())
}

impl Catalog {
    /// The catalog API's state for a pricing-as-code file, as if it had been pushed and
    /// every plan published: its products, features and plans (version 1, published), each
    /// plan with the file's entitlements and prices, so that `kelviq pull` reads the file
    /// back and `kelviq push` of it finds nothing to change. What the file does not say is
    /// not made up (no currency or `enabled` added to a price, no `isVisible` to a plan);
    /// each feature a `chargeCatalogPrice` entry names becomes its UUID. Refused: a plan
    /// granting or pricing a feature the file does not declare, or a product unknown.
    pub(crate) fn from_config(config: &kelviq_config::Catalog) -> Result<Catalog, String> {
        let at = now();
        let mut catalog = Catalog::default();
        for p in &config.products {
            catalog.products.push(Product {
                product: wire::CatalogProduct {
                    created_by: Some(CREATED_BY.to_owned()),
                    description: Some(p.description.clone().unwrap_or_default()),
                    id: Uuid::new_v4(),
                    identifier: p.identifier.clone(),
                    images: Vec::new(),
                    modified_on: Some(at),
                    name: p.name.clone(),
                    tax_code: Some(p.tax_code.as_str().to_owned()),
                },
                archived: false,
                settings: None,
                files: Vec::new(),
            });
        }
        for f in &config.features {
            catalog.features.push(wire::CatalogFeature {
                description: Some(f.description.clone().unwrap_or_default()),
                details: Map::new(),
                feature_details: f.feature_details.clone().unwrap_or_default(),
                feature_type: f.feature_type.as_str().to_owned(),
                id: Uuid::new_v4(),
                identifier: f.identifier.clone(),
                is_archived: Some(false),
                metadata: f.metadata.clone().unwrap_or_default(),
                meter: f.meter.clone().unwrap_or_default(),
                modified_on: Some(at),
                name: f.name.clone(),
            });
        }
        let feature_id = |identifier: &str| {
            catalog
                .features
                .iter()
                .find(|f| f.identifier == identifier)
                .map(|f| f.id)
        };
        let mut plans = Vec::new();
        for p in &config.plans {
            let product = catalog
                .products
                .iter()
                .find(|product| product.product.identifier == p.product)
                .map(|product| product.product.id)
                .ok_or_else(|| {
                    format!(
                        "plan {:?} belongs to product {:?}, which the file does not declare",
                        p.identifier, p.product
                    )
                })?;
            let mut entitlements = Vec::new();
            for e in &p.entitlements {
                let id = feature_id(&e.feature).ok_or_else(|| {
                    format!(
                        "plan {:?} grants feature {:?}, which the file does not declare",
                        p.identifier, e.feature
                    )
                })?;
                let mut details = match serde_json::to_value(e) {
                    Ok(Value::Object(map)) => map,
                    _ => Map::new(),
                };
                details.remove("feature");
                entitlements.push((id, details));
            }
            let mut prices = Vec::new();
            for (i, price) in p.prices.iter().flatten().enumerate() {
                let at = format!("plan {:?}, prices[{i}]", p.identifier);
                let mut value = serde_json::to_value(price).map_err(|e| format!("{at}: {e}"))?;
                if let Some(fields) = value.as_object_mut() {
                    fields.insert("id".into(), Value::String(Uuid::new_v4().to_string()));
                }
                let entries = value
                    .get_mut("chargeCatalogPrice")
                    .and_then(Value::as_array_mut);
                for (j, entry) in entries.iter().flat_map(|e| e.iter()).enumerate() {
                    unknown_keys(&format!("{at}: chargeCatalogPrice[{j}]"), entry)?;
                }
                for entry in entries.into_iter().flatten() {
                    let Some(name) = entry.get("feature").and_then(Value::as_str) else {
                        continue;
                    };
                    let id = feature_id(name)
                        .or_else(|| Uuid::parse_str(name).ok())
                        .ok_or_else(|| {
                            format!(
                                "{at}: chargeCatalogPrice names feature {name:?}, which the \
                                 file does not declare"
                            )
                        })?;
                    entry["feature"] = Value::String(id.to_string());
                }
                let price: wire::CatalogPlanPrice =
                    serde_json::from_value(value).map_err(|e| format!("{at}: {e}"))?;
                prices.push(price);
            }
            let mut details = Map::new();
            details.insert(
                "stripeProductId".into(),
                Value::String(format!("prod_mock_{}", Uuid::new_v4().simple())),
            );
            let plan = wire::CatalogPlan {
                countries: Vec::new(),
                created_on: Some(at),
                description: Some(p.description.clone().unwrap_or_default()),
                details,
                files: Vec::new(),
                identifier: p.identifier.clone(),
                is_imported: Some(false),
                is_latest: true,
                is_visible: p.is_visible,
                license: p.license.as_ref().map(|l| wire::PlanLicense {
                    activation_limit: l
                        .activation_limit
                        .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
                    activation_limit_enabled: l.activation_limit_enabled,
                    duration_unit: l.duration_unit.clone(),
                    duration_value: l
                        .duration_value
                        .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
                    enabled: l.enabled,
                    has_expiry: l.has_expiry,
                }),
                links: Vec::new(),
                metadata: p.metadata.clone().unwrap_or_default(),
                modified_on: Some(at),
                name: p.name.clone(),
                ordering: None,
                product,
                version: 1,
            };
            plans.push(Plan {
                identifier: p.identifier.clone(),
                archived: false,
                versions: vec![Version {
                    plan,
                    stage: Stage::Published,
                    prices,
                    entitlements,
                }],
            });
        }
        catalog.plans = plans;
        Ok(catalog)
    }

    // ----- features -------------------------------------------------------------------

    fn feature_index(&self, pk: &str) -> Result<usize, ApiError> {
        let id = Uuid::parse_str(pk).ok();
        self.features
            .iter()
            .position(|f| Some(f.id) == id)
            .ok_or_else(|| ApiError::not_found(format!("No feature {pk:?}.")))
    }

    /// `GET /api/v1/catalog/features/`
    pub(crate) fn list_features(
        &self,
        search: Option<&str>,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let items = self.features.iter().filter(|f| {
            f.is_archived != Some(true)
                && matches_search(
                    search,
                    &[Some(&f.name), Some(&f.identifier), f.description.as_deref()],
                )
        });
        page_of(
            to_values(items),
            page,
            page_size.or(Some(CATALOG_PAGE_SIZE)),
            base,
        )
    }

    /// `POST /api/v1/catalog/features/`
    pub(crate) fn create_feature(
        &mut self,
        request: wire::CreateCatalogFeatureRequest,
    ) -> Result<wire::CatalogFeature, ApiError> {
        if request.feature_type == wire::CatalogFeatureType::Meter {
            let sub_type = request.feature_details.get("featureSubType");
            match sub_type.and_then(Value::as_str) {
                Some("PRE_AGGREGATED_USAGE" | "RAW_EVENTS") => {}
                Some(other) => {
                    return Err(ApiError::field(
                        "featureDetails.featureSubType",
                        format!("{other:?} is not PRE_AGGREGATED_USAGE or RAW_EVENTS."),
                    ))
                }
                None => {
                    return Err(ApiError::field(
                        "featureDetails.featureSubType",
                        "A METER feature needs featureDetails.featureSubType \
                         (PRE_AGGREGATED_USAGE or RAW_EVENTS).",
                    ))
                }
            }
            if request
                .feature_details
                .get("units")
                .is_none_or(Value::is_null)
            {
                return Err(ApiError::field(
                    "featureDetails.units",
                    "A METER feature needs featureDetails.units.",
                ));
            }
            if sub_type.and_then(Value::as_str) == Some("RAW_EVENTS") {
                for key in ["aggregation", "filters"] {
                    if request.meter.get(key).is_none_or(Value::is_null) {
                        return Err(ApiError::field(
                            format!("meter.{key}"),
                            format!("A RAW_EVENTS meter needs meter.{key}."),
                        ));
                    }
                }
            }
        }
        let identifier = identifier_for(
            request.identifier.map(String::from),
            &request.name,
            |candidate| self.features.iter().any(|f| f.identifier == candidate),
            "feature",
        )?;
        let feature = wire::CatalogFeature {
            description: Some(request.description.unwrap_or_default()),
            details: Map::new(),
            feature_details: request.feature_details,
            feature_type: request.feature_type.to_string(),
            id: Uuid::new_v4(),
            identifier,
            is_archived: Some(false),
            metadata: request.metadata,
            meter: request.meter,
            modified_on: Some(now()),
            name: request.name.to_string(),
        };
        self.features.push(feature.clone());
        Ok(feature)
    }

    /// `GET /api/v1/catalog/features/{pk}/`
    pub(crate) fn retrieve_feature(&self, pk: &str) -> Result<wire::CatalogFeature, ApiError> {
        Ok(self.features[self.feature_index(pk)?].clone())
    }

    /// `DELETE /api/v1/catalog/features/{pk}/`
    pub(crate) fn archive_feature(&mut self, pk: &str) -> Result<(), ApiError> {
        let index = self.feature_index(pk)?;
        let feature = &mut self.features[index];
        if feature.is_archived == Some(true) {
            return Err(ApiError::field("pk", "The feature is already archived."));
        }
        feature.is_archived = Some(true);
        feature.modified_on = Some(now());
        Ok(())
    }

    // ----- products -------------------------------------------------------------------

    fn product_index(&self, pk: &str) -> Result<usize, ApiError> {
        let id = Uuid::parse_str(pk).ok();
        self.products
            .iter()
            .position(|p| Some(p.product.id) == id)
            .ok_or_else(|| ApiError::not_found(format!("No product {pk:?}.")))
    }

    fn live_product_mut(&mut self, pk: &str) -> Result<&mut Product, ApiError> {
        let index = self.product_index(pk)?;
        let product = &mut self.products[index];
        if product.archived {
            return Err(ApiError::field("pk", "The product is archived."));
        }
        Ok(product)
    }

    /// `GET /api/v1/catalog/products/`
    pub(crate) fn list_products(
        &self,
        search: Option<&str>,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let items = self
            .products
            .iter()
            .filter(|p| {
                !p.archived
                    && matches_search(
                        search,
                        &[
                            Some(&p.product.name),
                            Some(&p.product.identifier),
                            p.product.description.as_deref(),
                        ],
                    )
            })
            .map(|p| &p.product);
        page_of(
            to_values(items),
            page,
            page_size.or(Some(CATALOG_PAGE_SIZE)),
            base,
        )
    }

    /// `POST /api/v1/catalog/products/`
    pub(crate) fn create_product(
        &mut self,
        request: wire::CreateCatalogProductRequest,
    ) -> Result<wire::CatalogProduct, ApiError> {
        let identifier = identifier_for(
            request.identifier.map(String::from),
            &request.name,
            |candidate| {
                self.products
                    .iter()
                    .any(|p| p.product.identifier == candidate)
            },
            "product",
        )?;
        let mut product = wire::CatalogProduct {
            created_by: Some(CREATED_BY.to_owned()),
            description: Some(request.description.unwrap_or_default()),
            id: Uuid::new_v4(),
            identifier,
            images: Vec::new(),
            modified_on: Some(now()),
            name: request.name.to_string(),
            tax_code: Some(request.tax_code.to_string()),
        };
        add_images(&mut product, &request.image_keys);
        self.products.push(Product {
            product: product.clone(),
            archived: false,
            settings: None,
            files: Vec::new(),
        });
        Ok(product)
    }

    /// `GET /api/v1/catalog/products/{pk}/`
    pub(crate) fn retrieve_product(
        &self,
        pk: &str,
    ) -> Result<wire::CatalogProductDetail, ApiError> {
        let product = &self.products[self.product_index(pk)?].product;
        let plans = self
            .plans
            .iter()
            .filter(|plan| {
                !plan.archived
                    && plan
                        .versions
                        .iter()
                        .any(|v| v.stage == Stage::Published && v.plan.product == product.id)
            })
            .map(|plan| plan.identifier.clone())
            .collect();
        Ok(wire::CatalogProductDetail {
            created_by: product.created_by.clone(),
            description: product.description.clone(),
            id: product.id,
            identifier: product.identifier.clone(),
            images: product.images.clone(),
            modified_on: product.modified_on,
            name: product.name.clone(),
            plans,
            tax_code: product.tax_code.clone(),
        })
    }

    /// `PATCH /api/v1/catalog/products/{pk}/`
    pub(crate) fn update_product(
        &mut self,
        pk: &str,
        request: wire::UpdateCatalogProductRequest,
    ) -> Result<wire::CatalogProduct, ApiError> {
        let product = self.live_product_mut(pk)?;
        let unchanged = request.name.is_none()
            && request.description.is_none()
            && request.tax_code.is_none()
            && request.image_keys.is_empty()
            && request.file_keys.is_empty();
        if unchanged {
            return Ok(product.product.clone());
        }
        if let Some(name) = request.name {
            product.product.name = name.to_string();
        }
        if let Some(description) = request.description {
            product.product.description = Some(description);
        }
        if let Some(tax_code) = request.tax_code {
            product.product.tax_code = Some(tax_code.to_string());
        }
        add_images(&mut product.product, &request.image_keys);
        product.files.extend(request.file_keys);
        product.product.modified_on = Some(now());
        Ok(product.product.clone())
    }

    /// `DELETE /api/v1/catalog/products/{pk}/`
    pub(crate) fn archive_product(&mut self, pk: &str) -> Result<(), ApiError> {
        let product = self.live_product_mut(pk)?;
        product.archived = true;
        product.product.modified_on = Some(now());
        Ok(())
    }

    fn settings_of(product: &mut Product) -> &mut wire::CatalogProductSettings {
        product
            .settings
            .get_or_insert_with(|| wire::CatalogProductSettings {
                currency: DEFAULT_CURRENCY.to_owned(),
                product_url: None,
                proxy: true,
                tor: true,
                vpn: true,
            })
    }

    /// `GET /api/v1/catalog/products/{pk}/settings/`
    pub(crate) fn product_settings(
        &mut self,
        pk: &str,
    ) -> Result<wire::CatalogProductSettings, ApiError> {
        let index = self.product_index(pk)?;
        Ok(Self::settings_of(&mut self.products[index]).clone())
    }

    /// `PATCH /api/v1/catalog/products/{pk}/settings/`
    pub(crate) fn update_product_settings(
        &mut self,
        pk: &str,
        request: wire::UpdateCatalogProductSettingsRequest,
    ) -> Result<wire::CatalogProductSettings, ApiError> {
        if let Some(currency) = &request.currency {
            if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(ApiError::field(
                    "currency",
                    format!("{currency:?} is not an ISO 4217 currency code."),
                ));
            }
        }
        if let Some(url) = &request.product_url {
            // `format: uri` in the document: an absolute URL.
            if reqwest::Url::parse(url).is_err() {
                return Err(ApiError::field(
                    "productUrl",
                    format!("{url:?} is not an absolute URL (format: uri)."),
                ));
            }
        }
        let product = self.live_product_mut(pk)?;
        let product_id = product.product.id;
        let settings = Self::settings_of(product);
        if let Some(vpn) = request.vpn {
            settings.vpn = vpn;
        }
        if let Some(tor) = request.tor {
            settings.tor = tor;
        }
        if let Some(proxy) = request.proxy {
            settings.proxy = proxy;
        }
        if let Some(url) = request.product_url {
            settings.product_url = Some(url);
        }
        let new_currency = request
            .currency
            .map(|c| c.to_ascii_uppercase())
            .filter(|c| *c != settings.currency);
        if let Some(currency) = &new_currency {
            settings.currency = currency.clone();
        }
        let settings = settings.clone();
        if let Some(currency) = new_currency {
            // The prices in the new currency, disabled on the latest version of the
            // product's plans, are enabled again.
            for plan in &mut self.plans {
                let Some(latest) = plan.versions.last_mut() else {
                    continue;
                };
                if latest.plan.product != product_id {
                    continue;
                }
                for price in &mut latest.prices {
                    let same = price
                        .currency
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(&currency));
                    if same && price.enabled == Some(false) {
                        price.enabled = Some(true);
                    }
                }
            }
        }
        Ok(settings)
    }

    fn currency_of(&self, product: Uuid) -> String {
        self.products
            .iter()
            .find(|p| p.product.id == product)
            .and_then(|p| p.settings.as_ref())
            .map_or_else(|| DEFAULT_CURRENCY.to_owned(), |s| s.currency.clone())
    }

    fn image_index(product: &Product, pk: &str) -> Result<usize, ApiError> {
        let id = Uuid::parse_str(pk).ok();
        product
            .product
            .images
            .iter()
            .position(|i| Some(i.id) == id)
            .ok_or_else(|| ApiError::not_found(format!("No image {pk:?} of this product.")))
    }

    /// `PATCH /api/v1/catalog/products/{product_pk}/image/{pk}/`
    pub(crate) fn update_image(
        &mut self,
        product_pk: &str,
        pk: &str,
        request: wire::UpdateCatalogProductImageRequest,
    ) -> Result<wire::CatalogProductImage, ApiError> {
        let index = self.product_index(product_pk)?;
        let image = Self::image_index(&self.products[index], pk)?;
        let product = self.live_product_mut(product_pk)?;
        let unchanged = request.name.is_none()
            && request.ordering.is_none()
            && request.thumbnail.is_none()
            && request.enabled.is_none();
        if unchanged {
            return Ok(product.product.images[image].clone());
        }
        if request.thumbnail == Some(true) {
            for other in &mut product.product.images {
                other.thumbnail = Some(false);
            }
        }
        let changed = &mut product.product.images[image];
        if let Some(name) = request.name {
            changed.name = Some(name);
        }
        if let Some(ordering) = request.ordering {
            changed.ordering = Some(ordering);
        }
        if let Some(thumbnail) = request.thumbnail {
            changed.thumbnail = Some(thumbnail);
        }
        if let Some(enabled) = request.enabled {
            changed.enabled = Some(enabled);
        }
        let changed = changed.clone();
        product.product.modified_on = Some(now());
        Ok(changed)
    }

    /// `DELETE /api/v1/catalog/products/{product_pk}/image/{pk}/`
    pub(crate) fn delete_image(&mut self, product_pk: &str, pk: &str) -> Result<(), ApiError> {
        let index = self.product_index(product_pk)?;
        let image = Self::image_index(&self.products[index], pk)?;
        let product = self.live_product_mut(product_pk)?;
        product.product.images.remove(image);
        product.product.modified_on = Some(now());
        Ok(())
    }

    // ----- plans ----------------------------------------------------------------------

    fn plan_index(&self, identifier: &str) -> Result<usize, ApiError> {
        self.plans
            .iter()
            .position(|p| p.identifier == identifier)
            .ok_or_else(|| ApiError::not_found(format!("No plan {identifier:?}.")))
    }

    fn live_plan_mut(&mut self, identifier: &str) -> Result<&mut Plan, ApiError> {
        let index = self.plan_index(identifier)?;
        let plan = &mut self.plans[index];
        if plan.archived {
            return Err(ApiError::field("identifier", "The plan is archived."));
        }
        Ok(plan)
    }

    /// `GET /api/v1/catalog/plans/`
    pub(crate) fn list_plans(
        &self,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let archived_products: Vec<Uuid> = self
            .products
            .iter()
            .filter(|p| p.archived)
            .map(|p| p.product.id)
            .collect();
        let items = self
            .plans
            .iter()
            .filter(|p| !p.archived)
            .filter_map(|p| p.versions.last())
            .filter(|v| !archived_products.contains(&v.plan.product))
            .map(|v| &v.plan);
        page_of(
            to_values(items),
            page,
            page_size.or(Some(CATALOG_PAGE_SIZE)),
            base,
        )
    }

    /// `POST /api/v1/catalog/plans/`: version 1, a draft.
    pub(crate) fn create_plan(
        &mut self,
        request: wire::CreateCatalogPlanRequest,
        base: &str,
    ) -> Result<wire::CatalogPlan, ApiError> {
        let product_known = self
            .products
            .iter()
            .any(|p| p.product.id == request.product && !p.archived);
        if !product_known {
            return Err(ApiError::field(
                "product",
                format!("No product {}.", request.product),
            ));
        }
        let identifier = identifier_for(
            request.identifier.map(String::from),
            &request.name,
            |candidate| self.plans.iter().any(|p| p.identifier == candidate),
            "plan",
        )?;
        let at = now();
        let mut plan = wire::CatalogPlan {
            countries: Vec::new(),
            created_on: Some(at),
            description: Some(request.description.unwrap_or_default()),
            details: Map::new(),
            files: Vec::new(),
            identifier: identifier.clone(),
            is_imported: Some(false),
            is_latest: false,
            is_visible: Some(request.is_visible.unwrap_or(true)),
            license: request.license.map(license),
            links: request.links,
            metadata: request.metadata,
            modified_on: Some(at),
            name: request.name.to_string(),
            ordering: request.ordering,
            product: request.product,
            version: 1,
        };
        add_files(&mut plan, &request.file_keys, base);
        self.plans.push(Plan {
            identifier,
            archived: false,
            versions: vec![Version {
                plan: plan.clone(),
                stage: Stage::Draft,
                prices: Vec::new(),
                entitlements: Vec::new(),
            }],
        });
        Ok(plan)
    }

    /// `GET /api/v1/catalog/plans/{identifier}/`
    pub(crate) fn retrieve_plan(
        &self,
        identifier: &str,
        version: Option<i64>,
    ) -> Result<wire::CatalogPlan, ApiError> {
        let plan = &self.plans[self.plan_index(identifier)?];
        Ok(plan.versions[pick(plan, version)?].plan.clone())
    }

    /// `PATCH /api/v1/catalog/plans/{identifier}/`
    pub(crate) fn update_plan(
        &mut self,
        identifier: &str,
        version: Option<i64>,
        request: wire::UpdateCatalogPlanRequest,
        base: &str,
    ) -> Result<wire::CatalogPlan, ApiError> {
        let plan = self.live_plan_mut(identifier)?;
        let target = pick(plan, version)?;
        let unchanged = request.name.is_none()
            && request.description.is_none()
            && request.metadata.is_empty()
            && request.is_visible.is_none()
            && request.license.is_none()
            && request.links.is_empty()
            && request.file_keys.is_empty();
        if unchanged {
            return Ok(plan.versions[target].plan.clone());
        }
        let draft = draft_of(plan, target)?;
        let at = now();
        let changed = &mut draft.plan;
        if let Some(name) = request.name {
            changed.name = name.to_string();
        }
        if let Some(description) = request.description {
            changed.description = Some(description);
        }
        if !request.metadata.is_empty() {
            changed.metadata = request.metadata;
        }
        if let Some(visible) = request.is_visible {
            changed.is_visible = Some(visible);
        }
        if let Some(config) = request.license {
            changed.license = Some(license(config));
        }
        if !request.links.is_empty() {
            changed.links = request.links;
        }
        add_files(changed, &request.file_keys, base);
        changed.modified_on = Some(at);
        Ok(changed.clone())
    }

    /// `DELETE /api/v1/catalog/plans/{identifier}/`: every version.
    pub(crate) fn archive_plan(&mut self, identifier: &str) -> Result<(), ApiError> {
        let plan = self.live_plan_mut(identifier)?;
        plan.archived = true;
        let at = now();
        for version in &mut plan.versions {
            version.plan.modified_on = Some(at);
        }
        Ok(())
    }

    /// `POST /api/v1/catalog/plans/{identifier}/publish/`: the most recent draft becomes
    /// the published version. Returns the plan as the emulator sells it.
    pub(crate) fn publish_plan(&mut self, identifier: &str) -> Result<catalogue::Plan, ApiError> {
        let index = self.plan_index(identifier)?;
        let plan = &self.plans[index];
        if plan.archived {
            return Err(ApiError::field("identifier", "The plan is archived."));
        }
        let Some(draft) = plan.versions.last().filter(|v| v.stage == Stage::Draft) else {
            return Err(ApiError::status(
                axum::http::StatusCode::BAD_REQUEST,
                "Nothing to publish: the latest version is already published.",
            ));
        };
        if draft.prices.is_empty() {
            return Err(ApiError::field(
                "prices",
                "The draft has no price: set one before publishing.",
            ));
        }
        let currency = self.currency_of(draft.plan.product);
        let has_currency = draft.prices.iter().any(|p| {
            p.currency
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(&currency))
        });
        if !has_currency {
            return Err(ApiError::field(
                "prices",
                format!("The draft has no price in {currency}, the product's currency."),
            ));
        }
        let plan = &mut self.plans[index];
        let at = now();
        for version in &mut plan.versions {
            if version.stage == Stage::Published {
                version.stage = Stage::Superseded;
                version.plan.is_latest = false;
            }
        }
        let Some(draft) = plan.versions.last_mut() else {
            return Err(ApiError::not_found(format!("No plan {identifier:?}.")));
        };
        draft.stage = Stage::Published;
        draft.plan.is_latest = true;
        draft.plan.modified_on = Some(at);
        draft
            .plan
            .details
            .entry("stripeProductId")
            .or_insert_with(|| Value::String(format!("prod_mock_{}", Uuid::new_v4().simple())));
        let draft = draft.clone();
        Ok(self.sellable(&draft, &currency))
    }

    /// `DELETE /api/v1/catalog/plans/{identifier}/discard/`
    pub(crate) fn discard_draft(&mut self, identifier: &str) -> Result<(), ApiError> {
        let index = self.plan_index(identifier)?;
        let plan = &mut self.plans[index];
        if plan.versions.last().map(|v| v.stage) != Some(Stage::Draft) {
            return Err(ApiError::status(
                axum::http::StatusCode::BAD_REQUEST,
                "The latest version is the published one: there is no draft to discard.",
            ));
        }
        plan.versions.pop();
        if plan.versions.is_empty() {
            self.plans.remove(index);
        }
        Ok(())
    }

    // ----- prices ---------------------------------------------------------------------

    /// `GET /api/v1/catalog/plans/{identifier}/prices/`
    pub(crate) fn list_prices(
        &self,
        identifier: &str,
        version: Option<i64>,
    ) -> Result<Value, ApiError> {
        let plan = &self.plans[self.plan_index(identifier)?];
        let version = &plan.versions[pick(plan, version)?];
        Ok(one_page(version.prices.iter().map(price_value).collect()))
    }

    /// `POST /api/v1/catalog/plans/{identifier}/prices/bulk/`
    pub(crate) fn set_prices(
        &mut self,
        identifier: &str,
        request: wire::SetCatalogPlanPricesRequest,
    ) -> Result<Value, ApiError> {
        let index = self.plan_index(identifier)?;
        let product = self.plans[index]
            .versions
            .last()
            .map(|v| v.plan.product)
            .unwrap_or_default();
        let currency = self.currency_of(product);
        let mut prices = Vec::new();
        let mut paid = Vec::new();
        for (i, input) in request.prices.into_iter().enumerate() {
            let price_currency = input
                .currency
                .clone()
                .unwrap_or_else(|| currency.clone())
                .to_ascii_uppercase();
            if input.price_type == wire::PriceType::Paid {
                if paid.contains(&price_currency) {
                    return Err(ApiError::field(
                        format!("prices[{i}].currency"),
                        format!("Two PAID prices in {price_currency}: give one per currency."),
                    ));
                }
                paid.push(price_currency.clone());
            }
            let mut value = serde_json::to_value(&input)
                .map_err(|e| ApiError::field(format!("prices[{i}]"), e.to_string()))?;
            if let Value::Object(fields) = &mut value {
                fields.insert("id".into(), Value::String(Uuid::new_v4().to_string()));
                fields.insert("currency".into(), Value::String(price_currency));
                fields.entry("enabled").or_insert(Value::Bool(true));
            }
            let price: wire::CatalogPlanPrice =
                reshape(value).map_err(|e| e.renamed("body", &format!("prices[{i}]")))?;
            prices.push(price);
        }
        let plan = self.live_plan_mut(identifier)?;
        let last = plan.versions.len() - 1;
        let draft = draft_of(plan, last)?;
        draft.prices = prices.clone();
        draft.plan.modified_on = Some(now());
        Ok(serde_json::json!({ "prices": prices.iter().map(price_value).collect::<Vec<_>>() }))
    }

    // ----- entitlements ---------------------------------------------------------------

    /// `GET /api/v1/catalog/plans/{identifier}/features/`
    pub(crate) fn list_entitlements(
        &self,
        identifier: &str,
        version: Option<i64>,
    ) -> Result<Value, ApiError> {
        let plan = &self.plans[self.plan_index(identifier)?];
        let version = &plan.versions[pick(plan, version)?];
        let results = version
            .entitlements
            .iter()
            .filter_map(|(feature, details)| {
                let feature = self.features.iter().find(|f| f.id == *feature)?;
                Some(serde_json::json!({ "feature": feature, "details": details }))
            })
            .collect();
        Ok(one_page(results))
    }

    /// `POST /api/v1/catalog/plans/{identifier}/features/`
    pub(crate) fn add_entitlements(
        &mut self,
        identifier: &str,
        entitlements: Vec<(Uuid, Map<String, Value>)>,
    ) -> Result<wire::CatalogPlan, ApiError> {
        let index = self.plan_index(identifier)?;
        let granted: Vec<Uuid> = self.plans[index]
            .versions
            .last()
            .map(|v| v.entitlements.iter().map(|(f, _)| *f).collect())
            .unwrap_or_default();
        let mut seen = Vec::new();
        for (i, (feature, _)) in entitlements.iter().enumerate() {
            let field = format!("planEntitlements[{i}].feature");
            let known = self
                .features
                .iter()
                .any(|f| f.id == *feature && f.is_archived != Some(true));
            if !known {
                return Err(ApiError::field(field, format!("No feature {feature}.")));
            }
            if granted.contains(feature) || seen.contains(feature) {
                return Err(ApiError::field(
                    field,
                    format!("The plan already grants feature {feature}."),
                ));
            }
            seen.push(*feature);
        }
        let plan = self.live_plan_mut(identifier)?;
        let last = plan.versions.len() - 1;
        let draft = draft_of(plan, last)?;
        draft.entitlements.extend(entitlements);
        draft.plan.modified_on = Some(now());
        Ok(draft.plan.clone())
    }

    /// The UUID of the feature whose identifier is `feature_id`, when the latest version
    /// of the plan grants it.
    fn granted(&self, identifier: &str, feature_id: &str) -> Result<Uuid, ApiError> {
        let plan = &self.plans[self.plan_index(identifier)?];
        let not_granted = || {
            ApiError::not_found(format!(
                "Plan {identifier:?} does not grant {feature_id:?}."
            ))
        };
        let latest = plan.versions.last().ok_or_else(not_granted)?;
        latest
            .entitlements
            .iter()
            .map(|(f, _)| *f)
            .find(|f| {
                self.features
                    .iter()
                    .any(|feature| feature.id == *f && feature.identifier == feature_id)
            })
            .ok_or_else(not_granted)
    }

    /// `PATCH /api/v1/catalog/plans/{identifier}/features/{feature_id}/`: the details are
    /// replaced with those sent.
    pub(crate) fn update_entitlement(
        &mut self,
        identifier: &str,
        feature_id: &str,
        details: Map<String, Value>,
    ) -> Result<Value, ApiError> {
        let feature = self.granted(identifier, feature_id)?;
        let plan = self.live_plan_mut(identifier)?;
        let last = plan.versions.len() - 1;
        let draft = draft_of(plan, last)?;
        for (f, stored) in &mut draft.entitlements {
            if *f == feature {
                *stored = details.clone();
            }
        }
        draft.plan.modified_on = Some(now());
        Ok(serde_json::json!({ "details": details }))
    }

    /// `DELETE /api/v1/catalog/plans/{identifier}/features/{feature_id}/`
    pub(crate) fn remove_entitlement(
        &mut self,
        identifier: &str,
        feature_id: &str,
    ) -> Result<(), ApiError> {
        let feature = self.granted(identifier, feature_id)?;
        let plan = self.live_plan_mut(identifier)?;
        let last = plan.versions.len() - 1;
        let draft = draft_of(plan, last)?;
        draft.entitlements.retain(|(f, _)| *f != feature);
        draft.plan.modified_on = Some(now());
        Ok(())
    }

    // ----- plan files -----------------------------------------------------------------

    /// The position of file `pk` in the most recent version of the plan.
    fn file_index(&self, identifier: &str, pk: &str) -> Result<usize, ApiError> {
        let plan = &self.plans[self.plan_index(identifier)?];
        plan.versions
            .last()
            .and_then(|v| {
                v.plan
                    .files
                    .iter()
                    .position(|f| f.id.is_some_and(|id| id.to_string() == pk))
            })
            .ok_or_else(|| ApiError::not_found(format!("Plan {identifier:?} has no file {pk:?}.")))
    }

    /// `PATCH /api/v1/catalog/plans/{identifier}/file/{pk}/`
    pub(crate) fn update_file(
        &mut self,
        identifier: &str,
        pk: &str,
        request: wire::UpdateCatalogPlanFileRequest,
    ) -> Result<wire::PlanFile, ApiError> {
        let index = self.file_index(identifier, pk)?;
        let plan = self.live_plan_mut(identifier)?;
        let unchanged =
            request.name.is_none() && request.ordering.is_none() && request.enabled.is_none();
        let last = plan.versions.len() - 1;
        if unchanged {
            return Ok(plan.versions[last].plan.files[index].clone());
        }
        let draft = draft_of(plan, last)?;
        draft.plan.modified_on = Some(now());
        let file = &mut draft.plan.files[index];
        if let Some(name) = request.name {
            file.name = Some(name);
        }
        if let Some(ordering) = request.ordering {
            file.ordering = Some(ordering);
        }
        if let Some(enabled) = request.enabled {
            file.enabled = Some(enabled);
        }
        Ok(file.clone())
    }

    /// `DELETE /api/v1/catalog/plans/{identifier}/file/{pk}/`
    pub(crate) fn delete_file(&mut self, identifier: &str, pk: &str) -> Result<(), ApiError> {
        let index = self.file_index(identifier, pk)?;
        let plan = self.live_plan_mut(identifier)?;
        let last = plan.versions.len() - 1;
        let draft = draft_of(plan, last)?;
        draft.plan.files.remove(index);
        draft.plan.modified_on = Some(now());
        Ok(())
    }

    /// Where file `pk` of plan `identifier` is stored (any version's), when it exists.
    pub(crate) fn file_location(&self, identifier: &str, pk: &str) -> Option<String> {
        let plan = self.plans.iter().find(|p| p.identifier == identifier)?;
        plan.versions
            .iter()
            .rev()
            .flat_map(|v| &v.plan.files)
            .find(|f| f.id.is_some_and(|id| id.to_string() == pk))
            .and_then(|f| f.file.clone())
    }

    // ----- the emulator's catalogue -----------------------------------------------------

    /// A published version as the emulator sells it: its entitlements as features, and
    /// its price in `currency` (or its first enabled one) read as a pricing-as-code price
    /// is (see [`Catalogue::from_config`]).
    fn sellable(&self, version: &Version, currency: &str) -> catalogue::Plan {
        let mut features = Vec::new();
        for (id, details) in &version.entitlements {
            let Some(feature) = self.features.iter().find(|f| f.id == *id) else {
                continue;
            };
            let unlimited = details.get("hasUnlimitedUsage") == Some(&Value::Bool(true));
            let number = details
                .get("value")
                .and_then(Value::as_f64)
                .map(|n| n.floor() as i64);
            let limit = if unlimited { None } else { number };
            let kind = match feature.feature_type.as_str() {
                "METER" => FeatureKind::Meter,
                "CUSTOMIZABLE" => FeatureKind::Customizable,
                _ => FeatureKind::Boolean,
            };
            if kind == FeatureKind::Boolean && details.get("value") == Some(&Value::Bool(false)) {
                continue;
            }
            features.push(PlanFeature {
                identifier: feature.identifier.clone(),
                feature_type: kind,
                usage_limit: (kind == FeatureKind::Meter).then_some(limit).flatten(),
                hard_limit: (kind == FeatureKind::Meter)
                    .then(|| details.get("hardLimit").and_then(Value::as_bool))
                    .flatten(),
                quantity: (kind == FeatureKind::Customizable)
                    .then_some(limit)
                    .flatten(),
            });
        }
        let enabled = || version.prices.iter().filter(|p| p.enabled != Some(false));
        let price = enabled()
            .find(|p| {
                p.currency
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(currency))
            })
            .or_else(|| enabled().next());
        let price = price.and_then(|p| {
            let mut value = serde_json::to_value(p).ok()?;
            value.as_object_mut()?.remove("id");
            serde_json::from_value::<kelviq_config::Price>(value).ok()
        });
        let (charge_periods, prices) = catalogue::pricing(Some(price.as_slice()));
        let license = version
            .plan
            .license
            .as_ref()
            .filter(|l| l.enabled != Some(false))
            .map(|l| LicenseTerms {
                activation_limit: l
                    .activation_limit
                    .filter(|_| l.activation_limit_enabled != Some(false))
                    .unwrap_or(i64::MAX),
            });
        catalogue::Plan {
            identifier: version.plan.identifier.clone(),
            name: version.plan.name.clone(),
            charge_periods,
            features,
            prices,
            license,
        }
    }
}

/// The display name of a charge period: `MONTHLY` → `Monthly`.
fn period_name(period: &str) -> String {
    let lower = period.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A currency's symbol, where the emulator knows it.
fn currency_symbol(code: &str) -> String {
    match code {
        "USD" | "CAD" | "AUD" | "NZD" | "SGD" | "HKD" | "MXN" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "INR" => "₹",
        "JPY" | "CNY" => "¥",
        other => other,
    }
    .to_owned()
}

impl super::Tenant {
    /// `GET /api/v1/monetization/product-offering/{product_id}/`: the product's published,
    /// visible plans with their price in the currency of the product's settings (rate 1);
    /// `None` when the product is unknown.
    pub(crate) fn product_offering(
        &self,
        product_pk: &str,
        customer_id: Option<&str>,
        plans_enabled: Option<&str>,
    ) -> Option<Value> {
        let catalog = &self.catalog;
        let index = catalog.product_index(product_pk).ok()?;
        let product = &catalog.products[index];
        if product.archived {
            return None;
        }
        let product_id = product.product.id;
        let currency = catalog.currency_of(product_id);
        let wanted: Option<Vec<&str>> =
            plans_enabled.map(|list| list.split(',').map(str::trim).collect());
        let mut plans = Vec::new();
        let mut periods: Vec<String> = Vec::new();
        let mut identifiers = Vec::new();
        for plan in catalog.plans.iter().filter(|p| !p.archived) {
            let Some(published) = plan
                .versions
                .iter()
                .find(|v| v.stage == Stage::Published && v.plan.product == product_id)
            else {
                continue;
            };
            identifiers.push(plan.identifier.clone());
            if published.plan.is_visible == Some(false)
                || wanted
                    .as_ref()
                    .is_some_and(|w| !w.contains(&plan.identifier.as_str()))
            {
                continue;
            }
            let price = published.prices.iter().find(|p| {
                p.enabled != Some(false)
                    && p.currency
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(&currency))
            });
            let mut charges = Vec::new();
            let mut original = Map::new();
            for entry in price
                .into_iter()
                .flat_map(|p| &p.charge_catalog_price)
                .filter(|e| e.feature.is_none())
            {
                for charge in &entry.charges {
                    let period = charge.charge_period.clone().unwrap_or_default();
                    let amount = charge
                        .price_data
                        .get("amount")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0);
                    if !periods.contains(&period) {
                        periods.push(period.clone());
                    }
                    original.insert(period.clone(), serde_json::json!(amount));
                    charges.push(serde_json::json!({
                        "id": Uuid::from_u128(published_id(price).as_u128() ^ (charges.len() as u128 + 1)),
                        "chargePeriod": period,
                        "tiers": charge.tiers,
                        "priceData": charge.price_data,
                        "details": {},
                        "advanced": charge.advanced,
                        "featureQuantityPrice": amount,
                    }));
                }
            }
            let features: Vec<Value> = published
                .entitlements
                .iter()
                .filter_map(|(id, details)| {
                    let feature = catalog.features.iter().find(|f| f.id == *id)?;
                    Some(serde_json::json!({
                        "identifier": feature.identifier,
                        "name": feature.name,
                        "featureType": feature.feature_type,
                        "details": details,
                    }))
                })
                .collect();
            let version = &published.plan;
            let mut entry = serde_json::json!({
                "name": version.name,
                "description": version.description.clone().unwrap_or_default(),
                "identifier": version.identifier,
                "details": version.details,
                "isVisible": version.is_visible.unwrap_or(true),
                "metadata": version.metadata,
                "basePlan": null,
                "originalPrice": original,
                "features": features,
                "shouldHighlight": false,
                "enabled": true,
                "displayName": version.name,
                "displayDescription": version.description.clone().unwrap_or_default(),
                "includes": "",
            });
            if let Some(price) = price {
                entry["price"] = serde_json::json!({
                    "id": price.id,
                    "priceType": price.price_type,
                    "freeTrial": price.free_trial.unwrap_or(false),
                    "trialPeriod": price.trial_period.unwrap_or(0),
                    "currency": currency,
                    "enabled": true,
                    "charges": charges,
                });
            }
            plans.push(entry);
        }
        let billing_periods: Vec<Value> = periods
            .iter()
            .enumerate()
            .map(|(i, period)| {
                serde_json::json!({
                    "chargePeriod": period,
                    "enabled": true,
                    "displayName": period_name(period),
                    "promoCaption": "",
                    "defaultSelected": i == 0,
                })
            })
            .collect();
        let symbol = currency_symbol(&currency);
        let mut offering = serde_json::json!({
            "organizationId": super::ORG_ID.parse::<i64>().unwrap_or(1),
            "countryCode": "US",
            "pricingLocale": "en-US",
            "currencyCode": currency,
            "currencySymbol": symbol,
            "currencyConversionRate": 1,
            "baseCurrencyCode": currency,
            "baseCurrencySymbol": symbol,
            "plans": plans,
            "isCustomerExists": false,
            "billingPeriods": billing_periods,
        });
        if let Some(customer_id) = customer_id {
            let exists = self.customers.require(customer_id).is_ok();
            offering["isCustomerExists"] = Value::Bool(exists);
            let mine: Vec<&super::subscriptions::Sub> = self
                .subscriptions
                .records
                .values()
                .filter(|s| {
                    s.customer_id == customer_id && identifiers.contains(&s.plan_identifier)
                })
                .collect();
            let running = self
                .running(customer_id, now())
                .into_iter()
                .find(|s| identifiers.contains(&s.plan_identifier));
            offering["subscription"] = serde_json::json!({
                "hasPreviousSubscription": running.is_none() && !mine.is_empty(),
                "planIdentifier": running.map(|s| s.plan_identifier.clone()),
                "subscriptionId": running.map(|s| s.id.clone()),
                "chargePeriod": running.map(|s| s.charge_period.clone()),
            });
        }
        Some(offering)
    }
}

/// What the ids of a price's charges are made from (its own, in the low bits), so that
/// they are stable across reads.
fn published_id(price: Option<&wire::CatalogPlanPrice>) -> Uuid {
    price.map_or(Uuid::nil(), |p| p.id)
}

/// Makes `plan` sellable in `catalogue`, in place of any plan of the same identifier.
pub(crate) fn sell(catalogue: &mut Catalogue, plan: catalogue::Plan) {
    match catalogue
        .plans
        .iter_mut()
        .find(|p| p.identifier == plan.identifier)
    {
        Some(existing) => *existing = plan,
        None => catalogue.plans.push(plan),
    }
}

/// The draft a change to version `target` goes to: the version itself when it is the
/// draft; a new draft copied from it when it is the most recent version and published.
fn draft_of(plan: &mut Plan, target: usize) -> Result<&mut Version, ApiError> {
    let last = plan.versions.len() - 1;
    if plan.versions[target].stage == Stage::Draft {
        return Ok(&mut plan.versions[target]);
    }
    if target != last {
        let newest = plan.versions[last].plan.version;
        let detail = if plan.versions[last].stage == Stage::Draft {
            format!("The plan has a draft, version {newest}: change it, or discard it first.")
        } else {
            format!("Only the latest version, {newest}, can be changed.")
        };
        return Err(ApiError::field("version", detail));
    }
    let mut draft = plan.versions[target].clone();
    let at: DateTime<Utc> = now();
    draft.stage = Stage::Draft;
    draft.plan.is_latest = false;
    draft.plan.version = plan.versions[last].plan.version + 1;
    draft.plan.created_on = Some(at);
    draft.plan.modified_on = Some(at);
    for price in &mut draft.prices {
        price.id = Uuid::new_v4();
    }
    plan.versions.push(draft);
    Ok(&mut plan.versions[last + 1])
}

/// Adds an image for each upload key.
fn add_images(product: &mut wire::CatalogProduct, keys: &[String]) {
    for key in keys {
        let id = Uuid::new_v4();
        let name = file_name(key);
        let ordering = i64::try_from(product.images.len()).unwrap_or(i64::MAX);
        let thumbnail = product.images.is_empty();
        product.images.push(wire::CatalogProductImage {
            enabled: Some(true),
            id,
            image: Some(format!(
                "media/products/{}/{}/{}",
                product.id,
                id.simple(),
                url_safe(&name)
            )),
            name: Some(name),
            ordering: Some(ordering),
            thumbnail: Some(thumbnail),
        });
    }
}

/// An upload key as a URL path: each segment percent-encoded.
pub(crate) fn encode_path(key: &str) -> String {
    key.split('/')
        .map(|segment| {
            segment
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Files uploaded through presigned uploads (`createPresignedUploadUrl`), by key, for
/// every tenant: the upload form carries no API key, only the key it was given.
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    files: std::collections::HashMap<String, Upload>,
}

#[derive(Debug, Clone)]
struct Upload {
    content_type: String,
    token: String,
    bytes: Option<bytes::Bytes>,
}

impl Uploads {
    /// Prepares the upload of `file_name`, of type `file_type`: its key and the form fields
    /// the upload must carry.
    pub(crate) fn prepare(
        &mut self,
        file_name: &str,
        file_type: &str,
    ) -> Result<(String, std::collections::HashMap<String, String>), ApiError> {
        if file_name.contains('/') {
            return Err(ApiError::field("fileName", "A file name holds no \"/\"."));
        }
        let key = format!("tmp/{}/{file_name}", Uuid::new_v4());
        let token = Uuid::new_v4().simple().to_string();
        self.files.insert(
            key.clone(),
            Upload {
                content_type: file_type.to_owned(),
                token: token.clone(),
                bytes: None,
            },
        );
        let fields = [
            ("key", key.as_str()),
            ("Content-Type", file_type),
            ("x-mock-signature", token.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Ok((key, fields))
    }

    /// Stores an upload's bytes when its form is the one prepared: its key, signature and
    /// content type.
    pub(crate) fn store(
        &mut self,
        fields: &std::collections::HashMap<String, String>,
        bytes: bytes::Bytes,
    ) -> Result<(), String> {
        let key = fields.get("key").ok_or("The form has no key.")?;
        let upload = self
            .files
            .get_mut(key)
            .ok_or_else(|| format!("No upload was prepared for {key:?}."))?;
        if fields.get("x-mock-signature") != Some(&upload.token) {
            return Err("The signature does not match.".into());
        }
        if fields.get("Content-Type") != Some(&upload.content_type) {
            return Err(format!(
                "The upload must have Content-Type {:?}.",
                upload.content_type
            ));
        }
        upload.bytes = Some(bytes);
        Ok(())
    }

    /// An uploaded file's content type and bytes.
    pub(crate) fn get(&self, key: &str) -> Option<(String, bytes::Bytes)> {
        let upload = self.files.get(key)?;
        Some((upload.content_type.clone(), upload.bytes.clone()?))
    }
}

/// Adds a file for each upload key, stored under the emulator's address.
fn add_files(plan: &mut wire::CatalogPlan, keys: &[String], base: &str) {
    for key in keys {
        let id = Uuid::new_v4();
        let name = file_name(key);
        let ordering = i64::try_from(plan.files.len()).unwrap_or(i64::MAX);
        plan.files.push(wire::PlanFile {
            download_url: Some(format!(
                "{base}/api/v1/catalog/plans/{}/file/{id}/download/",
                encode_path(&plan.identifier).replace('/', "%2F")
            )),
            enabled: Some(true),
            file: Some(format!("{base}/_storage/{}", encode_path(key))),
            id: Some(id),
            name: Some(name),
            ordering: Some(ordering),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_made_from_names() {
        assert_eq!(slug("Pro Monthly (v2)"), "pro-monthly-v2");
        assert_eq!(slug("!!"), "item");
        let taken = |c: &str| c == "pro" || c == "pro-2";
        assert_eq!(identifier_for(None, "Pro", taken, "plan").unwrap(), "pro-3");
        let error = identifier_for(Some("pro".into()), "x", taken, "plan").unwrap_err();
        assert!(error.errors.contains_key("identifier"));
    }
}
