//! Review of the report path that bypasses the generated builder (`transport::post_json`,
//! commit 19d18e5): a report must leave and come back exactly as every other operation's
//! request does through the generated client and `transport::run`. Each test puts a report
//! beside an operation that still takes the generated path (a customer creation, a POST with
//! a JSON body like a report), against a tiny HTTP/1.1 server on a loopback port that answers
//! from a script and keeps the raw bytes of every request.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kelviq::{Behaviour, ErrorKind, Kelviq, QueueConfig, Reached, RetryPolicy};

const API_KEY: &str = "sk_test_report_path_review";

const EVENT_ANSWER: &str = r#"{"customerId":"cust","eventName":"api_invoked","idempotencyKey":"k-1","orgId":"org","timestamp":"2026-01-01 00:00:00.000000"}"#;

const USAGE_ANSWER: &str = r#"{"behaviour":"SET","customerId":"cust","eventName":"seats_usage","featureId":"seats","idempotencyKey":"k-1","orgId":"org","timestamp":"2026-01-01 00:00:00.000000","value":3}"#;

/// What the server writes back to one request, chosen from its request line.
type Script = dyn Fn(&str) -> Answer + Send + Sync;

/// An answer of the script.
enum Answer {
    /// The whole answer, then the connection is closed.
    Full(String),
    /// Head and a body shorter than its `Content-Length`: the connection then closes mid-body.
    Truncated(String),
    /// Waits, writes this (possibly a cut answer), then holds the connection open a while.
    Stall {
        before: Duration,
        text: String,
        hold: Duration,
    },
}

/// A request as it arrived: the raw head (request line and headers) and the body.
#[derive(Debug, Clone)]
struct Raw {
    head: String,
    body: Vec<u8>,
}

impl Raw {
    fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or_default()
    }

    /// The headers, names lower-cased, in the order sent.
    fn headers(&self) -> Vec<(String, String)> {
        self.head
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (name, value) = l.split_once(':').unwrap();
                (name.trim().to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect()
    }
}

/// A scripted HTTP/1.1 server on 127.0.0.1, one request per connection.
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<Raw>>>,
}

impl Server {
    fn start(script: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let kept = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (kept, script) = (kept.clone(), script.clone());
                std::thread::spawn(move || serve(stream, &kept, &*script));
            }
        });
        Self { port, requests }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<Raw> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, kept: &Mutex<Vec<Raw>>, script: &Script) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.trim().parse::<usize>().unwrap());
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    kept.lock().unwrap().push(Raw { head, body });
    let (before, answer, hold) = match script(&request_line) {
        Answer::Full(text) | Answer::Truncated(text) => (Duration::ZERO, text, Duration::ZERO),
        Answer::Stall { before, text, hold } => (before, text, hold),
    };
    std::thread::sleep(before);
    let _ = stream.write_all(answer.as_bytes());
    let _ = stream.flush();
    std::thread::sleep(hold);
    let _ = stream.shutdown(Shutdown::Both);
}

/// A complete answer with a JSON body.
fn json(status: &str, extra_headers: &str, body: &str) -> Answer {
    Answer::Full(format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra_headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ))
}

/// An answer that promises 1000 bytes of body and sends `sent` of them before closing.
fn truncated(status: &str, extra_headers: &str, sent: &str) -> Answer {
    Answer::Truncated(format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra_headers}content-length: 1000\r\nconnection: close\r\n\r\n{sent}"
    ))
}

fn client(base_url: &str) -> kelviq::Client {
    Kelviq::builder(API_KEY)
        .base_url(base_url)
        .offline_queue(QueueConfig::disabled())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

/// The customer creation on `client`, for its error: it goes through the generated client.
async fn customer_error(client: &kelviq::Client) -> kelviq::Error {
    client.customers().create("cust").send().await.unwrap_err()
}

/// A SET usage report on `client`, for its error.
async fn report_error(client: &kelviq::Client) -> kelviq::Error {
    client
        .reporting()
        .report_usage(3, "cust", "seats", Behaviour::Set)
        .send()
        .await
        .unwrap_err()
}

// ---------------------------------------------------------------------------------------
// Request ids of answers whose body breaks off.

/// A 200 whose body stops short: the answer carried `x-request-id`, and the error says so,
/// for a report as for every other operation (the generated path takes the id from the
/// facts `record` kept). 19d18e5 takes those facts for the time-out limit first and then
/// finds them empty: the report's error has no request id.
#[tokio::test]
async fn a_report_keeps_the_request_id_of_a_success_body_cut_short() {
    let server = Server::start(|_| truncated("200 OK", "x-request-id: req-cut-200\r\n", "{\"beh"));
    let client = client(&server.url());

    let customer = customer_error(&client).await;
    assert_eq!(customer.kind(), ErrorKind::Connection, "{customer:?}");
    assert_eq!(customer.request_id(), Some("req-cut-200"), "{customer:?}");

    let report = report_error(&client).await;
    assert_eq!(report.kind(), ErrorKind::Connection, "{report:?}");
    assert_eq!(report.reached(), Reached::Maybe, "{report:?}");
    assert_eq!(
        report.request_id(),
        Some("req-cut-200"),
        "the report's error lost the answer's request id: {report:?}"
    );
}

/// The same for an error answer (a 400 here, a 5xx alike) whose body stops short: `record`
/// fails reading it after keeping the request id; the report's error must still carry it.
#[tokio::test]
async fn a_report_keeps_the_request_id_of_an_error_body_cut_short() {
    let server = Server::start(|_| {
        truncated(
            "400 Bad Request",
            "x-request-id: req-cut-400\r\n",
            "{\"error\":",
        )
    });
    let client = client(&server.url());

    let customer = customer_error(&client).await;
    assert_eq!(customer.request_id(), Some("req-cut-400"), "{customer:?}");

    let report = report_error(&client).await;
    assert_eq!(report.kind(), customer.kind(), "{report:?}");
    assert_eq!(
        report.request_id(),
        Some("req-cut-400"),
        "the report's error lost the answer's request id: {report:?}"
    );
    // A DELTA meets the same break as an unconfirmed error, with the id to ask about it.
    let delta = client
        .reporting()
        .report_usage(3, "cust", "seats", Behaviour::Delta)
        .send()
        .await
        .unwrap_err();
    assert!(delta.is_unconfirmed(), "{delta:?}");
    assert_eq!(delta.request_id(), Some("req-cut-400"), "{delta:?}");
}

/// A 200 whose body stalls past the attempt's time-out: a time-out error, with the
/// answer's request id for a report as for every other operation (the same loss on
/// 19d18e5: the facts were taken for the time-out limit).
#[tokio::test]
async fn a_report_keeps_the_request_id_when_its_success_body_times_out() {
    let server = Server::start(|_| {
        Answer::Stall {
        before: Duration::ZERO,
        text: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req-slow\r\ncontent-length: 1000\r\n\r\n{\"beh".into(),
        hold: Duration::from_secs(3),
    }
    });
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .offline_queue(QueueConfig::disabled())
        .retry_policy(RetryPolicy::none())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();

    let customer = customer_error(&client).await;
    assert_eq!(customer.kind(), ErrorKind::Timeout, "{customer:?}");
    assert_eq!(customer.request_id(), Some("req-slow"), "{customer:?}");

    let report = report_error(&client).await;
    assert_eq!(report.kind(), ErrorKind::Timeout, "{report:?}");
    assert_eq!(
        report.request_id(),
        Some("req-slow"),
        "the report's error lost the answer's request id: {report:?}"
    );
}

/// Guard (passes on 19d18e5): a silent server: a DELTA times out once, unconfirmed; a SET
/// is retried until the deadline ends it, a time-out either way.
#[tokio::test]
async fn report_time_outs_and_the_deadline_as_before() {
    let server = Server::start(|_| Answer::Stall {
        before: Duration::from_secs(3),
        text: String::new(),
        hold: Duration::ZERO,
    });
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .offline_queue(QueueConfig::disabled())
        .retry_policy(
            RetryPolicy::default()
                .max_retries(5)
                .initial_backoff(Duration::from_millis(10))
                .max_backoff(Duration::from_millis(10)),
        )
        .timeout(Duration::from_millis(200))
        .deadline(Duration::from_millis(700))
        .build()
        .unwrap();
    let delta = client
        .reporting()
        .report_usage(3, "cust", "seats", Behaviour::Delta)
        .send()
        .await
        .unwrap_err();
    assert_eq!(delta.kind(), ErrorKind::Timeout, "{delta:?}");
    assert!(delta.is_unconfirmed(), "{delta:?}");
    assert_eq!(server.requests().len(), 1);

    let started = std::time::Instant::now();
    let set = report_error(&client).await;
    let elapsed = started.elapsed();
    assert_eq!(set.kind(), ErrorKind::Timeout, "{set:?}");
    assert!(!set.is_unconfirmed(), "{set:?}");
    let attempts = server.requests().len() - 1;
    assert!((2..=5).contains(&attempts), "{attempts} attempts");
    assert!(elapsed < Duration::from_millis(2000), "{elapsed:?}");
}

/// Guard (passes on 19d18e5): a success body that is whole but not the document's answer is
/// a decode error with the answer's status and request id, as before.
#[tokio::test]
async fn a_report_with_an_undecodable_success_body_keeps_status_and_request_id() {
    let server = Server::start(|_| json("200 OK", "x-request-id: req-bad\r\n", "{\"ok\":true}"));
    let client = client(&server.url());
    let report = report_error(&client).await;
    assert_eq!(report.kind(), ErrorKind::Decode, "{report:?}");
    assert_eq!(report.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(report.request_id(), Some("req-bad"));
}

// ---------------------------------------------------------------------------------------
// The request span.

/// Keeps the fields of every `kelviq.request` span as a formatter would print them
/// (`{:?}` of what was recorded: a `&str` prints quoted, a `%value` bare).
#[derive(Clone, Default)]
struct Spans {
    next: Arc<std::sync::atomic::AtomicU64>,
    fields: Arc<Mutex<Vec<std::collections::BTreeMap<String, String>>>>,
}

struct Fields<'a>(&'a mut std::collections::BTreeMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl tracing::Subscriber for Spans {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        if span.metadata().name() == "kelviq.request" {
            let mut fields = std::collections::BTreeMap::new();
            span.record(&mut Fields(&mut fields));
            self.fields.lock().unwrap().push(fields);
        }
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        tracing::span::Id::from_u64(id)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Every request's span records its method with `%` (a log line reads `method=POST`, as
/// kelviq's own `tracing_spans` test expects for `method=GET`). 19d18e5's report span
/// records the literal `"POST"` as a string: a formatter prints `method="POST"`, so a log
/// filter or parser keyed on `method=POST` misses exactly the reports.
#[tokio::test]
async fn a_report_span_records_its_method_as_every_request_does() {
    let server = Server::start(|line| {
        if line.contains("/report/") {
            json("200 OK", "", USAGE_ANSWER)
        } else {
            json("400 Bad Request", "", "{\"error\":\"no\"}")
        }
    });
    let client = client(&server.url());
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(spans.clone());
    let _ = client.customers().create("cust").send().await;
    let sent = client
        .reporting()
        .report_usage(3, "cust", "seats", Behaviour::Set)
        .send()
        .await
        .unwrap();
    assert!(sent.sent().is_some());
    let fields = spans.fields.lock().unwrap().clone();
    assert_eq!(fields.len(), 2, "{fields:?}");
    let (customer, report) = (&fields[0], &fields[1]);
    assert_eq!(customer["method"], "POST", "{customer:?}");
    assert_eq!(report["path"], "/api/v1/report/usage/", "{report:?}");
    assert_eq!(
        report["operation"],
        customer["operation"].replace("customers.create", "reporting.report_usage")
    );
    assert_eq!(
        report["method"], customer["method"],
        "the report span records its method differently: {report:?} vs {customer:?}"
    );
}

// ---------------------------------------------------------------------------------------
// A base URL with credentials in it.

/// `http://user:secret@host` passes the base URL check. reqwest's request builder, which
/// the generated path goes through, takes the credentials out of the URL (and the API key
/// then replaces the Basic header it made); `reqwest::Request::new` leaves them in. Every
/// transport error names the URL, so on 19d18e5 a report's error (and the `failed` debug
/// event) prints the password.
#[tokio::test]
async fn base_url_credentials_stay_out_of_a_report_error() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = client(&format!("http://user:secret@127.0.0.1:{closed}"));
    let customer = customer_error(&client).await;
    assert!(!customer.to_string().contains("secret"), "{customer}");
    let report = report_error(&client).await;
    assert_eq!(report.kind(), ErrorKind::Connection, "{report:?}");
    assert!(
        !report.to_string().contains("secret"),
        "the report's error shows the base URL's password: {report}"
    );
}

/// Through an HTTP proxy the request line is in absolute form: on 19d18e5 a report's names
/// the base URL's user and password to the proxy, where every other request's does not.
#[tokio::test]
async fn base_url_credentials_are_not_sent_to_a_proxy_with_a_report() {
    let proxy = Server::start(|line| {
        if line.contains("/report/") {
            json("200 OK", "", USAGE_ANSWER)
        } else {
            json("400 Bad Request", "", "{\"error\":\"no\"}")
        }
    });
    let client = Kelviq::builder(API_KEY)
        .base_url("http://user:secret@kelviq.invalid")
        .http_client(
            reqwest::Client::builder()
                .proxy(reqwest::Proxy::http(proxy.url()).unwrap())
                .build()
                .unwrap(),
        )
        .offline_queue(QueueConfig::disabled())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let _ = client.customers().create("cust").send().await;
    let sent = client
        .reporting()
        .report_usage(3, "cust", "seats", Behaviour::Set)
        .send()
        .await
        .unwrap();
    assert!(sent.sent().is_some());
    let requests = proxy.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].request_line(),
        "POST http://kelviq.invalid/api/v1/customers/ HTTP/1.1"
    );
    assert_eq!(
        requests[1].request_line(),
        "POST http://kelviq.invalid/api/v1/report/usage/ HTTP/1.1",
        "the report's request line carries the base URL's credentials"
    );
}

// ---------------------------------------------------------------------------------------
// Guards: what 19d18e5 keeps as it was (these pass on it).

/// The report request carries what the generated path sends: the same headers in the same
/// order (caller headers included, an `api-version` only when the caller sets one, a custom
/// client's default headers filled in where unset) and the generated type's JSON.
#[tokio::test]
async fn a_report_request_carries_the_generated_paths_headers_and_body() {
    let server = Server::start(|line| {
        if line.contains("/report/usage/") {
            json("200 OK", "", USAGE_ANSWER)
        } else if line.contains("/report/event/") {
            json("200 OK", "", EVENT_ANSWER)
        } else {
            json("400 Bad Request", "", "{\"error\":\"no\"}")
        }
    });
    let mut defaults = reqwest::header::HeaderMap::new();
    defaults.insert("x-default", "1".parse().unwrap());
    defaults.insert("accept", "text/html".parse().unwrap());
    let client = Kelviq::builder(API_KEY)
        .base_url(format!("http://[::ffff:127.0.0.1]:{}/", server.port))
        .http_client(
            reqwest::Client::builder()
                .default_headers(defaults)
                .build()
                .unwrap(),
        )
        .offline_queue(QueueConfig::disabled())
        .retry_policy(RetryPolicy::none())
        .user_agent_suffix("review/5")
        .build()
        .unwrap();
    let _ = client
        .customers()
        .create("cust")
        .header("X-Trace", "abc")
        .header("Api-Version", "9")
        .send()
        .await;
    let sent = client
        .reporting()
        .report_usage(3, "cust", "seats", Behaviour::Set)
        .resource_id("r-1")
        .header("X-Trace", "abc")
        .header("Api-Version", "9")
        .send()
        .await
        .unwrap();
    assert!(sent.sent().is_some());
    let event = client
        .reporting()
        .report_event("cust", "api_invoked")
        .idempotency_key("k-1")
        .timestamp("2026-01-01T00:00:00Z")
        .property("value", 2)
        .header("X-Trace", "abc")
        .header("Api-Version", "9")
        .send()
        .await
        .unwrap();
    assert!(event.sent().is_some());
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let without_length = |raw: &Raw| {
        raw.headers()
            .into_iter()
            .filter(|(name, _)| name != "content-length")
            .collect::<Vec<_>>()
    };
    assert_eq!(without_length(&requests[1]), without_length(&requests[0]));
    assert_eq!(without_length(&requests[2]), without_length(&requests[0]));
    assert_eq!(
        requests[2].request_line(),
        "POST /api/v1/report/event/ HTTP/1.1"
    );
    assert_eq!(
        std::str::from_utf8(&requests[2].body).unwrap(),
        r#"{"customerId":"cust","eventName":"api_invoked","idempotencyKey":"k-1","properties":{"value":2},"timestamp":"2026-01-01 00:00:00.000000"}"#
    );
    assert_eq!(
        requests[1].request_line(),
        "POST /api/v1/report/usage/ HTTP/1.1"
    );
    let body: serde_json::Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"behaviour": "SET", "customerId": "cust", "featureId": "seats", "resourceId": "r-1", "value": 3})
    );
}

/// Retries as before the lazy backoff: a SET retried after 503s up to `max_retries`, a
/// DELTA not retried after a 503 (unconfirmed), and both retried after a 429 whose
/// `Retry-After` fits; a final 429 names its `Retry-After` in the error.
#[tokio::test]
async fn report_retries_count_as_before() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let fast = RetryPolicy::default()
        .max_retries(2)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20));
    let build = |url: String, retry: RetryPolicy| {
        Kelviq::builder(API_KEY)
            .base_url(url)
            .offline_queue(QueueConfig::disabled())
            .retry_policy(retry)
            .build()
            .unwrap()
    };

    // SET: 503 twice, then recorded on the third attempt.
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let server = Server::start(move |_| match counter.fetch_add(1, Ordering::SeqCst) {
        0 | 1 => json("503 Service Unavailable", "", "{\"error\":\"busy\"}"),
        _ => json("200 OK", "", USAGE_ANSWER),
    });
    let client = build(server.url(), fast);
    let sent = client
        .reporting()
        .report_usage(3, "cust", "seats", Behaviour::Set)
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 3);
    assert_eq!(sent.raw().unwrap().status().as_u16(), 200);

    // SET: 503 every time: three attempts (max_retries 2), then the 503.
    let server = Server::start(|_| {
        json(
            "503 Service Unavailable",
            "x-request-id: r-503\r\n",
            "{\"error\":\"busy\"}",
        )
    });
    let client = build(server.url(), fast);
    let error = report_error(&client).await;
    assert_eq!(server.requests().len(), 3);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(error.request_id(), Some("r-503"));
    assert!(!error.is_unconfirmed());

    // DELTA: one attempt, unconfirmed.
    let error = client
        .reporting()
        .report_usage(3, "cust", "seats", Behaviour::Delta)
        .send()
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 4);
    assert!(error.is_unconfirmed(), "{error:?}");

    // DELTA after a 429 with Retry-After: 0: retried, recorded.
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let server = Server::start(move |_| match counter.fetch_add(1, Ordering::SeqCst) {
        0 => json(
            "429 Too Many Requests",
            "retry-after: 0\r\n",
            "{\"error\":\"slow\"}",
        ),
        _ => json("200 OK", "retry-after: 120\r\n", USAGE_ANSWER),
    });
    let client = build(server.url(), fast);
    let sent = client
        .reporting()
        .report_usage(3, "cust", "seats", Behaviour::Delta)
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
    // The success answer's headers are the caller's, Retry-After included.
    assert_eq!(sent.raw().unwrap().headers()["retry-after"], "120");

    // A 429 asking for longer than max_retry_after: given up at once, its wait in the error.
    let server = Server::start(|_| {
        json(
            "429 Too Many Requests",
            "retry-after: 7\r\n",
            "{\"error\":\"slow\"}",
        )
    });
    let client = build(server.url(), fast.max_retry_after(Duration::from_secs(1)));
    let error = report_error(&client).await;
    assert_eq!(server.requests().len(), 1);
    assert_eq!(error.kind(), ErrorKind::RateLimited, "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
}

/// Guard (passes on 19d18e5): a base URL with a path prefix (and a trailing slash) keeps
/// its prefix for reports as for every other request.
#[tokio::test]
async fn a_report_keeps_the_base_urls_path_prefix() {
    let server = Server::start(|line| {
        if line.contains("/report/usage/") {
            json("200 OK", "", USAGE_ANSWER)
        } else {
            json("400 Bad Request", "", "{\"error\":\"no\"}")
        }
    });
    let client = client(&format!("{}/gateway/kelviq/", server.url()));
    let _ = client.customers().create("cust").send().await;
    let sent = client
        .reporting()
        .report_usage(3, "cust", "seats", Behaviour::Set)
        .send()
        .await
        .unwrap();
    assert!(sent.sent().is_some());
    let requests = server.requests();
    assert_eq!(
        requests[0].request_line(),
        "POST /gateway/kelviq/api/v1/customers/ HTTP/1.1"
    );
    assert_eq!(
        requests[1].request_line(),
        "POST /gateway/kelviq/api/v1/report/usage/ HTTP/1.1"
    );
}
