//! The built-in issuer: its key file, its documents and the tokens it signs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use stigward_auth::{Issuer, TokenError, Verifier};

const URL: &str = "http://localhost:54000/oidc";

/// A fresh directory under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos();
        let dir = std::env::temp_dir()
            .join(format!("stigward-auth-{name}-{}-{nanos}", std::process::id()));
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn claims() -> Map<String, Value> {
    json!({"preferred_username": "admin", "scope": "stig-manager"})
        .as_object()
        .cloned()
        .expect("object")
}

#[test]
fn key_is_created_owner_only_and_reloaded_with_the_same_kid() {
    let scratch = Scratch::new("create");
    let path = scratch.0.join("nested/dir/issuer-key.pem");

    let created = Issuer::load_or_create(&path, URL.into()).expect("create");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&path).expect("file").permissions(),
    );
    let reloaded = Issuer::load_or_create(&path, URL.into()).expect("reload");

    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(&path)
        .expect("pem")
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(created.kid(), reloaded.kid());
    assert_eq!(created.jwks(), reloaded.jwks());
}

#[test]
fn jwks_and_discovery_describe_the_key() {
    let scratch = Scratch::new("documents");
    let issuer = Issuer::load_or_create(&scratch.0.join("key.pem"), URL.into()).expect("create");

    let jwks = issuer.jwks();
    let key = &jwks["keys"][0];
    let discovery = issuer.discovery();

    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"], &key["use"]),
        (&json!("EC"), &json!("P-256"), &json!("ES256"), &json!("sig"))
    );
    assert_eq!(key["kid"], issuer.kid());
    assert_eq!(issuer.kid().len(), 43, "base64url of a SHA-256 digest");
    assert_eq!(discovery["issuer"], URL);
    assert_eq!(discovery["jwks_uri"], format!("{URL}/jwks"));
    assert_eq!(discovery["id_token_signing_alg_values_supported"], json!(["ES256"]));
}

#[test]
fn kid_is_the_rfc7638_thumbprint() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use sha2::{Digest, Sha256};

    let scratch = Scratch::new("thumbprint");
    let issuer = Issuer::load_or_create(&scratch.0.join("key.pem"), URL.into()).expect("create");
    let key = &issuer.jwks()["keys"][0];
    let members = json!({"crv": key["crv"], "kty": key["kty"], "x": key["x"], "y": key["y"]});

    let digest = Sha256::digest(members.to_string().as_bytes());

    assert_eq!(issuer.kid(), URL_SAFE_NO_PAD.encode(digest));
}

#[tokio::test]
async fn issued_token_verifies_with_the_issuers_verifier() {
    let scratch = Scratch::new("issue");
    let issuer = Issuer::load_or_create(&scratch.0.join("key.pem"), URL.into()).expect("create");

    let token = issuer.issue(claims(), Duration::from_secs(300)).expect("issue");
    let payload = issuer.verifier(None).verify(&token).await.expect("valid");

    assert_eq!(payload["preferred_username"], "admin");
    assert_eq!(payload["iss"], URL);
    let (iat, exp) = (payload["iat"].as_u64().expect("iat"), payload["exp"].as_u64().expect("exp"));
    assert_eq!(exp - iat, 300);
    assert!(payload["jti"].as_str().is_some_and(|jti| !jti.is_empty()));
    let again = issuer.issue(claims(), Duration::from_secs(300)).expect("issue");
    assert_ne!(token, again, "every token gets its own jti");
}

#[tokio::test]
async fn from_jwks_over_the_published_set_accepts_the_token() {
    let scratch = Scratch::new("from-jwks");
    let issuer = Issuer::load_or_create(&scratch.0.join("key.pem"), URL.into()).expect("create");
    let token = issuer.issue(claims(), Duration::from_secs(60)).expect("issue");

    let verifier = Verifier::from_jwks(&issuer.jwks(), Some("stig-manager".into())).expect("jwks");
    let refused = verifier.verify(&token).await.map(|_| ());

    assert_eq!(
        refused,
        Err(TokenError::Invalid("jwt audience invalid. expected: stig-manager".into()))
    );
    let mut with_aud = claims();
    with_aud.insert("aud".into(), json!("stig-manager"));
    let token = issuer.issue(with_aud, Duration::from_secs(60)).expect("issue");
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn token_from_another_issuer_is_an_unknown_kid() {
    let scratch = Scratch::new("other");
    let ours = Issuer::load_or_create(&scratch.0.join("ours.pem"), URL.into()).expect("create");
    let theirs = Issuer::load_or_create(&scratch.0.join("theirs.pem"), URL.into()).expect("create");
    let token = theirs.issue(claims(), Duration::from_secs(60)).expect("issue");

    let refused = ours.verifier(None).verify(&token).await.map(|_| ());

    assert_eq!(refused, Err(TokenError::UnknownKid(theirs.kid().to_owned())));
}

#[test]
fn garbage_key_file_is_refused() {
    let scratch = Scratch::new("garbage");
    std::fs::create_dir_all(&scratch.0).expect("dir");
    let path = scratch.0.join("key.pem");
    std::fs::write(&path, "not a key").expect("write");

    assert!(Issuer::load_or_create(&path, URL.into()).is_err());
}
