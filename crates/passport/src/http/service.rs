use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use mocha_api::{ErrorBody, StatusReport, UpdateCheck, UpdateQuery};

use super::{ApiError, ApiQuery};
use crate::Passport;

#[utoipa::path(get, path = "/api/v1/status", tag = "service",
    responses((status = 200, body = StatusReport)))]
pub async fn status(State(passport): State<Arc<Passport>>) -> Json<StatusReport> {
    Json(passport.status_board().report())
}

#[utoipa::path(get, path = "/api/v1/updates", tag = "service", params(UpdateQuery),
    responses((status = 200, body = UpdateCheck),
              (status = 400, body = ErrorBody, description = "- `invalid_input`: the channel is not `stable`, `beta` or `dev`, the version is not like `1.2.3`, or the platform is not `linux-x86_64` or `windows-x86_64`")))]
pub async fn updates(
    State(passport): State<Arc<Passport>>,
    ApiQuery(query): ApiQuery<UpdateQuery>,
) -> Result<Json<UpdateCheck>, ApiError> {
    Ok(Json(passport.check_for_update_on(&query.channel, &query.version, query.platform.as_deref()).await?))
}
