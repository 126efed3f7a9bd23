//! Every operation of the product docs is in `openapi/kelviq.yaml` exactly as
//! `shared/kelviq-wire.md` says it travels: method, path (trailing slash included), host,
//! query names, body field names with their casing, which of them are required, and enums.
//! So is every other operation of Kelviq's published API reference (kelviq/docs
//! `api-reference/openapi.json`, whose paths lack the `/api/v1` prefix), with its family.

use std::collections::BTreeSet;

use kelviq_tests::{openapi_document, resolve};
use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Host {
    Api,
    Edge,
}

/// One row of the wire table. A name ending in `?` is optional.
struct WireOperation {
    operation_id: &'static str,
    tag: &'static str,
    /// `x-kelviq-family`: `None` for the operations of the official clients (the default
    /// family), else `catalog`, `partner` or `admin`.
    family: Option<&'static str>,
    method: &'static str,
    path: &'static str,
    host: Host,
    path_params: &'static [&'static str],
    query: &'static [&'static str],
    body: &'static [&'static str],
}

const WIRE: &[WireOperation] = &[
    WireOperation {
        operation_id: "createCustomer",
        tag: "customers",
        family: None,
        method: "post",
        path: "/api/v1/customers/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "customer_id",
            "name?",
            "email?",
            "metadata?",
            "billingAddress?",
        ],
    },
    WireOperation {
        operation_id: "updateCustomer",
        tag: "customers",
        family: None,
        method: "patch",
        path: "/api/v1/customers/{customerId}/",
        host: Host::Api,
        path_params: &["customerId"],
        query: &[],
        body: &["name?", "email?", "metadata?", "billingAddress?"],
    },
    WireOperation {
        operation_id: "createCheckoutSession",
        tag: "checkout",
        family: None,
        method: "post",
        path: "/api/v1/checkout/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "planIdentifier",
            "chargePeriod",
            "successUrl",
            "customerId?",
            "offeringId?",
            "pricingTableId?",
            "ruleId?",
            "features?",
            "ipAddress?",
            "trialPeriod?",
            "cancelUrl?",
            "plansEnabled?",
            "currencyCode?",
            "customAmount?",
            "taxBehavior?",
            "discountsEnabled?",
            "discountCode?",
            "lockEmail?",
            "defaultBillingCountry?",
            "metadata?",
        ],
    },
    WireOperation {
        operation_id: "getEntitlements",
        tag: "entitlements",
        family: None,
        method: "get",
        path: "/api/v1/entitlements",
        host: Host::Edge,
        path_params: &[],
        query: &["customer_id", "feature_id?"],
        body: &[],
    },
    WireOperation {
        operation_id: "reportUsage",
        tag: "reporting",
        family: None,
        method: "post",
        path: "/api/v1/report/usage/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "value",
            "customerId",
            "featureId",
            "behaviour",
            "resourceId?",
        ],
    },
    WireOperation {
        operation_id: "reportEvent",
        tag: "reporting",
        family: None,
        method: "post",
        path: "/api/v1/report/event/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "customerId",
            "eventName",
            "idempotencyKey",
            "timestamp",
            "properties?",
            "resourceId?",
        ],
    },
    WireOperation {
        operation_id: "updateSubscription",
        tag: "subscriptions",
        family: None,
        method: "post",
        path: "/api/v1/subscriptions/{subscriptionId}/update/",
        host: Host::Api,
        path_params: &["subscriptionId"],
        query: &[],
        body: &[
            "plan_identifier",
            "charge_period",
            "offering_id?",
            "pricing_table_id?",
            "rule_id?",
            "ipAddress?",
            "features?",
            "proration_behavior?",
            "trial_end?",
            "payment_behavior?",
        ],
    },
    WireOperation {
        operation_id: "cancelSubscription",
        tag: "subscriptions",
        family: None,
        method: "post",
        path: "/api/v1/subscriptions/{subscriptionId}/cancel/",
        host: Host::Api,
        path_params: &["subscriptionId"],
        query: &[],
        body: &[
            "cancellation_type",
            "cancellation_date?",
            "cancellation_feedback?",
            "cancellation_comment?",
        ],
    },
    // Beyond the seed (`shared/kelviq-wire.md`, "Beyond the seed", and the published
    // reference's additions).
    WireOperation {
        operation_id: "listCustomers",
        tag: "customers",
        family: None,
        method: "get",
        path: "/api/v1/customers/",
        host: Host::Api,
        path_params: &[],
        query: &["search?", "page?", "page_size?"],
        body: &[],
    },
    WireOperation {
        operation_id: "retrieveCustomer",
        tag: "customers",
        family: None,
        method: "get",
        path: "/api/v1/customers/{customerId}/",
        host: Host::Api,
        path_params: &["customerId"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "archiveCustomer",
        tag: "customers",
        family: None,
        method: "delete",
        path: "/api/v1/customers/{customerId}/",
        host: Host::Api,
        path_params: &["customerId"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "listSubscriptions",
        tag: "subscriptions",
        family: None,
        method: "get",
        path: "/api/v1/subscriptions/",
        host: Host::Api,
        path_params: &[],
        query: &[
            "customer_id?",
            "status?",
            "start_date_after?",
            "start_date_before?",
            "modified_on_after?",
            "modified_on_before?",
            "page?",
            "page_size?",
        ],
        body: &[],
    },
    WireOperation {
        operation_id: "createSubscription",
        tag: "subscriptions",
        family: None,
        method: "post",
        path: "/api/v1/subscriptions/create/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "plan_identifier",
            "charge_period",
            "customer_id",
            "success_url?",
            "features?",
            "ip_address?",
        ],
    },
    WireOperation {
        operation_id: "retrieveSubscription",
        tag: "subscriptions",
        family: None,
        method: "get",
        path: "/api/v1/subscriptions/{subscriptionId}/",
        host: Host::Api,
        path_params: &["subscriptionId"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "previewSubscriptionUpdate",
        tag: "subscriptions",
        family: None,
        method: "post",
        path: "/api/v1/subscriptions/{subscriptionId}/update/preview/",
        host: Host::Api,
        path_params: &["subscriptionId"],
        query: &[],
        body: &[
            "plan_identifier",
            "charge_period",
            "proration_behavior?",
            "features?",
            "ip_address?",
            "trial_end?",
        ],
    },
    WireOperation {
        operation_id: "createPortalSession",
        tag: "portal",
        family: None,
        method: "post",
        path: "/api/v1/portal/session/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &["customerId"],
    },
    WireOperation {
        operation_id: "activateLicense",
        tag: "licenses",
        family: None,
        method: "post",
        path: "/api/v1/license/activate/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &["license_key", "customer_id?", "instance_name?", "metadata?"],
    },
    WireOperation {
        operation_id: "deactivateLicense",
        tag: "licenses",
        family: None,
        method: "post",
        path: "/api/v1/license/deactivate/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &["license_key", "instance_id"],
    },
    WireOperation {
        operation_id: "validateLicense",
        tag: "licenses",
        family: None,
        method: "post",
        path: "/api/v1/license/validate/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &["license_key", "instance_id?"],
    },
    WireOperation {
        operation_id: "createCharge",
        tag: "charges",
        family: None,
        method: "post",
        path: "/api/v1/charges/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "plan_identifier",
            "charge_period",
            "customer_id",
            "features?",
            "currency_code?",
            "custom_amount?",
            "tax_behavior?",
            "ip_address?",
        ],
    },
    WireOperation {
        operation_id: "listRefunds",
        tag: "refunds",
        family: None,
        method: "get",
        path: "/api/v1/refunds/",
        host: Host::Api,
        path_params: &[],
        query: &[
            "search?",
            "status?",
            "start_date?",
            "end_date?",
            "page?",
            "page_size?",
        ],
        body: &[],
    },
    WireOperation {
        operation_id: "createRefund",
        tag: "refunds",
        family: None,
        method: "post",
        path: "/api/v1/refunds/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "order_id",
            "amount_units?",
            "amount?",
            "reason?",
            "internal_note?",
        ],
    },
    WireOperation {
        operation_id: "retrieveRefund",
        tag: "refunds",
        family: None,
        method: "get",
        path: "/api/v1/refunds/{refundId}/",
        host: Host::Api,
        path_params: &["refundId"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "listTransactions",
        tag: "transactions",
        family: None,
        method: "get",
        path: "/api/v1/transaction/",
        host: Host::Api,
        path_params: &[],
        query: &[
            "search?",
            "status?",
            "start_date?",
            "end_date?",
            "page?",
            "page_size?",
        ],
        body: &[],
    },
    WireOperation {
        operation_id: "listPaymentMethods",
        tag: "payment-methods",
        family: None,
        method: "get",
        path: "/api/v1/payment-methods/",
        host: Host::Api,
        path_params: &[],
        query: &["customer_id?", "customer_email?", "page?", "page_size?"],
        body: &[],
    },
    // The rest of Kelviq's published API reference (kelviq/docs `api-reference/openapi.json`),
    // each operation marked with its family.
    WireOperation {
        operation_id: "listCheckoutSessions",
        tag: "checkout-sessions",
        family: Some("admin"),
        method: "get",
        path: "/api/v1/checkout/sessions/",
        host: Host::Api,
        path_params: &[],
        query: &[
            "search?",
            "status?",
            "start_date?",
            "end_date?",
            "page_size?",
            "page?",
        ],
        body: &[],
    },
    WireOperation {
        operation_id: "retrieveCheckoutSession",
        tag: "checkout-sessions",
        family: Some("admin"),
        method: "get",
        path: "/api/v1/checkout/sessions/{session_id}/",
        host: Host::Api,
        path_params: &["session_id"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "listCheckoutSessionEvents",
        tag: "checkout-session-events",
        family: Some("admin"),
        method: "get",
        path: "/api/v1/checkout/sessions/{session_id}/events/",
        host: Host::Api,
        path_params: &["session_id"],
        query: &["page_size?", "page?"],
        body: &[],
    },
    WireOperation {
        operation_id: "listOrders",
        tag: "orders",
        family: Some("admin"),
        method: "get",
        path: "/api/v1/orders/",
        host: Host::Api,
        path_params: &[],
        query: &[
            "search?",
            "status?",
            "billing_type?",
            "is_renewal?",
            "start_date?",
            "end_date?",
            "page_size?",
            "page?",
        ],
        body: &[],
    },
    WireOperation {
        operation_id: "retrieveOrder",
        tag: "orders",
        family: Some("admin"),
        method: "get",
        path: "/api/v1/orders/{id}/",
        host: Host::Api,
        path_params: &["id"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "listOrderEvents",
        tag: "order-events",
        family: Some("admin"),
        method: "get",
        path: "/api/v1/orders/{id}/events/",
        host: Host::Api,
        path_params: &["id"],
        query: &["page_size?", "page?"],
        body: &[],
    },
    WireOperation {
        operation_id: "listWebhookEventLogs",
        tag: "webhooks",
        family: Some("admin"),
        method: "get",
        path: "/api/v1/webhook/logs/",
        host: Host::Api,
        path_params: &[],
        query: &["start_date?", "end_date?", "page_size?", "page?"],
        body: &[],
    },
    WireOperation {
        operation_id: "getProductOffering",
        tag: "monetization",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/monetization/product-offering/{product_id}/",
        host: Host::Api,
        path_params: &["product_id"],
        query: &["customer_id?", "plans_enabled?", "ip_address?"],
        body: &[],
    },
    WireOperation {
        operation_id: "getPromotion",
        tag: "promotions",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/promotions",
        host: Host::Edge,
        path_params: &[],
        query: &["promotion_id"],
        body: &[],
    },
    WireOperation {
        operation_id: "listCatalogProducts",
        tag: "products",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/catalog/products/",
        host: Host::Api,
        path_params: &[],
        query: &["search?", "page?", "page_size?"],
        body: &[],
    },
    WireOperation {
        operation_id: "createCatalogProduct",
        tag: "products",
        family: Some("catalog"),
        method: "post",
        path: "/api/v1/catalog/products/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "name",
            "identifier?",
            "description?",
            "taxCode",
            "imageKeys?",
        ],
    },
    WireOperation {
        operation_id: "retrieveCatalogProduct",
        tag: "products",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/catalog/products/{pk}/",
        host: Host::Api,
        path_params: &["pk"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "updateCatalogProduct",
        tag: "products",
        family: Some("catalog"),
        method: "patch",
        path: "/api/v1/catalog/products/{pk}/",
        host: Host::Api,
        path_params: &["pk"],
        query: &[],
        body: &[
            "name?",
            "description?",
            "taxCode?",
            "imageKeys?",
            "fileKeys?",
        ],
    },
    WireOperation {
        operation_id: "deleteCatalogProduct",
        tag: "products",
        family: Some("catalog"),
        method: "delete",
        path: "/api/v1/catalog/products/{pk}/",
        host: Host::Api,
        path_params: &["pk"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "getCatalogProductSettings",
        tag: "product-settings",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/catalog/products/{pk}/settings/",
        host: Host::Api,
        path_params: &["pk"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "updateCatalogProductSettings",
        tag: "product-settings",
        family: Some("catalog"),
        method: "patch",
        path: "/api/v1/catalog/products/{pk}/settings/",
        host: Host::Api,
        path_params: &["pk"],
        query: &[],
        body: &["vpn?", "tor?", "proxy?", "currency?", "productUrl?"],
    },
    WireOperation {
        operation_id: "updateCatalogProductImage",
        tag: "product-images",
        family: Some("catalog"),
        method: "patch",
        path: "/api/v1/catalog/products/{product_pk}/image/{pk}/",
        host: Host::Api,
        path_params: &["product_pk", "pk"],
        query: &[],
        body: &["name?", "ordering?", "thumbnail?", "enabled?"],
    },
    WireOperation {
        operation_id: "deleteCatalogProductImage",
        tag: "product-images",
        family: Some("catalog"),
        method: "delete",
        path: "/api/v1/catalog/products/{product_pk}/image/{pk}/",
        host: Host::Api,
        path_params: &["product_pk", "pk"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "listCatalogFeatures",
        tag: "features",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/catalog/features/",
        host: Host::Api,
        path_params: &[],
        query: &["search?", "page?", "page_size?"],
        body: &[],
    },
    WireOperation {
        operation_id: "createCatalogFeature",
        tag: "features",
        family: Some("catalog"),
        method: "post",
        path: "/api/v1/catalog/features/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "name",
            "identifier?",
            "description?",
            "featureType",
            "featureDetails?",
            "meter?",
            "metadata?",
        ],
    },
    WireOperation {
        operation_id: "retrieveCatalogFeature",
        tag: "features",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/catalog/features/{pk}/",
        host: Host::Api,
        path_params: &["pk"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "deleteCatalogFeature",
        tag: "features",
        family: Some("catalog"),
        method: "delete",
        path: "/api/v1/catalog/features/{pk}/",
        host: Host::Api,
        path_params: &["pk"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "listCatalogPlans",
        tag: "plans",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/catalog/plans/",
        host: Host::Api,
        path_params: &[],
        query: &["page?", "page_size?"],
        body: &[],
    },
    WireOperation {
        operation_id: "createCatalogPlan",
        tag: "plans",
        family: Some("catalog"),
        method: "post",
        path: "/api/v1/catalog/plans/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "name",
            "identifier?",
            "description?",
            "product",
            "metadata?",
            "isVisible?",
            "license?",
            "links?",
            "fileKeys?",
            "ordering?",
        ],
    },
    WireOperation {
        operation_id: "retrieveCatalogPlan",
        tag: "plans",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/catalog/plans/{identifier}/",
        host: Host::Api,
        path_params: &["identifier"],
        query: &["version?"],
        body: &[],
    },
    WireOperation {
        operation_id: "updateCatalogPlan",
        tag: "plans",
        family: Some("catalog"),
        method: "patch",
        path: "/api/v1/catalog/plans/{identifier}/",
        host: Host::Api,
        path_params: &["identifier"],
        query: &["version?"],
        body: &[
            "name?",
            "description?",
            "metadata?",
            "isVisible?",
            "license?",
            "links?",
            "fileKeys?",
        ],
    },
    WireOperation {
        operation_id: "deleteCatalogPlan",
        tag: "plans",
        family: Some("catalog"),
        method: "delete",
        path: "/api/v1/catalog/plans/{identifier}/",
        host: Host::Api,
        path_params: &["identifier"],
        query: &["version?"],
        body: &[],
    },
    WireOperation {
        operation_id: "publishCatalogPlan",
        tag: "plans",
        family: Some("catalog"),
        method: "post",
        path: "/api/v1/catalog/plans/{identifier}/publish/",
        host: Host::Api,
        path_params: &["identifier"],
        query: &[],
        body: &["updateFeatures?", "updatePricing?"],
    },
    WireOperation {
        operation_id: "discardCatalogPlanDraft",
        tag: "plans",
        family: Some("catalog"),
        method: "delete",
        path: "/api/v1/catalog/plans/{identifier}/discard/",
        host: Host::Api,
        path_params: &["identifier"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "listCatalogPlanPrices",
        tag: "plans",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/catalog/plans/{identifier}/prices/",
        host: Host::Api,
        path_params: &["identifier"],
        query: &["version?"],
        body: &[],
    },
    WireOperation {
        operation_id: "bulkSetCatalogPlanPrices",
        tag: "plans",
        family: Some("catalog"),
        method: "post",
        path: "/api/v1/catalog/plans/{identifier}/prices/bulk/",
        host: Host::Api,
        path_params: &["identifier"],
        query: &[],
        body: &["prices"],
    },
    WireOperation {
        operation_id: "listCatalogPlanFeatures",
        tag: "plan-entitlements",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/catalog/plans/{identifier}/features/",
        host: Host::Api,
        path_params: &["identifier"],
        query: &["version?"],
        body: &[],
    },
    WireOperation {
        operation_id: "addCatalogPlanFeatures",
        tag: "plan-entitlements",
        family: Some("catalog"),
        method: "post",
        path: "/api/v1/catalog/plans/{identifier}/features/",
        host: Host::Api,
        path_params: &["identifier"],
        // The reference declares `version` on the path but says it is for listing only.
        query: &[],
        body: &["planEntitlements"],
    },
    WireOperation {
        operation_id: "updateCatalogPlanFeature",
        tag: "plan-entitlements",
        family: Some("catalog"),
        method: "patch",
        path: "/api/v1/catalog/plans/{identifier}/features/{feature_id}/",
        host: Host::Api,
        path_params: &["identifier", "feature_id"],
        query: &[],
        body: &["details"],
    },
    WireOperation {
        operation_id: "deleteCatalogPlanFeature",
        tag: "plan-entitlements",
        family: Some("catalog"),
        method: "delete",
        path: "/api/v1/catalog/plans/{identifier}/features/{feature_id}/",
        host: Host::Api,
        path_params: &["identifier", "feature_id"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "updateCatalogPlanFile",
        tag: "plan-files",
        family: Some("catalog"),
        method: "patch",
        path: "/api/v1/catalog/plans/{identifier}/file/{pk}/",
        host: Host::Api,
        path_params: &["identifier", "pk"],
        query: &[],
        body: &["name?", "ordering?", "enabled?"],
    },
    WireOperation {
        operation_id: "deleteCatalogPlanFile",
        tag: "plan-files",
        family: Some("catalog"),
        method: "delete",
        path: "/api/v1/catalog/plans/{identifier}/file/{pk}/",
        host: Host::Api,
        path_params: &["identifier", "pk"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "downloadCatalogPlanFile",
        tag: "plan-files",
        family: Some("catalog"),
        method: "get",
        path: "/api/v1/catalog/plans/{identifier}/file/{pk}/download/",
        host: Host::Api,
        path_params: &["identifier", "pk"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "createPresignedUploadUrl",
        tag: "media",
        family: Some("catalog"),
        method: "post",
        path: "/api/v1/media/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &["fileName", "fileType"],
    },
    WireOperation {
        operation_id: "provisionPartnerOrganization",
        tag: "partner",
        family: Some("partner"),
        method: "post",
        path: "/api/v1/partner/organizations/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &["externalId", "email", "businessName?"],
    },
    WireOperation {
        operation_id: "listPartnerOrganizations",
        tag: "partner",
        family: Some("partner"),
        method: "get",
        path: "/api/v1/partner/organizations/",
        host: Host::Api,
        path_params: &[],
        query: &["external_id?"],
        body: &[],
    },
    WireOperation {
        operation_id: "retrievePartnerOrganization",
        tag: "partner",
        family: Some("partner"),
        method: "get",
        path: "/api/v1/partner/organizations/{identifier}/",
        host: Host::Api,
        path_params: &["identifier"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "retrievePartnerOrganizationByExternalId",
        tag: "partner",
        family: Some("partner"),
        method: "get",
        path: "/api/v1/partner/organizations/by-external-id/{externalId}/",
        host: Host::Api,
        path_params: &["externalId"],
        query: &[],
        body: &[],
    },
];

/// Operations whose request body may be left out (the service's reference says so).
const OPTIONAL_BODIES: &[&str] = &["publishCatalogPlan"];

/// The families an operation may name in `x-kelviq-family`.
const FAMILIES: &[&str] = &["catalog", "partner", "admin"];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Splits `["a", "b?"]` into (all names, required names).
fn names(spec: &[&str]) -> (BTreeSet<String>, BTreeSet<String>) {
    let all = spec
        .iter()
        .map(|n| n.trim_end_matches('?').to_owned())
        .collect();
    let required = spec
        .iter()
        .filter(|n| !n.ends_with('?'))
        .map(|n| (*n).to_owned())
        .collect();
    (all, required)
}

fn string_set(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|i| i.as_str().expect("a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn operation<'a>(doc: &'a Value, wire: &WireOperation) -> (&'a Value, &'a Value) {
    let item = doc["paths"]
        .get(wire.path)
        .unwrap_or_else(|| panic!("{}: no path {}", wire.operation_id, wire.path));
    let op = item
        .get(wire.method)
        .unwrap_or_else(|| panic!("{}: no {} on {}", wire.operation_id, wire.method, wire.path));
    (item, op)
}

/// Parameters of an operation, path-level ones included, as (name, location, required).
fn parameters(doc: &Value, item: &Value, op: &Value) -> Vec<(String, String, bool)> {
    let mut params = Vec::new();
    for list in [item.get("parameters"), op.get("parameters")]
        .into_iter()
        .flatten()
    {
        for p in list.as_array().expect("parameters are a list") {
            let p = resolve(doc, p);
            params.push((
                p["name"].as_str().unwrap().to_owned(),
                p["in"].as_str().unwrap().to_owned(),
                p.get("required").and_then(Value::as_bool).unwrap_or(false),
            ));
        }
    }
    params
}

#[test]
fn every_documented_operation_travels_as_the_wire_table_says() {
    let doc = openapi_document();
    for wire in WIRE {
        let (item, op) = operation(&doc, wire);
        let id = wire.operation_id;
        assert_eq!(
            op["operationId"], id,
            "operationId on {} {}",
            wire.method, wire.path
        );
        assert_eq!(op["tags"], serde_json::json!([wire.tag]), "{id}: one tag");
        assert_eq!(
            op.get("x-kelviq-family")
                .map(|f| f.as_str().expect("a string")),
            wire.family,
            "{id}: x-kelviq-family"
        );
        assert!(
            op["summary"].is_string() && op["description"].is_string(),
            "{id}: summary and description"
        );

        let edge = item.get("servers").map(|servers| {
            servers
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["url"].as_str().unwrap().starts_with("https://edge."))
        });
        let host = if edge == Some(true) {
            Host::Edge
        } else {
            Host::Api
        };
        assert_eq!(host, wire.host, "{id}: host");

        let params = parameters(&doc, item, op);
        let path_params: BTreeSet<_> = params
            .iter()
            .filter(|p| p.1 == "path")
            .map(|p| p.0.clone())
            .collect();
        let expected_path: BTreeSet<_> = wire.path_params.iter().map(|s| s.to_string()).collect();
        assert_eq!(path_params, expected_path, "{id}: path parameters");
        assert!(
            params.iter().filter(|p| p.1 == "path").all(|p| p.2),
            "{id}: path parameters are required"
        );

        let (query, query_required) = names(wire.query);
        let got_query: BTreeSet<_> = params
            .iter()
            .filter(|p| p.1 == "query")
            .map(|p| p.0.clone())
            .collect();
        let got_query_required: BTreeSet<_> = params
            .iter()
            .filter(|p| p.1 == "query" && p.2)
            .map(|p| p.0.clone())
            .collect();
        assert_eq!(got_query, query, "{id}: query names");
        assert_eq!(
            got_query_required, query_required,
            "{id}: required query names"
        );

        let (body, body_required) = names(wire.body);
        match op.get("requestBody") {
            None => assert!(body.is_empty(), "{id}: a body is expected"),
            Some(request_body) => {
                let optional = OPTIONAL_BODIES.contains(&id);
                assert_eq!(
                    request_body["required"], !optional,
                    "{id}: the body is required (or, for {OPTIONAL_BODIES:?}, optional)"
                );
                let content = request_body["content"].as_object().unwrap();
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/json"],
                    "{id}: JSON only"
                );
                let schema = resolve(&doc, &content["application/json"]["schema"]);
                let got: BTreeSet<_> = schema["properties"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect();
                assert_eq!(got, body, "{id}: body field names");
                assert_eq!(
                    string_set(schema.get("required")),
                    body_required,
                    "{id}: required body fields"
                );
            }
        }

        // An operation without authentication (`security: []`) cannot answer 401 or 403.
        let public = op.get("security") == Some(&serde_json::json!([]));
        let statuses: &[&str] = if public {
            &["400", "429", "5XX"]
        } else {
            &["400", "401", "403", "429", "5XX"]
        };
        for status in statuses {
            assert!(
                op["responses"].get(*status).is_some(),
                "{id}: documents {status}"
            );
        }
        // Every error status shares the `ApiError` schema (progenitor takes one error type).
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let response = resolve(&doc, response);
                let schema = &response["content"]["application/json"]["schema"];
                assert_eq!(
                    schema["$ref"], "#/components/schemas/ApiError",
                    "{id}: {status} answers ApiError"
                );
            }
        }
    }
}

#[test]
fn families_and_their_authentication() {
    let doc = openapi_document();
    let mut counts = std::collections::BTreeMap::new();
    for wire in WIRE {
        let (_, op) = operation(&doc, wire);
        let id = wire.operation_id;
        if let Some(family) = wire.family {
            assert!(FAMILIES.contains(&family), "{id}: unknown family {family}");
        }
        *counts.entry(wire.family.unwrap_or("default")).or_insert(0) += 1;
        let security = op.get("security");
        match wire.family {
            // The partner key, in its own header, and nothing else.
            Some("partner") => assert_eq!(
                security,
                Some(&serde_json::json!([{"partnerKey": []}])),
                "{id}: partner operations use the partner key"
            ),
            // The organisation's bearer key (the document's default), except the public
            // download of a plan file.
            _ if id == "downloadCatalogPlanFile" => {
                assert_eq!(security, Some(&serde_json::json!([])), "{id}: public")
            }
            _ => assert!(security.is_none(), "{id}: the document's bearer security"),
        }
    }
    assert_eq!(counts.get("catalog"), Some(&32));
    assert_eq!(counts.get("partner"), Some(&4));
    assert_eq!(counts.get("admin"), Some(&7));
    let partner = &doc["components"]["securitySchemes"]["partnerKey"];
    assert_eq!(partner["type"], "apiKey");
    assert_eq!(partner["in"], "header");
    assert_eq!(partner["name"], "X-Kelviq-Partner-Key");
}

#[test]
fn the_document_has_no_operation_beyond_the_wire_table() {
    let doc = openapi_document();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                let id = op["operationId"].as_str().unwrap().to_owned();
                let wire = WIRE
                    .iter()
                    .find(|w| w.operation_id == id)
                    .unwrap_or_else(|| panic!("{method} {path} ({id}) is not in the wire table"));
                assert_eq!((wire.method, wire.path), (method.as_str(), path.as_str()));
                assert!(ids.insert(id), "operationIds are unique");
            }
        }
    }
    assert_eq!(ids.len(), WIRE.len());
}

#[test]
fn enums_hold_exactly_the_documented_values() {
    let doc = openapi_document();
    let schemas = &doc["components"]["schemas"];
    let expect = |name: &str, values: &[&str]| {
        let got = string_set(schemas[name].get("enum"));
        let want: BTreeSet<_> = values.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "enum {name}");
        assert_eq!(schemas[name]["type"], "string", "enum {name} is a string");
    };
    expect(
        "ChargePeriod",
        &[
            "ONE_TIME",
            "MONTHLY",
            "YEARLY",
            "WEEKLY",
            "DAILY",
            "THREE_MONTHS",
            "SIX_MONTHS",
            "TWENTY_EIGHT_DAYS",
        ],
    );
    expect("Behaviour", &["SET", "DELTA"]);
    expect(
        "CancellationType",
        &["IMMEDIATE", "CURRENT_PERIOD_ENDS", "SPECIFIC_DATE"],
    );
    expect(
        "ProrationBehavior",
        &["IMMEDIATE_CHARGE", "PRORATE_NEXT_INVOICE", "NO_PRORATION"],
    );
    expect("PaymentBehavior", &["activate_on_payment"]);
    expect("TaxBehavior", &["INCLUSIVE", "EXCLUSIVE"]);
    expect(
        "CancellationFeedback",
        &[
            "TOO_EXPENSIVE",
            "MISSING_FEATURES",
            "SWITCHED_SERVICE",
            "UNUSED",
            "CUSTOMER_SERVICE",
            "LOW_QUALITY",
            "TOO_COMPLEX",
            "OTHER",
        ],
    );
    expect(
        "RefundReason",
        &["DUPLICATE", "FRAUDULENT", "REQUESTED_BY_CUSTOMER", "OTHER"],
    );
    expect(
        "RefundStatus",
        &["PENDING", "PROCESSING", "SUCCEEDED", "FAILED", "CANCELED"],
    );
    expect("TransactionStatus", &["success", "failure", "pending"]);

    // The published reference's enums of what is sent (bodies and query parameters).
    expect(
        "OrderStatus",
        &[
            "PENDING",
            "COMPLETE",
            "FAILED",
            "REFUNDED",
            "PARTIAL_REFUND",
            "CANCELLED",
            "FRAUDULENT",
        ],
    );
    expect("BillingType", &["ONE_TIME", "SUBSCRIPTION"]);
    expect(
        "TaxCode",
        &[
            "saas",
            "saas_business",
            "software",
            "videocontent",
            "informationservice",
            "ebook",
            "digitalgraphic",
            "videogame",
            "eservice",
            "training",
        ],
    );
    expect("CatalogFeatureType", &["BOOLEAN", "CUSTOMIZABLE", "METER"]);
    expect("LicenseDurationUnit", &["DAY", "MONTH", "YEAR"]);
    expect("PriceType", &["FREE", "PAID", "CUSTOM"]);
    expect(
        "PriceTaxBehavior",
        &["INCLUSIVE", "EXCLUSIVE", "UNSPECIFIED"],
    );
    expect(
        "PriceModel",
        &["FLAT", "PACKAGE", "TIERED", "VOLUME", "STAIRSTEP"],
    );
    expect(
        "UsageReset",
        &[
            "NEVER",
            "EVERY_DAY",
            "EVERY_28_DAYS",
            "EVERY_MONTH",
            "EVERY_QUARTER",
            "EVERY_YEAR",
        ],
    );
    expect("PaymentType", &["ADVANCE_COMMITMENT", "PAY_AS_YOU_GO"]);
    expect("UsageAlertThresholdType", &["PERCENTAGE", "BALANCE"]);
    expect(
        "PlanChargePeriod",
        &["ONE_TIME", "DAILY", "MONTHLY", "QUARTERLY", "YEARLY"],
    );

    // What the service sends back stays open, so a new value never breaks a client.
    let feature_type = &schemas["Entitlement"]["properties"]["featureType"];
    assert_eq!(feature_type["type"], "string");
    assert!(
        feature_type.get("enum").is_none(),
        "featureType must stay an open string"
    );
    // Likewise the reference's enums on answers: the values are in the descriptions.
    for (schema, field) in [
        ("Order", "status"),
        ("Order", "billingType"),
        ("OrderEvent", "status"),
        ("CheckoutSessionEvent", "status"),
        ("CatalogProduct", "taxCode"),
        ("CatalogFeature", "featureType"),
        ("CatalogPlanPrice", "priceType"),
        ("CatalogPlanPrice", "taxBehavior"),
        ("CatalogPlanFeaturePrice", "priceModel"),
        ("CatalogPlanCharge", "chargePeriod"),
        ("PlanEntitlementDetails", "reset"),
        ("PlanLicense", "durationUnit"),
        ("PromotionWidget", "placement"),
    ] {
        let field_schema = &schemas[schema]["properties"][field];
        assert_eq!(field_schema["type"], "string", "{schema}.{field}");
        assert!(
            field_schema.get("enum").is_none(),
            "{schema}.{field} must stay an open string"
        );
    }
}

#[test]
fn formats_and_patterns_are_where_the_service_uses_them() {
    let doc = openapi_document();
    let s = &doc["components"]["schemas"];
    assert_eq!(
        s["CreateCustomerRequest"]["properties"]["email"]["format"],
        "email"
    );
    assert_eq!(
        s["UpdateCustomerRequest"]["properties"]["email"]["format"],
        "email"
    );
    assert_eq!(s["UpdateCustomerRequest"]["minProperties"], 1);
    assert_eq!(s["Customer"]["properties"]["id"]["format"], "uuid");
    // Always present, null when unset: required and nullable.
    assert!(string_set(s["Customer"].get("required")).contains("email"));
    assert_eq!(s["Customer"]["properties"]["email"]["nullable"], true);
    // The error schema does not shadow TypeScript's own `Error`.
    assert!(s.get("Error").is_none() && s.get("ApiError").is_some());
    assert_eq!(
        s["Customer"]["properties"]["createdOn"]["format"],
        "date-time"
    );
    assert_eq!(
        s["CancelSubscriptionRequest"]["properties"]["cancellation_date"]["format"],
        "date"
    );
    let pattern = s["ReportEventRequest"]["properties"]["timestamp"]["pattern"]
        .as_str()
        .unwrap();
    assert_eq!(
        pattern,
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$"
    );
    assert_eq!(s["FeatureQuantity"]["properties"]["quantity"]["minimum"], 1);

    // Formats of the published reference.
    for (schema, field, format) in [
        ("CatalogProduct", "id", "uuid"),
        // Behind a oneOf (name or object) that the comparison with the reference stops at.
        ("ProductSummary", "id", "uuid"),
        ("CatalogProduct", "modifiedOn", "date-time"),
        ("CatalogPlan", "product", "uuid"),
        ("CreateCatalogPlanRequest", "product", "uuid"),
        ("CatalogPlanEntitlementInput", "feature", "uuid"),
        ("CatalogProductSettings", "productUrl", "uri"),
        ("PresignedUpload", "url", "uri"),
        ("OrderList", "next", "uri"),
        ("Order", "paidAt", "date-time"),
        ("WebhookEventLog", "eventId", "uuid"),
        ("WebhookEventLog", "lastAttempt", "date-time"),
        ("PartnerOrganization", "organizationIdentifier", "uuid"),
        ("ProvisionPartnerOrganizationRequest", "email", "email"),
    ] {
        assert_eq!(
            s[schema]["properties"][field]["format"], format,
            "{schema}.{field}"
        );
    }
    // Sent as null when unknown: nullable.
    for (schema, field) in [
        ("WebhookEventLog", "statusCode"),
        ("Order", "paidAt"),
        ("CatalogProductSettings", "productUrl"),
        ("CatalogPlanFeaturePriceInput", "feature"),
        ("PartnerOrganization", "serverKey"),
    ] {
        assert_eq!(
            s[schema]["properties"][field]["nullable"], true,
            "{schema}.{field}"
        );
    }
}

#[test]
fn servers_and_security_name_every_environment() {
    let doc = openapi_document();
    let urls = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["url"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        urls(&doc["servers"]),
        [
            "https://api.kelviq.com",
            "https://sandboxapi.kelviq.com",
            "https://stagingapi.kelviq.com"
        ]
    );
    for edge_path in ["/api/v1/entitlements", "/api/v1/promotions"] {
        assert_eq!(
            urls(&doc["paths"][edge_path]["servers"]),
            [
                "https://edge.api.kelviq.com",
                "https://edge.sandboxapi.kelviq.com",
                "https://edge.stagingapi.kelviq.com"
            ],
            "{edge_path}"
        );
        assert_eq!(
            doc["paths"][edge_path]["x-kelviq-host"], "edge",
            "{edge_path}"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], serde_json::json!([{"bearerAuth": []}]));
    let rate_limited = &doc["components"]["responses"]["TooManyRequests"];
    assert!(rate_limited["headers"].get("Retry-After").is_some());
}
