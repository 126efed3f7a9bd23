//! The catalog: products and their settings, features, and plans with their drafts,
//! prices and entitlements (the operations of the document's `catalog` family).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::Router;
use kelviq_gen::catalog::types as wire;
use serde_json::{Map, Value};

use super::{answer, base_url, decode, list_url, MaybeWireJson, Params, TenantKey, WireJson};
use crate::error::ApiError;
use crate::App;

/// The catalog's routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/api/v1/catalog/features/",
            get(list_features).post(create_feature),
        )
        .route(
            "/api/v1/catalog/features/{pk}/",
            get(retrieve_feature).delete(archive_feature),
        )
        .route(
            "/api/v1/catalog/products/",
            get(list_products).post(create_product),
        )
        .route(
            "/api/v1/catalog/products/{pk}/",
            get(retrieve_product)
                .patch(update_product)
                .delete(archive_product),
        )
        .route(
            "/api/v1/catalog/products/{pk}/settings/",
            get(product_settings).patch(update_product_settings),
        )
        .route(
            "/api/v1/catalog/products/{product_pk}/image/{pk}/",
            patch(update_image).delete(delete_image),
        )
        .route("/api/v1/catalog/plans/", get(list_plans).post(create_plan))
        .route(
            "/api/v1/catalog/plans/{identifier}/",
            get(retrieve_plan).patch(update_plan).delete(archive_plan),
        )
        .route(
            "/api/v1/catalog/plans/{identifier}/publish/",
            post(publish_plan),
        )
        .route(
            "/api/v1/catalog/plans/{identifier}/discard/",
            delete(discard_draft),
        )
        .route(
            "/api/v1/catalog/plans/{identifier}/prices/",
            get(list_prices),
        )
        .route(
            "/api/v1/catalog/plans/{identifier}/prices/bulk/",
            post(set_prices),
        )
        .route(
            "/api/v1/catalog/plans/{identifier}/features/",
            get(list_entitlements).post(add_entitlements),
        )
        .route(
            "/api/v1/catalog/plans/{identifier}/features/{feature_id}/",
            patch(update_entitlement).delete(remove_entitlement),
        )
        .route(
            "/api/v1/catalog/plans/{identifier}/file/{pk}/",
            patch(update_file).delete(delete_file),
        )
        .route(
            "/api/v1/catalog/plans/{identifier}/file/{pk}/download/",
            get(download_file),
        )
        .route("/api/v1/media/", post(create_upload))
        .route(
            "/api/v1/monetization/product-offering/{product_id}/",
            get(product_offering),
        )
}

/// 204, no body.
fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The page URL of a list, keeping its `search`.
fn searched_url(headers: &HeaderMap, path: &str, search: Option<&str>) -> String {
    let base = list_url(headers, path);
    match search {
        Some(search) => format!(
            "{base}?{}",
            serde_urlencoded::to_string([("search", search)]).unwrap_or_default()
        ),
        None => base,
    }
}

/// The `version` query parameter.
fn version(params: &Params) -> Result<Option<i64>, ApiError> {
    params.parse("version", "a version number")
}

/// The `details` object of a checked body, as sent.
fn details_of(value: &Value) -> Map<String, Value> {
    value
        .get("details")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

// ----- features -----------------------------------------------------------------------

async fn list_features(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let search = params.text("search");
    let base = searched_url(&headers, "/api/v1/catalog/features/", search);
    let list = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .list_features(search, page, page_size, &base)?;
    Ok(answer(StatusCode::OK, &list))
}

async fn create_feature(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::CreateCatalogFeatureRequest>,
) -> Result<Response, ApiError> {
    let feature = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .create_feature(request)?;
    Ok(answer(StatusCode::CREATED, &feature))
}

async fn retrieve_feature(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(pk): Path<String>,
) -> Result<Response, ApiError> {
    let feature = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .retrieve_feature(&pk)?;
    Ok(answer(StatusCode::OK, &feature))
}

async fn archive_feature(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(pk): Path<String>,
) -> Result<Response, ApiError> {
    app.store()
        .tenant(Some(&key))
        .1
        .catalog
        .archive_feature(&pk)?;
    Ok(no_content())
}

// ----- products -----------------------------------------------------------------------

async fn list_products(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let search = params.text("search");
    let base = searched_url(&headers, "/api/v1/catalog/products/", search);
    let list = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .list_products(search, page, page_size, &base)?;
    Ok(answer(StatusCode::OK, &list))
}

async fn create_product(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::CreateCatalogProductRequest>,
) -> Result<Response, ApiError> {
    let product = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .create_product(request)?;
    Ok(answer(StatusCode::CREATED, &product))
}

async fn retrieve_product(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(pk): Path<String>,
) -> Result<Response, ApiError> {
    let product = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .retrieve_product(&pk)?;
    Ok(answer(StatusCode::OK, &product))
}

async fn update_product(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(pk): Path<String>,
    WireJson(request): WireJson<wire::UpdateCatalogProductRequest>,
) -> Result<Response, ApiError> {
    let product = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .update_product(&pk, request)?;
    Ok(answer(StatusCode::OK, &product))
}

async fn archive_product(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(pk): Path<String>,
) -> Result<Response, ApiError> {
    app.store()
        .tenant(Some(&key))
        .1
        .catalog
        .archive_product(&pk)?;
    Ok(no_content())
}

async fn product_settings(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(pk): Path<String>,
) -> Result<Response, ApiError> {
    let settings = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .product_settings(&pk)?;
    Ok(answer(StatusCode::OK, &settings))
}

async fn update_product_settings(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(pk): Path<String>,
    WireJson(request): WireJson<wire::UpdateCatalogProductSettingsRequest>,
) -> Result<Response, ApiError> {
    let settings = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .update_product_settings(&pk, request)?;
    Ok(answer(StatusCode::OK, &settings))
}

async fn update_image(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path((product_pk, pk)): Path<(String, String)>,
    WireJson(request): WireJson<wire::UpdateCatalogProductImageRequest>,
) -> Result<Response, ApiError> {
    let image = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .update_image(&product_pk, &pk, request)?;
    Ok(answer(StatusCode::OK, &image))
}

async fn delete_image(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path((product_pk, pk)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    app.store()
        .tenant(Some(&key))
        .1
        .catalog
        .delete_image(&product_pk, &pk)?;
    Ok(no_content())
}

// ----- plans --------------------------------------------------------------------------

async fn list_plans(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let list = app.store().tenant(Some(&key)).1.catalog.list_plans(
        page,
        page_size,
        &list_url(&headers, "/api/v1/catalog/plans/"),
    )?;
    Ok(answer(StatusCode::OK, &list))
}

async fn create_plan(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    WireJson(request): WireJson<wire::CreateCatalogPlanRequest>,
) -> Result<Response, ApiError> {
    let plan = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .create_plan(request, &base_url(&headers))?;
    Ok(answer(StatusCode::CREATED, &plan))
}

async fn retrieve_plan(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(identifier): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let version = version(&params)?;
    let plan = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .retrieve_plan(&identifier, version)?;
    Ok(answer(StatusCode::OK, &plan))
}

async fn update_plan(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(identifier): Path<String>,
    headers: HeaderMap,
    params: Params,
    WireJson(request): WireJson<wire::UpdateCatalogPlanRequest>,
) -> Result<Response, ApiError> {
    let version = version(&params)?;
    let plan = app.store().tenant(Some(&key)).1.catalog.update_plan(
        &identifier,
        version,
        request,
        &base_url(&headers),
    )?;
    Ok(answer(StatusCode::OK, &plan))
}

async fn archive_plan(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(identifier): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    // `version` is ignored: every version is archived; it must still be a number.
    version(&params)?;
    app.store()
        .tenant(Some(&key))
        .1
        .catalog
        .archive_plan(&identifier)?;
    Ok(no_content())
}

async fn publish_plan(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(identifier): Path<String>,
    MaybeWireJson(_request): MaybeWireJson<wire::PublishCatalogPlanRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let sellable = store
        .tenant(Some(&key))
        .1
        .catalog
        .publish_plan(&identifier)?;
    crate::state::sell(store.catalogue_mut(Some(&key)), sellable);
    Ok(answer(
        StatusCode::OK,
        &wire::CatalogPlanPublished {
            status: "published".into(),
        },
    ))
}

async fn discard_draft(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(identifier): Path<String>,
) -> Result<Response, ApiError> {
    app.store()
        .tenant(Some(&key))
        .1
        .catalog
        .discard_draft(&identifier)?;
    Ok(no_content())
}

async fn list_prices(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(identifier): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let version = version(&params)?;
    let list = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .list_prices(&identifier, version)?;
    Ok(answer(StatusCode::OK, &list))
}

async fn set_prices(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(identifier): Path<String>,
    WireJson(request): WireJson<wire::SetCatalogPlanPricesRequest>,
) -> Result<Response, ApiError> {
    let set = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .set_prices(&identifier, request)?;
    Ok(answer(StatusCode::OK, &set))
}

// ----- entitlements -------------------------------------------------------------------

async fn list_entitlements(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(identifier): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let version = version(&params)?;
    let list = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .list_entitlements(&identifier, version)?;
    Ok(answer(StatusCode::OK, &list))
}

async fn add_entitlements(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(identifier): Path<String>,
    WireJson(body): WireJson<Value>,
) -> Result<Response, ApiError> {
    // Decoded to check each value's type; stored as sent, keys the document does not
    // name included (the details pass other keys through).
    let request: wire::AddCatalogPlanFeaturesRequest = decode(body.clone())?;
    let sent = body
        .get("planEntitlements")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let entitlements = request
        .plan_entitlements
        .iter()
        .zip(&sent)
        .map(|(typed, raw)| (typed.feature, details_of(raw)))
        .collect();
    let plan = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .add_entitlements(&identifier, entitlements)?;
    Ok(answer(StatusCode::CREATED, &plan))
}

async fn update_entitlement(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path((identifier, feature_id)): Path<(String, String)>,
    WireJson(body): WireJson<Value>,
) -> Result<Response, ApiError> {
    let _: wire::UpdateCatalogPlanFeatureRequest = decode(body.clone())?;
    let updated = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .update_entitlement(&identifier, &feature_id, details_of(&body))?;
    Ok(answer(StatusCode::OK, &updated))
}

async fn remove_entitlement(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path((identifier, feature_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    app.store()
        .tenant(Some(&key))
        .1
        .catalog
        .remove_entitlement(&identifier, &feature_id)?;
    Ok(no_content())
}

// ----- plan files ---------------------------------------------------------------------

async fn update_file(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path((identifier, pk)): Path<(String, String)>,
    WireJson(request): WireJson<wire::UpdateCatalogPlanFileRequest>,
) -> Result<Response, ApiError> {
    let file = app
        .store()
        .tenant(Some(&key))
        .1
        .catalog
        .update_file(&identifier, &pk, request)?;
    Ok(answer(StatusCode::OK, &file))
}

async fn delete_file(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path((identifier, pk)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    app.store()
        .tenant(Some(&key))
        .1
        .catalog
        .delete_file(&identifier, &pk)?;
    Ok(no_content())
}

/// The public link of a plan file, whichever tenant has it: 302 to where the emulator
/// stores it.
async fn download_file(
    State(app): State<App>,
    Path((identifier, pk)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let location = app
        .store()
        .plan_file_location(&identifier, &pk)
        .ok_or_else(|| ApiError::not_found(format!("Plan {identifier:?} has no file {pk:?}.")))?;
    Ok((
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, location)],
    )
        .into_response())
}

// ----- media --------------------------------------------------------------------------

async fn create_upload(
    State(app): State<App>,
    headers: HeaderMap,
    WireJson(request): WireJson<wire::CreatePresignedUploadRequest>,
) -> Result<Response, ApiError> {
    let (file_key, fields) = app
        .store()
        .uploads
        .prepare(&request.file_name, &request.file_type)?;
    Ok(answer(
        StatusCode::OK,
        &wire::PresignedUpload {
            fields,
            file_key,
            url: format!("{}/_storage/", base_url(&headers)),
        },
    ))
}

// ----- monetization -------------------------------------------------------------------

async fn product_offering(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(product_id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let offering = app.store().tenant(Some(&key)).1.product_offering(
        &product_id,
        params.nonempty("customer_id")?,
        params.text("plans_enabled"),
    );
    Ok(match offering {
        Some(offering) => answer(StatusCode::OK, &offering),
        // The service's own 404 body for this operation.
        None => answer(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"status": "Not found", "message": "Product does not exist"}),
        ),
    })
}
