//! Who is calling: bearer-token verification and user set-up for every `/api` request (before
//! routing, as STIG Manager does), and the `Caller` extractor that demands a token and a scope.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use stigward_auth::{Privileges, TokenError};
use stigward_domain::Role;
use stigward_storage::access::AccessMap;
use stigward_storage::grants::EffectiveGrant;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A verified token and the user behind it, placed in the request's extensions.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: i64,
    pub username: String,
    pub scopes: Vec<String>,
    pub privileges: Privileges,
    /// `elevate=true` was sent, by an admin.
    pub elevate: bool,
    /// The request's clock reading.
    pub now: i64,
    /// The OAuth client the token was issued to (`azp`, `client_id` or `clientId`), for the
    /// request statistics.
    pub client: Option<String>,
}

/// Last access is written at most this often, in seconds.
const LAST_ACCESS_RESOLUTION: i64 = 60;

/// Middleware: verifies a bearer token when one is sent and sets up its user.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = bearer_token(req.headers());
    if let Some(token) = token {
        let elevate = raw_elevate(req.uri().query());
        match identify(&state, &token, elevate).await {
            Ok(caller) => {
                req.extensions_mut().insert(caller);
            }
            Err(err) => return err.into_response(),
        }
    }
    next.run(req).await
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(char::is_whitespace)?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// The elevation check reads the raw query string: only the literal `true` elevates.
fn raw_elevate(query: Option<&str>) -> bool {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == "elevate" && v == "true")
}

async fn identify(state: &AppState, token: &str, elevate: bool) -> ApiResult<Authenticated> {
    let claims = state.verifier.verify(token).await.map_err(token_error)?;
    let paths = &state.claims;
    let username = stigward_auth::username(&claims, paths).ok_or_else(|| {
        ApiError::Unauthorized("No token claim mappable to username found".to_string())
    })?;
    let now = (state.clock)();
    let user_id = set_up_user(state, &username, &claims, now).await?;
    let privileges = stigward_auth::privileges(&claims, paths);
    if elevate && !privileges.admin {
        return Err(ApiError::InvalidElevation);
    }
    Ok(Authenticated {
        user_id,
        username,
        scopes: stigward_auth::scopes(&claims, paths),
        privileges,
        elevate,
        now,
        client: ["azp", "client_id", "clientId"]
            .into_iter()
            .find_map(|claim| claims.get(claim)?.as_str().map(str::to_owned)),
    })
}

fn token_error(err: TokenError) -> ApiError {
    let detail = err.detail();
    match err {
        TokenError::UnknownKid(_) => ApiError::UnknownKey(detail),
        TokenError::InsecureKid(_) => ApiError::InsecureToken(detail),
        _ => ApiError::Unauthorized(detail),
    }
}

/// Finds or creates the token's user, refusing unavailable users, and records the visit.
async fn set_up_user(
    state: &AppState,
    username: &str,
    claims: &Map<String, Value>,
    now: i64,
) -> ApiResult<i64> {
    let claims_value = Value::Object(claims.clone());
    let Some(user) = state.store.user_by_name(username).await? else {
        return Ok(state.store.create_user_from_token(username, now, &claims_value).await?);
    };
    if !user.available {
        return Err(ApiError::UserUnavailable);
    }
    let assertion = &state.claims.assertion;
    let stale_access = user.last_access.is_none_or(|t| now - t >= LAST_ACCESS_RESOLUTION);
    let new_claims = user.last_claims.as_object().is_none_or(|c| c.is_empty())
        || user.last_claims.get(assertion) != claims.get(assertion);
    if stale_access || new_claims {
        let access = stale_access.then_some(now);
        let claims = new_claims.then_some(&claims_value);
        state.store.record_user_visit(user.user_id, access, claims).await?;
    }
    Ok(user.user_id)
}

/// The scope an operation requires.
pub trait Scope: Send + Sync + 'static {
    const REQUIRED: &'static str;
}

/// Marker types naming each scope, used as `Caller<scope::CollectionRead>`.
pub mod scope {
    use super::Scope;

    pub struct StigRead;
    impl Scope for StigRead {
        const REQUIRED: &'static str = "stig-manager:stig:read";
    }

    pub struct Stig;
    impl Scope for Stig {
        const REQUIRED: &'static str = "stig-manager:stig";
    }

    pub struct CollectionRead;
    impl Scope for CollectionRead {
        const REQUIRED: &'static str = "stig-manager:collection:read";
    }

    pub struct Collection;
    impl Scope for Collection {
        const REQUIRED: &'static str = "stig-manager:collection";
    }

    pub struct User;
    impl Scope for User {
        const REQUIRED: &'static str = "stig-manager:user";
    }

    pub struct UserRead;
    impl Scope for UserRead {
        const REQUIRED: &'static str = "stig-manager:user:read";
    }

    pub struct OpRead;
    impl Scope for OpRead {
        const REQUIRED: &'static str = "stig-manager:op:read";
    }

    pub struct Op;
    impl Scope for Op {
        const REQUIRED: &'static str = "stig-manager:op";
    }
}

/// An authenticated caller whose token carries scope `S`; 401 without a token, 403 without
/// the scope.
pub struct Caller<S> {
    pub user: Authenticated,
    _scope: PhantomData<S>,
}

impl<S> std::ops::Deref for Caller<S> {
    type Target = Authenticated;

    fn deref(&self) -> &Authenticated {
        &self.user
    }
}

impl<S: Scope, St: Send + Sync> FromRequestParts<St> for Caller<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        let user = parts.extensions.get::<Authenticated>().cloned().ok_or(ApiError::NoToken)?;
        if !stigward_auth::has_scope(&user.scopes, &[S::REQUIRED]) {
            return Err(ApiError::OutOfScope);
        }
        Ok(Caller { user, _scope: PhantomData })
    }
}

/// The caller's standing in one collection.
#[derive(Debug, Clone)]
pub struct CollectionAccess {
    pub collection_id: i64,
    /// The effective role; an elevated admin acts as owner.
    pub role: Role,
    pub grant: Option<EffectiveGrant>,
}

impl Authenticated {
    /// The caller's grant in a collection, or 403 (also for missing and deleted collections).
    pub async fn collection_access(
        &self,
        state: &AppState,
        collection_id: i64,
        minimum: Role,
    ) -> ApiResult<CollectionAccess> {
        let grant = state.store.effective_grant(self.user_id, collection_id).await?;
        let role = match (&grant, self.elevate) {
            (_, true) => Role::Owner,
            (Some(grant), false) => grant.role,
            (None, false) => return Err(ApiError::Privilege(None)),
        };
        if role < minimum {
            return Err(ApiError::Privilege(None));
        }
        Ok(CollectionAccess { collection_id, role, grant })
    }
}

impl Authenticated {
    /// The caller's own grant in a collection, for operations where elevation is no substitute
    /// for a grant (labels, metadata, ACLs, assets); 403 without one.
    pub async fn granted_access(
        &self,
        state: &AppState,
        collection_id: i64,
        minimum: Role,
    ) -> ApiResult<CollectionAccess> {
        let grant = state.store.effective_grant(self.user_id, collection_id).await?;
        match grant {
            Some(grant) if grant.role >= minimum => {
                Ok(CollectionAccess { collection_id, role: grant.role, grant: Some(grant) })
            }
            _ => Err(ApiError::Privilege(None)),
        }
    }
}

impl CollectionAccess {
    /// Owners, and elevated admins acting as owners, may create, change and remove owner
    /// grants; managers may not.
    pub fn may_manage_owners(&self) -> bool {
        self.role == Role::Owner
    }

    /// The grant a read is rendered for: `None` (everything) for an elevated caller.
    pub fn viewer(&self) -> Option<&EffectiveGrant> {
        self.grant.as_ref().filter(|_| self.role == Role::Restricted)
    }

    /// The caller's access to each asset/STIG pair of the collection. Elevation confers no
    /// review access, so an elevated caller without a grant gets none.
    pub async fn access_map(&self, state: &AppState) -> ApiResult<AccessMap> {
        self.access_map_of(state, None).await
    }

    /// [`CollectionAccess::access_map`] limited to one asset's pairs.
    pub async fn access_map_of(
        &self,
        state: &AppState,
        asset_id: Option<i64>,
    ) -> ApiResult<AccessMap> {
        match &self.grant {
            Some(grant) => Ok(state.store.access_map_of(grant, asset_id).await?),
            None => Ok(AccessMap::default()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "BeArEr abc.def.ghi".parse().unwrap());
        assert_eq!(bearer_token(&headers).as_deref(), Some("abc.def.ghi"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
    }

    #[test]
    fn only_the_literal_true_elevates() {
        assert!(raw_elevate(Some("a=1&elevate=true")));
        assert!(!raw_elevate(Some("elevate=TRUE")));
        assert!(!raw_elevate(Some("elevate=false")));
        assert!(!raw_elevate(None));
    }
}
