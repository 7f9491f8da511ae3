//! The API's one error type: every failure a handler or extractor can meet, mapped to its status
//! and to the contract's error body in a single `match`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use stigward_storage::StoreError;
use stigward_wire::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request that breaks the contract's schema: bad parameters, bodies, ids.
    #[error("{0}")]
    Validation(String),
    /// A request the schema allows but the server cannot use (`Incorrect request.`).
    #[error("incorrect request: {0}")]
    Client(Value),
    #[error("no access token")]
    NoToken,
    #[error("token refused: {0}")]
    Unauthorized(String),
    #[error("unknown signing key: {0}")]
    UnknownKey(String),
    #[error("insecure token: {0}")]
    InsecureToken(String),
    #[error("insufficient privilege")]
    Privilege(Option<String>),
    #[error("required scopes missing")]
    OutOfScope,
    #[error("elevate=true by a non-admin")]
    InvalidElevation,
    #[error("operation needs elevate=true")]
    ElevationRequired,
    #[error("user is unavailable")]
    UserUnavailable,
    #[error("not found")]
    NotFound(Option<String>),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("unprocessable: {0}")]
    Unprocessable(Value),
    #[error("grants or groups name an unavailable or unknown user")]
    UserInconsistent,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        ApiError::Unprocessable(Value::String(detail.into()))
    }

    pub fn client(detail: impl Into<String>) -> Self {
        ApiError::Client(Value::String(detail.into()))
    }

    pub fn privilege(detail: impl Into<String>) -> Self {
        ApiError::Privilege(Some(detail.into()))
    }

    fn parts(&self) -> (StatusCode, &'static str, Option<Value>) {
        use ApiError::*;
        let text = |s: &String| Some(Value::String(s.clone()));
        match self {
            Validation(_) => (StatusCode::BAD_REQUEST, "", None),
            Client(d) => (StatusCode::BAD_REQUEST, "Incorrect request.", Some(d.clone())),
            NoToken => (StatusCode::UNAUTHORIZED, "Request requires an access token.", None),
            Unauthorized(d) => (StatusCode::UNAUTHORIZED, "Request not authorized.", text(d)),
            UnknownKey(d) => (
                StatusCode::UNAUTHORIZED,
                "Unknown signing key, unable to validate token.",
                text(d),
            ),
            InsecureToken(d) => (
                StatusCode::UNAUTHORIZED,
                "Insecure token presented and STIGMAN_DEV_ALLOW_INSECURE_TOKENS is false.",
                text(d),
            ),
            Privilege(d) => (
                StatusCode::FORBIDDEN,
                "User has insufficient privilege to complete this request.",
                d.as_ref().and_then(text),
            ),
            OutOfScope => (StatusCode::FORBIDDEN, "Required scopes were not found in token.", None),
            InvalidElevation => {
                (StatusCode::FORBIDDEN, "Invalid use of parameter elevate=true.", None)
            }
            ElevationRequired => {
                (StatusCode::FORBIDDEN, "Request requires parameter elevate=true.", None)
            }
            UserUnavailable => (StatusCode::FORBIDDEN, "User status is \"unavailable\".", None),
            NotFound(d) => (StatusCode::NOT_FOUND, "Resource not found.", d.as_ref().and_then(text)),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.", None),
            PayloadTooLarge(d) => (StatusCode::PAYLOAD_TOO_LARGE, "Payload too large.", text(d)),
            UnsupportedMediaType(d) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type.", text(d))
            }
            Unprocessable(d) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Entity.", Some(d.clone()))
            }
            UserInconsistent => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Setting collectionGrants or userGroups is inconsistent with status \"unavailable\".",
                None,
            ),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Internal error.", None),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, detail) = self.parts();
        let error = match &self {
            ApiError::Validation(message) => message.clone(),
            _ => error.to_string(),
        };
        let body = ErrorBody { error, code: None, detail };
        let mut response = (status, Json(body)).into_response();
        // the request span's summary line logs the cause once; see `telemetry`
        response.extensions_mut().insert(ErrorCause(self.to_string()));
        response
    }
}

/// The cause of an error response, for the one log line written per request.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound(None),
            StoreError::Conflict(detail) => ApiError::unprocessable(detail),
            other if other.is_unstorable_text() => {
                ApiError::Validation("text values must not contain NUL characters".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
