//! A stand-in OIDC provider on a real socket, and the keys and tokens the tests sign with.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use serde_json::{json, Map, Value};
use stigward_auth::VerifierConfig;

pub const RSA_KID: &str = "rsa-signing-key";
pub const EC_KID: &str = "ec-signing-key";
pub const INSECURE_KID: &str = "FJ86GcF3jTbNLOco4NvZkUCIUmfYCqoqtOQeMfbhNlE";

pub const RSA_A_PEM: &[u8] = include_bytes!("../fixtures/rsa-a.pem");
pub const RSA_A_PUBLIC_PEM: &[u8] = include_bytes!("../fixtures/rsa-a.pub.pem");
pub const RSA_B_PEM: &[u8] = include_bytes!("../fixtures/rsa-b.pem");
const RSA_A_JWK: &str = include_str!("../fixtures/rsa-a.json");

/// The public JWK for fixture key a, published under `kid`.
pub fn rsa_jwk(kid: &str) -> Value {
    let mut jwk: Value = serde_json::from_str(RSA_A_JWK).expect("fixture JWK");
    jwk["kty"] = json!("RSA");
    jwk["use"] = json!("sig");
    jwk["kid"] = json!(kid);
    jwk
}

/// A P-256 key made for one test.
pub struct EcKey {
    pub encoding: EncodingKey,
    pub jwk: Value,
}

impl EcKey {
    pub fn generate(kid: &str) -> EcKey {
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        let point = secret.public_key().to_encoded_point(false);
        let der = secret.to_pkcs8_der().expect("pkcs8");
        EcKey {
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            jwk: json!({
                "kty": "EC", "crv": "P-256", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
                "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
            }),
        }
    }
}

pub fn rsa_key(pem: &[u8]) -> EncodingKey {
    EncodingKey::from_rsa_pem(pem).expect("fixture RSA key")
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// Claims of a token valid for the next five minutes.
pub fn claims() -> Map<String, Value> {
    let value = json!({
        "preferred_username": "alice",
        "scope": "stig-manager:collection",
        "iat": now(),
        "exp": now() + 300,
    });
    value.as_object().cloned().expect("object")
}

pub fn with(mut claims: Map<String, Value>, name: &str, value: Value) -> Map<String, Value> {
    claims.insert(name.to_owned(), value);
    claims
}

pub fn sign(claims: &Map<String, Value>, alg: Algorithm, kid: &str, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

/// Joins a header and payload of our own making with any signature text.
pub fn hand_made(header: &Value, payload: &Map<String, Value>, signature: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(payload.clone()).to_string());
    format!("{header}.{payload}.{signature}")
}

struct ProviderState {
    base: String,
    jwks: Mutex<Value>,
    up: AtomicBool,
    publish_jwks_uri: bool,
    discovery_fetches: AtomicUsize,
    jwks_fetches: AtomicUsize,
}

/// An OIDC provider serving discovery and a JWKS on 127.0.0.1, counting requests.
#[derive(Clone)]
pub struct Provider {
    state: Arc<ProviderState>,
}

impl Provider {
    pub async fn start(keys: Vec<Value>) -> Provider {
        Provider::start_with(keys, true).await
    }

    /// A provider whose discovery document lacks `jwks_uri`.
    pub async fn start_without_jwks_uri() -> Provider {
        Provider::start_with(Vec::new(), false).await
    }

    async fn start_with(keys: Vec<Value>, publish_jwks_uri: bool) -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let state = Arc::new(ProviderState {
            base: format!("http://{address}/realms/test"),
            jwks: Mutex::new(json!({ "keys": keys })),
            up: AtomicBool::new(true),
            publish_jwks_uri,
            discovery_fetches: AtomicUsize::new(0),
            jwks_fetches: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/realms/test/.well-known/openid-configuration", get(discovery))
            .route("/realms/test/certs", get(jwks))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Provider { state }
    }

    pub fn authority(&self) -> String {
        self.state.base.clone()
    }

    pub fn config(&self) -> VerifierConfig {
        VerifierConfig {
            authority: self.authority(),
            ca_certs: None,
            cache_max_age: Duration::from_secs(600),
            audience: None,
            allow_insecure_tokens: false,
            retries: 0,
            retry_interval: Duration::from_millis(10),
        }
    }

    pub fn set_keys(&self, keys: Vec<Value>) {
        *self.state.jwks.lock().expect("lock") = json!({ "keys": keys });
    }

    /// While down, every request is answered 503.
    pub fn set_up(&self, up: bool) {
        self.state.up.store(up, Ordering::SeqCst);
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn discovery_fetches(&self) -> usize {
        self.state.discovery_fetches.load(Ordering::SeqCst)
    }
}

async fn discovery(State(state): State<Arc<ProviderState>>) -> Response {
    state.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    if !state.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let mut document = json!({ "issuer": state.base });
    if state.publish_jwks_uri {
        document["jwks_uri"] = json!(format!("{}/certs", state.base));
    }
    Json(document).into_response()
}

async fn jwks(State(state): State<Arc<ProviderState>>) -> Response {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if !state.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let document = state.jwks.lock().expect("lock").clone();
    Json(document).into_response()
}
