//! kelviq's `rustls` feature turns on reqwest's provider-less rustls for the whole build, so
//! a plain `reqwest::Client` elsewhere in the process needs a process-wide crypto provider:
//! building a kelviq client installs one when none is. Its own test binary, so that nothing
//! (the emulator, another test) has installed one before.

#![cfg(all(feature = "rustls", not(feature = "native-tls")))]

#[test]
fn after_a_kelviq_client_a_plain_reqwest_client_builds() {
    let client = kelviq::Kelviq::builder("sk_test")
        .base_url("http://127.0.0.1:9")
        .build();
    assert!(client.is_ok(), "{client:?}");
    // Without the provider kelviq installs, this panics ("No rustls crypto provider").
    let plain = std::panic::catch_unwind(reqwest::Client::new);
    assert!(plain.is_ok(), "a reqwest client in the same process builds");
}
