//! Each flag type through the OpenFeature client API, against the emulator: what a customer
//! holds, what one without the feature gets, and the context and flag errors.

mod common;

use common::{code_of, customer, entitlement_requests, flags, grant, start, subscribe};
use kelviq::Behaviour;
use kelviq_mock::catalogue::FeatureKind;
use kelviq_openfeature::{EntitlementValue, KelviqProvider, PROVIDER_NAME};
use open_feature::provider::{FeatureProvider, ProviderStatus};
use open_feature::{
    EvaluationContext, EvaluationErrorCode, EvaluationReason, FlagMetadata, OpenFeature,
    StructValue, Value,
};

#[tokio::test]
async fn each_flag_type_answers_from_one_fetch_of_the_customers_set() {
    let (server, client) = start().await;
    // plan-pro-monthly: premium-reporting (BOOLEAN), advanced-analytics (METER, 3, soft),
    // api-usage (METER, 100, hard), seats (CUSTOMIZABLE, 5), projects (CUSTOMIZABLE, 3).
    subscribe(&server, &client, "cust", "plan-pro-monthly").await;
    for (feature, usage) in [("api-usage", 40), ("advanced-analytics", 5)] {
        client
            .reporting()
            .report_usage(usage, "cust", feature, Behaviour::Set)
            .send()
            .await
            .unwrap()
            .sent()
            .expect("delivered");
    }
    server.clear_requests();
    let flags = flags(KelviqProvider::new(client.clone())).await;
    let cust = customer("cust");

    // Boolean: has_access.
    let details = flags
        .get_bool_details("premium-reporting", Some(&cust), None)
        .await
        .unwrap();
    assert!(details.value);
    assert_eq!(details.reason, Some(EvaluationReason::Cached));
    assert_eq!(
        details.flag_metadata,
        FlagMetadata::default(),
        "a fresh answer carries no metadata"
    );
    assert_eq!(details.variant, None);
    assert_eq!(
        flags
            .get_bool_value("advanced-analytics", Some(&cust), None)
            .await,
        Ok(true),
        "a soft meter past its limit still grants access"
    );

    // Integer: what is left of a meter, the quantity bought of a customizable feature.
    let details = flags
        .get_int_details("api-usage", Some(&cust), None)
        .await
        .unwrap();
    assert_eq!(
        (details.value, details.reason),
        (60, Some(EvaluationReason::Cached))
    );
    assert_eq!(
        flags
            .get_int_value("advanced-analytics", Some(&cust), None)
            .await,
        Ok(-2),
        "past a soft limit, remaining is negative"
    );
    assert_eq!(flags.get_int_value("seats", Some(&cust), None).await, Ok(5));
    assert_eq!(
        flags.get_int_value("projects", Some(&cust), None).await,
        Ok(3)
    );

    // Struct: the whole entitlement, typed or as the struct itself.
    let meter: EntitlementValue = flags
        .get_struct_value("api-usage", Some(&cust), None)
        .await
        .unwrap();
    assert_eq!(meter.feature_id, "api-usage");
    assert_eq!(meter.feature_type, Some(kelviq::FeatureType::Meter));
    assert!(meter.has_access && meter.hard_limit);
    assert_eq!(
        (meter.usage_limit, meter.current_usage, meter.remaining),
        (Some(100), Some(40), Some(60))
    );
    assert!(meter.reset_at.is_some());
    assert_eq!(meter.entries, 1);
    let details = flags
        .get_struct_details::<StructValue>("seats", Some(&cust), None)
        .await
        .unwrap();
    assert_eq!(details.reason, Some(EvaluationReason::Cached));
    let fields = &details.value.fields;
    assert_eq!(
        fields.get("feature_type"),
        Some(&Value::String("CUSTOMIZABLE".into()))
    );
    assert_eq!(fields.get("usage_limit"), Some(&Value::Int(5)));
    assert_eq!(fields.get("has_access"), Some(&Value::Bool(true)));
    let boolean: EntitlementValue = flags
        .get_struct_value("premium-reporting", Some(&cust), None)
        .await
        .unwrap();
    assert_eq!(
        (boolean.has_access, boolean.usage_limit, boolean.remaining),
        (true, None, None),
        "a BOOLEAN feature's entitlement has no numbers"
    );

    // Types the feature does not have.
    assert_eq!(
        code_of(
            flags
                .get_int_value("premium-reporting", Some(&cust), None)
                .await
        ),
        EvaluationErrorCode::TypeMismatch,
        "a BOOLEAN feature has no quantity"
    );
    assert_eq!(
        code_of(flags.get_float_value("api-usage", Some(&cust), None).await),
        EvaluationErrorCode::TypeMismatch
    );
    assert_eq!(
        code_of(flags.get_string_value("api-usage", Some(&cust), None).await),
        EvaluationErrorCode::TypeMismatch
    );

    assert_eq!(
        entitlement_requests(&server),
        1,
        "every evaluation answered from the one fetched set"
    );
}

#[tokio::test]
async fn a_customer_without_the_feature_has_no_access_and_no_quantity() {
    let (server, client) = start().await;
    client.customers().create("newcomer").send().await.unwrap();
    grant(
        &server,
        "newcomer",
        "seats",
        FeatureKind::Customizable,
        Some(2),
        None,
    );
    let flags = flags(KelviqProvider::new(client)).await;
    let newcomer = customer("newcomer");

    let details = flags
        .get_bool_details("premium-reporting", Some(&newcomer), None)
        .await
        .unwrap();
    assert!(!details.value, "no entry: no access, as has_access answers");
    assert_eq!(details.reason, Some(EvaluationReason::Cached));

    let error = flags
        .get_int_details("api-usage", Some(&newcomer), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::FlagNotFound);
    assert!(
        error
            .message
            .as_deref()
            .is_some_and(|m| m.contains("api-usage")),
        "{error:?}"
    );
    assert_eq!(
        code_of(
            flags
                .get_struct_value::<StructValue>("api-usage", Some(&newcomer), None)
                .await
        ),
        EvaluationErrorCode::FlagNotFound
    );
    // What the application does with it: its own default.
    assert_eq!(
        flags
            .get_int_value("api-usage", Some(&newcomer), None)
            .await
            .unwrap_or(0),
        0
    );
    // The feature it holds still answers.
    assert_eq!(
        flags.get_int_value("seats", Some(&newcomer), None).await,
        Ok(2)
    );
    assert_eq!(entitlement_requests(&server), 1);
}

#[tokio::test]
async fn a_missing_targeting_key_is_refused_without_a_request() {
    let (server, client) = start().await;
    client.customers().create("cust").send().await.unwrap();
    server.clear_requests();
    let flags = flags(KelviqProvider::new(client)).await;
    let empty = EvaluationContext::default().with_targeting_key("");

    for context in [None, Some(&empty)] {
        assert_eq!(
            code_of(
                flags
                    .get_bool_value("premium-reporting", context, None)
                    .await
            ),
            EvaluationErrorCode::TargetingKeyMissing
        );
        assert_eq!(
            code_of(flags.get_int_value("seats", context, None).await),
            EvaluationErrorCode::TargetingKeyMissing
        );
        assert_eq!(
            code_of(
                flags
                    .get_struct_value::<StructValue>("seats", context, None)
                    .await
            ),
            EvaluationErrorCode::TargetingKeyMissing
        );
    }
    // The application's default answers.
    assert!(!flags
        .get_bool_value("premium-reporting", None, None)
        .await
        .unwrap_or(false));
    assert_eq!(entitlement_requests(&server), 0);
}

#[tokio::test]
async fn the_targeting_key_may_come_from_the_clients_context() {
    let (server, client) = start().await;
    client.customers().create("cust").send().await.unwrap();
    grant(
        &server,
        "cust",
        "premium-reporting",
        FeatureKind::Boolean,
        None,
        None,
    );
    let mut flags = flags(KelviqProvider::new(client)).await;
    flags.set_evaluation_context(customer("cust"));
    assert_eq!(
        flags.get_bool_value("premium-reporting", None, None).await,
        Ok(true)
    );
    // An invocation's own targeting key wins.
    assert_eq!(
        code_of(
            flags
                .get_bool_value("premium-reporting", Some(&customer("nobody")), None)
                .await
        ),
        EvaluationErrorCode::InvalidContext
    );
}

#[tokio::test]
async fn an_unknown_customer_or_an_empty_flag_key_is_an_error_not_a_no() {
    let (_server, client) = start().await;
    let flags = flags(KelviqProvider::new(client.clone())).await;
    let stranger = customer("never-created");

    let error = flags
        .get_bool_value("premium-reporting", Some(&stranger), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::InvalidContext);
    assert!(
        error
            .message
            .as_deref()
            .is_some_and(|m| m.contains("never-created")),
        "{error:?}"
    );
    assert_eq!(
        code_of(flags.get_int_value("seats", Some(&stranger), None).await),
        EvaluationErrorCode::InvalidContext
    );

    client.customers().create("cust").send().await.unwrap();
    let cust = customer("cust");
    assert_eq!(
        code_of(flags.get_bool_value("", Some(&cust), None).await),
        EvaluationErrorCode::FlagNotFound
    );
    assert_eq!(
        code_of(flags.get_int_value("", Some(&cust), None).await),
        EvaluationErrorCode::FlagNotFound
    );
}

#[tokio::test]
async fn initialisation_makes_no_request_and_sets_the_status() {
    let (server, client) = start().await;
    client.customers().create("cust").send().await.unwrap();
    server.clear_requests();

    let provider = KelviqProvider::new(client);
    let watch = provider.clone();
    assert_eq!(watch.status(), ProviderStatus::NotReady);
    // Used before initialisation (outside the API, which always initialises): refused.
    let early = provider
        .resolve_bool_value("premium-reporting", &customer("cust"))
        .await
        .unwrap_err();
    assert_eq!(early.code, EvaluationErrorCode::ProviderNotReady);

    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    assert_eq!(watch.status(), ProviderStatus::Ready);
    assert_eq!(api.provider_metadata().await.name, PROVIDER_NAME);
    assert_eq!(
        entitlement_requests(&server),
        0,
        "initialisation warms nothing"
    );

    let flags = api.create_client();
    assert_eq!(
        flags
            .get_bool_value("premium-reporting", Some(&customer("cust")), None)
            .await,
        Ok(false)
    );
    assert_eq!(entitlement_requests(&server), 1);
    assert_eq!(watch.status(), ProviderStatus::Ready);
}
