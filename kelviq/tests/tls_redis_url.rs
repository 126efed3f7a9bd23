//! The `redis` crate's rustls builds its configuration from the process default provider
//! (`ClientConfig::builder()`), which panics when rustls was compiled with two providers
//! (kelviq's ring and an application's aws-lc-rs, say) and none is installed. kelviq installs
//! one before a TLS Redis connection, but it recognised TLS by the prefix `rediss:` only,
//! while the redis crate also speaks TLS for `valkeys://` and for the scheme in capitals.
//! With kelviq's own HTTP client the provider is installed anyway; with a caller's client
//! (built here on its own configuration, needing no process provider) it was not. Its own
//! test binary, so that nothing has installed a provider before.

#![cfg(all(feature = "rustls", feature = "redis"))]

use std::sync::Arc;

#[test]
fn every_tls_redis_url_gets_a_process_provider() {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .build()
        .unwrap();
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    let client = kelviq::Kelviq::builder("sk_test")
        .base_url("http://127.0.0.1:9")
        .http_client(http)
        .redis(kelviq::RedisConfig::new("valkeys://127.0.0.1:6380"))
        .build();
    assert!(client.is_ok(), "{client:?}");
    assert!(
        rustls::crypto::CryptoProvider::get_default().is_some(),
        "a TLS Redis URL (valkeys://) left no process provider for the redis crate's rustls"
    );
}
