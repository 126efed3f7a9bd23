//! Webhooks: verifying what Kelviq sends to your endpoint, reading it as a typed event, and
//! keeping entitlements in step with it. Needs no client.
//!
//! Kelviq signs each delivery with the endpoint's secret (`kq_whsec_…`, used whole as the
//! HMAC key): `webhook-signature: v1,<hex>` is HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{raw body}`. [`Webhook::verify`] checks it in constant
//! time, accepts a header carrying several signatures (space-separated, as during a secret
//! rotation) when any one matches, and refuses a timestamp more than the tolerance (5
//! minutes unless set) away from now, so that a captured delivery cannot be replayed later.
//!
//! ```
//! use kelviq::webhooks::{EventKind, Webhook};
//!
//! let webhook = Webhook::new("kq_whsec_test_secret");
//! // What Kelviq would send (signed here the way it signs):
//! // (the object as Kelviq's guide shows it: `customer_id` is Kelviq's UUID for the customer,
//! // the embedded customer's `customer_id` your identifier)
//! let body = br#"{"id":"evt_1","type":"checkout.completed","created_at":"2025-06-01T10:00:00Z","data":{"object":{"object":"checkout_session","customer_id":"936cf361-3a4b-454c-a464-41ccc7600c2d","customer":{"id":"936cf361-3a4b-454c-a464-41ccc7600c2d","customer_id":"cust_1"}}}}"#;
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
//! let signature = webhook.sign("evt_1", now, body);
//!
//! let mut headers = http::HeaderMap::new();
//! headers.insert("webhook-id", "evt_1".parse().unwrap());
//! headers.insert("webhook-timestamp", now.to_string().parse().unwrap());
//! headers.insert("webhook-signature", signature.parse().unwrap());
//! let event = webhook.verify(&headers, body)?;
//! assert_eq!(event.kind, EventKind::CheckoutCompleted);
//! assert_eq!(event.customer_id(), Some("cust_1"));
//! # Ok::<(), kelviq::webhooks::WebhookError>(())
//! ```
//!
//! Deliveries are retried, so one event may arrive more than once: [`Deduplicator`] says
//! whether a `webhook-id` was seen before. [`Client::apply_webhook`](crate::Client::apply_webhook)
//! retires the cached entitlements an event changes, so that the next `has_access` asks the
//! service.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The tolerance Kelviq's guide recommends between a delivery's timestamp and now.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

const ID_HEADER: &str = "webhook-id";
const TIMESTAMP_HEADER: &str = "webhook-timestamp";
const SIGNATURE_HEADER: &str = "webhook-signature";

/// Verifies deliveries to one webhook endpoint. Cheap to clone; its `Debug` never shows
/// the secret.
#[derive(Clone)]
pub struct Webhook {
    secret: Vec<u8>,
    tolerance: Duration,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("secret", &"<redacted>")
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

/// Why a delivery was refused. Each cause is its own variant; a changed body and a wrong
/// secret are both [`SignatureMismatch`](WebhookError::SignatureMismatch), as no signature
/// can tell them apart.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// A header Kelviq always sends is absent.
    MissingHeader(&'static str),
    /// A header is present but not in Kelviq's form.
    MalformedHeader {
        /// The header.
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The timestamp is further from now than the tolerance: an old delivery replayed, or a
    /// clock far off.
    TimestampOutsideTolerance {
        /// How far from now it is.
        skew: Duration,
        /// The tolerance.
        tolerance: Duration,
    },
    /// No signature in the header matches the body and the secret: the body was changed,
    /// or the secret is not this endpoint's.
    SignatureMismatch,
    /// The signature matched but the body is not a Kelviq event (or its `id` is not the
    /// `webhook-id`).
    MalformedBody(String),
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookError::MissingHeader(header) => write!(f, "webhook: missing header {header}"),
            WebhookError::MalformedHeader { header, reason } => {
                write!(f, "webhook: malformed header {header}: {reason}")
            }
            WebhookError::TimestampOutsideTolerance { skew, tolerance } => write!(
                f,
                "webhook: timestamp {}s from now, beyond the tolerance of {}s",
                skew.as_secs(),
                tolerance.as_secs()
            ),
            WebhookError::SignatureMismatch => f.write_str(
                "webhook: no signature matches the body: it was changed, or the secret is not this endpoint's",
            ),
            WebhookError::MalformedBody(reason) => write!(f, "webhook: malformed body: {reason}"),
        }
    }
}

impl std::error::Error for WebhookError {}

impl Webhook {
    /// A verifier for the endpoint whose secret is `secret` (as Kelviq shows it, whole).
    pub fn new(secret: impl Into<String>) -> Self {
        Self {
            secret: secret.into().into_bytes(),
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// How far a delivery's timestamp may be from now (5 minutes by default).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies a delivery from its headers and its raw body (the bytes as received: parsing
    /// and re-serialising the JSON first would change them).
    pub fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        let header = |name: &'static str| -> Result<&str, WebhookError> {
            let value = headers.get(name).ok_or(WebhookError::MissingHeader(name))?;
            value.to_str().map_err(|_| WebhookError::MalformedHeader {
                header: name,
                reason: "not visible ASCII".into(),
            })
        };
        self.verify_parts(
            header(ID_HEADER)?,
            header(TIMESTAMP_HEADER)?,
            header(SIGNATURE_HEADER)?,
            body,
        )
    }

    /// Verifies a delivery from the values of its three headers, for frameworks that do not
    /// use [`http::HeaderMap`].
    pub fn verify_parts(
        &self,
        id: &str,
        timestamp: &str,
        signature: &str,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        self.verify_at(id, timestamp, signature, body, SystemTime::now())
    }

    fn verify_at(
        &self,
        id: &str,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<WebhookEvent, WebhookError> {
        if id.trim().is_empty() {
            return Err(WebhookError::MissingHeader(ID_HEADER));
        }
        let seconds: u64 = timestamp
            .trim()
            .parse()
            .map_err(|_| WebhookError::MalformedHeader {
                header: TIMESTAMP_HEADER,
                reason: format!("{timestamp:?} is not Unix seconds"),
            })?;
        let sent = UNIX_EPOCH + Duration::from_secs(seconds);
        let skew = match now.duration_since(sent) {
            Ok(age) => age,
            Err(ahead) => ahead.duration(),
        };
        let signatures = parse_signatures(signature)?;
        // The signature first: a forged delivery learns nothing from the timestamp check.
        let mut mac = self.mac();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.trim().as_bytes());
        mac.update(b".");
        mac.update(body);
        let matched = signatures
            .iter()
            .any(|candidate| mac.clone().verify_slice(candidate).is_ok());
        if !matched {
            return Err(WebhookError::SignatureMismatch);
        }
        if skew > self.tolerance {
            return Err(WebhookError::TimestampOutsideTolerance {
                skew,
                tolerance: self.tolerance,
            });
        }
        WebhookEvent::from_body(id, body)
    }

    /// The `webhook-signature` value Kelviq sends for this delivery (`v1,<hex>`): for tests
    /// and emulators that send deliveries of their own.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", hex::encode(mac.finalize().into_bytes()))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length: this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!())
    }
}

/// The signatures of a `webhook-signature` header: `v1,<hex>`, several separated by spaces.
/// Versions other than `v1` are skipped (a later scheme may be sent beside it).
fn parse_signatures(header: &str) -> Result<Vec<Vec<u8>>, WebhookError> {
    let malformed = |reason: String| WebhookError::MalformedHeader {
        header: SIGNATURE_HEADER,
        reason,
    };
    let mut signatures = Vec::new();
    for part in header.split_whitespace() {
        let (version, value) = part
            .split_once(',')
            .ok_or_else(|| malformed(format!("{part:?} is not <version>,<signature>")))?;
        if version != "v1" {
            continue;
        }
        let bytes = hex::decode(value).map_err(|_| malformed(format!("{value:?} is not hex")))?;
        signatures.push(bytes);
    }
    if signatures.is_empty() {
        return Err(malformed("no v1 signature".into()));
    }
    Ok(signatures)
}

/// The type of a webhook event. Open: a type Kelviq adds later is kept as
/// [`EventKind::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// `checkout.completed`: a customer paid a checkout (carries the checkout's `metadata`).
    CheckoutCompleted,
    /// `customer.created`
    CustomerCreated,
    /// `customer.updated`
    CustomerUpdated,
    /// `order.created`
    OrderCreated,
    /// `order.updated`
    OrderUpdated,
    /// `order.refunded`
    OrderRefunded,
    /// `subscription.created`
    SubscriptionCreated,
    /// `subscription.updated`
    SubscriptionUpdated,
    /// `subscription.cancelled`
    SubscriptionCancelled,
    /// `subscription.plan_changed`
    SubscriptionPlanChanged,
    /// `feature.usage_alert`
    FeatureUsageAlert,
    /// `invoice.created`
    InvoiceCreated,
    /// `invoice.paid`
    InvoicePaid,
    /// `invoice.payment_failed`
    InvoicePaymentFailed,
    /// `refund.created`
    RefundCreated,
    /// `refund.updated`
    RefundUpdated,
    /// `payment_method.created`: a payment method was added for a customer.
    PaymentMethodCreated,
    /// `payment_method.updated`: a payment method's status or default state changed.
    PaymentMethodUpdated,
    /// `payment_method.deleted`: a payment method was removed from a customer.
    PaymentMethodDeleted,
    /// A type this version of the SDK does not know, as Kelviq spelled it.
    Other(String),
}

const KINDS: &[(&str, EventKind)] = &[
    ("checkout.completed", EventKind::CheckoutCompleted),
    ("customer.created", EventKind::CustomerCreated),
    ("customer.updated", EventKind::CustomerUpdated),
    ("order.created", EventKind::OrderCreated),
    ("order.updated", EventKind::OrderUpdated),
    ("order.refunded", EventKind::OrderRefunded),
    ("subscription.created", EventKind::SubscriptionCreated),
    ("subscription.updated", EventKind::SubscriptionUpdated),
    ("subscription.cancelled", EventKind::SubscriptionCancelled),
    (
        "subscription.plan_changed",
        EventKind::SubscriptionPlanChanged,
    ),
    ("feature.usage_alert", EventKind::FeatureUsageAlert),
    ("invoice.created", EventKind::InvoiceCreated),
    ("invoice.paid", EventKind::InvoicePaid),
    ("invoice.payment_failed", EventKind::InvoicePaymentFailed),
    ("refund.created", EventKind::RefundCreated),
    ("refund.updated", EventKind::RefundUpdated),
    ("payment_method.created", EventKind::PaymentMethodCreated),
    ("payment_method.updated", EventKind::PaymentMethodUpdated),
    ("payment_method.deleted", EventKind::PaymentMethodDeleted),
];

impl EventKind {
    /// The type as Kelviq spells it.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::Other(other) => other,
            known => KINDS
                .iter()
                .find(|(_, kind)| kind == known)
                .map_or("", |(name, _)| name),
        }
    }

    /// Whether an event of this type can change what a customer is entitled to: a
    /// purchase, a subscription created, changed, moved to another plan or cancelled.
    pub fn changes_entitlements(&self) -> bool {
        matches!(
            self,
            EventKind::CheckoutCompleted
                | EventKind::SubscriptionCreated
                | EventKind::SubscriptionUpdated
                | EventKind::SubscriptionCancelled
                | EventKind::SubscriptionPlanChanged
                | EventKind::OrderCreated
                | EventKind::OrderRefunded
        )
    }
}

impl From<&str> for EventKind {
    fn from(name: &str) -> Self {
        KINDS.iter().find(|(known, _)| *known == name).map_or_else(
            || EventKind::Other(name.to_owned()),
            |(_, kind)| kind.clone(),
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verified webhook event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event's id, equal to the `webhook-id` header: the key to deduplicate on.
    pub id: String,
    /// Its type.
    pub kind: EventKind,
    /// When Kelviq created it, as Kelviq wrote it.
    pub created_at: Option<String>,
    /// The object the event is about (a checkout, a subscription, a customer, …).
    pub object: Value,
    /// For `*.updated` events, the fields that changed, with their old values.
    pub previous_attributes: Option<Value>,
}

impl WebhookEvent {
    fn from_body(id: &str, body: &[u8]) -> Result<Self, WebhookError> {
        let malformed = |reason: String| WebhookError::MalformedBody(reason);
        let body: Value = serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
        let body_id = text("id").ok_or_else(|| malformed("no `id`".into()))?;
        if body_id != id {
            return Err(malformed(format!(
                "its id {body_id:?} is not the webhook-id {id:?}"
            )));
        }
        let kind = text("type").ok_or_else(|| malformed("no `type`".into()))?;
        let data = body
            .get("data")
            .ok_or_else(|| malformed("no `data`".into()))?;
        Ok(Self {
            id: body_id,
            kind: EventKind::from(kind.as_str()),
            created_at: text("created_at"),
            object: data.get("object").cloned().unwrap_or(Value::Null),
            previous_attributes: data.get("previous_attributes").cloned(),
        })
    }

    /// The customer the event is about, as your application identifies it, when the object
    /// names one: the embedded `customer` object's `customer_id` (or `customerId`) first,
    /// then the object's own `customerId` or `customer_id`, or a `customer` given as a
    /// string.
    ///
    /// The embedded customer comes first because in the guide's checkout, order and
    /// invoice payloads the object's own `customer_id` is Kelviq's id for the customer (a
    /// UUID, equal to `customer.id`), not the identifier entitlements are checked with.
    pub fn customer_id(&self) -> Option<&str> {
        let object = &self.object;
        let embedded = match object.get("customer") {
            Some(Value::Object(customer)) => customer
                .get("customer_id")
                .or_else(|| customer.get("customerId"))
                .and_then(Value::as_str),
            _ => None,
        };
        embedded
            .or_else(|| {
                object
                    .get("customerId")
                    .or_else(|| object.get("customer_id"))
                    .and_then(Value::as_str)
            })
            .or_else(|| match object.get("customer") {
                Some(Value::String(id)) => Some(id.as_str()),
                _ => None,
            })
    }
}

/// Remembers the ids of recent deliveries, so that a retried delivery is handled once.
/// Bounded: it keeps at most `capacity` ids, each for at most `ttl`.
///
/// ```
/// let seen = kelviq::webhooks::Deduplicator::new(10_000, std::time::Duration::from_secs(3600));
/// assert!(seen.first_delivery("evt_1"));
/// assert!(!seen.first_delivery("evt_1"), "a retry of the same event");
/// ```
#[derive(Debug)]
pub struct Deduplicator {
    seen: Mutex<Seen>,
    capacity: usize,
    ttl: Duration,
}

#[derive(Debug, Default)]
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<(Instant, String)>,
}

impl Deduplicator {
    /// Keeps at most `capacity` ids, each for at most `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            seen: Mutex::default(),
            capacity: capacity.max(1),
            ttl,
        }
    }

    /// True the first time `id` is offered (within the bounds), false on a repeat.
    pub fn first_delivery(&self, id: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while let Some((at, _)) = seen.order.front() {
            if now.duration_since(*at) <= self.ttl && seen.order.len() < self.capacity {
                break;
            }
            if let Some((_, old)) = seen.order.pop_front() {
                seen.ids.remove(&old);
            }
        }
        if seen.ids.contains(id) {
            return false;
        }
        seen.ids.insert(id.to_owned());
        seen.order.push_back((now, id.to_owned()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","type":"subscription.plan_changed","created_at":"2025-06-01T10:00:00Z","data":{"object":{"id":"sub_1","customer":{"customerId":"cust_9"}},"previous_attributes":{"plan":"basic"}}}"#;

    fn now() -> (SystemTime, String) {
        let now = SystemTime::now();
        let seconds = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        (now, seconds.to_string())
    }

    #[test]
    fn a_valid_signature_passes_and_the_event_is_typed() {
        let webhook = Webhook::new("kq_whsec_abc");
        let (now, ts) = now();
        let signature = webhook.sign("evt_1", ts.parse().unwrap(), BODY);
        let event = webhook
            .verify_at("evt_1", &ts, &signature, BODY, now)
            .unwrap();
        assert_eq!(event.kind, EventKind::SubscriptionPlanChanged);
        assert_eq!(event.customer_id(), Some("cust_9"));
        assert_eq!(event.previous_attributes.unwrap()["plan"], "basic");
        assert!(event.kind.changes_entitlements());
    }

    #[test]
    fn each_cause_of_refusal_is_its_own_error() {
        let webhook = Webhook::new("kq_whsec_abc");
        let (now, ts) = now();
        let good = webhook.sign("evt_1", ts.parse().unwrap(), BODY);
        let changed = BODY
            .to_vec()
            .into_iter()
            .map(|b| if b == b'9' { b'8' } else { b })
            .collect::<Vec<_>>();
        assert_eq!(
            webhook.verify_at("evt_1", &ts, &good, &changed, now),
            Err(WebhookError::SignatureMismatch)
        );
        let other = Webhook::new("kq_whsec_other").sign("evt_1", ts.parse().unwrap(), BODY);
        assert_eq!(
            webhook.verify_at("evt_1", &ts, &other, BODY, now),
            Err(WebhookError::SignatureMismatch)
        );
        let old_ts = (ts.parse::<u64>().unwrap() - 360).to_string();
        let old = webhook.sign("evt_1", old_ts.parse().unwrap(), BODY);
        assert!(matches!(
            webhook.verify_at("evt_1", &old_ts, &old, BODY, now),
            Err(WebhookError::TimestampOutsideTolerance { skew, .. }) if skew.as_secs() == 360
        ));
        assert!(matches!(
            webhook.verify_at("evt_1", &ts, "v1:abc", BODY, now),
            Err(WebhookError::MalformedHeader {
                header: "webhook-signature",
                ..
            })
        ));
        assert!(matches!(
            webhook.verify_at("evt_1", "yesterday", &good, BODY, now),
            Err(WebhookError::MalformedHeader {
                header: "webhook-timestamp",
                ..
            })
        ));
        assert_eq!(
            webhook.verify(&http::HeaderMap::new(), BODY),
            Err(WebhookError::MissingHeader("webhook-id"))
        );
    }

    #[test]
    fn one_valid_signature_among_several_is_enough() {
        let webhook = Webhook::new("kq_whsec_abc");
        let (now, ts) = now();
        let good = webhook.sign("evt_1", ts.parse().unwrap(), BODY);
        let stale = Webhook::new("kq_whsec_rotated").sign("evt_1", ts.parse().unwrap(), BODY);
        let header = format!("{stale} v2,ignored {good}");
        assert!(webhook.verify_at("evt_1", &ts, &header, BODY, now).is_ok());
    }

    /// The guide's `order.created` example (kelviq/docs `guides/webhooks.mdx`): the
    /// object's `customer_id` is Kelviq's UUID for the customer; the application's
    /// identifier is the embedded customer's.
    #[test]
    fn the_customer_is_the_embedded_customers_identifier_not_kelviqs_uuid() {
        let event = WebhookEvent {
            id: "evt_1".into(),
            kind: EventKind::OrderCreated,
            created_at: None,
            object: serde_json::json!({
                "id": "ORD-20260401173639-H8IO7",
                "object": "order",
                "customer_id": "936cf361-3a4b-454c-a464-41ccc7600c2d",
                "customer": {
                    "id": "936cf361-3a4b-454c-a464-41ccc7600c2d",
                    "customer_id": "geo-jacob",
                },
            }),
            previous_attributes: None,
        };
        assert_eq!(event.customer_id(), Some("geo-jacob"));
        let bare = WebhookEvent {
            object: serde_json::json!({"customer": "cust_2"}),
            ..event.clone()
        };
        assert_eq!(bare.customer_id(), Some("cust_2"));
        let own = WebhookEvent {
            object: serde_json::json!({"object": "customer", "customer_id": "cust_3"}),
            ..event
        };
        assert_eq!(own.customer_id(), Some("cust_3"));
    }

    #[test]
    fn an_unknown_type_is_kept() {
        assert_eq!(
            EventKind::from("payout.paid"),
            EventKind::Other("payout.paid".into())
        );
        assert_eq!(EventKind::from("refund.updated").as_str(), "refund.updated");
    }

    /// Every type the published guide lists (kelviq/docs `guides/webhooks.mdx`, commit
    /// 4d0fe849b599605ea04f9d662e5a2554422cdb7e, its "Event Types" table) is typed, and
    /// spelled back as the guide spells it.
    #[test]
    fn every_type_the_guide_lists_is_typed() {
        let guide = [
            "checkout.completed",
            "customer.created",
            "customer.updated",
            "order.created",
            "order.updated",
            "order.refunded",
            "subscription.created",
            "subscription.updated",
            "subscription.cancelled",
            "subscription.plan_changed",
            "feature.usage_alert",
            "invoice.created",
            "invoice.paid",
            "invoice.payment_failed",
            "refund.created",
            "refund.updated",
            "payment_method.created",
            "payment_method.updated",
            "payment_method.deleted",
        ];
        for name in guide {
            let kind = EventKind::from(name);
            assert!(!matches!(kind, EventKind::Other(_)), "{name} is not typed");
            assert_eq!(kind.as_str(), name);
        }
        assert_eq!(KINDS.len(), guide.len(), "a type the guide does not list");
    }

    #[test]
    fn the_secret_never_shows_in_debug() {
        assert!(!format!("{:?}", Webhook::new("kq_whsec_abc")).contains("abc"));
    }
}
