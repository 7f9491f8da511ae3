//! The claim helpers: username precedence, scopes, privileges and scope matching.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Map, Value};
use stigward_auth::{
    has_scope, privileges, scope_satisfies, scopes, username, ClaimPaths, Privileges,
};

fn payload(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("object")
}

#[test]
fn username_follows_the_precedence_list() {
    let paths = ClaimPaths {
        username: "upn".into(),
        servicename: Some("service".into()),
        ..ClaimPaths::default()
    };
    let full = json!({
        "upn": "u", "preferred_username": "p", "service": "s",
        "azp": "a", "client_id": "c", "clientId": "i",
    });
    let order = ["upn", "preferred_username", "service", "azp", "client_id", "clientId"];

    let mut claims = payload(full);
    for (claim, expected) in order.iter().zip(["u", "p", "s", "a", "c", "i"]) {
        assert_eq!(username(&claims, &paths).as_deref(), Some(expected));
        claims.remove(*claim);
    }
    assert_eq!(username(&claims, &paths), None);
}

#[test]
fn empty_or_non_string_username_counts_as_missing() {
    let paths = ClaimPaths::default();
    let claims = payload(json!({"preferred_username": "", "azp": "stig-manager"}));
    assert_eq!(username(&claims, &paths).as_deref(), Some("stig-manager"));

    let claims = payload(json!({"preferred_username": 42, "client_id": ["x"]}));
    assert_eq!(username(&claims, &paths), None);
    assert_eq!(username(&payload(json!({"preferred_username": ""})), &paths), None);
}

#[test]
fn scopes_come_from_a_string_or_an_array() {
    let paths = ClaimPaths::default();
    let text = payload(json!({"scope": "openid  stig-manager:user:read stig-manager:op"}));
    let list = payload(json!({"scope": ["openid", "stig-manager:user:read", 7]}));

    assert_eq!(scopes(&text, &paths), ["openid", "stig-manager:user:read", "stig-manager:op"]);
    assert_eq!(scopes(&list, &paths), ["openid", "stig-manager:user:read"]);
    assert!(scopes(&payload(json!({})), &paths).is_empty());

    let custom = ClaimPaths { scope: "scp".into(), ..ClaimPaths::default() };
    assert_eq!(scopes(&payload(json!({"scp": "a b"})), &custom), ["a", "b"]);
}

#[test]
fn privileges_follow_a_nested_path() {
    let paths =
        ClaimPaths { privileges: "resource_access.stig.roles".into(), ..ClaimPaths::default() };
    let claims = payload(json!({
        "realm_access": {"roles": ["admin"]},
        "resource_access": {"stig": {"roles": ["create_collection", "user"]}},
    }));

    let found = privileges(&claims, &paths);

    assert_eq!(found, Privileges { admin: false, create_collection: true });
}

#[test]
fn default_privileges_path_is_realm_access_roles() {
    let claims = payload(json!({"realm_access": {"roles": ["admin", "create_collection"]}}));
    let all = Privileges { admin: true, create_collection: true };
    assert_eq!(privileges(&claims, &ClaimPaths::default()), all);
}

#[test]
fn privileges_string_is_a_substring_test_and_missing_is_none() {
    let paths = ClaimPaths { privileges: "roles".into(), ..ClaimPaths::default() };
    let text = payload(json!({"roles": "superadmin"}));
    let list = payload(json!({"roles": ["superadmin"]}));

    assert!(privileges(&text, &paths).admin);
    assert!(!privileges(&list, &paths).admin);
    assert_eq!(privileges(&payload(json!({})), &paths), Privileges::default());
    assert_eq!(privileges(&payload(json!({"roles": 3})), &paths), Privileges::default());
}

#[test]
fn scope_satisfies_by_leading_segments_only() {
    let table = [
        ("stig-manager", "stig-manager:collection:read", true),
        ("stig-manager", "stig-manager", true),
        ("stig-manager:user", "stig-manager:user:read", true),
        ("stig-manager:user:read", "stig-manager:user:read", true),
        ("stig-manager:collection", "stig-manager:collection", true),
        ("stig-manager:collection:read", "stig-manager:collection", false),
        ("stig-manager:user:read", "stig-manager:user", false),
        ("stig-manager:user", "stig-manager:collection:read", false),
        ("stig-manager:coll", "stig-manager:collection", false),
        ("stig", "stig-manager:op", false),
        ("openid", "stig-manager:op:read", false),
    ];
    for (granted, required, expected) in table {
        assert_eq!(scope_satisfies(granted, required), expected, "{granted} → {required}");
    }
}

#[test]
fn has_scope_accepts_any_alternative() {
    let granted = vec!["openid".to_owned(), "stig-manager:stig:read".to_owned()];

    assert!(has_scope(&granted, &["stig-manager:stig:read"]));
    assert!(has_scope(&granted, &["stig-manager:op", "stig-manager:stig:read"]));
    assert!(!has_scope(&granted, &["stig-manager:stig"]));
    assert!(!has_scope(&[], &["stig-manager:stig:read"]));
    assert!(has_scope(&[], &[]));
}
