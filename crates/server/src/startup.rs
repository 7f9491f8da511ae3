//! Start-up: opening the database (with retries), choosing the token issuer, and loading the
//! API definition into the application state.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use stigward_auth::{Issuer, Verifier, VerifierConfig};
use stigward_storage::Store;

use crate::config::{ServeConfig, StoreConfig};
use crate::ops::request_stats::RequestStats;
use crate::ops::state::{ApiStatus, Dependency};
use crate::state::{system_clock, AppState};

const RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// Opens the configured database, creating the data directory for the embedded default.
pub async fn open_store(config: &StoreConfig, retries: u32) -> anyhow::Result<Store> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    }
    let url = config.database_url();
    let mut attempt = 1;
    loop {
        match Store::connect(&url, config.db_max_connections).await {
            Ok(store) => return Ok(store),
            Err(err) if attempt < retries.max(1) => {
                tracing::warn!(attempt, error = %err, "database not ready, retrying");
                attempt += 1;
                tokio::time::sleep(RETRY_INTERVAL).await;
            }
            Err(err) => {
                let masked = crate::config::mask_password(&url);
                return Err(err).with_context(|| format!("opening database {masked}"));
            }
        }
    }
}

/// Loads the built-in issuer's signing key, creating it on first use.
pub fn local_issuer(config: &StoreConfig, issuer_url: String) -> anyhow::Result<Issuer> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let path = config.issuer_key_path();
    Issuer::load_or_create(&path, issuer_url)
        .with_context(|| format!("loading the signing key {}", path.display()))
}

pub async fn build_state(config: ServeConfig) -> anyhow::Result<AppState> {
    let store = open_store(&config.store, config.dependency_retries).await?;
    store.limit_metrics_cache(config.metrics_cache_checklists);
    let (verifier, issuer) = match config.external_provider() {
        Some(authority) => (external_verifier(&config, authority).await?, None),
        None => {
            let issuer = local_issuer(&config.store, config.local_issuer_url())?;
            (issuer.verifier(config.jwt_aud_value.clone()), Some(Arc::new(issuer)))
        }
    };
    let definition = definition(&config)?;
    // both dependencies were just reached; from here on `ops::monitor` keeps the flags true
    let status = ApiStatus::new();
    status.set_dependency(Dependency::Db, true);
    status.set_dependency(Dependency::Oidc, true);
    Ok(AppState {
        store,
        claims: Arc::new(config.claims.paths()),
        config: Arc::new(config),
        verifier,
        issuer,
        clock: system_clock,
        requests: Arc::new(RequestStats::for_definition(&definition)),
        definition: Arc::new(definition),
        status,
    })
}

async fn external_verifier(config: &ServeConfig, authority: &str) -> anyhow::Result<Verifier> {
    let minutes = config.jwks_cache_max_age.clamp(1, 35791);
    let verifier = Verifier::discover(VerifierConfig {
        authority: authority.to_string(),
        ca_certs: config.oidc_ca_certs.clone(),
        cache_max_age: Duration::from_secs(minutes * 60),
        audience: config.jwt_aud_value.clone(),
        allow_insecure_tokens: config.dev_allow_insecure_tokens,
        retries: config.dependency_retries,
        retry_interval: RETRY_INTERVAL,
    })
    .await
    .with_context(|| format!("reaching the OIDC provider {authority}"))?;
    // the key refresh and its health flag start with the server (`ops::monitor`)
    Ok(verifier)
}

/// Stigward's OpenAPI document with this server's version and URL filled in.
fn definition(config: &ServeConfig) -> anyhow::Result<Value> {
    let mut doc: Value = serde_norway::from_str(include_str!("../openapi.yaml"))
        .context("parsing the embedded OpenAPI document")?;
    doc["info"]["version"] = Value::String(env!("CARGO_PKG_VERSION").to_string());
    let base = config.local_issuer_url().trim_end_matches("/oidc").to_string();
    doc["servers"] = serde_json::json!([{ "url": format!("{base}/api") }]);
    Ok(doc)
}
