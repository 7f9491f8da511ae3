//! Reading a compact JWT before any key is chosen, and the checks that follow the signature:
//! algorithm, `nbf`, `exp` and audience, with the messages API clients already know.

use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use crate::keys::PublicKey;

/// Why a bearer token was refused. `Display` gives the API's `error` text and
/// [`TokenError::detail`] the `detail` text; every variant answers 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token could not even be decoded.
    #[error("Request not authorized.")]
    NotJwt,
    /// Decoded, but it failed verification; holds the reason, e.g. `jwt expired`.
    #[error("Request not authorized.")]
    Invalid(String),
    /// No key with this kid is known, even after asking the provider once.
    #[error("Unknown signing key, unable to validate token.")]
    UnknownKid(String),
    /// The token names a kid whose private key is public knowledge.
    #[error("Insecure token presented and STIGMAN_DEV_ALLOW_INSECURE_TOKENS is false.")]
    InsecureKid(String),
}

impl TokenError {
    /// The API's `detail` text for this refusal.
    pub fn detail(&self) -> String {
        match self {
            TokenError::NotJwt => "Token is not valid JWT".to_owned(),
            TokenError::Invalid(reason) => reason.clone(),
            TokenError::UnknownKid(kid) => format!("Signing key unknown for kid: {kid}"),
            TokenError::InsecureKid(kid) => format!("Insecure kid found: {kid}"),
        }
    }

    fn invalid(reason: &str) -> TokenError {
        TokenError::Invalid(reason.to_owned())
    }
}

/// A token split into its parts, header and payload decoded but nothing verified.
pub(crate) struct RawToken<'a> {
    header: Map<String, Value>,
    payload: Map<String, Value>,
    signing_input: &'a str,
    signature: &'a str,
}

impl<'a> RawToken<'a> {
    /// Splits and decodes a compact JWS; `None` when it is not one.
    pub(crate) fn decode(token: &'a str) -> Option<RawToken<'a>> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        if payload.contains('.') || !is_base64url(signature) {
            return None;
        }

        Some(RawToken {
            header: decode_object(header)?,
            payload: decode_object(payload)?,
            signing_input,
            signature,
        })
    }

    /// The header's kid as upstream renders it: a missing kid reads `undefined`.
    pub(crate) fn kid(&self) -> String {
        match self.header.get("kid") {
            None => "undefined".to_owned(),
            Some(Value::String(kid)) => kid.clone(),
            Some(other) => other.to_string(),
        }
    }

    /// Checks that the header's algorithm suits `key` and that the signature holds.
    pub(crate) fn verify_signature(&self, key: &PublicKey) -> Result<(), TokenError> {
        if self.signature.is_empty() {
            return Err(TokenError::invalid("jwt signature is required"));
        }
        let algorithm = self
            .header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|name| Algorithm::from_str(name).ok())
            .filter(|algorithm| key.allows(*algorithm))
            .ok_or_else(|| TokenError::invalid("invalid algorithm"))?;

        let message = self.signing_input.as_bytes();
        match jsonwebtoken::crypto::verify(self.signature, message, key.decoding_key(), algorithm) {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(TokenError::invalid("invalid signature")),
        }
    }

    pub(crate) fn into_payload(self) -> Map<String, Value> {
        self.payload
    }

    pub(crate) fn payload(&self) -> &Map<String, Value> {
        &self.payload
    }
}

/// Applies `nbf`, `exp` (no clock tolerance) and, when configured, the audience, at `now`
/// in epoch seconds.
pub(crate) fn check_claims(
    payload: &Map<String, Value>,
    now: u64,
    audience: Option<&str>,
) -> Result<(), TokenError> {
    let now = now as f64;
    if let Some(nbf) = payload.get("nbf") {
        let nbf = nbf.as_f64().ok_or_else(|| TokenError::invalid("invalid nbf value"))?;
        if nbf > now {
            return Err(TokenError::invalid("jwt not active"));
        }
    }
    if let Some(exp) = payload.get("exp") {
        let exp = exp.as_f64().ok_or_else(|| TokenError::invalid("invalid exp value"))?;
        if now >= exp {
            return Err(TokenError::invalid("jwt expired"));
        }
    }
    match audience {
        Some(expected) if !audience_matches(payload.get("aud"), expected) => {
            Err(TokenError::Invalid(format!("jwt audience invalid. expected: {expected}")))
        }
        _ => Ok(()),
    }
}

fn audience_matches(aud: Option<&Value>, expected: &str) -> bool {
    match aud {
        Some(Value::String(aud)) => aud == expected,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(expected)),
        _ => false,
    }
}

fn decode_object(segment: &str) -> Option<Map<String, Value>> {
    if segment.is_empty() || !is_base64url(segment) {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

fn is_base64url(segment: &str) -> bool {
    segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn segment(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    #[test]
    fn decodes_only_three_base64url_json_object_segments() {
        let header = segment(&json!({"alg": "RS256", "kid": "k"}));
        let payload = segment(&json!({"sub": "a"}));
        let good = format!("{header}.{payload}.c2ln");
        assert_eq!(RawToken::decode(&good).map(|t| t.kid()), Some("k".to_owned()));

        let unsigned = format!("{header}.{payload}.");
        assert!(RawToken::decode(&unsigned).is_some());
        for bad in [
            "not a token".to_owned(),
            format!("{header}.{payload}"),
            format!("{header}.{payload}.sig.extra"),
            format!("{header}.{}.sig", segment(&json!("just a string"))),
            format!("{header}.{payload}=.sig"),
            format!(".{payload}.sig"),
        ] {
            assert!(RawToken::decode(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn missing_kid_reads_undefined() {
        let token = format!("{}.{}.", segment(&json!({"alg": "none"})), segment(&json!({})));
        assert_eq!(RawToken::decode(&token).map(|t| t.kid()), Some("undefined".to_owned()));
    }

    #[test]
    fn expiry_has_no_tolerance() {
        let payload = claims(json!({"exp": 100}));
        assert_eq!(check_claims(&payload, 99, None), Ok(()));
        assert_eq!(check_claims(&payload, 100, None), Err(TokenError::invalid("jwt expired")));
    }

    #[test]
    fn not_before_has_no_tolerance() {
        let payload = claims(json!({"nbf": 100}));
        assert_eq!(check_claims(&payload, 100, None), Ok(()));
        assert_eq!(check_claims(&payload, 99, None), Err(TokenError::invalid("jwt not active")));
    }

    #[test]
    fn time_claims_must_be_numbers() {
        let exp = claims(json!({"exp": "soon"}));
        assert_eq!(check_claims(&exp, 1, None), Err(TokenError::invalid("invalid exp value")));
        let nbf = claims(json!({"nbf": null}));
        assert_eq!(check_claims(&nbf, 1, None), Err(TokenError::invalid("invalid nbf value")));
    }

    #[test]
    fn audience_is_a_string_or_an_array_containing_the_value() {
        let expected = Err(TokenError::invalid("jwt audience invalid. expected: stigman"));
        for aud in [json!("stigman"), json!(["other", "stigman"])] {
            let payload = claims(json!({ "aud": aud }));
            assert_eq!(check_claims(&payload, 1, Some("stigman")), Ok(()));
        }
        for aud in [json!("other"), json!(["other"]), json!(7)] {
            let payload = claims(json!({ "aud": aud }));
            assert_eq!(check_claims(&payload, 1, Some("stigman")), expected);
        }
        assert_eq!(check_claims(&Map::new(), 1, Some("stigman")), expected);
        assert_eq!(check_claims(&claims(json!({"aud": "x"})), 1, None), Ok(()));
    }

    #[test]
    fn details_follow_the_upstream_texts() {
        assert_eq!(TokenError::NotJwt.detail(), "Token is not valid JWT");
        assert_eq!(TokenError::UnknownKid("k".into()).detail(), "Signing key unknown for kid: k");
        assert_eq!(TokenError::InsecureKid("k".into()).detail(), "Insecure kid found: k");
        assert_eq!(TokenError::NotJwt.to_string(), "Request not authorized.");
    }
}
