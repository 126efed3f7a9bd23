//! The partner operations over plain HTTP: organisations provisioned per partner key
//! (`X-Kelviq-Partner-Key`), listed (not paged), read by UUID and by external identifier,
//! with the document's error answers (401 without the key, 400 for a repeated external
//! identifier or a bad body, 409 for a taken e-mail address, 404 for another partner's).

use kelviq_mock::MockServer;
use serde_json::{json, Value};

struct Partner {
    base: String,
    key: Option<&'static str>,
    client: reqwest::Client,
}

impl Partner {
    fn new(server: &MockServer, key: Option<&'static str>) -> Self {
        Self {
            base: server.url(),
            key,
            client: reqwest::Client::new(),
        }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = self.key {
            request = request.header("X-Kelviq-Partner-Key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn provision(&self, body: Value) -> (u16, Value) {
        self.send("POST", "/api/v1/partner/organizations/", Some(body))
            .await
    }
}

/// Every field of the document's `PartnerOrganization`, and no other.
#[track_caller]
fn assert_organisation(org: &Value, external_id: &str) {
    let fields: Vec<&str> = org
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields.len(),
        6,
        "userId, organizationIdentifier, organizationSlug, clientKey, serverKey, partnerExternalId: {org}"
    );
    assert!(org["userId"].is_i64(), "{org}");
    assert!(
        uuid::Uuid::parse_str(org["organizationIdentifier"].as_str().unwrap()).is_ok(),
        "{org}"
    );
    assert!(org["organizationSlug"].is_string(), "{org}");
    assert!(
        org["clientKey"].as_str().unwrap().starts_with("ck_"),
        "{org}"
    );
    assert!(
        org["serverKey"].as_str().unwrap().starts_with("sk_"),
        "{org}"
    );
    assert_eq!(org["partnerExternalId"], json!(external_id), "{org}");
}

#[tokio::test]
async fn organisations_are_provisioned_listed_and_read() {
    let server = MockServer::start().await.unwrap();
    let partner = Partner::new(&server, Some("kvqp_first"));

    let (status, acme) = partner
        .provision(json!({
            "externalId": "acme-corp",
            "email": "owner@acme.example.com",
            "businessName": "Acme Corp",
        }))
        .await;
    assert_eq!(status, 201, "{acme}");
    assert_organisation(&acme, "acme-corp");
    assert_eq!(acme["organizationSlug"], "acme-corp");

    // Without a business name the slug comes from the external identifier; a taken slug
    // gets `-2`.
    let (status, second) = partner
        .provision(json!({"externalId": "Acme Corp!", "email": "two@acme.example.com"}))
        .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["organizationSlug"], "acme-corp-2");
    assert_ne!(second["userId"], acme["userId"]);

    let (status, list) = partner
        .send("GET", "/api/v1/partner/organizations/", None)
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["count"], 2, "{list}");
    assert_eq!(list["results"][0], acme, "oldest first");
    assert_eq!(list["results"][1], second);
    assert!(list.get("next").is_none(), "not paged: {list}");

    let (status, only) = partner
        .send(
            "GET",
            "/api/v1/partner/organizations/?external_id=acme-corp",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(only, json!({"count": 1, "results": [acme.clone()]}));
    let (_, none) = partner
        .send(
            "GET",
            "/api/v1/partner/organizations/?external_id=nobody",
            None,
        )
        .await;
    assert_eq!(none, json!({"count": 0, "results": []}));

    let id = acme["organizationIdentifier"].as_str().unwrap();
    let (status, read) = partner
        .send("GET", &format!("/api/v1/partner/organizations/{id}/"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(read, acme);

    // The external identifier travels as one percent-encoded segment.
    let (status, read) = partner
        .send(
            "GET",
            "/api/v1/partner/organizations/by-external-id/Acme%20Corp%21/",
            None,
        )
        .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read, second);

    // The provisioned Server API Key is an API key of the emulator.
    let customers = reqwest::Client::new()
        .get(format!("{}/api/v1/customers/", server.url()))
        .bearer_auth(acme["serverKey"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(customers.status(), 200);
}

#[tokio::test]
async fn partners_do_not_see_each_others_organisations() {
    let server = MockServer::start().await.unwrap();
    let first = Partner::new(&server, Some("kvqp_first"));
    let second = Partner::new(&server, Some("kvqp_second"));
    let (_, org) = first
        .provision(json!({"externalId": "shared", "email": "a@example.com"}))
        .await;
    let id = org["organizationIdentifier"].as_str().unwrap();

    let (status, body) = second
        .send("GET", &format!("/api/v1/partner/organizations/{id}/"), None)
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body, json!({"detail": "Not found."}));
    let (status, body) = second
        .send(
            "GET",
            "/api/v1/partner/organizations/by-external-id/shared/",
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body, json!({"detail": "Not found."}));
    let (_, list) = second
        .send("GET", "/api/v1/partner/organizations/", None)
        .await;
    assert_eq!(list, json!({"count": 0, "results": []}));

    // Another partner may use the same external identifier, but not the same e-mail
    // address (Kelviq users are shared): 409.
    let (status, body) = second
        .provision(json!({"externalId": "shared", "email": "b@example.com"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = second
        .provision(json!({"externalId": "other", "email": "A@example.com"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].is_string(), "{body}");
}

#[tokio::test]
async fn bad_requests_are_refused_as_the_document_says() {
    let server = MockServer::start().await.unwrap();
    let partner = Partner::new(&server, Some("kvqp_first"));
    partner
        .provision(json!({"externalId": "acme", "email": "owner@acme.example.com"}))
        .await;

    // The same external identifier twice, for one partner: 400 naming it.
    let (status, body) = partner
        .provision(json!({"externalId": "acme", "email": "new@acme.example.com"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errors"]["externalId"].is_array(), "{body}");

    for (request, field) in [
        (json!({"email": "x@example.com"}), "externalId"),
        (json!({"externalId": "x"}), "email"),
        (
            json!({"externalId": "", "email": "x@example.com"}),
            "externalId",
        ),
        (
            json!({"externalId": "x", "email": "not-an-address"}),
            "email",
        ),
        (
            json!({"externalId": "x", "email": "x@example.com", "plan": "pro"}),
            "plan",
        ),
    ] {
        let (status, body) = partner.provision(request.clone()).await;
        assert_eq!(status, 400, "{request}: {body}");
        assert!(
            body["errors"][field].is_array(),
            "{request}: {body} should name {field}"
        );
    }

    let (status, body) = partner
        .send("GET", "/api/v1/partner/organizations/not-a-uuid/", None)
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = partner
        .send(
            "GET",
            "/api/v1/partner/organizations/00000000-0000-4000-8000-000000000000/",
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");

    // The partner key, not a bearer API key, authenticates these operations.
    let anonymous = Partner::new(&server, None);
    let (status, body) = anonymous
        .send("GET", "/api/v1/partner/organizations/", None)
        .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = reqwest::Client::new()
        .get(format!("{}/api/v1/partner/organizations/", server.url()))
        .bearer_auth("sk_test")
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 401);
}
