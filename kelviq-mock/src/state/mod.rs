//! What the emulator remembers, and the service's behaviour over it, one file per resource
//! group: customers, checkout, entitlements, reporting, subscriptions, licenses, payments,
//! and the catalog API's products, features and plans.
//!
//! State is kept per tenant, one tenant per API key, so that two keys never see each
//! other's customers: each key is an environment (a sandbox and a production key served by
//! one emulator are two), with its own customers, subscriptions, usage, catalog API state
//! and the plan catalogue it sells. The request log, the faults, webhook deliveries and
//! promotions belong to the emulator as a whole. Nothing here knows about HTTP: the handlers turn requests into these
//! calls and their results into answers, and the control surface and
//! [`MockServer`](crate::MockServer) call them directly.

mod catalog;
mod checkout;
mod customers;
mod entitlements;
mod licenses;
mod partner;
mod payments;
mod reporting;
mod subscriptions;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalogue::{Catalogue, FeatureKind};
use crate::faults::Fault;
use crate::log::{AppliedUsage, RequestLog};
use crate::webhooks::{Delivery, Endpoint, Event};

pub(crate) use catalog::sell;
pub use checkout::{CompletedCheckout, SessionFilter};
pub use payments::{MoneyFilter, OrderFilter};
pub use subscriptions::SubscriptionFilter;

/// The organisation every record of the emulator belongs to.
pub const ORG_ID: &str = "1";

/// How many items a list page holds when the request does not say.
const DEFAULT_PAGE_SIZE: u64 = 20;

/// What an environment starts with: a pricing-as-code file, the plans it sells and the
/// catalog API's products, features and plans it holds.
#[derive(Debug, Clone)]
pub(crate) struct Start {
    config: std::sync::Arc<kelviq_config::Catalog>,
    catalogue: Catalogue,
}

impl Start {
    /// The start `config` gives, or why the emulator cannot serve it.
    pub(crate) fn new(config: kelviq_config::Catalog) -> Result<Self, String> {
        let catalogue = Catalogue::from_config(&config)?;
        catalog::Catalog::from_config(&config)?;
        Ok(Self {
            config: std::sync::Arc::new(config),
            catalogue,
        })
    }

    /// The built-in catalogue's start.
    pub(crate) fn builtin() -> Self {
        Self::new(crate::catalogue::default_catalog())
            .expect("the built-in catalogue is one the emulator serves")
    }

    fn environment(&self) -> Environment {
        Environment {
            catalogue: self.catalogue.clone(),
            tenant: self.tenant(),
        }
    }

    fn tenant(&self) -> Tenant {
        Tenant {
            // Checked by `new`.
            catalog: catalog::Catalog::from_config(&self.config).unwrap_or_default(),
            ..Tenant::default()
        }
    }
}

/// Everything the emulator holds.
#[derive(Debug)]
pub struct Store {
    /// What a tenant starts with when it is first named, unless `starts` gives its key
    /// another. Each tenant then sells its own copy: a plan published by one key is
    /// sellable for that key only.
    start: Start,
    /// The start of particular keys, in place of `start`.
    starts: HashMap<String, Start>,
    tenants: HashMap<String, Environment>,
    /// The key the control surface and the Rust shorthands act for when none is named:
    /// the only key, in a single-tenant emulator.
    default_key: Option<String>,
    /// Every API request received, oldest first, bounded.
    pub log: RequestLog,
    /// Faults waiting to be injected.
    pub faults: Vec<Fault>,
    /// Webhook deliveries made, oldest first, bounded.
    pub deliveries: RequestLog<Delivery>,
    /// Usage reports applied, in the order applied, bounded.
    pub applied_usage: RequestLog<AppliedUsage>,
    /// Files uploaded through presigned uploads, for every tenant.
    pub(crate) uploads: catalog::Uploads,
    /// Every partner's organisations, by partner key (not by tenant: a partner key is no
    /// API key).
    pub(crate) partners: partner::Partners,
    /// Webhook delivery attempts, oldest first, bounded: what `listWebhookEventLogs`
    /// shows.
    pub(crate) webhook_attempts: RequestLog<crate::webhooks::Attempt>,
    /// The promotions `getPromotion` answers, by identifier, as the document's `Promotion`
    /// (for every key: see `api::promotions`).
    pub(crate) promotions: HashMap<String, Value>,
    /// How many resets so far: a delivery of an event from before the last reset stops
    /// (its retries are not made, nor recorded).
    pub(crate) epoch: u64,
}

/// One key's environment: the plans it sells, and everything else it holds.
#[derive(Debug)]
struct Environment {
    catalogue: Catalogue,
    tenant: Tenant,
}

/// One tenant's state: what one API key sees.
#[derive(Debug, Default)]
pub struct Tenant {
    customers: customers::Customers,
    checkouts: checkout::Checkouts,
    subscriptions: subscriptions::Subscriptions,
    usage: reporting::Usage,
    grants: HashMap<String, Vec<Grant>>,
    licenses: licenses::Licenses,
    payments: payments::Payments,
    /// The catalog API's products, features and plans.
    pub(crate) catalog: catalog::Catalog,
    /// Where this tenant's webhooks go.
    pub(crate) endpoints: Vec<Endpoint>,
    /// Events not yet handed to the webhook sender.
    pub(crate) outbox: Vec<Event>,
}

/// An entitlement granted directly through the control surface, outside any plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// The customer.
    pub customer_id: String,
    /// The feature.
    pub feature_id: String,
    /// `BOOLEAN`, `METER` or `CUSTOMIZABLE`.
    pub feature_type: FeatureKind,
    /// A meter's limit, or a customizable feature's quantity.
    #[serde(default)]
    pub usage_limit: Option<i64>,
    /// Whether a meter's limit is hard.
    #[serde(default)]
    pub hard_limit: Option<bool>,
}

pub use crate::log::{LoggedRequest, LoggedResponse};

impl Store {
    /// An emulator whose environments start as `start` says, holding nothing else,
    /// keeping the last `log_capacity` requests.
    pub(crate) fn new(start: Start, log_capacity: usize) -> Self {
        Self {
            start,
            starts: HashMap::new(),
            tenants: HashMap::new(),
            default_key: None,
            log: RequestLog::new(log_capacity),
            faults: Vec::new(),
            deliveries: RequestLog::new(log_capacity),
            applied_usage: RequestLog::new(log_capacity),
            uploads: catalog::Uploads::default(),
            partners: partner::Partners::default(),
            webhook_attempts: RequestLog::new(log_capacity),
            promotions: HashMap::new(),
            epoch: 0,
        }
    }

    /// An emulator whose default tenant is `key`'s (the first of the keys it accepts), so
    /// that the control surface and the Rust shorthands act for it from the start.
    pub fn with_default_key(mut self, key: Option<String>) -> Self {
        self.default_key = key;
        self
    }

    /// Forgets every tenant (and so what each published), logged request, delivery,
    /// applied report and fault; keeps the starting catalogues and the default key.
    pub fn reset(&mut self) {
        let capacity = self.log.capacity();
        let starts = std::mem::take(&mut self.starts);
        let default_key = self.default_key.take();
        let epoch = self.epoch.wrapping_add(1);
        *self = Self::new(self.start.clone(), capacity);
        self.starts = starts;
        self.default_key = default_key;
        self.epoch = epoch;
    }

    /// Starts particular keys' environments as `starts` says.
    pub(crate) fn with_starts(mut self, starts: HashMap<String, Start>) -> Self {
        self.starts = starts;
        self
    }

    /// Replaces the catalogue of every tenant, those already named included (what each
    /// sells, and its catalog API's products, features and plans; customers and
    /// subscriptions kept), and what a tenant named later starts with; forgets the starting
    /// catalogues of particular keys.
    pub(crate) fn replace_catalog(&mut self, start: Start) {
        for environment in self.tenants.values_mut() {
            let fresh = start.environment();
            environment.catalogue = fresh.catalogue;
            environment.tenant.catalog = fresh.tenant.catalog;
        }
        self.starts.clear();
        self.start = start;
    }

    /// The catalogue and the tenant of `key` (the default tenant for `None`), made when
    /// first named. When no key was configured, the first key to arrive adopts what was
    /// done for the default tenant before any key was known (grants made ahead of the
    /// first request).
    pub fn tenant(&mut self, key: Option<&str>) -> (&Catalogue, &mut Tenant) {
        let environment = self.environment(key);
        (&environment.catalogue, &mut environment.tenant)
    }

    /// What `key`'s tenant sells, to change it (the default tenant for `None`).
    pub fn catalogue_mut(&mut self, key: Option<&str>) -> &mut Catalogue {
        &mut self.environment(key).catalogue
    }

    fn environment(&mut self, key: Option<&str>) -> &mut Environment {
        let key = match key {
            Some(key) => {
                if self.default_key.is_none() {
                    if let Some(pending) = self.tenants.remove("") {
                        self.tenants.entry(key.to_owned()).or_insert(pending);
                    }
                    self.default_key = Some(key.to_owned());
                }
                key.to_owned()
            }
            None => self.default_key.clone().unwrap_or_default(),
        };
        let (start, starts) = (&self.start, &self.starts);
        self.tenants
            .entry(key)
            .or_insert_with_key(|key| starts.get(key).unwrap_or(start).environment())
    }

    /// Completes a checkout as if the customer paid, whichever tenant made it.
    pub fn complete_checkout(
        &mut self,
        session_id: &str,
    ) -> Result<CompletedCheckout, crate::ApiError> {
        match self
            .tenants
            .values_mut()
            .find(|e| e.tenant.has_checkout(session_id))
        {
            Some(e) => e.tenant.complete_checkout(&e.catalogue, session_id),
            None => Err(crate::ApiError::not_found(format!(
                "No checkout session {session_id:?}."
            ))),
        }
    }

    /// Where file `pk` of plan `identifier` is stored, whichever tenant has it (its
    /// download link carries no API key).
    pub(crate) fn plan_file_location(&self, identifier: &str, pk: &str) -> Option<String> {
        self.tenants
            .values()
            .find_map(|e| e.tenant.catalog.file_location(identifier, pk))
    }

    /// Every tenant's pending events, with the endpoints they go to.
    pub(crate) fn take_events(&mut self) -> Vec<(Vec<Endpoint>, Vec<Event>)> {
        self.tenants
            .values_mut()
            .map(|e| &mut e.tenant)
            .filter(|t| !t.outbox.is_empty())
            .map(|t| (t.endpoints.clone(), std::mem::take(&mut t.outbox)))
            .collect()
    }
}

impl Tenant {
    /// Grants `grant` directly, outside any plan.
    pub fn grant(&mut self, grant: Grant) {
        self.customers.ensure(&grant.customer_id);
        self.grants
            .entry(grant.customer_id.clone())
            .or_default()
            .push(grant);
    }

    /// Each feature's usage this month for `customer_id`.
    pub fn usage_of(&self, customer_id: &str) -> BTreeMap<String, i64> {
        self.usage.of(customer_id, now())
    }

    /// Records an event for the webhook endpoints.
    pub(crate) fn emit(&mut self, kind: &str, object: Value, previous: Option<Value>) {
        if !self.endpoints.is_empty() {
            self.outbox.push(Event::new(kind, object, previous));
        }
    }
}

/// One page of a list, as the service answers it.
pub(crate) fn page_of(
    items: Vec<Value>,
    page: Option<u64>,
    page_size: Option<u64>,
    base: &str,
) -> Result<Value, crate::ApiError> {
    let page = page.unwrap_or(1);
    let size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if page == 0 {
        return Err(crate::ApiError::field("page", "Must be at least 1."));
    }
    if !(1..=100).contains(&size) {
        return Err(crate::ApiError::field(
            "page_size",
            "Must be from 1 to 100.",
        ));
    }
    let count = items.len() as u64;
    let pages = count.div_ceil(size).max(1);
    // A page past the last is an empty page, not the 404 a Django service answers: the
    // document declares no 404 for its lists (nor does the published reference).
    let start = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let results: Vec<Value> = items.into_iter().skip(start).take(size as usize).collect();
    // A base that carries a filter (`?search=…`) keeps it.
    let separator = if base.contains('?') { '&' } else { '?' };
    let link = |page: u64| Value::String(format!("{base}{separator}page={page}&page_size={size}"));
    Ok(serde_json::json!({
        "count": count,
        "next": if page < pages { link(page + 1) } else { Value::Null },
        "previous": if page > 1 { link((page - 1).min(pages)) } else { Value::Null },
        "results": results,
    }))
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

pub(crate) fn month(at: DateTime<Utc>) -> (i32, u32) {
    (at.year(), at.month())
}

/// The end of the current billing period: the emulator's periods are calendar months (UTC).
pub(crate) fn period_end(at: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if at.month() == 12 {
        (at.year() + 1, 1)
    } else {
        (at.year(), at.month() + 1)
    };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(at)
}

/// When meters reset (the end of the period), written as the service writes `resetAt`.
pub(crate) fn next_reset(at: DateTime<Utc>) -> String {
    period_end(at).format("%Y-%m-%d %H:%M:%S").to_string()
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A promotion as the document's `Promotion`, as the emulator answers one it was given: the
/// discount and code set, under a default banner (the document's example), no location
/// resolved, every check `false`.
pub(crate) fn promotion(percentage: f64, code: &str) -> Value {
    serde_json::json!({
        "percentage": percentage,
        "code": code,
        "message": "",
        "widgets": [{
            "type": "BANNER",
            "backgroundColor": "#3182CE",
            "fontColor": "#F9F9F9",
            "highlightFontColor": "#DD5C64",
            "fontSize": "1rem",
            "unStyled": false,
            "addCloseIcon": false,
            "countryMessage": "Hello {country_flag} Hey! It looks like you are from <b>{country}</b>. Use code <b>\u{201c}{coupon_code}\u{201d}</b> to get <b>{discount_percentage}%</b> off.",
            "placement": "top",
            "borderRadius": "0",
        }],
        "security": {"vpn": false, "tor": false, "proxy": false, "relay": false, "crawler": false},
    })
}
