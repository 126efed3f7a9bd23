//! Review 4: the published reference's formats on answer fields (date-time, date, uuid) are
//! typed since a2fcf92/c16b271: a value the SDK cannot read in one of them fails the whole
//! answer. Against a small server on loopback answering a `validate` the way a Django
//! service may (a date-time without its offset, as the service's own event `timestamp`
//! and `resetAt` are written), far enough into the body that the excerpt stops before it.

use kelviq::{Kelviq, RetryPolicy};

/// A server on a free loopback port answering every request 200 with `body`.
async fn answering(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(http::header::CONTENT_TYPE, "application/json")], body) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test]
async fn a_date_time_the_sdk_cannot_read_is_named_by_field_and_value() {
    let metadata: String = (0..20)
        .map(|i| format!("\"key{i}\": \"value{i}\", "))
        .collect();
    let body = format!(
        r#"{{"valid": true, "code": "VALID", "detail": "ok", "metadata": {{{metadata}"os": "macOS"}}, "license": {{"id": "7be7a5b6-7a0e-4178-a085-8ef48f0649ab", "licenseKey": "LIC-A", "activatedOn": "2026-01-22 03:26:56.123456", "expiresOn": null, "activationUsage": 1, "activationLimit": 4, "enabled": true}}}}"#
    );
    let base = answering(body).await;
    let client = Kelviq::builder("sk_test_formats")
        .base_url(base)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    match client.licenses().validate("LIC-A").send().await {
        // Read as UTC, as the service's other naive timestamps are.
        Ok(answer) => {
            let activated = answer.license.unwrap().activated_on.unwrap();
            assert_eq!(activated.to_rfc3339(), "2026-01-22T03:26:56.123456+00:00");
        }
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains("activatedOn") && message.contains("2026-01-22 03:26:56.123456"),
                "{message}"
            );
        }
    }
}

#[tokio::test]
#[ignore = "review 4: ids typed as uuid are rewritten (lowercased, hyphenated), no longer the service's string"]
async fn an_id_comes_back_as_the_service_wrote_it() {
    // A UUID in capitals, as the service writes license keys; Kelviq's customer ids in the
    // reference's examples are UUIDs without hyphens.
    let id = "7BE7A5B6-7A0E-4178-A085-8EF48F0649AB";
    let body = format!(
        r#"{{"valid": true, "code": "VALID", "license": {{"id": "{id}", "licenseKey": "LIC-A", "activatedOn": null, "expiresOn": null, "activationUsage": 0, "activationLimit": 4, "enabled": true}}}}"#
    );
    let base = answering(body).await;
    let client = Kelviq::builder("sk_test_formats")
        .base_url(base)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let answer = client.licenses().validate("LIC-A").send().await.unwrap();
    // Compared with the same license's id in a webhook payload (raw JSON), or stored by the
    // application before this version: the string the service sent.
    assert_eq!(answer.license.unwrap().id, id);
}
