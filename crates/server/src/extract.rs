//! Request extraction that answers in the API's error body: JSON bodies, query parameters
//! (unknown ones are refused, as STIG Manager's validator does) and ids in paths.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// A JSON body; malformed, mistyped, oversized or non-JSON bodies get the API's error body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::UnsupportedMediaType("expected Content-Type: application/json".into())
        }
        JsonRejection::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge(r.body_text())
        }
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
