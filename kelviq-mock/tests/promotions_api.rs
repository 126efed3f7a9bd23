//! `getPromotion` over plain HTTP: a promotion set on the emulator is answered for any key
//! (the service wants the Client API Key there, not the Server API Key), in the document's
//! `Promotion` shape with no location resolved; an unknown one is 404, a missing
//! `promotion_id` is 400, no key is 401.

use kelviq_mock::MockServer;
use serde_json::{json, Value};

async fn get(server: &MockServer, query: &str, key: Option<&str>) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().get(format!("{}/api/v1/promotions{query}", server.url()));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_set_promotion_is_answered_for_any_key() {
    let server = MockServer::start().await.unwrap();
    server.set_promotion("promo_abc123", 40.0, "KQP5LHNZB1Z");

    for key in ["ck_live_client", "sk_live_server"] {
        let (status, promotion) = get(&server, "?promotion_id=promo_abc123", Some(key)).await;
        assert_eq!(status, 200, "{promotion}");
        assert_eq!(promotion["percentage"], json!(40.0));
        assert_eq!(promotion["code"], "KQP5LHNZB1Z");
        assert_eq!(promotion["message"], "");
        assert!(promotion.get("country").is_none(), "{promotion}");
        assert_eq!(promotion["widgets"][0]["type"], "BANNER");
        assert_eq!(
            promotion["security"],
            json!({"vpn": false, "tor": false, "proxy": false, "relay": false, "crawler": false})
        );
    }

    // Set again, replaced.
    server.set_promotion("promo_abc123", 10.0, "TEN");
    let (_, promotion) = get(&server, "?promotion_id=promo_abc123", Some("ck")).await;
    assert_eq!(
        (promotion["percentage"].as_f64(), promotion["code"].as_str()),
        (Some(10.0), Some("TEN"))
    );

    let (status, body) = get(&server, "?promotion_id=nobody", Some("ck")).await;
    assert_eq!((status, body), (404, json!({"detail": "Not found."})));
    let (status, body) = get(&server, "", Some("ck")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errors"]["promotion_id"].is_array(), "{body}");
    let (status, _) = get(&server, "?promotion_id=promo_abc123", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_control_surface_sets_a_promotion_for_other_languages() {
    let server = MockServer::start().await.unwrap();
    let control = |body: Value| {
        reqwest::Client::new()
            .put(format!("{}/_mock/promotions/promo_x", server.url()))
            .json(&body)
            .send()
    };
    let answer = control(json!({"percentage": 15, "code": "FIFTEEN"}))
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
    let (status, promotion) = get(&server, "?promotion_id=promo_x", Some("ck")).await;
    assert_eq!(status, 200, "{promotion}");
    assert_eq!(
        (promotion["percentage"].as_f64(), promotion["code"].as_str()),
        (Some(15.0), Some("FIFTEEN"))
    );

    let refused = control(json!({"percentage": 150, "code": "X"}))
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let refused = control(json!({"percentage": 10, "code": "X", "extra": 1}))
        .await
        .unwrap();
    assert!(refused.status().is_client_error());
}
