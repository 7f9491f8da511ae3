//! Who is calling: bearer tokens checked against an OIDC provider's published keys, the claims
//! Stigward reads from them, and the small issuer Stigward runs when no provider is configured.

mod cache;
mod claims;
mod fetch;
mod issuer;
mod keys;
mod refresh;
mod token;
mod verifier;

pub use claims::{
    has_scope, privileges, scope_satisfies, scopes, username, ClaimPaths, Privileges,
};
pub use fetch::{ClientError, FetchError};
pub use issuer::{Issuer, IssuerError};
pub use refresh::RefreshTiming;
pub use token::TokenError;
pub use verifier::{DiscoveryError, Verifier, VerifierConfig, INSECURE_KIDS};
