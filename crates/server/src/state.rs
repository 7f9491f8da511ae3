//! What every request handler shares: the store, the configuration and the token verifier.

use std::sync::Arc;

use stigward_auth::{ClaimPaths, Issuer, Verifier};
use stigward_storage::Store;

use crate::config::ServeConfig;
use crate::ops::request_stats::RequestStats;
use crate::ops::state::ApiStatus;

/// Reads the current time as epoch seconds. Handlers read it once per request.
pub type Clock = fn() -> i64;

pub fn system_clock() -> i64 {
    chrono::Utc::now().timestamp()
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServeConfig>,
    pub verifier: Verifier,
    /// Present when Stigward is its own token issuer.
    pub issuer: Option<Arc<Issuer>>,
    pub claims: Arc<ClaimPaths>,
    pub clock: Clock,
    /// Stigward's OpenAPI document, served by `GET /op/definition`.
    pub definition: Arc<serde_json::Value>,
    /// The API state machine (`GET /op/state`, the 503 gate, SSE).
    pub status: ApiStatus,
    /// Request statistics reported by `GET /op/appinfo`.
    pub requests: Arc<RequestStats>,
}
