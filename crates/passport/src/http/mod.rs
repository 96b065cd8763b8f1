//! Passport's HTTP API: JSON under `/api/v1/`, described by `/api/v1/openapi.json`.
//!
//! Each handler documents itself with `#[utoipa::path]` and is mounted through
//! `utoipa_axum`, so the router and the OpenAPI document cannot drift apart.

mod accounts;
mod admin;
mod contacts;
mod error;
mod extract;
mod service;
mod sessions;
mod shared_errors;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;
pub use extract::{ApiJson, ApiPath, ApiQuery, ClientIp, Session};
use shared_errors::SharedErrors;

use crate::Passport;

/// Request bodies are small JSON documents; anything bigger is refused before it is read.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// HTTPS only for a year, this host only; the same for the API and the web pages.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

#[derive(OpenApi)]
#[openapi(
    info(title = "Mocha Passport", description = "Accounts, tokens, contacts, privacy, alerts and moderation."),
    components(schemas(mocha_api::ErrorBody)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn api() -> OpenApiRouter<Arc<Passport>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::me, accounts::update_me, accounts::delete_me))
        .routes(routes!(accounts::change_password))
        .routes(routes!(accounts::export))
        .routes(routes!(accounts::sign_ins))
        .routes(routes!(accounts::revoke_sign_in))
        .routes(routes!(sessions::sign_in))
        .routes(routes!(sessions::refresh))
        .routes(routes!(sessions::revoke))
        .routes(routes!(contacts::contacts))
        .routes(routes!(contacts::set_alias))
        .routes(routes!(contacts::remove_contact))
        .routes(routes!(contacts::requests, contacts::send_request))
        .routes(routes!(contacts::accept_request))
        .routes(routes!(contacts::decline_request))
        .routes(routes!(contacts::cancel_request))
        .routes(routes!(contacts::blocks))
        .routes(routes!(contacts::block, contacts::unblock))
        .routes(routes!(contacts::privacy, contacts::set_privacy))
        .routes(routes!(contacts::alerts))
        .routes(routes!(admin::ban))
        .routes(routes!(admin::unban))
        .routes(routes!(admin::grant_admin, admin::remove_admin))
        .routes(routes!(admin::find_users))
        .routes(routes!(admin::post_notice))
        .routes(routes!(service::status))
        .routes(routes!(service::updates))
}

/// Every call that writes can meet a full disk; its `507` is added here once, after the
/// routes are in, rather than in each handler's annotation.
struct StorageFullResponses;

/// `GET` calls that write: reading alerts deletes them.
const WRITING_GETS: &[&str] = &["/api/v1/alerts"];

impl utoipa::Modify for StorageFullResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let response = ResponseBuilder::new()
            .description("`storage_full`: the server's disk is full; nothing was changed — try again later")
            .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody"))))
            .build();
        add_response(openapi, "507", response, |path, item| {
            let get = if WRITING_GETS.contains(&path) { item.get.as_mut() } else { None };
            [item.post.as_mut(), item.put.as_mut(), item.patch.as_mut(), item.delete.as_mut(), get]
        });
    }
}

/// Every call that reads or writes the database can find it unreachable (PostgreSQL
/// stopped or restarting): `503` with `Retry-After`, added once like the `507`.
struct StorageUnavailableResponses;

/// The calls that never touch the database.
const WITHOUT_DATABASE: &[&str] = &["/api/v1/status", "/api/v1/updates"];

impl utoipa::Modify for StorageUnavailableResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let seconds = utoipa::openapi::Object::with_type(utoipa::openapi::Type::Integer);
        let response = ResponseBuilder::new()
            .description(
                "`storage_unavailable`: the server's database cannot be reached just now; \
                 try again after `Retry-After` seconds",
            )
            .header("Retry-After", utoipa::openapi::Header::new(seconds))
            .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody"))))
            .build();
        add_response(openapi, "503", response, |path, item| {
            if WITHOUT_DATABASE.contains(&path) {
                return Default::default();
            }
            [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ]
        });
    }
}

/// Adds `response` as `status` to the operations `pick` chooses on each path (unless
/// an operation documents that status itself).
fn add_response(
    openapi: &mut utoipa::openapi::OpenApi,
    status: &str,
    response: utoipa::openapi::Response,
    pick: impl for<'a> Fn(
        &str,
        &'a mut utoipa::openapi::PathItem,
    ) -> [Option<&'a mut utoipa::openapi::path::Operation>; 5],
) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        for operation in pick(path, item).into_iter().flatten() {
            operation
                .responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| response.clone().into());
        }
    }
}

/// After the routes are in: the answers many operations share (errors of their inputs,
/// 507 on every write, 503 on every call that needs the database) are derived from
/// each operation.
fn document_shared_answers(document: &mut utoipa::openapi::OpenApi) {
    SharedErrors.modify(document);
    StorageFullResponses.modify(document);
    StorageUnavailableResponses.modify(document);
}

/// The OpenAPI 3 document for every endpoint.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = api().into_openapi();
    document_shared_answers(&mut document);
    document
}

/// The API router, ready to be served (or merged with the web pages).
pub fn router(passport: Arc<Passport>) -> Router {
    let (router, mut document) = api().split_for_parts();
    document_shared_answers(&mut document);
    let document = Arc::new(document);
    router
        .route("/api/v1/openapi.json", get(move || async move { Json(document.as_ref().clone()) }))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(api_headers))
        .with_state(passport)
}

/// Only `/api/v1/status`, for a node that serves the web pages without the API (roles
/// `web` without `passport`): clients find the Notification Server there.
pub fn status_router(passport: Arc<Passport>) -> Router {
    Router::new()
        .route("/api/v1/status", get(service::status))
        .layer(axum::middleware::map_response(api_headers))
        .with_state(passport)
}

/// Every API answer: HTTPS only from now on, and never kept by a cache — sign-ins,
/// refreshes and most other answers carry tokens or personal data.
async fn api_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(STRICT_TRANSPORT_SECURITY));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn not_found() -> ApiError {
    ApiError::BadRequest {
        status: axum::http::StatusCode::NOT_FOUND,
        code: "not_found",
        message: "no such endpoint".to_string(),
    }
}
