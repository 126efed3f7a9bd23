//! What the SDK's tests share: an emulator on loopback and clients pointed at it.
#![allow(dead_code)]

use std::time::Duration;

#[cfg(feature = "blocking")]
use kelviq::blocking;
use kelviq::{Client, Kelviq, RetryPolicy};
use kelviq_mock::{LoggedRequest, MockServer};

pub const API_KEY: &str = "sk_test_wire_0123456789";

/// Fast retries, so that retry tests take milliseconds.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

/// An emulator on its own runtime, with an async and a blocking client pointed at it. Tests
/// using it are plain `#[test]`s, so the blocking client runs outside any runtime, as it
/// must; async calls go through [`Harness::run`].
pub struct Harness {
    pub runtime: tokio::runtime::Runtime,
    pub server: MockServer,
    pub client: Client,
    #[cfg(feature = "blocking")]
    pub blocking: blocking::Client,
}

impl Harness {
    /// With the entitlement cache on, as clients are by default.
    pub fn new() -> Self {
        Self::with_cache(kelviq::CacheConfig::default())
    }

    /// With the entitlement cache off: every entitlement call is a request.
    pub fn uncached() -> Self {
        Self::with_cache(kelviq::CacheConfig::disabled())
    }

    pub fn with_cache(cache: kelviq::CacheConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(MockServer::start()).unwrap();
        let builder = Kelviq::builder(API_KEY)
            .base_url(server.url())
            .retry_policy(fast_retries())
            .entitlement_cache(cache);
        let client = builder.clone().build().unwrap();
        Self {
            runtime,
            server,
            client,
            #[cfg(feature = "blocking")]
            blocking: builder.build_blocking().unwrap(),
        }
    }

    pub fn run<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }

    /// Creates a customer and completes a checkout of `plan` for it; returns the
    /// subscription id.
    pub fn subscribe(&self, customer_id: &str, plan: &str) -> String {
        self.run(async {
            let _ = self.client.customers().create(customer_id).send().await;
            let session = self
                .client
                .checkout()
                .create_session(
                    plan,
                    kelviq::ChargePeriod::Monthly,
                    "https://example.com/ok",
                )
                .customer_id(customer_id)
                .send()
                .await
                .unwrap();
            self.server
                .complete_checkout(&session.checkout_session_id)
                .unwrap()
                .subscription_id
        })
    }

    /// The API requests received since the last call, which empties the log.
    pub fn take_requests(&self) -> Vec<LoggedRequest> {
        let requests = self.server.requests();
        self.server.clear_requests();
        requests
    }
}

/// An async emulator and client for `#[tokio::test]`s.
pub async fn start() -> (MockServer, Client) {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    (server, client)
}

/// Where a test's log subscriber writes, to read back what was logged.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
