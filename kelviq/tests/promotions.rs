//! Promotion lookup (`getPromotion`) on the wire: asked of the edge host, not the API host,
//! at `/api/v1/promotions` (no trailing slash) with `promotion_id` in the query, with the
//! Client API Key as the bearer when one is given; the typed answer; input refused before
//! anything is sent; both clients. Then against the emulator.

#![cfg(all(feature = "catalog", feature = "blocking"))]

use std::future::Future;
use std::sync::{Arc, Mutex};

use kelviq::{ErrorKind, Kelviq, RetryPolicy};
use serde_json::{json, Value};

const API_KEY: &str = "sk_test_promotions";
const CLIENT_KEY: &str = "ck_live_a1b2c3d4e5f6";

/// One request as the server received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    /// As it came, percent-encoding and all.
    path: String,
    query: Option<String>,
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

    /// A client whose API host is nowhere: only the edge host answers.
    fn client(&self) -> kelviq::Client {
        Kelviq::builder(API_KEY)
            .api_base_url("http://127.0.0.1:9")
            .edge_base_url(&self.base)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap()
    }

    fn blocking(&self) -> kelviq::blocking::Client {
        Kelviq::builder(API_KEY)
            .api_base_url("http://127.0.0.1:9")
            .edge_base_url(&self.base)
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

/// The document's example.
fn promotion() -> Value {
    json!({
        "country": "India",
        "countryCode": "IN",
        "percentage": 40,
        "code": "KQP5LHNZB1Z",
        "message": "",
        "widgets": [{
            "type": "BANNER",
            "backgroundColor": "#3182CE",
            "fontColor": "#F9F9F9",
            "highlightFontColor": "#DD5C64",
            "fontSize": "1rem",
            "unStyled": false,
            "addCloseIcon": false,
            "countryMessage": "Use code <b>{coupon_code}</b>",
            "placement": "top",
            "borderRadius": "0"
        }],
        "security": {"proxy": false, "crawler": false, "vpn": true, "tor": false, "relay": false}
    })
}

#[track_caller]
fn only(server: &Server) -> Recorded {
    let requests = server.take();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = requests.into_iter().next().unwrap();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/api/v1/promotions")
    );
    assert_eq!(request.body, None);
    request
}

#[test]
fn a_promotion_is_asked_of_the_edge_host_with_the_client_key() {
    let server = Server::start(|_| (200, promotion()));
    let client = server.client();
    let promotion = run(client
        .catalog()
        .promotions()
        .retrieve("promo abc/123")
        .client_key(CLIENT_KEY)
        .send())
    .unwrap();
    let request = only(&server);
    assert_eq!(
        request.query.as_deref(),
        Some("promotion_id=promo+abc%2F123")
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {CLIENT_KEY}").as_str()),
        "the Client API Key, not the client's own"
    );
    assert_eq!(promotion.percentage, 40.0);
    assert_eq!(promotion.code.as_deref(), Some("KQP5LHNZB1Z"));
    assert_eq!(promotion.country_code.as_deref(), Some("IN"));
    assert_eq!(promotion.message.as_deref(), Some(""));
    let widget = &promotion.widgets[0];
    assert_eq!(widget.widget_type.as_deref(), Some("BANNER"));
    assert_eq!(widget.placement.as_deref(), Some("top"));
    assert_eq!(widget.un_styled, Some(false));
    let security = promotion.security.unwrap();
    assert_eq!((security.vpn, security.tor), (Some(true), Some(false)));

    // Without a Client API Key, the client's own key is sent.
    run(client
        .catalog()
        .promotions()
        .retrieve("promo_abc123")
        .send())
    .unwrap();
    let request = only(&server);
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {API_KEY}").as_str())
    );

    // The blocking client, the same.
    let blocking = server.blocking();
    let promotion = blocking
        .catalog()
        .promotions()
        .retrieve("promo_abc123")
        .client_key(CLIENT_KEY)
        .send()
        .unwrap();
    assert_eq!(promotion.widgets.len(), 1);
    assert_eq!(
        only(&server).authorization.as_deref(),
        Some(format!("Bearer {CLIENT_KEY}").as_str())
    );
}

#[test]
fn bad_input_is_refused_and_the_client_key_never_shown() {
    let server = Server::start(|_| (404, json!({"detail": "Not found."})));
    let client = server.client();
    let promotions = client.catalog().promotions();

    let error = run(promotions.retrieve("").send()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Validation);
    assert_eq!(error.validation().unwrap().field(), "promotion_id");
    for bad in ["", "ck with space", "ck_\n"] {
        let error = run(promotions.retrieve("promo").client_key(bad).send()).unwrap_err();
        let rule = error.validation().unwrap();
        assert_eq!((rule.field(), rule.value()), ("client_key", "<not shown>"));
    }
    assert!(server.take().is_empty(), "nothing was sent");

    let request = promotions.retrieve("promo").client_key(CLIENT_KEY);
    let shown = format!("{request:?}");
    assert!(!shown.contains(CLIENT_KEY), "{shown}");
    let error = run(request.send()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(!format!("{error:?}").contains(CLIENT_KEY));
}

#[test]
fn against_the_emulator_a_set_promotion_is_answered() {
    run(async {
        let server = kelviq_mock::MockServer::start().await.unwrap();
        server.set_promotion("promo_abc123", 25.0, "SPRING25");
        let client = Kelviq::builder(API_KEY)
            .base_url(server.url())
            .build()
            .unwrap();
        let promotion = client
            .catalog()
            .promotions()
            .retrieve("promo_abc123")
            .client_key(CLIENT_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(promotion.percentage, 25.0);
        assert_eq!(promotion.code.as_deref(), Some("SPRING25"));
        assert_eq!(promotion.country, None, "no location resolved");
        let security = promotion.security.unwrap();
        assert_eq!(
            [
                security.vpn,
                security.tor,
                security.proxy,
                security.relay,
                security.crawler
            ],
            [Some(false); 5]
        );
        let error = client
            .catalog()
            .promotions()
            .retrieve("promo_nobody")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
    });
}
