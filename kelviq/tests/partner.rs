//! The partner operations on the wire, against a small server answering the document's
//! examples: the method, the path (the external identifier percent-encoded as one segment),
//! the query, the body, and the credential (`X-Kelviq-Partner-Key`, and no
//! `Authorization`); the typed answer; the partner key and the organisation's server key
//! kept out of `Debug` and errors; input refused before anything is sent. Both clients.
//! Then the same operations against the emulator, end to end.

#![cfg(all(feature = "partner", feature = "blocking"))]

use std::future::Future;
use std::sync::{Arc, Mutex};

use kelviq::partner::PartnerKey;
use kelviq::{ErrorKind, Kelviq, RetryPolicy};
use serde_json::{json, Value};

const ORG_ID: &str = "8e1d7b1a-6c4d-4e3a-9b2d-3f6e4c2b1ad0";
const PARTNER_SECRET: &str = "kvqp_live_s3cr3t_partner_key";
const API_KEY: &str = "sk_test_partner_wire";

/// One request as the server received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    /// As it came, percent-encoding and all.
    path: String,
    query: Option<String>,
    partner_key: Option<String>,
    authorization: Option<String>,
    body: Option<Value>,
}

type Answer = dyn Fn(&Recorded) -> (u16, Value) + Send + Sync;
type Log = Arc<Mutex<Vec<Recorded>>>;

/// A server on a free loopback port, on its own runtime, that records every request and
/// answers what `answer` says.
struct Server {
    base: String,
    log: Log,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    fn start(answer: impl Fn(&Recorded) -> (u16, Value) + Send + Sync + 'static) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Log::default();
        let answer: Arc<Answer> = Arc::new(answer);
        let app = axum::Router::new()
            .fallback(handle)
            .with_state((log.clone(), answer));
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            log,
            runtime: Some(runtime),
        }
    }

    fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    fn client(&self) -> kelviq::Client {
        Kelviq::builder(API_KEY)
            .api_base_url(&self.base)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap()
    }

    fn blocking(&self) -> kelviq::blocking::Client {
        Kelviq::builder(API_KEY)
            .api_base_url(&self.base)
            .retry_policy(RetryPolicy::none())
            .build_blocking()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn handle(
    axum::extract::State((log, answer)): axum::extract::State<(Log, Arc<Answer>)>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        partner_key: header("x-kelviq-partner-key"),
        authorization: header("authorization"),
        body: (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).unwrap()),
    };
    let (status, body) = answer(&recorded);
    log.lock().unwrap().push(recorded);
    let mut response = axum::Json(body).into_response();
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    response
}

fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The one request received: `method path`, authenticated with the partner key alone.
#[track_caller]
fn only(server: &Server, method: &str, path: &str) -> Recorded {
    let requests = server.take();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = requests.into_iter().next().unwrap();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        (method, path)
    );
    assert_eq!(request.partner_key.as_deref(), Some(PARTNER_SECRET));
    assert_eq!(
        request.authorization, None,
        "the organisation's API key is not sent to partner operations"
    );
    request
}

/// The document's example.
fn organisation() -> Value {
    json!({
        "userId": 4271,
        "organizationIdentifier": ORG_ID,
        "organizationSlug": "acme-corp",
        "clientKey": "ck_live_a1b2c3d4e5f6",
        "serverKey": "sk_live_9z8y7x6w5v4u",
        "partnerExternalId": "acme-corp"
    })
}

fn key() -> PartnerKey {
    PartnerKey::new(PARTNER_SECRET).unwrap()
}

#[test]
fn an_organisation_is_provisioned_with_the_partner_key_alone() {
    let server = Server::start(|_| (201, organisation()));
    let client = server.client();
    let key = key();
    let org = run(client
        .partner(&key)
        .organizations()
        .provision("acme-corp", "owner@acme.example.com")
        .business_name("Acme Corp")
        .send())
    .unwrap();
    let request = only(&server, "POST", "/api/v1/partner/organizations/");
    assert_eq!(
        request.body,
        Some(json!({
            "externalId": "acme-corp",
            "email": "owner@acme.example.com",
            "businessName": "Acme Corp"
        }))
    );
    assert_eq!(org.organization_id, ORG_ID);
    assert_eq!(org.user_id, Some(4271));
    assert_eq!(org.organization_slug.as_deref(), Some("acme-corp"));
    assert_eq!(org.client_key.as_deref(), Some("ck_live_a1b2c3d4e5f6"));
    assert_eq!(org.server_key.as_deref(), Some("sk_live_9z8y7x6w5v4u"));
    assert_eq!(org.external_id.as_deref(), Some("acme-corp"));
    // Serialised, the server key is kept (to be stored); in Debug it is not shown.
    assert_eq!(
        serde_json::to_value(&org).unwrap()["server_key"],
        "sk_live_9z8y7x6w5v4u"
    );
    let debug = format!("{org:?}");
    assert!(!debug.contains("sk_live_9z8y7x6w5v4u"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");

    // Without a business name, the body has none.
    run(client
        .partner(&key)
        .organizations()
        .provision("acme-corp", "owner@acme.example.com")
        .send())
    .unwrap();
    let request = only(&server, "POST", "/api/v1/partner/organizations/");
    assert_eq!(
        request.body,
        Some(json!({"externalId": "acme-corp", "email": "owner@acme.example.com"}))
    );
}

#[test]
fn organisations_are_listed_and_read_by_uuid_and_by_external_id() {
    let server = Server::start(|request| match request.path.as_str() {
        "/api/v1/partner/organizations/" => (200, json!({"results": [organisation()], "count": 1})),
        _ => (200, organisation()),
    });
    let client = server.client();
    let key = key();
    let organizations = client.partner(&key).organizations();

    let all = run(organizations.list().send()).unwrap();
    let request = only(&server, "GET", "/api/v1/partner/organizations/");
    assert_eq!(request.query, None);
    assert_eq!(all.count, 1);
    assert_eq!(all.results[0].organization_id, ORG_ID);

    run(organizations.list().external_id("acme corp").send()).unwrap();
    let request = only(&server, "GET", "/api/v1/partner/organizations/");
    assert_eq!(request.query.as_deref(), Some("external_id=acme+corp"));

    let org = run(organizations.retrieve(ORG_ID).send()).unwrap();
    only(
        &server,
        "GET",
        &format!("/api/v1/partner/organizations/{ORG_ID}/"),
    );
    assert_eq!(org.external_id.as_deref(), Some("acme-corp"));

    // One percent-encoded segment, whatever it holds.
    let response = run(organizations
        .retrieve_by_external_id("acme/corp ü?")
        .send_with_response())
    .unwrap();
    only(
        &server,
        "GET",
        "/api/v1/partner/organizations/by-external-id/acme%2Fcorp%20%C3%BC%3F/",
    );
    assert_eq!(response.raw().unwrap().status(), 200);
    assert_eq!(response.value().organization_id, ORG_ID);
}

#[test]
fn the_blocking_client_reads_the_same_answers() {
    let server = Server::start(|request| match request.method.as_str() {
        "POST" => (201, organisation()),
        _ if request.path == "/api/v1/partner/organizations/" => {
            (200, json!({"results": [organisation()], "count": 1}))
        }
        _ => (200, organisation()),
    });
    let client = server.blocking();
    let key = key();
    let organizations = client.partner(&key).organizations();
    let org = organizations
        .provision("acme-corp", "owner@acme.example.com")
        .send()
        .unwrap();
    only(&server, "POST", "/api/v1/partner/organizations/");
    assert_eq!(org.organization_id, ORG_ID);
    assert_eq!(organizations.list().send().unwrap().count, 1);
    only(&server, "GET", "/api/v1/partner/organizations/");
    assert_eq!(
        organizations
            .retrieve(ORG_ID)
            .send()
            .unwrap()
            .organization_id,
        ORG_ID
    );
    only(
        &server,
        "GET",
        &format!("/api/v1/partner/organizations/{ORG_ID}/"),
    );
    organizations
        .retrieve_by_external_id("acme-corp")
        .send()
        .unwrap();
    only(
        &server,
        "GET",
        "/api/v1/partner/organizations/by-external-id/acme-corp/",
    );
}

#[test]
fn errors_carry_the_documents_body_and_never_the_partner_key() {
    let server = Server::start(|request| match request.method.as_str() {
        "POST" => (
            409,
            json!({"detail": "An account with this email already exists."}),
        ),
        _ => (404, json!({"detail": "Not found."})),
    });
    let client = server.client();
    let key = key();
    let organizations = client.partner(&key).organizations();

    let error = run(organizations
        .provision("acme-corp", "owner@acme.example.com")
        .send())
    .unwrap_err();
    server.take();
    assert_eq!(error.status(), Some(http::StatusCode::CONFLICT));
    assert_eq!(
        error.body().and_then(|b| b.detail()),
        Some("An account with this email already exists.")
    );
    let error = run(organizations.retrieve(ORG_ID).send()).unwrap_err();
    server.take();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    for shown in [
        format!("{error}"),
        format!("{error:?}"),
        format!("{key:?}"),
        format!("{organizations:?}"),
        format!("{:?}", organizations.list()),
    ] {
        assert!(!shown.contains(PARTNER_SECRET), "{shown}");
    }
}

#[track_caller]
fn assert_refused<T: std::fmt::Debug>(
    call: impl Future<Output = kelviq::Result<T>>,
    field: &str,
    value: &str,
) {
    match run(call) {
        Err(error) if error.kind() == ErrorKind::Validation => {
            assert!(
                error.to_string().starts_with("partner."),
                "names the operation: {error}"
            );
            let rule = error.validation().unwrap();
            assert_eq!((rule.field(), rule.value()), (field, value), "{rule}");
            assert!(!rule.expected().is_empty());
        }
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
}

#[test]
fn bad_input_is_refused_and_nothing_is_sent() {
    let server = Server::start(|_| (500, json!({})));
    let client = server.client();
    let key = key();
    let organizations = client.partner(&key).organizations();

    for id in ["", ".", ".."] {
        assert_refused(
            organizations.retrieve_by_external_id(id).send(),
            "external_id",
            id,
        );
    }
    assert_refused(
        organizations.retrieve("acme").send(),
        "organization_id",
        "acme",
    );
    assert_refused(
        organizations.list().external_id("").send(),
        "external_id",
        "",
    );
    assert_refused(
        organizations.provision("", "owner@example.com").send(),
        "external_id",
        "",
    );
    let long = "x".repeat(129);
    assert_refused(
        organizations
            .provision(long.as_str(), "owner@example.com")
            .send(),
        "external_id",
        &long,
    );
    assert_refused(
        organizations.provision("acme", "not an address").send(),
        "email",
        "not an address",
    );
    let long = "n".repeat(201);
    assert_refused(
        organizations
            .provision("acme", "owner@example.com")
            .business_name(long.as_str())
            .send(),
        "business_name",
        &long,
    );
    assert!(server.take().is_empty(), "nothing was sent");

    // A key a header cannot carry is refused without being repeated.
    for bad in ["", "kvqp with space", "kvqp_\u{e9}", "kvqp_\n"] {
        let error = PartnerKey::new(bad).unwrap_err();
        assert_eq!(error.field(), "partner_key");
        assert!(
            bad.is_empty() || !error.to_string().contains(bad),
            "{error}"
        );
        assert_eq!(error.value(), "<not shown>");
    }
}

#[test]
fn against_the_emulator_organisations_are_provisioned_and_read_back() {
    run(async {
        let server = kelviq_mock::MockServer::start().await.unwrap();
        let client = Kelviq::builder(API_KEY)
            .api_base_url(server.url())
            .build()
            .unwrap();
        let key = key();
        let organizations = client.partner(&key).organizations();
        let acme = organizations
            .provision("acme/corp", "owner@acme.example.com")
            .business_name("Acme Corp")
            .send()
            .await
            .unwrap();
        assert_eq!(acme.organization_slug.as_deref(), Some("acme-corp"));
        assert_eq!(acme.external_id.as_deref(), Some("acme/corp"));

        let read = organizations
            .retrieve_by_external_id("acme/corp")
            .send()
            .await
            .unwrap();
        assert_eq!(read, acme);
        let read = organizations
            .retrieve(acme.organization_id.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(read, acme);
        let list = organizations.list().send().await.unwrap();
        assert_eq!((list.count, list.results), (1, vec![acme.clone()]));

        let again = organizations
            .provision("other", "owner@acme.example.com")
            .send()
            .await
            .unwrap_err();
        assert_eq!(again.status(), Some(http::StatusCode::CONFLICT));

        // Another partner sees none of it.
        let other = PartnerKey::new("kvqp_other").unwrap();
        let error = client
            .partner(&other)
            .organizations()
            .retrieve(acme.organization_id.as_str())
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);

        // The emulator saw the partner key and no API key on these calls.
        let logged = server.requests();
        let partner_calls: Vec<_> = logged
            .iter()
            .filter(|r| r.path.starts_with("/api/v1/partner/"))
            .collect();
        assert_eq!(partner_calls.len(), 6);
        for request in partner_calls {
            assert!(
                !request.headers.contains_key("authorization"),
                "{request:?}"
            );
        }
    });
}

#[test]
fn reads_are_retried_and_provisioning_is_never_resent() {
    let server = Server::start(|_| (503, json!({"detail": "Internal server error."})));
    let client = server.client();
    let key = key();
    let organizations = client.partner(&key).organizations();
    let retrying = RetryPolicy::default()
        .max_retries(2)
        .initial_backoff(std::time::Duration::from_millis(1));

    let error = run(organizations.list().retry_policy(retrying).send()).unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    let sent = server.take();
    assert_eq!(sent.len(), 3, "a read is retried: {sent:#?}");
    assert!(sent
        .iter()
        .all(|r| r.partner_key.as_deref() == Some(PARTNER_SECRET) && r.authorization.is_none()));

    run(organizations
        .provision("acme-corp", "owner@acme.example.com")
        .retry_policy(retrying)
        .send())
    .unwrap_err();
    assert_eq!(
        server.take().len(),
        1,
        "a provision may have been applied: not resent"
    );
}
