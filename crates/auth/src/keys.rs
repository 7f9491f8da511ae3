//! Public signing keys read from a JWKS document, each with the algorithms it may verify.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

const RSA_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];
// ES512 belongs here too, but jsonwebtoken 9 cannot verify P-521 signatures.
const EC_ALGORITHMS: &[Algorithm] = &[Algorithm::ES256, Algorithm::ES384];
const OKP_ALGORITHMS: &[Algorithm] = &[Algorithm::EdDSA];

/// One verification key. The algorithm list is what keeps `none` and HMAC out: no key type
/// admits them.
#[derive(Clone)]
pub(crate) struct PublicKey {
    key: DecodingKey,
    algorithms: &'static [Algorithm],
}

impl PublicKey {
    /// A P-256 or P-384 key Stigward already holds in decoded form.
    pub(crate) fn ec(key: DecodingKey) -> PublicKey {
        PublicKey { key, algorithms: EC_ALGORITHMS }
    }

    pub(crate) fn allows(&self, algorithm: Algorithm) -> bool {
        self.algorithms.contains(&algorithm)
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

/// The usable keys of a JWKS document as `(kid, key)` pairs, or `None` when the document has
/// no `keys` array. Keys for encryption, of other types, without a kid, or malformed are
/// skipped without complaint, as the provider may publish keys Stigward has no use for.
pub(crate) fn parse_jwks(document: &Value) -> Option<Vec<(String, PublicKey)>> {
    let keys = document.get("keys")?.as_array()?;
    Some(keys.iter().filter_map(parse_jwk).collect())
}

fn parse_jwk(jwk: &Value) -> Option<(String, PublicKey)> {
    let kid = jwk.get("kid")?.as_str()?;
    if !matches!(jwk.get("use").and_then(Value::as_str), None | Some("sig")) {
        return None;
    }

    let key = match jwk.get("kty")?.as_str()? {
        "RSA" => rsa_key(jwk)?,
        "EC" => ec_key(jwk)?,
        "OKP" => okp_key(jwk)?,
        _ => return None,
    };
    Some((kid.to_owned(), key))
}

fn rsa_key(jwk: &Value) -> Option<PublicKey> {
    let n = decoded_member(jwk, "n")?;
    let e = decoded_member(jwk, "e")?;
    if n.is_empty() || e.is_empty() {
        return None;
    }
    let key = DecodingKey::from_rsa_raw_components(&n, &e);
    Some(PublicKey { key, algorithms: RSA_ALGORITHMS })
}

fn ec_key(jwk: &Value) -> Option<PublicKey> {
    let x = decoded_member(jwk, "x")?;
    let y = decoded_member(jwk, "y")?;
    if x.is_empty() || x.len() != y.len() {
        return None;
    }
    let mut point = Vec::with_capacity(1 + x.len() + y.len());
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Some(PublicKey::ec(DecodingKey::from_ec_der(&point)))
}

fn okp_key(jwk: &Value) -> Option<PublicKey> {
    if jwk.get("crv").and_then(Value::as_str) != Some("Ed25519") {
        return None;
    }
    let x = decoded_member(jwk, "x")?;
    if x.len() != 32 {
        return None;
    }
    let key = DecodingKey::from_ed_der(&x);
    Some(PublicKey { key, algorithms: OKP_ALGORITHMS })
}

fn decoded_member(jwk: &Value, name: &str) -> Option<Vec<u8>> {
    let text = jwk.get(name)?.as_str()?;
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_signing_keys_of_known_types_with_a_kid() {
        let document = json!({"keys": [
            {"kid": "r", "kty": "RSA", "n": "AQAB", "e": "AQAB"},
            {"kid": "enc", "kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
            {"kid": "oct", "kty": "oct", "k": "AQAB"},
            {"kid": "bad", "kty": "EC", "x": "!!", "y": "AQAB"},
            {"kid": "e", "kty": "EC", "use": "sig", "x": "AQAB", "y": "AQAB"},
        ]});
        let kids: Vec<String> =
            parse_jwks(&document).unwrap_or_default().into_iter().map(|(kid, _)| kid).collect();
        assert_eq!(kids, ["r", "e"]);
    }

    #[test]
    fn no_keys_array_is_not_a_key_set() {
        assert!(parse_jwks(&json!({"keys": "x"})).is_none());
        assert!(parse_jwks(&json!({})).is_none());
    }

    #[test]
    fn no_key_type_admits_none_or_hmac() {
        let document = json!({"keys": [
            {"kid": "r", "kty": "RSA", "n": "AQAB", "e": "AQAB"},
            {"kid": "e", "kty": "EC", "x": "AQAB", "y": "AQAB"},
            {"kid": "o", "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode([7u8; 32])},
        ]});
        let keys = parse_jwks(&document).unwrap_or_default();
        assert_eq!(keys.len(), 3);
        for (_, key) in keys {
            assert!(!key.allows(Algorithm::HS256));
            assert!(!key.allows(Algorithm::HS512));
        }
    }
}
