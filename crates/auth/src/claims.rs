//! What Stigward reads from a verified token: the username, the granted scopes and the
//! privileges, each found under a configurable claim name.

use serde_json::{Map, Value};

/// Claim names, from the `STIGMAN_JWT_*_CLAIM` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPaths {
    pub username: String,
    pub servicename: Option<String>,
    pub scope: String,
    /// A dotted path into the payload, e.g. `realm_access.roles`.
    pub privileges: String,
    pub name: String,
    pub email: String,
    pub assertion: String,
}

impl Default for ClaimPaths {
    fn default() -> ClaimPaths {
        ClaimPaths {
            username: "preferred_username".to_owned(),
            servicename: None,
            scope: "scope".to_owned(),
            privileges: "realm_access.roles".to_owned(),
            name: "name".to_owned(),
            email: "email".to_owned(),
            assertion: "jti".to_owned(),
        }
    }
}

/// The token's privileges, taken from the token itself, never from storage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Privileges {
    pub admin: bool,
    pub create_collection: bool,
}

/// The first non-empty string among the configured username claim, `preferred_username`, the
/// configured service-name claim, `azp`, `client_id` and `clientId`.
pub fn username(claims: &Map<String, Value>, paths: &ClaimPaths) -> Option<String> {
    let candidates = [
        Some(paths.username.as_str()),
        Some("preferred_username"),
        paths.servicename.as_deref(),
        Some("azp"),
        Some("client_id"),
        Some("clientId"),
    ];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|claim| claims.get(claim)?.as_str())
        .find(|value| !value.is_empty())
        .map(str::to_owned)
}

/// The granted scopes: the claim may hold a space-separated string or an array of strings.
pub fn scopes(claims: &Map<String, Value>, paths: &ClaimPaths) -> Vec<String> {
    match claims.get(&paths.scope) {
        Some(Value::String(text)) => text.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
        }
        _ => Vec::new(),
    }
}

/// Privileges from the value at the dotted privileges path: an array must contain the role
/// name, while a string only has to contain it as a substring (as upstream's `includes` does).
pub fn privileges(claims: &Map<String, Value>, paths: &ClaimPaths) -> Privileges {
    let value = lookup_path(claims, &paths.privileges);
    let holds = |role: &str| match value {
        Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(role)),
        Some(Value::String(text)) => text.contains(role),
        _ => false,
    };
    Privileges { admin: holds("admin"), create_collection: holds("create_collection") }
}

fn lookup_path<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut segments = path.split('.');
    let first = claims.get(segments.next()?)?;
    segments.try_fold(first, |value, segment| value.get(segment))
}

/// Whether `granted` covers `required`: equal, or its colon-separated segments are a leading
/// part of the required scope's. `stig-manager:user` covers `stig-manager:user:read`; the
/// reverse and sibling branches do not.
pub fn scope_satisfies(granted: &str, required: &str) -> bool {
    let mut required_segments = required.split(':');
    granted.split(':').all(|segment| required_segments.next() == Some(segment))
}

/// Whether any required scope is covered by any granted one. The required list holds
/// alternatives; an empty list asks for no scope and is always satisfied.
pub fn has_scope(granted: &[String], required: &[&str]) -> bool {
    required.is_empty()
        || required.iter().any(|rs| granted.iter().any(|gs| scope_satisfies(gs, rs)))
}
