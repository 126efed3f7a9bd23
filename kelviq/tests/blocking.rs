//! The blocking client works from plain code, from `spawn_blocking` threads and from many
//! threads at once, and refuses (without panicking) to block inside an async task.

mod common;

use common::{Harness, API_KEY};
use kelviq::{Behaviour, ErrorKind, Kelviq};

#[test]
fn works_from_a_plain_fn_main() {
    // A #[test] is a plain thread with no runtime, like `fn main`.
    let h = Harness::new();
    let client = Kelviq::builder(API_KEY)
        .base_url(h.server.url())
        .build_blocking()
        .unwrap();
    h.subscribe("cust", "plan-pro-monthly");
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .unwrap());
    assert!(!client
        .entitlements()
        .has_access("cust", "no-such-feature")
        .send()
        .unwrap());
    drop(client);
}

#[test]
fn one_client_serves_many_threads_at_once() {
    let h = Harness::new();
    h.subscribe("cust", "premium-plan");
    let client = h.blocking.clone();
    const THREADS: usize = 8;
    const REPORTS: usize = 25;
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            let client = client.clone();
            scope.spawn(move || {
                for _ in 0..REPORTS {
                    client
                        .reporting()
                        .report_usage(1, "cust", "api-usage", Behaviour::Delta)
                        .send()
                        .unwrap()
                        .sent()
                        .expect("delivered");
                    assert!(client
                        .entitlements()
                        .has_access("cust", "api-usage")
                        .send()
                        .unwrap());
                }
            });
        }
    });
    assert_eq!(
        h.server.usage("cust")["api-usage"],
        (THREADS * REPORTS) as i64
    );
}

#[tokio::test]
async fn inside_an_async_task_it_refuses_instead_of_blocking() {
    let client = Kelviq::builder(API_KEY)
        .base_url("http://127.0.0.1:9")
        .build_blocking()
        .unwrap();
    let error = client
        .entitlements()
        .has_access("cust", "seats")
        .send()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config, "{error:?}");
    assert!(error.to_string().contains("async task"), "{error}");
    assert!(error.to_string().contains("spawn_blocking"), "{error}");
    // Dropping the last clone here must not panic either.
    drop(client);
}

#[test]
fn from_spawn_blocking_threads_it_works() {
    let h = Harness::new();
    h.subscribe("cust", "plan-pro-monthly");
    let client = h.blocking.clone();
    let answers = h.run(async move {
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let client = client.clone();
            tasks.push(tokio::task::spawn_blocking(move || {
                let allowed = client
                    .entitlements()
                    .has_access("cust", "premium-reporting")
                    .send()
                    .unwrap();
                let delivery = client
                    .reporting()
                    .report_usage(1, "cust", "api-usage", Behaviour::Delta)
                    .send()
                    .unwrap();
                (allowed, delivery.sent().is_some())
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    });
    assert_eq!(answers, vec![(true, true); 4]);
    assert_eq!(h.server.usage("cust")["api-usage"], 4);
}
