//! Request extraction that answers in the API's error body: JSON bodies, query parameters
//! (unknown ones are refused, as STIG Manager's validator does) and ids in paths.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// A JSON body; malformed, mistyped, oversized or non-JSON bodies get the API's error body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType(
                "expected Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(r.body_text()),
            _ => ApiError::Validation(format!("request/body {}", r.body_text())),
        })?;
        // PostgreSQL cannot store NUL in text, SQLite can: refused here, both backends answer
        // alike
        if escapes_nul(&bytes) {
            return Err(ApiError::Validation(
                "request/body text values must not contain NUL characters".into(),
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `application/json`, or a `+json` type, with any parameters.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json"
        || essence.strip_prefix("application/").is_some_and(|sub| sub.ends_with("+json"))
}

/// Whether a JSON text holds the escape `\u0000` in a string: JSON cannot carry NUL any other
/// way. An escaped backslash before `u0000` (`\\u0000`) is text, not the escape.
fn escapes_nul(json: &[u8]) -> bool {
    json.windows(6).enumerate().any(|(at, window)| {
        window == b"\\u0000"
            && json[..at].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            ApiError::Validation(format!("request/body {}", e.body_text()))
        }
        other => ApiError::Validation(format!("request/body {}", other.body_text())),
    }
}

/// Path parameters; one that does not decode (percent-encoded bytes that are not UTF-8) gets
/// the API's error body rather than axum's plain-text one.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => {
                Err(ApiError::Validation(format!("request/params {}", rejection.body_text())))
            }
        }
    }
}

/// The query string as key/value pairs. Handlers take the parameters they know; `finish`
/// refuses whatever is left.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(Params(pairs))
    }
}

impl Params {
    /// Every value of a repeatable parameter.
    pub fn all(&mut self, name: &str) -> Vec<String> {
        let (taken, rest) = std::mem::take(&mut self.0).into_iter().partition(|(k, _)| k == name);
        self.0 = rest;
        taken.into_iter().map(|(_, v)| v).collect()
    }

    /// A parameter that may appear once.
    pub fn one(&mut self, name: &str) -> ApiResult<Option<String>> {
        let mut values = self.all(name);
        match values.len() {
            0 => Ok(None),
            1 => Ok(values.pop()),
            _ => Err(ApiError::Validation(format!("request/query/{name} must be a single value"))),
        }
    }

    /// A single value from a fixed set.
    pub fn choice(&mut self, name: &str, allowed: &[&str]) -> ApiResult<Option<String>> {
        let value = self.one(name)?;
        match &value {
            Some(v) if !allowed.contains(&v.as_str()) => Err(ApiError::Validation(format!(
                "request/query/{name} must be equal to one of the allowed values: {}",
                allowed.join(", ")
            ))),
            _ => Ok(value),
        }
    }

    /// Repeatable values from a fixed set.
    pub fn choices(&mut self, name: &str, allowed: &[&str]) -> ApiResult<Vec<String>> {
        let values = self.all(name);
        match values.iter().find(|v| !allowed.contains(&v.as_str())) {
            Some(bad) => Err(ApiError::Validation(format!(
                "request/query/{name} value '{bad}' is not one of: {}",
                allowed.join(", ")
            ))),
            None => Ok(values),
        }
    }

    pub fn flag(&mut self, name: &str) -> ApiResult<bool> {
        match self.one(name)?.as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::Validation(format!(
                "request/query/{name} must be boolean, got '{other}'"
            ))),
        }
    }

    pub fn id(&mut self, name: &str) -> ApiResult<Option<i64>> {
        self.one(name)?.map(|v| parse_id(&v, &format!("query/{name}"))).transpose()
    }

    pub fn ids(&mut self, name: &str) -> ApiResult<Vec<i64>> {
        self.all(name).iter().map(|v| parse_id(v, &format!("query/{name}"))).collect()
    }

    /// Refuses any parameter no one took.
    pub fn finish(self) -> ApiResult<()> {
        match self.0.first() {
            Some((name, _)) => {
                Err(ApiError::Validation(format!("Unknown query parameter '{name}'")))
            }
            None => Ok(()),
        }
    }
}

/// Parses an id from a path or query (1 to 10 digits).
pub fn parse_id(text: &str, place: &str) -> ApiResult<i64> {
    stigward_wire::id_string::parse(text)
        .map_err(|e| ApiError::Validation(format!("request/{place}: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        Params(form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into(), v.into())).collect())
    }

    #[test]
    fn nul_escapes_are_found_and_escaped_backslashes_are_not() {
        assert!(escapes_nul(br#"{"name":"a\u0000b"}"#));
        assert!(escapes_nul(br#"{"name":"\\\u0000"}"#));
        assert!(!escapes_nul(br#"{"name":"a\\u0000b"}"#));
        assert!(!escapes_nul(br#"{"name":"\u0001"}"#));
    }

    #[test]
    fn json_content_types_are_recognised() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, value.parse().unwrap());
            json_content_type(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/jsonl"));
        assert!(!json_content_type(&HeaderMap::new()));
    }

    #[test]
    fn leftover_parameters_are_refused() {
        let mut p = params("projection=a&projection=b&bogus=1");
        assert_eq!(p.all("projection"), vec!["a", "b"]);
        assert!(p.finish().is_err());
    }

    #[test]
    fn ids_must_be_digits() {
        let mut p = params("collectionId=12x");
        assert!(p.id("collectionId").is_err());
        assert!(parse_id("12345678901", "path").is_err());
        assert_eq!(parse_id("42", "path").unwrap(), 42);
    }
}
