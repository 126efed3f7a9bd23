//! Which rustls crypto provider kelviq's connections use.
//!
//! reqwest's own `rustls` feature always compiles aws-lc-rs (a C library whose build was 25 s
//! of a 57 s cold build on a 2-core machine); kelviq asks reqwest for rustls without a provider
//! and brings the one its features name: `rustls` is ring, `rustls-aws-lc` is aws-lc-rs (the
//! one with a FIPS mode). A provider the application installed as the process default wins
//! over both, so an application that has chosen keeps its choice.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The provider: the process default when the application installed one, else the one this
/// build's features name (aws-lc-rs when both are on: it can only have been asked for).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return installed.clone();
    }
    #[cfg(feature = "rustls-aws-lc")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "rustls-aws-lc"))]
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(provider)
}

/// The HTTP client's TLS: the provider above, the platform's certificate verifier (as
/// reqwest's own `rustls` feature has it), TLS 1.2 and 1.3.
#[cfg_attr(feature = "native-tls", allow(dead_code))]
pub(crate) fn http_config() -> Result<rustls::ClientConfig, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth())
}

/// Makes sure the process has a default provider, installing this one when none is, so that
/// an application's own choice stands.
///
/// Two readers need one: the `redis` crate builds its rustls configuration from the process
/// default (or from rustls's features when exactly one provider is compiled, which an
/// application with another crate asking for the other cannot rely on), and any other
/// `reqwest::Client` in the process, since kelviq's features turn on reqwest's provider-less
/// rustls for the whole build and reqwest then refuses to build a client without one.
#[cfg_attr(all(feature = "native-tls", not(feature = "redis")), allow(dead_code))]
pub(crate) fn ensure_process_default() {
    if CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: then there is a default.
        let _ = Arc::unwrap_or_clone(provider()).install_default();
    }
}
