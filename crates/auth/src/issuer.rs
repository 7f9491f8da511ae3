//! Stigward as its own OIDC issuer, for deployments without an external provider: one P-256
//! key kept on disk, tokens signed with ES256, and the documents a client needs to verify them.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use p256::SecretKey;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::keys::PublicKey;
use crate::Verifier;

/// Why the issuer could not start or sign.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("cannot read or write the signing key file {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the signing key file {path} does not hold a PKCS#8 P-256 private key")]
    BadKey { path: PathBuf },
    #[error("cannot sign the token")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// The built-in issuer's key and identity. `Debug` shows no key material.
#[derive(Clone)]
pub struct Issuer {
    issuer_url: String,
    kid: String,
    x: String,
    y: String,
    signing_key: EncodingKey,
    verifying_key: DecodingKey,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("issuer_url", &self.issuer_url)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// Loads the PKCS#8 PEM key at `path`, or creates one there (owner-only permissions,
    /// parent directories included) if the file does not exist.
    pub fn load_or_create(path: &Path, issuer_url: String) -> Result<Issuer, IssuerError> {
        let io_error = |source| IssuerError::Io { path: path.to_owned(), source };
        let pem = if path.exists() {
            std::fs::read_to_string(path).map_err(io_error)?
        } else {
            create_key_file(path).map_err(io_error)?
        };

        let bad_key = || IssuerError::BadKey { path: path.to_owned() };
        let secret = SecretKey::from_pkcs8_pem(&pem).map_err(|_| bad_key())?;
        Issuer::from_secret(&secret, issuer_url).ok_or_else(bad_key)
    }

    fn from_secret(secret: &SecretKey, issuer_url: String) -> Option<Issuer> {
        let point = secret.public_key().to_encoded_point(false);
        let x = URL_SAFE_NO_PAD.encode(point.x()?);
        let y = URL_SAFE_NO_PAD.encode(point.y()?);
        let der = secret.to_pkcs8_der().ok()?;

        Some(Issuer {
            issuer_url,
            kid: thumbprint(&x, &y),
            signing_key: EncodingKey::from_ec_der(der.as_bytes()),
            verifying_key: DecodingKey::from_ec_der(point.as_bytes()),
            x,
            y,
        })
    }

    /// The RFC 7638 thumbprint that names the key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWKS document publishing the public key.
    pub fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "EC",
            "crv": "P-256",
            "x": self.x,
            "y": self.y,
            "use": "sig",
            "alg": "ES256",
            "kid": self.kid,
        }]})
    }

    /// A minimal OpenID discovery document pointing at `{issuer}/jwks`.
    pub fn discovery(&self) -> Value {
        json!({
            "issuer": self.issuer_url,
            "jwks_uri": format!("{}/jwks", self.issuer_url.trim_end_matches('/')),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        })
    }

    /// Signs `claims` after setting `iss`, `iat`, `exp` (now + `lifetime`) and a random `jti`,
    /// replacing any the caller passed.
    pub fn issue(
        &self,
        mut claims: Map<String, Value>,
        lifetime: Duration,
    ) -> Result<String, IssuerError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        claims.insert("iss".to_owned(), json!(self.issuer_url));
        claims.insert("iat".to_owned(), json!(now));
        claims.insert("exp".to_owned(), json!(now.saturating_add(lifetime.as_secs())));
        claims.insert("jti".to_owned(), json!(random_id()));

        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.signing_key)?)
    }

    /// A verifier that accepts exactly this issuer's tokens.
    pub fn verifier(&self, audience: Option<String>) -> Verifier {
        let key = PublicKey::ec(self.verifying_key.clone());
        Verifier::with_keys(vec![(self.kid.clone(), key)], audience)
    }
}

/// Writes a new key readable by the owner alone, and returns its PEM.
fn create_key_file(path: &Path) -> std::io::Result<String> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let secret = SecretKey::random(&mut OsRng);
    let pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|error| std::io::Error::other(error.to_string()))?;

    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(pem.as_bytes())?;
    Ok(pem.to_string())
}

fn thumbprint(x: &str, y: &str) -> String {
    // RFC 7638: the required members only, in lexical order, with no whitespace.
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
