//! Start-up discovery against a real provider, and the periodic refresh that follows it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use jsonwebtoken::Algorithm;
use stigward_auth::{DiscoveryError, TokenError, Verifier, VerifierConfig};
use tokio::time::Instant;

#[tokio::test]
async fn missing_jwks_uri_fails_at_once() {
    let provider = Provider::start_without_jwks_uri().await;
    let config = VerifierConfig { retries: 5, ..provider.config() };

    let failure = Verifier::discover(config).await.err();

    assert!(matches!(failure, Some(DiscoveryError::MissingJwksUri { .. })), "{failure:?}");
    assert_eq!(provider.discovery_fetches(), 1);
}

#[tokio::test]
async fn unreachable_provider_fails_after_the_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let config = VerifierConfig {
        authority: format!("http://{address}/realms/gone"),
        ca_certs: None,
        cache_max_age: Duration::from_secs(600),
        audience: None,
        allow_insecure_tokens: false,
        retries: 2,
        retry_interval: Duration::from_millis(10),
    };

    let failure = Verifier::discover(config).await.err();

    assert!(matches!(failure, Some(DiscoveryError::Unreachable { attempts: 3, .. })));
}

#[tokio::test]
async fn failing_provider_is_asked_once_plus_the_retries() {
    let provider = Provider::start(vec![rsa_jwk(RSA_KID)]).await;
    provider.set_up(false);
    let config = VerifierConfig { retries: 2, ..provider.config() };

    let failure = Verifier::discover(config).await.err();

    assert!(matches!(failure, Some(DiscoveryError::Unreachable { attempts: 3, .. })));
    assert_eq!(provider.discovery_fetches(), 3);
}

#[tokio::test]
async fn provider_that_comes_up_during_the_retries_is_used() {
    let provider = Provider::start(vec![rsa_jwk(RSA_KID)]).await;
    provider.set_up(false);
    let config = VerifierConfig {
        retries: 100,
        retry_interval: Duration::from_millis(20),
        ..provider.config()
    };
    let discovering = tokio::spawn(Verifier::discover(config));
    while provider.discovery_fetches() < 2 {
        tokio::task::yield_now().await;
    }
    provider.set_up(true);

    let verifier = discovering.await.expect("join").expect("discovery");
    let token = sign(&claims(), Algorithm::RS256, RSA_KID, &rsa_key(RSA_A_PEM));
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn published_insecure_kid_fails_at_once_unless_allowed() {
    let provider = Provider::start(vec![rsa_jwk(RSA_KID), rsa_jwk(INSECURE_KID)]).await;
    let config = VerifierConfig { retries: 5, ..provider.config() };

    let failure = Verifier::discover(config.clone()).await.err();
    assert!(matches!(failure, Some(DiscoveryError::InsecureKid { kid }) if kid == INSECURE_KID));
    assert_eq!(provider.discovery_fetches(), 1);

    let allowed = VerifierConfig { allow_insecure_tokens: true, ..config };
    assert!(Verifier::discover(allowed).await.is_ok());
}

#[tokio::test]
async fn ca_bundle_is_read_when_given() {
    let provider = Provider::start(vec![rsa_jwk(RSA_KID)]).await;
    let bundle = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/test-ca.pem");
    let config = VerifierConfig { ca_certs: Some(bundle.into()), ..provider.config() };

    assert!(Verifier::discover(config).await.is_ok());
}

#[tokio::test]
async fn unreadable_ca_bundle_is_reported() {
    let provider = Provider::start(vec![rsa_jwk(RSA_KID)]).await;
    let ca_certs = Some("/nonexistent/stigward-ca.pem".into());
    let config = VerifierConfig { ca_certs, ..provider.config() };

    let failure = Verifier::discover(config).await.err();

    assert!(matches!(failure, Some(DiscoveryError::Client(_))), "{failure:?}");
}

#[tokio::test(start_paused = true)]
async fn cache_goes_stale_without_the_provider_and_recovers_with_it() {
    let provider = Provider::start(vec![rsa_jwk(RSA_KID)]).await;
    let max_age = Duration::from_secs(60);
    let config = VerifierConfig { cache_max_age: max_age, ..provider.config() };
    let verifier = Verifier::discover(config).await.expect("discovery");
    let token = sign(&claims(), Algorithm::RS256, RSA_KID, &rsa_key(RSA_A_PEM));
    let started = Instant::now();

    let mut healthy = verifier.spawn_refresh();
    assert!(*healthy.borrow_and_update());
    provider.set_up(false);

    healthy.changed().await.expect("status change");
    assert!(!*healthy.borrow_and_update());
    let stale_after = started.elapsed();
    assert!(stale_after >= max_age && stale_after < max_age + Duration::from_secs(1));
    let refused = verifier.verify(&token).await;
    assert_eq!(refused, Err(TokenError::UnknownKid(RSA_KID.to_owned())));

    provider.set_up(true);
    healthy.changed().await.expect("status change");
    assert!(*healthy.borrow());
    assert!(started.elapsed() <= stale_after + Duration::from_secs(11));
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn refresh_runs_every_half_max_age() {
    let provider = Provider::start(vec![rsa_jwk(RSA_KID)]).await;
    let config = VerifierConfig { cache_max_age: Duration::from_secs(60), ..provider.config() };
    let verifier = Verifier::discover(config).await.expect("discovery");
    let healthy = verifier.spawn_refresh();

    tokio::time::sleep(Duration::from_secs(29)).await;
    assert_eq!(provider.jwks_fetches(), 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(provider.jwks_fetches(), 2);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(provider.jwks_fetches(), 3);
    assert!(*healthy.borrow());
}
