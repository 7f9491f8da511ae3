//! Token verification against keys served by a real JWKS endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use stigward_auth::{TokenError, Verifier, VerifierConfig};

struct Setup {
    provider: Provider,
    verifier: Verifier,
    ec: EcKey,
    rsa: EncodingKey,
}

async fn setup() -> Setup {
    setup_with(|config| config).await
}

async fn setup_with(adjust: impl FnOnce(VerifierConfig) -> VerifierConfig) -> Setup {
    let ec = EcKey::generate(EC_KID);
    let provider = Provider::start(vec![rsa_jwk(RSA_KID), ec.jwk.clone()]).await;
    let verifier = Verifier::discover(adjust(provider.config())).await.expect("discovery");
    Setup { provider, verifier, ec, rsa: rsa_key(RSA_A_PEM) }
}

fn invalid(reason: &str) -> Result<(), TokenError> {
    Err(TokenError::Invalid(reason.to_owned()))
}

async fn outcome(verifier: &Verifier, token: &str) -> Result<(), TokenError> {
    verifier.verify(token).await.map(|_| ())
}

#[tokio::test]
async fn rsa_signed_tokens_verify_with_every_rsa_algorithm() {
    let s = setup().await;
    for alg in [Algorithm::RS256, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384] {
        let token = sign(&claims(), alg, RSA_KID, &s.rsa);
        let payload = s.verifier.verify(&token).await.expect("valid RSA token");
        assert_eq!(payload["preferred_username"], "alice", "{alg:?}");
    }
}

#[tokio::test]
async fn ec_signed_token_verifies_and_returns_the_payload() {
    let s = setup().await;
    let token = sign(&claims(), Algorithm::ES256, EC_KID, &s.ec.encoding);

    let payload = s.verifier.verify(&token).await.expect("valid EC token");

    assert_eq!(payload["scope"], "stig-manager:collection");
    assert_eq!(s.provider.jwks_fetches(), 1);
}

#[tokio::test]
async fn expired_token_is_refused() {
    let s = setup().await;
    let token = sign(&with(claims(), "exp", json!(now() - 5)), Algorithm::RS256, RSA_KID, &s.rsa);

    let refused = outcome(&s.verifier, &token).await;

    assert_eq!(refused, invalid("jwt expired"));
    assert_eq!(refused.unwrap_err().detail(), "jwt expired");
}

#[tokio::test]
async fn token_not_yet_valid_is_refused() {
    let s = setup().await;
    let early = with(claims(), "nbf", json!(now() + 60));
    let token = sign(&early, Algorithm::ES256, EC_KID, &s.ec.encoding);

    assert_eq!(outcome(&s.verifier, &token).await, invalid("jwt not active"));
}

#[tokio::test]
async fn signature_by_another_key_under_a_known_kid_is_refused() {
    let s = setup().await;
    let forged_rsa = sign(&claims(), Algorithm::RS256, RSA_KID, &rsa_key(RSA_B_PEM));
    let other_ec = EcKey::generate(EC_KID);
    let forged_ec = sign(&claims(), Algorithm::ES256, EC_KID, &other_ec.encoding);

    assert_eq!(outcome(&s.verifier, &forged_rsa).await, invalid("invalid signature"));
    assert_eq!(outcome(&s.verifier, &forged_ec).await, invalid("invalid signature"));
}

#[tokio::test]
async fn alg_none_is_refused_with_or_without_a_signature() {
    let s = setup().await;
    let header = json!({"alg": "none", "typ": "JWT", "kid": RSA_KID});

    let unsigned = hand_made(&header, &claims(), "");
    let padded = hand_made(&header, &claims(), "AAAA");

    assert_eq!(outcome(&s.verifier, &unsigned).await, invalid("jwt signature is required"));
    assert_eq!(outcome(&s.verifier, &padded).await, invalid("invalid algorithm"));
}

#[tokio::test]
async fn hmac_keyed_with_the_public_key_is_refused() {
    let s = setup().await;
    let secret = EncodingKey::from_secret(RSA_A_PUBLIC_PEM);
    let token = sign(&claims(), Algorithm::HS256, RSA_KID, &secret);

    assert_eq!(outcome(&s.verifier, &token).await, invalid("invalid algorithm"));
}

#[tokio::test]
async fn algorithm_of_the_wrong_key_family_is_refused() {
    let s = setup().await;
    let token = sign(&claims(), Algorithm::RS256, EC_KID, &s.rsa);

    assert_eq!(outcome(&s.verifier, &token).await, invalid("invalid algorithm"));
}

#[tokio::test]
async fn unknown_kid_costs_one_fetch_and_is_then_remembered() {
    let s = setup().await;
    let token = sign(&claims(), Algorithm::RS256, "rotated-away", &s.rsa);
    let unknown = Err(TokenError::UnknownKid("rotated-away".to_owned()));

    assert_eq!(outcome(&s.verifier, &token).await, unknown);
    assert_eq!(s.provider.jwks_fetches(), 2);

    assert_eq!(outcome(&s.verifier, &token).await, unknown);
    assert_eq!(s.provider.jwks_fetches(), 2);
    let detail = s.verifier.verify(&token).await.unwrap_err().detail();
    assert_eq!(detail, "Signing key unknown for kid: rotated-away");
}

#[tokio::test]
async fn racing_requests_for_one_unknown_kid_cause_one_fetch() {
    let s = setup().await;
    let token = sign(&claims(), Algorithm::ES256, "never-published", &s.ec.encoding);

    let (first, second) = tokio::join!(s.verifier.verify(&token), s.verifier.verify(&token));

    let unknown = TokenError::UnknownKid("never-published".to_owned());
    assert_eq!((first.unwrap_err(), second.unwrap_err()), (unknown.clone(), unknown));
    assert_eq!(s.provider.jwks_fetches(), 2);
}

#[tokio::test]
async fn kid_published_after_start_is_found_by_the_on_demand_fetch() {
    let s = setup().await;
    s.provider.set_keys(vec![rsa_jwk(RSA_KID), rsa_jwk("next-key")]);
    let token = sign(&claims(), Algorithm::RS256, "next-key", &s.rsa);

    assert_eq!(outcome(&s.verifier, &token).await, Ok(()));
    assert_eq!(s.provider.jwks_fetches(), 2);
}

#[tokio::test]
async fn token_without_kid_is_an_unknown_kid_named_undefined() {
    let s = setup().await;
    let header = jsonwebtoken::Header::new(Algorithm::RS256);
    let token = jsonwebtoken::encode(&header, &claims(), &s.rsa).expect("sign");

    let refused = outcome(&s.verifier, &token).await;

    assert_eq!(refused, Err(TokenError::UnknownKid("undefined".to_owned())));
}

#[tokio::test]
async fn insecure_kid_is_refused_before_any_key_lookup() {
    let s = setup().await;
    let token = sign(&claims(), Algorithm::RS256, INSECURE_KID, &s.rsa);

    let refused = outcome(&s.verifier, &token).await;

    assert_eq!(refused, Err(TokenError::InsecureKid(INSECURE_KID.to_owned())));
    assert_eq!(refused.unwrap_err().detail(), format!("Insecure kid found: {INSECURE_KID}"));
    assert_eq!(s.provider.jwks_fetches(), 1);
}

#[tokio::test]
async fn insecure_kid_is_accepted_when_allowed() {
    let provider = Provider::start(vec![rsa_jwk(INSECURE_KID)]).await;
    let config = VerifierConfig { allow_insecure_tokens: true, ..provider.config() };
    let verifier = Verifier::discover(config).await.expect("discovery");
    let token = sign(&claims(), Algorithm::RS256, INSECURE_KID, &rsa_key(RSA_A_PEM));

    assert_eq!(outcome(&verifier, &token).await, Ok(()));
}

#[tokio::test]
async fn audience_is_checked_only_when_configured() {
    let s = setup_with(|c| VerifierConfig { audience: Some("stig-manager".into()), ..c }).await;
    let wrong = sign(&with(claims(), "aud", json!("other")), Algorithm::RS256, RSA_KID, &s.rsa);
    let listed = with(claims(), "aud", json!(["account", "stig-manager"]));
    let right = sign(&listed, Algorithm::RS256, RSA_KID, &s.rsa);

    let refused = outcome(&s.verifier, &wrong).await;
    assert_eq!(refused, invalid("jwt audience invalid. expected: stig-manager"));
    assert_eq!(outcome(&s.verifier, &right).await, Ok(()));

    let open = setup().await;
    assert_eq!(outcome(&open.verifier, &wrong).await, Ok(()));
}

#[tokio::test]
async fn issuer_is_not_checked() {
    let s = setup().await;
    let foreign = with(claims(), "iss", json!("https://somewhere.else/realms/x"));
    let token = sign(&foreign, Algorithm::ES256, EC_KID, &s.ec.encoding);

    assert_eq!(outcome(&s.verifier, &token).await, Ok(()));
}

#[tokio::test]
async fn text_that_is_not_a_jwt_is_refused_as_such() {
    let s = setup().await;
    for token in ["not-a-token", "a.b.c", "e30.e30", ""] {
        let refused = outcome(&s.verifier, token).await;
        assert_eq!(refused, Err(TokenError::NotJwt), "{token}");
    }
    assert_eq!(TokenError::NotJwt.detail(), "Token is not valid JWT");
    assert_eq!(s.provider.jwks_fetches(), 1);
}
