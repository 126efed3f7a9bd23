//! The catalog (feature `catalog`): the features a team sells, its products, and their plans
//! with their prices and entitlements.
//!
//! [`Client::catalog`](crate::Client::catalog) has three groups, named after what they
//! manage, so that each reads like the SDK's other groups (`list`, `create`, `retrieve`,
//! …): [`features()`](Catalog::features), [`products()`](Catalog::products) and
//! [`plans()`](Catalog::plans); a plan's prices and entitlements are operations of
//! `plans()`, since each needs the plan's identifier. A fourth,
//! [`promotions()`](Catalog::promotions), resolves a promotion for a visitor's location on
//! the edge host.
//!
//! ```no_run
//! use kelviq::catalog::{PlanChargePeriod, PlanEntitlementInput, EntitlementDetailsInput, PriceInput, TaxCode};
//! use kelviq::FeatureType;
//!
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let catalog = client.catalog();
//! let calls = catalog.features().create("API Calls", FeatureType::Meter).identifier("api-calls").send().await?;
//! let product = catalog.products().create("Pro Suite", TaxCode::Saas).send().await?;
//! let plan = catalog.plans().create("Pro Monthly", product.id.as_str()).identifier("pro-monthly").send().await?;
//!
//! catalog
//!     .plans()
//!     .set_prices(&plan.identifier, [PriceInput::flat("USD", PlanChargePeriod::Monthly, 29.99)])
//!     .send()
//!     .await?;
//! catalog
//!     .plans()
//!     .add_entitlements(
//!         &plan.identifier,
//!         [PlanEntitlementInput::new(calls.id.as_str(), EntitlementDetailsInput::new().value(10_000))],
//!     )
//!     .send()
//!     .await?;
//! let published = catalog.plans().publish(&plan.identifier).send().await?;
//! println!("{}", published.status);
//! # Ok(()) }
//! ```
//!
//! Identifiers are checked before sending: a plan identifier or a feature identifier travels
//! as one percent-encoded path segment (empty, `.` and `..` refused); the UUIDs of features
//! and products must be UUIDs. Retried where repeating cannot change the outcome: reads,
//! replacing a plan's prices, changing an entitlement, and updates that add no images or
//! files.

use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

use kelviq_gen::catalog::types as wire;
use serde_json::{Map, Value};

use crate::error::{Result, ValidationError};
use crate::model::{
    CatalogFeature, CatalogPlan, CatalogProduct, EntitlementDetails, Page, PlanEntitlement,
    PlanLink, PlanPrice, PlanPublished, Promotion,
};
use crate::paging::list_impls;
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::transport::RetryRule;
use crate::types::{api_enum, FeatureType};
use crate::validate;

api_enum! {
    /// A product's tax code.
    TaxCode as "tax_code" => TaxCode {
        /// `saas`
        Saas = "saas",
        /// `saas_business`
        SaasBusiness = "saas_business",
        /// `software`
        Software = "software",
        /// `videocontent`
        Videocontent = "videocontent",
        /// `informationservice`
        Informationservice = "informationservice",
        /// `ebook`
        Ebook = "ebook",
        /// `digitalgraphic`
        Digitalgraphic = "digitalgraphic",
        /// `videogame`
        Videogame = "videogame",
        /// `eservice`
        Eservice = "eservice",
        /// `training`
        Training = "training",
    }
}

api_enum! {
    /// What kind of price a plan's price is.
    PriceType as "price_type" => PriceType {
        /// `FREE`
        Free = "FREE",
        /// `PAID`
        Paid = "PAID",
        /// `CUSTOM`: priced by arrangement.
        Custom = "CUSTOM",
    }
}

api_enum! {
    /// Whether a plan's price includes tax.
    PriceTaxBehavior as "tax_behavior" => PriceTaxBehavior {
        /// `INCLUSIVE`
        Inclusive = "INCLUSIVE",
        /// `EXCLUSIVE`
        Exclusive = "EXCLUSIVE",
        /// `UNSPECIFIED`
        Unspecified = "UNSPECIFIED",
    }
}

api_enum! {
    /// The billing period of one charge of a plan's price.
    PlanChargePeriod as "charge_period" => PlanChargePeriod {
        /// `ONE_TIME`
        OneTime = "ONE_TIME",
        /// `DAILY`
        Daily = "DAILY",
        /// `MONTHLY`
        Monthly = "MONTHLY",
        /// `QUARTERLY`
        Quarterly = "QUARTERLY",
        /// `YEARLY`
        Yearly = "YEARLY",
    }
}

api_enum! {
    /// How a feature's price is computed from its usage or quantity.
    PriceModel as "price_model" => PriceModel {
        /// `FLAT`: one amount.
        Flat = "FLAT",
        /// `PACKAGE`: per package of units.
        Package = "PACKAGE",
        /// `TIERED`: each unit at its tier's price.
        Tiered = "TIERED",
        /// `VOLUME`: every unit at the price of the tier the total reaches.
        Volume = "VOLUME",
        /// `STAIRSTEP`: the flat amount of the tier the total reaches.
        Stairstep = "STAIRSTEP",
    }
}

api_enum! {
    /// When a metered feature is paid for.
    PaymentType as "payment_type" => PaymentType {
        /// `ADVANCE_COMMITMENT`: in advance.
        AdvanceCommitment = "ADVANCE_COMMITMENT",
        /// `PAY_AS_YOU_GO`: for what was used.
        PayAsYouGo = "PAY_AS_YOU_GO",
    }
}

api_enum! {
    /// When a metered feature's usage resets.
    UsageReset as "reset" => UsageReset {
        /// `NEVER`
        Never = "NEVER",
        /// `EVERY_DAY`
        EveryDay = "EVERY_DAY",
        /// `EVERY_28_DAYS`
        Every28Days = "EVERY_28_DAYS",
        /// `EVERY_MONTH`
        EveryMonth = "EVERY_MONTH",
        /// `EVERY_QUARTER`
        EveryQuarter = "EVERY_QUARTER",
        /// `EVERY_YEAR`
        EveryYear = "EVERY_YEAR",
    }
}

api_enum! {
    /// What usage alert thresholds measure.
    UsageAlertThresholdType as "threshold_type" => UsageAlertThresholdType {
        /// `PERCENTAGE`: of the limit used.
        Percentage = "PERCENTAGE",
        /// `BALANCE`: units left.
        Balance = "BALANCE",
    }
}

api_enum! {
    /// The unit of a license key's duration.
    LicenseDurationUnit as "duration_unit" => LicenseDurationUnit {
        /// `DAY`
        Day = "DAY",
        /// `MONTH`
        Month = "MONTH",
        /// `YEAR`
        Year = "YEAR",
    }
}

/// The catalog's groups, from [`Client::catalog`](crate::Client::catalog).
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Catalog<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// List, create, read and archive features.
    pub fn features(&self) -> Features<'a, M> {
        Features { ctx: self.ctx }
    }

    /// List, create, read, update and archive products.
    pub fn products(&self) -> Products<'a, M> {
        Products { ctx: self.ctx }
    }

    /// List, create, read, update, archive and publish plans; their prices and
    /// entitlements.
    pub fn plans(&self) -> Plans<'a, M> {
        Plans { ctx: self.ctx }
    }

    /// Resolve promotions for the caller's location (on the edge host).
    pub fn promotions(&self) -> Promotions<'a, M> {
        Promotions { ctx: self.ctx }
    }
}

/// A non-empty text value (a name), as the generated type it must become.
fn text<T: FromStr>(field: &'static str, value: &str) -> Result<T, ValidationError> {
    value
        .parse()
        .ok()
        .filter(|_| !value.trim().is_empty())
        .ok_or_else(|| ValidationError::new(field, value, "a non-empty text"))
}

/// A number the service can take: finite.
fn finite(field: &'static str, value: f64) -> Result<f64, ValidationError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ValidationError::new(
            field,
            value.to_string(),
            "a finite number",
        ))
    }
}

// ---------------------------------------------------------------------------------------
// Features
// ---------------------------------------------------------------------------------------

/// The feature operations, from [`Catalog::features`].
#[derive(Debug, Clone, Copy)]
pub struct Features<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<M: Clone> Features<'_, M> {
    /// Lists features a page at a time; archived ones are left out.
    pub fn list(&self) -> ListFeatures<M> {
        ListFeatures {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            search: None,
            options: RequestOptions::default(),
        }
    }

    /// Creates a feature of `feature_type` (`BOOLEAN`, `METER` or `CUSTOMIZABLE`). Without
    /// an identifier the service makes one from the name. A meter needs
    /// [`feature_details`](CreateFeature::feature_details). Not resent once the service may
    /// have received it.
    pub fn create(&self, name: impl Into<String>, feature_type: FeatureType) -> CreateFeature<M> {
        CreateFeature {
            ctx: self.ctx.clone(),
            name: name.into(),
            feature_type,
            identifier: None,
            description: None,
            feature_details: Map::new(),
            meter: Map::new(),
            metadata: Map::new(),
            options: RequestOptions::default(),
        }
    }

    /// Reads one feature by its UUID ([`CatalogFeature::id`], not its identifier).
    pub fn retrieve(&self, feature_id: impl Into<String>) -> RetrieveFeature<M> {
        RetrieveFeature {
            ctx: self.ctx.clone(),
            feature_id: feature_id.into(),
            options: RequestOptions::default(),
        }
    }

    /// Archives a feature by its UUID, and takes it out of the pricing tables that showed
    /// it. Archiving it again is refused by the service; not resent once it may have been
    /// received.
    pub fn delete(&self, feature_id: impl Into<String>) -> DeleteFeature<M> {
        DeleteFeature {
            ctx: self.ctx.clone(),
            feature_id: feature_id.into(),
            options: RequestOptions::default(),
        }
    }
}

/// Lists features; made by [`Features::list`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListFeatures<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    search: Option<String>,
    options: RequestOptions,
}

impl<M> ListFeatures<M> {
    /// Only features whose name, identifier or description contain this.
    pub fn search(mut self, search: impl Into<String>) -> Self {
        self.search = Some(search.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<CatalogFeature>>> {
        const OPERATION: &str = "catalog.features.list";
        let (page, page_size) =
            validate::paging(self.page, self.page_size).map_err(invalid(OPERATION))?;
        let search = self.search.clone();
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    let mut request = api.list_catalog_features();
                    if let Some(page) = page {
                        request = request.page(page);
                    }
                    if let Some(page_size) = page_size {
                        request = request.page_size(page_size);
                    }
                    if let Some(search) = search {
                        request = request.search(search);
                    }
                    request.send()
                },
            )
            .await
    }
}

request_options!([M] ListFeatures<M>);
list_impls!(ListFeatures => CatalogFeature);

/// Creates a feature; made by [`Features::create`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreateFeature<M = Async> {
    ctx: Ctx<M>,
    name: String,
    feature_type: FeatureType,
    identifier: Option<String>,
    description: Option<String>,
    feature_details: Map<String, Value>,
    meter: Map<String, Value>,
    metadata: Map<String, Value>,
    options: RequestOptions,
}

impl<M> CreateFeature<M> {
    /// The feature's identifier, as entitlement checks and usage reports will name it
    /// (made from the name when not set).
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = Some(identifier.into());
        self
    }

    /// Its description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Its configuration; a meter needs `featureSubType` (`PRE_AGGREGATED_USAGE` or
    /// `RAW_EVENTS`) and `units` (`{"singular": …, "plural": …}`).
    pub fn feature_details(mut self, details: Map<String, Value>) -> Self {
        self.feature_details = details;
        self
    }

    /// How a `RAW_EVENTS` meter aggregates events (`aggregation`, `filters`).
    pub fn meter(mut self, meter: Map<String, Value>) -> Self {
        self.meter = meter;
        self
    }

    /// Your key-value data.
    pub fn metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata = metadata;
        self
    }

    fn body(&self) -> Result<wire::CreateCatalogFeatureRequest, ValidationError> {
        let feature_type = match self.feature_type {
            FeatureType::Boolean => wire::CatalogFeatureType::Boolean,
            FeatureType::Meter => wire::CatalogFeatureType::Meter,
            FeatureType::Customizable => wire::CatalogFeatureType::Customizable,
            FeatureType::Other(ref other) => {
                return Err(ValidationError::new(
                    "featureType",
                    other.clone(),
                    "one of BOOLEAN, METER, CUSTOMIZABLE",
                ))
            }
        };
        Ok(wire::CreateCatalogFeatureRequest {
            name: text("name", &self.name)?,
            feature_type,
            identifier: self
                .identifier
                .as_deref()
                .map(|id| validate::path_identifier("identifier", id))
                .transpose()?,
            description: self.description.clone(),
            feature_details: self.feature_details.clone(),
            meter: self.meter.clone(),
            metadata: self.metadata.clone(),
        })
    }

    async fn execute(self, want_raw: bool) -> Result<Response<CatalogFeature>> {
        const OPERATION: &str = "catalog.features.create";
        let body = self.body().map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.create_catalog_feature().body(body).send(),
            )
            .await
    }
}

request_options!([M] CreateFeature<M>);
send_impls!(CreateFeature => CatalogFeature);

/// Reads a feature; made by [`Features::retrieve`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrieveFeature<M = Async> {
    ctx: Ctx<M>,
    feature_id: String,
    options: RequestOptions,
}

impl<M> RetrieveFeature<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<CatalogFeature>> {
        const OPERATION: &str = "catalog.features.retrieve";
        let pk = validate::uuid("feature_id", &self.feature_id).map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.retrieve_catalog_feature().pk(pk).send(),
            )
            .await
    }
}

request_options!([M] RetrieveFeature<M>);
send_impls!(RetrieveFeature => CatalogFeature);

/// Archives a feature; made by [`Features::delete`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct DeleteFeature<M = Async> {
    ctx: Ctx<M>,
    feature_id: String,
    options: RequestOptions,
}

impl<M> DeleteFeature<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<()>> {
        const OPERATION: &str = "catalog.features.delete";
        let pk = validate::uuid("feature_id", &self.feature_id).map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.delete_catalog_feature().pk(pk).send(),
            )
            .await
    }
}

request_options!([M] DeleteFeature<M>);
send_impls!(DeleteFeature => ());

// ---------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------

/// The product operations, from [`Catalog::products`].
#[derive(Debug, Clone, Copy)]
pub struct Products<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<M: Clone> Products<'_, M> {
    /// Lists products a page at a time; archived ones are left out.
    pub fn list(&self) -> ListProducts<M> {
        ListProducts {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            search: None,
            options: RequestOptions::default(),
        }
    }

    /// Creates a product. Without an identifier the service makes one from the name. Not
    /// resent once the service may have received it.
    pub fn create(&self, name: impl Into<String>, tax_code: TaxCode) -> CreateProduct<M> {
        CreateProduct {
            ctx: self.ctx.clone(),
            name: name.into(),
            tax_code,
            identifier: None,
            description: None,
            image_keys: Vec::new(),
            options: RequestOptions::default(),
        }
    }

    /// Reads one product by its UUID, with the identifiers of its published plans.
    pub fn retrieve(&self, product_id: impl Into<String>) -> RetrieveProduct<M> {
        RetrieveProduct {
            ctx: self.ctx.clone(),
            product_id: product_id.into(),
            options: RequestOptions::default(),
        }
    }

    /// Partially updates a product: only the fields you set change; at least one must be.
    pub fn update(&self, product_id: impl Into<String>) -> UpdateProduct<M> {
        UpdateProduct {
            ctx: self.ctx.clone(),
            product_id: product_id.into(),
            name: None,
            description: None,
            tax_code: None,
            image_keys: Vec::new(),
            file_keys: Vec::new(),
            options: RequestOptions::default(),
        }
    }

    /// Archives a product by its UUID. Archiving it again is refused by the service; not
    /// resent once it may have been received.
    pub fn delete(&self, product_id: impl Into<String>) -> DeleteProduct<M> {
        DeleteProduct {
            ctx: self.ctx.clone(),
            product_id: product_id.into(),
            options: RequestOptions::default(),
        }
    }
}

/// Lists products; made by [`Products::list`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListProducts<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    search: Option<String>,
    options: RequestOptions,
}

impl<M> ListProducts<M> {
    /// Only products whose name, identifier or description contain this.
    pub fn search(mut self, search: impl Into<String>) -> Self {
        self.search = Some(search.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<CatalogProduct>>> {
        const OPERATION: &str = "catalog.products.list";
        let (page, page_size) =
            validate::paging(self.page, self.page_size).map_err(invalid(OPERATION))?;
        let search = self.search.clone();
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    let mut request = api.list_catalog_products();
                    if let Some(page) = page {
                        request = request.page(page);
                    }
                    if let Some(page_size) = page_size {
                        request = request.page_size(page_size);
                    }
                    if let Some(search) = search {
                        request = request.search(search);
                    }
                    request.send()
                },
            )
            .await
    }
}

request_options!([M] ListProducts<M>);
list_impls!(ListProducts => CatalogProduct);

/// Creates a product; made by [`Products::create`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreateProduct<M = Async> {
    ctx: Ctx<M>,
    name: String,
    tax_code: TaxCode,
    identifier: Option<String>,
    description: Option<String>,
    image_keys: Vec<String>,
    options: RequestOptions,
}

impl<M> CreateProduct<M> {
    /// The product's identifier (made from the name when not set).
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = Some(identifier.into());
        self
    }

    /// Its description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The `fileKey`s of uploaded images, which become the product's images.
    pub fn image_keys<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.image_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    fn body(&self) -> Result<wire::CreateCatalogProductRequest, ValidationError> {
        Ok(wire::CreateCatalogProductRequest {
            name: text("name", &self.name)?,
            tax_code: self.tax_code.to_wire(),
            identifier: self
                .identifier
                .as_deref()
                .map(|id| validate::path_identifier("identifier", id))
                .transpose()?,
            description: self.description.clone(),
            image_keys: keys("imageKeys", &self.image_keys)?,
        })
    }

    async fn execute(self, want_raw: bool) -> Result<Response<CatalogProduct>> {
        const OPERATION: &str = "catalog.products.create";
        let body = self.body().map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.create_catalog_product().body(body).send(),
            )
            .await
    }
}

request_options!([M] CreateProduct<M>);
send_impls!(CreateProduct => CatalogProduct);

/// Upload keys: none empty.
fn keys(field: &'static str, keys: &[String]) -> Result<Vec<String>, ValidationError> {
    match keys.iter().find(|key| key.trim().is_empty()) {
        Some(empty) => Err(ValidationError::new(
            field,
            empty.clone(),
            "the fileKey of an upload",
        )),
        None => Ok(keys.to_vec()),
    }
}

/// Reads a product; made by [`Products::retrieve`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrieveProduct<M = Async> {
    ctx: Ctx<M>,
    product_id: String,
    options: RequestOptions,
}

impl<M> RetrieveProduct<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<CatalogProduct>> {
        const OPERATION: &str = "catalog.products.retrieve";
        let pk = validate::uuid("product_id", &self.product_id).map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.retrieve_catalog_product().pk(pk).send(),
            )
            .await
    }
}

request_options!([M] RetrieveProduct<M>);
send_impls!(RetrieveProduct => CatalogProduct);

/// Updates a product; made by [`Products::update`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct UpdateProduct<M = Async> {
    ctx: Ctx<M>,
    product_id: String,
    name: Option<String>,
    description: Option<String>,
    tax_code: Option<TaxCode>,
    image_keys: Vec<String>,
    file_keys: Vec<String>,
    options: RequestOptions,
}

impl<M> UpdateProduct<M> {
    /// A new name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// A new description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// A new tax code.
    pub fn tax_code(mut self, tax_code: TaxCode) -> Self {
        self.tax_code = Some(tax_code);
        self
    }

    /// Upload `fileKey`s of images to add (none are removed).
    pub fn image_keys<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.image_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Upload `fileKey`s of files to add (none are removed).
    pub fn file_keys<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.file_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<CatalogProduct>> {
        const OPERATION: &str = "catalog.products.update";
        let (pk, body) = (|| {
            let pk = validate::uuid("product_id", &self.product_id)?;
            let body = wire::UpdateCatalogProductRequest {
                name: self.name.as_deref().map(|n| text("name", n)).transpose()?,
                description: self.description.clone(),
                tax_code: self.tax_code.map(TaxCode::to_wire),
                image_keys: keys("imageKeys", &self.image_keys)?,
                file_keys: keys("fileKeys", &self.file_keys)?,
            };
            if body.name.is_none()
                && body.description.is_none()
                && body.tax_code.is_none()
                && body.image_keys.is_empty()
                && body.file_keys.is_empty()
            {
                return Err(ValidationError::new(
                    "product update",
                    "no field set",
                    "at least one of name, description, tax_code, image_keys or file_keys",
                ));
            }
            Ok((pk, body))
        })()
        .map_err(invalid(OPERATION))?;
        // Keys add images and files: sent again, they would add them twice.
        let rule = if body.image_keys.is_empty() && body.file_keys.is_empty() {
            RetryRule::IDEMPOTENT
        } else {
            RetryRule::NOT_IDEMPOTENT
        };
        self.ctx
            .catalog_call(OPERATION, rule, &self.options, want_raw, |api| {
                api.update_catalog_product().pk(pk).body(body).send()
            })
            .await
    }
}

request_options!([M] UpdateProduct<M>);
send_impls!(UpdateProduct => CatalogProduct);

/// Archives a product; made by [`Products::delete`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct DeleteProduct<M = Async> {
    ctx: Ctx<M>,
    product_id: String,
    options: RequestOptions,
}

impl<M> DeleteProduct<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<()>> {
        const OPERATION: &str = "catalog.products.delete";
        let pk = validate::uuid("product_id", &self.product_id).map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.delete_catalog_product().pk(pk).send(),
            )
            .await
    }
}

request_options!([M] DeleteProduct<M>);
send_impls!(DeleteProduct => ());

// ---------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------

/// The plan operations, from [`Catalog::plans`]: plans are named by their identifier, the
/// same for all their versions.
#[derive(Debug, Clone, Copy)]
pub struct Plans<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<M: Clone> Plans<'_, M> {
    /// Lists plans a page at a time: the most recent version of each, draft or published.
    pub fn list(&self) -> ListPlans<M> {
        ListPlans {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            options: RequestOptions::default(),
        }
    }

    /// Creates a plan of the product whose UUID is `product_id`, as a draft until it is
    /// [published](Self::publish). Not resent once the service may have received it.
    pub fn create(&self, name: impl Into<String>, product_id: impl Into<String>) -> CreatePlan<M> {
        CreatePlan {
            ctx: self.ctx.clone(),
            name: name.into(),
            product_id: product_id.into(),
            identifier: None,
            ordering: None,
            fields: PlanFields::default(),
            options: RequestOptions::default(),
        }
    }

    /// Reads a plan: its latest version, or the one [`version`](RetrievePlan::version)
    /// names.
    pub fn retrieve(&self, identifier: impl Into<String>) -> RetrievePlan<M> {
        RetrievePlan {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            version: None,
            options: RequestOptions::default(),
        }
    }

    /// Partially updates a plan: only the fields you set change; at least one must be. A
    /// change to the published version makes a new draft version.
    pub fn update(&self, identifier: impl Into<String>) -> UpdatePlan<M> {
        UpdatePlan {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            version: None,
            name: None,
            fields: PlanFields::default(),
            options: RequestOptions::default(),
        }
    }

    /// Archives every version of a plan. Archiving it again is refused by the service; not
    /// resent once it may have been received.
    pub fn delete(&self, identifier: impl Into<String>) -> DeletePlan<M> {
        DeletePlan {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            version: None,
            options: RequestOptions::default(),
        }
    }

    /// Publishes the plan's most recent draft. Not resent once it may have been received.
    pub fn publish(&self, identifier: impl Into<String>) -> PublishPlan<M> {
        PublishPlan {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            update_features: None,
            update_pricing: None,
            options: RequestOptions::default(),
        }
    }

    /// Deletes the plan's latest version for good when it is a draft; the published
    /// version stays. Not resent once it may have been received.
    pub fn discard_draft(&self, identifier: impl Into<String>) -> DiscardPlanDraft<M> {
        DiscardPlanDraft {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            options: RequestOptions::default(),
        }
    }

    /// Lists the prices of a plan version, one per currency, as one page.
    pub fn list_prices(&self, identifier: impl Into<String>) -> ListPlanPrices<M> {
        ListPlanPrices {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            version: None,
            options: RequestOptions::default(),
        }
    }

    /// Replaces all the plan's prices with `prices`, in one step (at most one `PAID` price
    /// per currency). A published plan gets a new draft version. Safe to repeat.
    pub fn set_prices(
        &self,
        identifier: impl Into<String>,
        prices: impl IntoIterator<Item = PriceInput>,
    ) -> SetPlanPrices<M> {
        SetPlanPrices {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            prices: prices.into_iter().collect(),
            options: RequestOptions::default(),
        }
    }

    /// Lists the features a plan version grants, with what it grants of each, as one page.
    pub fn list_entitlements(&self, identifier: impl Into<String>) -> ListPlanEntitlements<M> {
        ListPlanEntitlements {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            version: None,
            options: RequestOptions::default(),
        }
    }

    /// Adds features to what a plan grants (a published plan gets a new draft version);
    /// answers the plan. Not resent once it may have been received.
    pub fn add_entitlements(
        &self,
        identifier: impl Into<String>,
        entitlements: impl IntoIterator<Item = PlanEntitlementInput>,
    ) -> AddPlanEntitlements<M> {
        AddPlanEntitlements {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            entitlements: entitlements.into_iter().collect(),
            options: RequestOptions::default(),
        }
    }

    /// Replaces what a plan grants of the feature whose identifier is
    /// `feature_identifier`; answers the details as stored. Safe to repeat.
    pub fn update_entitlement(
        &self,
        identifier: impl Into<String>,
        feature_identifier: impl Into<String>,
        details: EntitlementDetailsInput,
    ) -> UpdatePlanEntitlement<M> {
        UpdatePlanEntitlement {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            feature_identifier: feature_identifier.into(),
            details,
            options: RequestOptions::default(),
        }
    }

    /// Stops a plan granting the feature whose identifier is `feature_identifier`. Not
    /// resent once it may have been received.
    pub fn delete_entitlement(
        &self,
        identifier: impl Into<String>,
        feature_identifier: impl Into<String>,
    ) -> DeletePlanEntitlement<M> {
        DeletePlanEntitlement {
            ctx: self.ctx.clone(),
            identifier: identifier.into(),
            feature_identifier: feature_identifier.into(),
            options: RequestOptions::default(),
        }
    }
}

/// A plan identifier as one percent-encoded path segment.
fn plan_identifier<T: FromStr>(identifier: &str) -> Result<T, ValidationError> {
    validate::path_segment("identifier", identifier)
}

/// Lists plans; made by [`Plans::list`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListPlans<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    options: RequestOptions,
}

impl<M> ListPlans<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Page<CatalogPlan>>> {
        const OPERATION: &str = "catalog.plans.list";
        let (page, page_size) =
            validate::paging(self.page, self.page_size).map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    let mut request = api.list_catalog_plans();
                    if let Some(page) = page {
                        request = request.page(page);
                    }
                    if let Some(page_size) = page_size {
                        request = request.page_size(page_size);
                    }
                    request.send()
                },
            )
            .await
    }
}

request_options!([M] ListPlans<M>);
list_impls!(ListPlans => CatalogPlan);

/// What creating and updating a plan share.
#[derive(Debug, Clone, Default)]
struct PlanFields {
    description: Option<String>,
    metadata: Map<String, Value>,
    is_visible: Option<bool>,
    license: Option<LicenseInput>,
    links: Vec<PlanLink>,
    file_keys: Vec<String>,
}

impl PlanFields {
    fn is_empty(&self) -> bool {
        self.description.is_none()
            && self.metadata.is_empty()
            && self.is_visible.is_none()
            && self.license.is_none()
            && self.links.is_empty()
            && self.file_keys.is_empty()
    }

    fn license(&self) -> Result<Option<wire::LicenseConfig>, ValidationError> {
        self.license.as_ref().map(LicenseInput::to_wire).transpose()
    }

    fn links(&self) -> Vec<wire::PlanLink> {
        self.links
            .iter()
            .map(|link| wire::PlanLink {
                name: link.name.clone(),
                url: link.url.clone(),
            })
            .collect()
    }
}

/// Writes the setters of the fields creating and updating a plan share.
macro_rules! plan_fields {
    ($builder:ident) => {
        impl<M> $builder<M> {
            /// The plan's description.
            pub fn description(mut self, description: impl Into<String>) -> Self {
                self.fields.description = Some(description.into());
                self
            }

            /// Your key-value data.
            pub fn metadata(mut self, metadata: Map<String, Value>) -> Self {
                self.fields.metadata = metadata;
                self
            }

            /// Whether the plan is shown on pricing pages.
            pub fn is_visible(mut self, visible: bool) -> Self {
                self.fields.is_visible = Some(visible);
                self
            }

            /// The license keys the plan issues.
            pub fn license(mut self, license: LicenseInput) -> Self {
                self.fields.license = Some(license);
                self
            }

            /// Links shown with the plan.
            pub fn links(mut self, links: impl IntoIterator<Item = PlanLink>) -> Self {
                self.fields.links = links.into_iter().collect();
                self
            }

            /// Upload `fileKey`s that become the plan's files (added; none are removed).
            pub fn file_keys<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
                self.fields.file_keys = keys.into_iter().map(Into::into).collect();
                self
            }
        }
    };
}

/// Creates a plan; made by [`Plans::create`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreatePlan<M = Async> {
    ctx: Ctx<M>,
    name: String,
    product_id: String,
    identifier: Option<String>,
    ordering: Option<i64>,
    fields: PlanFields,
    options: RequestOptions,
}

plan_fields!(CreatePlan);

impl<M> CreatePlan<M> {
    /// The plan's identifier, the same for all its versions (made from the name when not
    /// set).
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = Some(identifier.into());
        self
    }

    /// Its place among the product's plans.
    pub fn ordering(mut self, ordering: i64) -> Self {
        self.ordering = Some(ordering);
        self
    }

    fn body(&self) -> Result<wire::CreateCatalogPlanRequest, ValidationError> {
        Ok(wire::CreateCatalogPlanRequest {
            name: text("name", &self.name)?,
            product: validate::uuid("product", &self.product_id)?,
            identifier: self
                .identifier
                .as_deref()
                .map(|id| validate::path_identifier("identifier", id))
                .transpose()?,
            ordering: self.ordering,
            description: self.fields.description.clone(),
            metadata: self.fields.metadata.clone(),
            is_visible: self.fields.is_visible,
            license: self.fields.license()?,
            links: self.fields.links(),
            file_keys: keys("fileKeys", &self.fields.file_keys)?,
        })
    }

    async fn execute(self, want_raw: bool) -> Result<Response<CatalogPlan>> {
        const OPERATION: &str = "catalog.plans.create";
        let body = self.body().map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.create_catalog_plan().body(body).send(),
            )
            .await
    }
}

request_options!([M] CreatePlan<M>);
send_impls!(CreatePlan => CatalogPlan);

/// Reads a plan; made by [`Plans::retrieve`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrievePlan<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    version: Option<i64>,
    options: RequestOptions,
}

impl<M> RetrievePlan<M> {
    /// The version to read (the latest when not set).
    pub fn version(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<CatalogPlan>> {
        const OPERATION: &str = "catalog.plans.retrieve";
        let identifier: wire::RetrieveCatalogPlanIdentifier =
            plan_identifier(&self.identifier).map_err(invalid(OPERATION))?;
        let version = self.version;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    let mut request = api.retrieve_catalog_plan().identifier(identifier);
                    if let Some(version) = version {
                        request = request.version(version);
                    }
                    request.send()
                },
            )
            .await
    }
}

request_options!([M] RetrievePlan<M>);
send_impls!(RetrievePlan => CatalogPlan);

/// Updates a plan; made by [`Plans::update`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct UpdatePlan<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    version: Option<i64>,
    name: Option<String>,
    fields: PlanFields,
    options: RequestOptions,
}

plan_fields!(UpdatePlan);

impl<M> UpdatePlan<M> {
    /// The version to change (the latest when not set).
    pub fn version(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    /// A new name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<CatalogPlan>> {
        const OPERATION: &str = "catalog.plans.update";
        let (identifier, body) = (|| {
            let identifier: wire::UpdateCatalogPlanIdentifier = plan_identifier(&self.identifier)?;
            if self.name.is_none() && self.fields.is_empty() {
                return Err(ValidationError::new(
                    "plan update",
                    "no field set",
                    "at least one of name, description, metadata, is_visible, license, links \
                     or file_keys",
                ));
            }
            let body = wire::UpdateCatalogPlanRequest {
                name: self.name.as_deref().map(|n| text("name", n)).transpose()?,
                description: self.fields.description.clone(),
                metadata: self.fields.metadata.clone(),
                is_visible: self.fields.is_visible,
                license: self.fields.license()?,
                links: self.fields.links(),
                file_keys: keys("fileKeys", &self.fields.file_keys)?,
            };
            Ok((identifier, body))
        })()
        .map_err(invalid(OPERATION))?;
        // File keys add files: sent again, they would add them twice.
        let rule = if body.file_keys.is_empty() {
            RetryRule::IDEMPOTENT
        } else {
            RetryRule::NOT_IDEMPOTENT
        };
        let version = self.version;
        self.ctx
            .catalog_call(OPERATION, rule, &self.options, want_raw, |api| {
                let mut request = api.update_catalog_plan().identifier(identifier);
                if let Some(version) = version {
                    request = request.version(version);
                }
                request.body(body).send()
            })
            .await
    }
}

request_options!([M] UpdatePlan<M>);
send_impls!(UpdatePlan => CatalogPlan);

/// Archives a plan; made by [`Plans::delete`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct DeletePlan<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    version: Option<i64>,
    options: RequestOptions,
}

impl<M> DeletePlan<M> {
    /// The version named in the request (the service archives every version).
    pub fn version(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<()>> {
        const OPERATION: &str = "catalog.plans.delete";
        let identifier: wire::DeleteCatalogPlanIdentifier =
            plan_identifier(&self.identifier).map_err(invalid(OPERATION))?;
        let version = self.version;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    let mut request = api.delete_catalog_plan().identifier(identifier);
                    if let Some(version) = version {
                        request = request.version(version);
                    }
                    request.send()
                },
            )
            .await
    }
}

request_options!([M] DeletePlan<M>);
send_impls!(DeletePlan => ());

/// Publishes a plan's draft; made by [`Plans::publish`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct PublishPlan<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    update_features: Option<bool>,
    update_pricing: Option<bool>,
    options: RequestOptions,
}

impl<M> PublishPlan<M> {
    /// Whether existing customers move to the new entitlements.
    pub fn update_features(mut self, update: bool) -> Self {
        self.update_features = Some(update);
        self
    }

    /// Whether existing customers move to the new prices.
    pub fn update_pricing(mut self, update: bool) -> Self {
        self.update_pricing = Some(update);
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<PlanPublished>> {
        const OPERATION: &str = "catalog.plans.publish";
        let identifier: wire::PublishCatalogPlanIdentifier =
            plan_identifier(&self.identifier).map_err(invalid(OPERATION))?;
        let body = wire::PublishCatalogPlanRequest {
            update_features: self.update_features,
            update_pricing: self.update_pricing,
        };
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    api.publish_catalog_plan()
                        .identifier(identifier)
                        .body(body)
                        .send()
                },
            )
            .await
    }
}

request_options!([M] PublishPlan<M>);
send_impls!(PublishPlan => PlanPublished);

/// Discards a plan's draft; made by [`Plans::discard_draft`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct DiscardPlanDraft<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    options: RequestOptions,
}

impl<M> DiscardPlanDraft<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<()>> {
        const OPERATION: &str = "catalog.plans.discard_draft";
        let identifier: wire::DiscardCatalogPlanDraftIdentifier =
            plan_identifier(&self.identifier).map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    api.discard_catalog_plan_draft()
                        .identifier(identifier)
                        .send()
                },
            )
            .await
    }
}

request_options!([M] DiscardPlanDraft<M>);
send_impls!(DiscardPlanDraft => ());

/// Lists a plan's prices; made by [`Plans::list_prices`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListPlanPrices<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    version: Option<i64>,
    options: RequestOptions,
}

impl<M> ListPlanPrices<M> {
    /// The version whose prices to list (the latest when not set).
    pub fn version(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<PlanPrice>>> {
        const OPERATION: &str = "catalog.plans.list_prices";
        let identifier: wire::ListCatalogPlanPricesIdentifier =
            plan_identifier(&self.identifier).map_err(invalid(OPERATION))?;
        let version = self.version;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    let mut request = api.list_catalog_plan_prices().identifier(identifier);
                    if let Some(version) = version {
                        request = request.version(version);
                    }
                    request.send()
                },
            )
            .await
    }
}

request_options!([M] ListPlanPrices<M>);
send_impls!(ListPlanPrices => Page<PlanPrice>);

/// Replaces a plan's prices; made by [`Plans::set_prices`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct SetPlanPrices<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    prices: Vec<PriceInput>,
    options: RequestOptions,
}

impl<M> SetPlanPrices<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Vec<PlanPrice>>> {
        const OPERATION: &str = "catalog.plans.set_prices";
        let (identifier, body) = (|| {
            let identifier: wire::BulkSetCatalogPlanPricesIdentifier =
                plan_identifier(&self.identifier)?;
            let prices = self
                .prices
                .iter()
                .map(PriceInput::to_wire)
                .collect::<Result<_, _>>()?;
            Ok::<_, ValidationError>((identifier, wire::SetCatalogPlanPricesRequest { prices }))
        })()
        .map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    api.bulk_set_catalog_plan_prices()
                        .identifier(identifier)
                        .body(body)
                        .send()
                },
            )
            .await
    }
}

request_options!([M] SetPlanPrices<M>);
send_impls!(SetPlanPrices => Vec<PlanPrice>);

/// Lists a plan's entitlements; made by [`Plans::list_entitlements`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListPlanEntitlements<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    version: Option<i64>,
    options: RequestOptions,
}

impl<M> ListPlanEntitlements<M> {
    /// The version whose entitlements to list (the latest when not set).
    pub fn version(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<PlanEntitlement>>> {
        const OPERATION: &str = "catalog.plans.list_entitlements";
        let identifier: wire::ListCatalogPlanFeaturesIdentifier =
            plan_identifier(&self.identifier).map_err(invalid(OPERATION))?;
        let version = self.version;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    let mut request = api.list_catalog_plan_features().identifier(identifier);
                    if let Some(version) = version {
                        request = request.version(version);
                    }
                    request.send()
                },
            )
            .await
    }
}

request_options!([M] ListPlanEntitlements<M>);
send_impls!(ListPlanEntitlements => Page<PlanEntitlement>);

/// Adds entitlements to a plan; made by [`Plans::add_entitlements`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct AddPlanEntitlements<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    entitlements: Vec<PlanEntitlementInput>,
    options: RequestOptions,
}

impl<M> AddPlanEntitlements<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<CatalogPlan>> {
        const OPERATION: &str = "catalog.plans.add_entitlements";
        let (identifier, body) = (|| {
            let identifier: wire::AddCatalogPlanFeaturesIdentifier =
                plan_identifier(&self.identifier)?;
            if self.entitlements.is_empty() {
                return Err(ValidationError::new(
                    "planEntitlements",
                    "[]",
                    "at least one entitlement",
                ));
            }
            let plan_entitlements = self
                .entitlements
                .iter()
                .map(PlanEntitlementInput::to_wire)
                .collect::<Result<_, _>>()?;
            Ok((
                identifier,
                wire::AddCatalogPlanFeaturesRequest { plan_entitlements },
            ))
        })()
        .map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    api.add_catalog_plan_features()
                        .identifier(identifier)
                        .body(body)
                        .send()
                },
            )
            .await
    }
}

request_options!([M] AddPlanEntitlements<M>);
send_impls!(AddPlanEntitlements => CatalogPlan);

/// Changes one entitlement of a plan; made by [`Plans::update_entitlement`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct UpdatePlanEntitlement<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    feature_identifier: String,
    details: EntitlementDetailsInput,
    options: RequestOptions,
}

impl<M> UpdatePlanEntitlement<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<EntitlementDetails>> {
        const OPERATION: &str = "catalog.plans.update_entitlement";
        let (identifier, feature_id, body) = (|| {
            let identifier: wire::UpdateCatalogPlanFeatureIdentifier =
                plan_identifier(&self.identifier)?;
            let feature_id: wire::UpdateCatalogPlanFeatureFeatureId =
                validate::path_segment("feature_id", &self.feature_identifier)?;
            let details = self.details.to_wire()?;
            Ok::<_, ValidationError>((
                identifier,
                feature_id,
                wire::UpdateCatalogPlanFeatureRequest { details },
            ))
        })()
        .map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    api.update_catalog_plan_feature()
                        .identifier(identifier)
                        .feature_id(feature_id)
                        .body(body)
                        .send()
                },
            )
            .await
    }
}

request_options!([M] UpdatePlanEntitlement<M>);
send_impls!(UpdatePlanEntitlement => EntitlementDetails);

/// Removes one entitlement from a plan; made by [`Plans::delete_entitlement`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct DeletePlanEntitlement<M = Async> {
    ctx: Ctx<M>,
    identifier: String,
    feature_identifier: String,
    options: RequestOptions,
}

impl<M> DeletePlanEntitlement<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<()>> {
        const OPERATION: &str = "catalog.plans.delete_entitlement";
        let (identifier, feature_id) = (|| {
            let identifier: wire::DeleteCatalogPlanFeatureIdentifier =
                plan_identifier(&self.identifier)?;
            let feature_id: wire::DeleteCatalogPlanFeatureFeatureId =
                validate::path_segment("feature_id", &self.feature_identifier)?;
            Ok::<_, ValidationError>((identifier, feature_id))
        })()
        .map_err(invalid(OPERATION))?;
        self.ctx
            .catalog_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    api.delete_catalog_plan_feature()
                        .identifier(identifier)
                        .feature_id(feature_id)
                        .send()
                },
            )
            .await
    }
}

request_options!([M] DeletePlanEntitlement<M>);
send_impls!(DeletePlanEntitlement => ());

// ---------------------------------------------------------------------------------------
// What callers send
// ---------------------------------------------------------------------------------------

/// The license keys a plan issues, for [`CreatePlan::license`] and [`UpdatePlan::license`].
///
/// ```
/// use kelviq::catalog::{LicenseDurationUnit, LicenseInput};
///
/// let license = LicenseInput::new().activation_limit(3).duration(1, LicenseDurationUnit::Year);
/// # drop(license);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicenseInput {
    enabled: Option<bool>,
    activation_limit: Option<u64>,
    activation_limit_enabled: Option<bool>,
    duration: Option<(u64, LicenseDurationUnit)>,
    has_expiry: Option<bool>,
}

impl LicenseInput {
    /// License keys on, nothing else set.
    pub fn new() -> Self {
        Self {
            enabled: Some(true),
            ..Self::default()
        }
    }

    /// Whether the plan issues license keys (on with [`new`](Self::new)).
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// How many activations a key allows (at least 1); turns the limit on.
    pub fn activation_limit(mut self, limit: u64) -> Self {
        self.activation_limit = Some(limit);
        self.activation_limit_enabled = Some(true);
        self
    }

    /// Whether the activation limit applies.
    pub fn activation_limit_enabled(mut self, enabled: bool) -> Self {
        self.activation_limit_enabled = Some(enabled);
        self
    }

    /// How long a key lasts (`value` at least 1); turns expiry on.
    pub fn duration(mut self, value: u64, unit: LicenseDurationUnit) -> Self {
        self.duration = Some((value, unit));
        self.has_expiry = Some(true);
        self
    }

    /// Whether keys expire.
    pub fn has_expiry(mut self, has_expiry: bool) -> Self {
        self.has_expiry = Some(has_expiry);
        self
    }

    fn to_wire(&self) -> Result<wire::LicenseConfig, ValidationError> {
        let at_least_one = |field: &'static str, value: u64| {
            NonZeroU64::new(value)
                .ok_or_else(|| ValidationError::new(field, value.to_string(), "at least 1"))
        };
        Ok(wire::LicenseConfig {
            enabled: self.enabled,
            activation_limit: self
                .activation_limit
                .map(|limit| at_least_one("license.activationLimit", limit))
                .transpose()?,
            activation_limit_enabled: self.activation_limit_enabled,
            duration_unit: self.duration.map(|(_, unit)| unit.to_wire()),
            duration_value: self
                .duration
                .map(|(value, _)| at_least_one("license.durationValue", value))
                .transpose()?,
            has_expiry: self.has_expiry,
        })
    }
}

/// One price of a plan, in one currency, for [`Plans::set_prices`].
///
/// ```
/// use kelviq::catalog::{ChargeInput, FeaturePriceInput, PlanChargePeriod, PriceInput, PriceModel, PriceType};
///
/// // A flat 29.99 USD a month:
/// let monthly = PriceInput::flat("USD", PlanChargePeriod::Monthly, 29.99);
/// // The same, spelled out, with a 14-day trial:
/// let trial = PriceInput::new(PriceType::Paid)
///     .currency("USD")
///     .trial_period(14)
///     .feature_price(
///         FeaturePriceInput::base()
///             .price_model(PriceModel::Flat)
///             .charge(ChargeInput::new(PlanChargePeriod::Monthly).amount(29.99)),
///     );
/// # drop((monthly, trial));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PriceInput {
    price_type: PriceType,
    currency: Option<String>,
    free_trial: Option<bool>,
    trial_period: Option<u32>,
    enabled: Option<bool>,
    tax_behavior: Option<PriceTaxBehavior>,
    feature_prices: Vec<FeaturePriceInput>,
}

impl PriceInput {
    /// A price of `price_type`, nothing else set.
    pub fn new(price_type: PriceType) -> Self {
        Self {
            price_type,
            currency: None,
            free_trial: None,
            trial_period: None,
            enabled: None,
            tax_behavior: None,
            feature_prices: Vec::new(),
        }
    }

    /// A paid price of one flat `amount` in `currency` each `charge_period`.
    pub fn flat(currency: impl Into<String>, charge_period: PlanChargePeriod, amount: f64) -> Self {
        Self::new(PriceType::Paid).currency(currency).feature_price(
            FeaturePriceInput::base()
                .price_model(PriceModel::Flat)
                .charge(ChargeInput::new(charge_period).amount(amount)),
        )
    }

    /// The currency (ISO 4217, such as `USD`).
    pub fn currency(mut self, currency: impl Into<String>) -> Self {
        self.currency = Some(currency.into());
        self
    }

    /// Whether the price has a free trial.
    pub fn free_trial(mut self, free_trial: bool) -> Self {
        self.free_trial = Some(free_trial);
        self
    }

    /// The trial's days; turns the free trial on when above 0.
    pub fn trial_period(mut self, days: u32) -> Self {
        self.trial_period = Some(days);
        if days > 0 && self.free_trial.is_none() {
            self.free_trial = Some(true);
        }
        self
    }

    /// Whether the price is offered.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Whether the amounts include tax.
    pub fn tax_behavior(mut self, tax_behavior: PriceTaxBehavior) -> Self {
        self.tax_behavior = Some(tax_behavior);
        self
    }

    /// Adds what the price charges for the plan itself or for one feature.
    pub fn feature_price(mut self, feature_price: FeaturePriceInput) -> Self {
        self.feature_prices.push(feature_price);
        self
    }

    fn to_wire(&self) -> Result<wire::CatalogPlanPriceInput, ValidationError> {
        Ok(wire::CatalogPlanPriceInput {
            price_type: self.price_type.to_wire(),
            currency: self
                .currency
                .as_deref()
                .map(|code| validate::currency_code("prices.currency", code))
                .transpose()?,
            free_trial: self.free_trial,
            trial_period: self.trial_period.map(i64::from),
            enabled: self.enabled,
            tax_behavior: self.tax_behavior.map(PriceTaxBehavior::to_wire),
            charge_catalog_price: self
                .feature_prices
                .iter()
                .map(FeaturePriceInput::to_wire)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// What a price charges for the plan itself ([`base`](Self::base)) or for one feature
/// ([`for_feature`](Self::for_feature)).
#[derive(Debug, Clone, PartialEq)]
pub struct FeaturePriceInput {
    feature_id: Option<String>,
    price_model: Option<PriceModel>,
    reset: Option<UsageReset>,
    reset_time: Option<String>,
    has_unlimited_usage: Option<bool>,
    payment_type: Option<PaymentType>,
    rollover: Map<String, Value>,
    usage_alerts: Option<UsageAlertsInput>,
    charges: Vec<ChargeInput>,
}

impl FeaturePriceInput {
    /// The plan's base price (no feature).
    pub fn base() -> Self {
        Self {
            feature_id: None,
            price_model: None,
            reset: None,
            reset_time: None,
            has_unlimited_usage: None,
            payment_type: None,
            rollover: Map::new(),
            usage_alerts: None,
            charges: Vec::new(),
        }
    }

    /// The price of the feature whose UUID is `feature_id` (needed by every model but
    /// `FLAT`).
    pub fn for_feature(feature_id: impl Into<String>) -> Self {
        Self {
            feature_id: Some(feature_id.into()),
            ..Self::base()
        }
    }

    /// How the price is computed.
    pub fn price_model(mut self, price_model: PriceModel) -> Self {
        self.price_model = Some(price_model);
        self
    }

    /// When usage resets.
    pub fn reset(mut self, reset: UsageReset) -> Self {
        self.reset = Some(reset);
        self
    }

    /// When in the period it resets, such as `BEGINNING_OF_PERIOD`.
    pub fn reset_time(mut self, reset_time: impl Into<String>) -> Self {
        self.reset_time = Some(reset_time.into());
        self
    }

    /// Whether usage is unlimited.
    pub fn has_unlimited_usage(mut self, unlimited: bool) -> Self {
        self.has_unlimited_usage = Some(unlimited);
        self
    }

    /// When it is paid for.
    pub fn payment_type(mut self, payment_type: PaymentType) -> Self {
        self.payment_type = Some(payment_type);
        self
    }

    /// What unused usage carries over.
    pub fn rollover(mut self, rollover: Map<String, Value>) -> Self {
        self.rollover = rollover;
        self
    }

    /// Usage alerts.
    pub fn usage_alerts(mut self, alerts: UsageAlertsInput) -> Self {
        self.usage_alerts = Some(alerts);
        self
    }

    /// Adds a charge for one billing period.
    pub fn charge(mut self, charge: ChargeInput) -> Self {
        self.charges.push(charge);
        self
    }

    fn to_wire(&self) -> Result<wire::CatalogPlanFeaturePriceInput, ValidationError> {
        Ok(wire::CatalogPlanFeaturePriceInput {
            feature: self
                .feature_id
                .as_deref()
                .map(|id| validate::uuid("chargeCatalogPrice.feature", id))
                .transpose()?,
            price_model: self.price_model.map(PriceModel::to_wire),
            reset: self.reset.map(UsageReset::to_wire),
            reset_time: self.reset_time.clone(),
            has_unlimited_usage: self.has_unlimited_usage,
            payment_type: self.payment_type.map(PaymentType::to_wire),
            rollover: self.rollover.clone(),
            usage_alerts: self
                .usage_alerts
                .as_ref()
                .map(UsageAlertsInput::to_wire)
                .transpose()?,
            charges: self
                .charges
                .iter()
                .map(ChargeInput::to_wire)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// One charge of a price, for one billing period.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeInput {
    charge_period: PlanChargePeriod,
    price_data: Map<String, Value>,
    tiers: Vec<TierInput>,
    advanced: Map<String, Value>,
}

impl ChargeInput {
    /// A charge each `charge_period`, its amounts not yet set.
    pub fn new(charge_period: PlanChargePeriod) -> Self {
        Self {
            charge_period,
            price_data: Map::new(),
            tiers: Vec::new(),
            advanced: Map::new(),
        }
    }

    /// The amount (`priceData.amount`).
    pub fn amount(mut self, amount: f64) -> Self {
        self.price_data
            .insert("amount".to_owned(), Value::from(amount));
        self
    }

    /// Other amounts, added to `priceData` (such as a package's `unitsPerPackage`).
    pub fn price_data(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.price_data.insert(key.into(), value.into());
        self
    }

    /// Adds a tier of a tiered, volume or stairstep price.
    pub fn tier(mut self, tier: TierInput) -> Self {
        self.tiers.push(tier);
        self
    }

    /// Advanced settings, passed as given.
    pub fn advanced(mut self, advanced: Map<String, Value>) -> Self {
        self.advanced = advanced;
        self
    }

    fn to_wire(&self) -> Result<wire::CatalogPlanChargeInput, ValidationError> {
        if let Some(amount) = self.price_data.get("amount") {
            if amount.as_f64().is_none() {
                return Err(ValidationError::new(
                    "priceData.amount",
                    amount.to_string(),
                    "a finite number",
                ));
            }
        }
        Ok(wire::CatalogPlanChargeInput {
            charge_period: Some(self.charge_period.to_wire()),
            price_data: self.price_data.clone(),
            tiers: self
                .tiers
                .iter()
                .map(TierInput::to_wire)
                .collect::<Result<_, _>>()?,
            advanced: self.advanced.clone(),
        })
    }
}

/// One tier of a tiered, volume or stairstep price.
///
/// ```
/// use kelviq::catalog::TierInput;
///
/// let tiers = [TierInput::up_to(1000).unit_amount(0.0), TierInput::last().unit_amount(0.001)];
/// # drop(tiers);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TierInput {
    up_to: Option<i64>,
    unit_amount: Option<f64>,
    flat_amount: Option<f64>,
}

impl TierInput {
    /// A tier ending at `units`.
    pub fn up_to(units: i64) -> Self {
        Self {
            up_to: Some(units),
            unit_amount: None,
            flat_amount: None,
        }
    }

    /// The last, unbounded tier (`upTo` `inf`).
    pub fn last() -> Self {
        Self {
            up_to: None,
            unit_amount: None,
            flat_amount: None,
        }
    }

    /// The price of each unit in the tier.
    pub fn unit_amount(mut self, amount: f64) -> Self {
        self.unit_amount = Some(amount);
        self
    }

    /// A flat amount for the tier.
    pub fn flat_amount(mut self, amount: f64) -> Self {
        self.flat_amount = Some(amount);
        self
    }

    fn to_wire(&self) -> Result<wire::PriceTier, ValidationError> {
        Ok(wire::PriceTier {
            up_to: Some(match self.up_to {
                Some(units) => wire::PriceTierUpTo::Int64(units),
                None => wire::PriceTierUpTo::String("inf".to_owned()),
            }),
            unit_amount: self
                .unit_amount
                .map(|a| finite("tiers.unitAmount", a))
                .transpose()?,
            flat_amount: self
                .flat_amount
                .map(|a| finite("tiers.flatAmount", a))
                .transpose()?,
        })
    }
}

/// Usage alerts of a metered feature.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageAlertsInput {
    enabled: bool,
    threshold_type: UsageAlertThresholdType,
    thresholds: Vec<f64>,
}

impl UsageAlertsInput {
    /// Alerts on, at each of `thresholds` measured as `threshold_type`.
    pub fn new(
        threshold_type: UsageAlertThresholdType,
        thresholds: impl IntoIterator<Item = f64>,
    ) -> Self {
        Self {
            enabled: true,
            threshold_type,
            thresholds: thresholds.into_iter().collect(),
        }
    }

    /// Whether the alerts are on.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    fn to_wire(&self) -> Result<wire::UsageAlertsInput, ValidationError> {
        Ok(wire::UsageAlertsInput {
            enabled: Some(self.enabled),
            threshold_type: Some(self.threshold_type.to_wire()),
            thresholds: self
                .thresholds
                .iter()
                .map(|t| finite("usageAlerts.thresholds", *t))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// An entitlement's value: a boolean for a `BOOLEAN` feature, a number for `METER` and
/// `CUSTOMIZABLE`. Made from `bool`, `f64`, `i64` and `u32`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum EntitlementValue {
    /// On or off.
    Boolean(bool),
    /// A limit or a quantity.
    Number(f64),
}

impl From<bool> for EntitlementValue {
    fn from(value: bool) -> Self {
        Self::Boolean(value)
    }
}

impl From<f64> for EntitlementValue {
    fn from(value: f64) -> Self {
        Self::Number(value)
    }
}

impl From<i64> for EntitlementValue {
    fn from(value: i64) -> Self {
        // Limits are far below 2^53: exact.
        Self::Number(value as f64)
    }
}

impl From<i32> for EntitlementValue {
    fn from(value: i32) -> Self {
        Self::Number(f64::from(value))
    }
}

impl From<u32> for EntitlementValue {
    fn from(value: u32) -> Self {
        Self::Number(f64::from(value))
    }
}

impl fmt::Display for EntitlementValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Boolean(value) => write!(f, "{value}"),
            Self::Number(value) => write!(f, "{value}"),
        }
    }
}

/// What a plan grants of one feature, for [`PlanEntitlementInput`] and
/// [`Plans::update_entitlement`]. Which settings matter depends on the feature's type.
///
/// ```
/// use kelviq::catalog::{EntitlementDetailsInput, UsageReset};
///
/// let calls = EntitlementDetailsInput::new().value(10_000).reset(UsageReset::EveryMonth).hard_limit(true);
/// let sso = EntitlementDetailsInput::new().value(true);
/// # drop((calls, sso));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntitlementDetailsInput {
    value: Option<EntitlementValue>,
    has_unlimited_usage: Option<bool>,
    reset: Option<UsageReset>,
    reset_time: Option<String>,
    hard_limit: Option<bool>,
    is_inherited: Option<bool>,
    is_value_overridden: Option<bool>,
    rollover: Map<String, Value>,
    usage_alerts: Option<UsageAlertsInput>,
}

impl EntitlementDetailsInput {
    /// Nothing set yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value: `true`/`false`, or a limit or quantity.
    pub fn value(mut self, value: impl Into<EntitlementValue>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Whether usage is unlimited.
    pub fn has_unlimited_usage(mut self, unlimited: bool) -> Self {
        self.has_unlimited_usage = Some(unlimited);
        self
    }

    /// When usage resets.
    pub fn reset(mut self, reset: UsageReset) -> Self {
        self.reset = Some(reset);
        self
    }

    /// When in the period it resets, such as `BEGINNING_OF_PERIOD`.
    pub fn reset_time(mut self, reset_time: impl Into<String>) -> Self {
        self.reset_time = Some(reset_time.into());
        self
    }

    /// Whether the limit is hard (usage beyond it refused).
    pub fn hard_limit(mut self, hard: bool) -> Self {
        self.hard_limit = Some(hard);
        self
    }

    /// Whether it comes from a base plan.
    pub fn is_inherited(mut self, inherited: bool) -> Self {
        self.is_inherited = Some(inherited);
        self
    }

    /// Whether an inherited value is overridden.
    pub fn is_value_overridden(mut self, overridden: bool) -> Self {
        self.is_value_overridden = Some(overridden);
        self
    }

    /// What unused usage carries over.
    pub fn rollover(mut self, rollover: Map<String, Value>) -> Self {
        self.rollover = rollover;
        self
    }

    /// Usage alerts.
    pub fn usage_alerts(mut self, alerts: UsageAlertsInput) -> Self {
        self.usage_alerts = Some(alerts);
        self
    }

    fn to_wire(&self) -> Result<wire::PlanEntitlementDetailsInput, ValidationError> {
        Ok(wire::PlanEntitlementDetailsInput {
            value: self
                .value
                .map(|value| match value {
                    EntitlementValue::Boolean(b) => Ok(wire::EntitlementValue::Boolean(b)),
                    EntitlementValue::Number(n) => {
                        finite("details.value", n).map(wire::EntitlementValue::Number)
                    }
                })
                .transpose()?,
            has_unlimited_usage: self.has_unlimited_usage,
            reset: self.reset.map(UsageReset::to_wire),
            reset_time: self.reset_time.clone(),
            hard_limit: self.hard_limit,
            is_inherited: self.is_inherited,
            is_value_overridden: self.is_value_overridden,
            rollover: self.rollover.clone(),
            usage_alerts: self
                .usage_alerts
                .as_ref()
                .map(UsageAlertsInput::to_wire)
                .transpose()?,
        })
    }
}

/// A feature a plan is to grant, for [`Plans::add_entitlements`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlanEntitlementInput {
    feature_id: String,
    details: EntitlementDetailsInput,
}

impl PlanEntitlementInput {
    /// Grants the feature whose UUID is `feature_id` ([`CatalogFeature::id`]) as `details`
    /// say.
    pub fn new(feature_id: impl Into<String>, details: EntitlementDetailsInput) -> Self {
        Self {
            feature_id: feature_id.into(),
            details,
        }
    }

    fn to_wire(&self) -> Result<wire::CatalogPlanEntitlementInput, ValidationError> {
        Ok(wire::CatalogPlanEntitlementInput {
            feature: validate::uuid("planEntitlements.feature", &self.feature_id)?,
            details: self.details.to_wire()?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Promotions
// ---------------------------------------------------------------------------------------

/// The promotion operations, from [`Catalog::promotions`].
#[derive(Debug, Clone, Copy)]
pub struct Promotions<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<M: Clone> Promotions<'_, M> {
    /// Resolves promotion `promotion_id` (from the Kelviq dashboard) for the caller's
    /// location: the discount (0 where the location has none), the coupon code, the banner
    /// and what the location checks found. Asked of the edge host, like entitlement checks
    /// (the client's edge host: [`ClientBuilder::edge_base_url`](crate::ClientBuilder::edge_base_url)
    /// moves both).
    ///
    /// The service wants the organisation's Client API Key here, not the Server API Key:
    /// give it with [`client_key`](RetrievePromotion::client_key), or the client's own key
    /// is sent.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
    /// let promotion = client
    ///     .catalog()
    ///     .promotions()
    ///     .retrieve("promo_abc123")
    ///     .client_key("ck_live_a1b2c3d4e5f6")
    ///     .send()
    ///     .await?;
    /// if promotion.percentage > 0.0 {
    ///     println!("{}% off with {}", promotion.percentage, promotion.code.unwrap_or_default());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn retrieve(&self, promotion_id: impl Into<String>) -> RetrievePromotion<M> {
        RetrievePromotion {
            ctx: self.ctx.clone(),
            promotion_id: promotion_id.into(),
            client_key: None,
            options: RequestOptions::default(),
        }
    }
}

/// Resolves a promotion; made by [`Promotions::retrieve`].
#[derive(Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrievePromotion<M = Async> {
    ctx: Ctx<M>,
    promotion_id: String,
    client_key: Option<String>,
    options: RequestOptions,
}

impl<M: fmt::Debug> fmt::Debug for RetrievePromotion<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetrievePromotion")
            .field("promotion_id", &self.promotion_id)
            .field(
                "client_key",
                &self.client_key.as_ref().map(|_| "<redacted>"),
            )
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<M> RetrievePromotion<M> {
    /// The organisation's Client API Key (`ck_…`) to authenticate with, as the service
    /// asks for this operation, instead of the client's own key.
    pub fn client_key(mut self, client_key: impl Into<String>) -> Self {
        self.client_key = Some(client_key.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Promotion>> {
        const OPERATION: &str = "catalog.promotions.retrieve";
        let promotion_id: wire::GetPromotionPromotionId =
            validate::identifier("promotion_id", &self.promotion_id).map_err(invalid(OPERATION))?;
        let credential = self
            .client_key
            .as_deref()
            .map(|key| {
                let refused = || {
                    ValidationError::new(
                        "client_key",
                        "<not shown>",
                        "a Client API Key: visible ASCII without spaces, such as ck_…",
                    )
                };
                if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(refused());
                }
                let mut value =
                    http::HeaderValue::try_from(format!("Bearer {key}")).map_err(|_| refused())?;
                value.set_sensitive(true);
                Ok((http::header::AUTHORIZATION, value))
            })
            .transpose()
            .map_err(invalid(OPERATION))?;
        let edge = self
            .ctx
            .edge_family_client(kelviq_gen::catalog::Client::new_with_client);
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                credential,
                edge.get_promotion().promotion_id(promotion_id).send(),
            )
            .await
    }
}

request_options!([M] RetrievePromotion<M>);
send_impls!(RetrievePromotion => Promotion);
