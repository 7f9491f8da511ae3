//! Liveness and readiness for orchestrators, outside `/api` and without a token:
//! `GET /health/live` answers 200 while the process serves requests; `GET /health/ready`
//! answers 200 while the API state is `available`, else 503, both with the state object.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::state::StateReport;
use crate::state::AppState;

pub async fn live(State(state): State<AppState>) -> Json<StateReport> {
    Json(state.status.report())
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<StateReport>) {
    let status = match state.status.is_available() {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(state.status.report()))
}
