//! Token verification against a cached key set, filled from an OIDC provider or given up front.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Client;
use serde_json::{Map, Value};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::cache::{KeyCache, Lookup};
use crate::fetch::{self, ClientError, FetchError};
use crate::keys::{parse_jwks, PublicKey};
use crate::token::{check_claims, RawToken, TokenError};

/// Kids whose private keys are published (upstream's test tokens are signed with them), so a
/// token naming one proves nothing unless insecure tokens are explicitly allowed.
pub const INSECURE_KIDS: &[&str] = &["FJ86GcF3jTbNLOco4NvZkUCIUmfYCqoqtOQeMfbhNlE"];

/// Where the keys come from and how tokens are judged.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The OIDC provider's base URL (`STIGMAN_OIDC_PROVIDER`).
    pub authority: String,
    /// Extra CAs trusted for the provider's TLS (`STIGMAN_OIDC_CA_CERTS`).
    pub ca_certs: Option<PathBuf>,
    /// How long keys stay good without a successful refresh (`STIGMAN_JWKS_CACHE_MAX_AGE`).
    pub cache_max_age: Duration,
    /// The required `aud` value, if any (`STIGMAN_JWT_AUD_VALUE`).
    pub audience: Option<String>,
    /// `STIGMAN_DEV_ALLOW_INSECURE_TOKENS`.
    pub allow_insecure_tokens: bool,
    /// Retries after the first failed discovery attempt (`STIGMAN_DEPENDENCY_RETRIES`).
    pub retries: u32,
    /// The pause between discovery attempts.
    pub retry_interval: Duration,
}

/// Why start-up could not obtain a key set.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the OIDC discovery document at {url} has no jwks_uri")]
    MissingJwksUri { url: String },
    #[error(
        "the OIDC provider publishes the insecure kid {kid} \
         and STIGMAN_DEV_ALLOW_INSECURE_TOKENS is false"
    )]
    InsecureKid { kid: String },
    #[error("the OIDC provider could not be reached in {attempts} attempts")]
    Unreachable {
        attempts: u32,
        #[source]
        source: FetchError,
    },
    #[error("the key set has no keys array")]
    NotKeySet,
}

/// Checks bearer tokens. Cheap to clone; clones share one key cache.
#[derive(Clone)]
pub struct Verifier {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("jwks_uri", &self.inner.provider.as_ref().map(|p| p.jwks_uri.as_str()))
            .field("audience", &self.inner.audience)
            .field("allow_insecure", &self.inner.allow_insecure)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) provider: Option<Provider>,
    audience: Option<String>,
    allow_insecure: bool,
    keys: RwLock<KeyCache>,
    /// Serialises fetches, so requests racing on one unknown kid cause a single fetch.
    refresh_lock: tokio::sync::Mutex<()>,
    health: watch::Sender<bool>,
    last_success: Mutex<Instant>,
    pub(crate) refresh_started: AtomicBool,
}

pub(crate) struct Provider {
    client: Client,
    jwks_uri: String,
    pub(crate) cache_max_age: Duration,
}

enum Attempt {
    Fatal(DiscoveryError),
    Retry(FetchError),
}

impl Verifier {
    /// Reads `jwks_uri` from `{authority}/.well-known/openid-configuration` and fetches the keys,
    /// retrying as configured. A document without `jwks_uri`, or a key set publishing an insecure
    /// kid while those are not allowed, fails at once.
    pub async fn discover(config: VerifierConfig) -> Result<Verifier, DiscoveryError> {
        let client = fetch::client(config.ca_certs.as_deref())?;
        let (jwks_uri, keys) = discover_with_retries(&client, &config).await?;
        if !config.allow_insecure_tokens {
            refuse_insecure_kids(&keys)?;
        }

        let provider = Provider { client, jwks_uri, cache_max_age: config.cache_max_age };
        let inner = Inner::new(Some(provider), keys, config.audience, config.allow_insecure_tokens);
        Ok(Verifier { inner: Arc::new(inner) })
    }

    /// A verifier over a fixed key set, such as Stigward's own issuer's: it never fetches.
    pub fn from_jwks(jwks: &Value, audience: Option<String>) -> Result<Verifier, DiscoveryError> {
        let keys = parse_jwks(jwks).ok_or(DiscoveryError::NotKeySet)?;
        Ok(Verifier::with_keys(keys, audience))
    }

    pub(crate) fn with_keys(keys: Vec<(String, PublicKey)>, audience: Option<String>) -> Verifier {
        Verifier { inner: Arc::new(Inner::new(None, keys, audience, false)) }
    }

    /// Checks signature, `nbf` and `exp` (no tolerance) and the audience if one is configured,
    /// and returns the payload. The issuer is deliberately not checked.
    pub async fn verify(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let raw = RawToken::decode(token).ok_or(TokenError::NotJwt)?;
        let kid = raw.kid();
        if !self.inner.allow_insecure && INSECURE_KIDS.contains(&kid.as_str()) {
            return Err(TokenError::InsecureKid(kid));
        }

        let key = self.signing_key(&kid).await?;
        raw.verify_signature(&key)?;
        check_claims(raw.payload(), epoch_seconds(), self.inner.audience.as_deref())?;
        Ok(raw.into_payload())
    }

    async fn signing_key(&self, kid: &str) -> Result<PublicKey, TokenError> {
        let cached = self.inner.cache().lookup(kid);
        match cached {
            Lookup::Found(key) => return Ok(key),
            Lookup::Unknown => return Err(TokenError::UnknownKid(kid.to_owned())),
            Lookup::Absent => {}
        }
        self.refresh_for_unknown(kid).await
    }

    /// One fetch, without retry, for a kid never seen before; a kid still missing afterwards is
    /// remembered as unknown for good.
    async fn refresh_for_unknown(&self, kid: &str) -> Result<PublicKey, TokenError> {
        let _serialised = self.inner.refresh_lock.lock().await;
        let absent = matches!(self.inner.cache().lookup(kid), Lookup::Absent);
        if absent {
            if let Err(error) = self.inner.fetch_keys().await {
                tracing::warn!(error = %error, kid, "key refresh for an unknown kid failed");
            }
        }

        let mut cache = self.inner.cache_mut();
        match cache.lookup(kid) {
            Lookup::Found(key) => Ok(key),
            Lookup::Unknown | Lookup::Absent => {
                cache.mark_unknown(kid);
                Err(TokenError::UnknownKid(kid.to_owned()))
            }
        }
    }
}

impl Inner {
    fn new(
        provider: Option<Provider>,
        keys: Vec<(String, PublicKey)>,
        audience: Option<String>,
        allow_insecure: bool,
    ) -> Inner {
        Inner {
            provider,
            audience,
            allow_insecure,
            keys: RwLock::new(KeyCache::with_keys(keys)),
            refresh_lock: tokio::sync::Mutex::new(()),
            health: watch::Sender::new(true),
            last_success: Mutex::new(Instant::now()),
            refresh_started: AtomicBool::new(false),
        }
    }

    fn cache(&self) -> std::sync::RwLockReadGuard<'_, KeyCache> {
        self.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn cache_mut(&self) -> std::sync::RwLockWriteGuard<'_, KeyCache> {
        self.keys.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn health(&self) -> watch::Receiver<bool> {
        self.health.subscribe()
    }

    pub(crate) fn last_success(&self) -> Instant {
        *self.last_success.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A scheduled refresh: waits its turn behind any on-demand fetch.
    pub(crate) async fn refresh(&self) -> Result<(), FetchError> {
        let _serialised = self.refresh_lock.lock().await;
        self.fetch_keys().await
    }

    /// Fetches the key set and, on success, installs it and reports the provider healthy.
    /// Callers hold `refresh_lock`. Without a provider there is nothing to fetch.
    async fn fetch_keys(&self) -> Result<(), FetchError> {
        let Some(provider) = &self.provider else {
            return Ok(());
        };
        let keys = fetch::fetch_keys(&provider.client, &provider.jwks_uri).await?;

        self.cache_mut().replace_keys(keys);
        *self.last_success.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
        self.set_health(true);
        Ok(())
    }

    /// Drops every real key once no refresh has succeeded for the whole max age, so tokens are
    /// no longer accepted on keys the provider may have revoked meanwhile.
    pub(crate) fn go_stale(&self) {
        if self.set_health(false) {
            tracing::warn!("JWKS cache is stale, signing keys dropped");
            self.cache_mut().drop_keys();
        }
    }

    pub(crate) fn is_healthy(&self) -> bool {
        *self.health.borrow()
    }

    /// Returns whether the status changed.
    fn set_health(&self, healthy: bool) -> bool {
        self.health.send_if_modified(|current| {
            let changed = *current != healthy;
            *current = healthy;
            changed
        })
    }
}

async fn discover_with_retries(
    client: &Client,
    config: &VerifierConfig,
) -> Result<(String, Vec<(String, PublicKey)>), DiscoveryError> {
    let url =
        format!("{}/.well-known/openid-configuration", config.authority.trim_end_matches('/'));
    let attempts = config.retries.saturating_add(1);
    let mut attempt = 1;
    loop {
        match discover_once(client, &url).await {
            Ok(found) => return Ok(found),
            Err(Attempt::Fatal(error)) => return Err(error),
            Err(Attempt::Retry(source)) if attempt >= attempts => {
                return Err(DiscoveryError::Unreachable { attempts, source });
            }
            Err(Attempt::Retry(error)) => {
                tracing::warn!(error = %error, attempt, attempts, "OIDC discovery failed");
                attempt += 1;
                tokio::time::sleep(config.retry_interval).await;
            }
        }
    }
}

async fn discover_once(
    client: &Client,
    url: &str,
) -> Result<(String, Vec<(String, PublicKey)>), Attempt> {
    let document = fetch::get_json(client, url).await.map_err(Attempt::Retry)?;
    let Some(jwks_uri) = document.get("jwks_uri").and_then(Value::as_str) else {
        let url = url.to_owned();
        return Err(Attempt::Fatal(DiscoveryError::MissingJwksUri { url }));
    };
    let keys = fetch::fetch_keys(client, jwks_uri).await.map_err(Attempt::Retry)?;
    Ok((jwks_uri.to_owned(), keys))
}

fn refuse_insecure_kids(keys: &[(String, PublicKey)]) -> Result<(), DiscoveryError> {
    match keys.iter().find(|(kid, _)| INSECURE_KIDS.contains(&kid.as_str())) {
        Some((kid, _)) => Err(DiscoveryError::InsecureKid { kid: kid.clone() }),
        None => Ok(()),
    }
}

fn epoch_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0)
}
