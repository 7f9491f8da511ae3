//! Rules of collection writes that the schema states: the shape of each settings group, labels
//! and metadata, and who may change owner grants.

use serde_json::{Map, Value};

/// Checks settings against the contract: every group present must be complete and valid.
/// `required_groups` demands all four groups (PATCH's `CollectionSettingsRequired`).
pub fn check_settings(settings: &Map<String, Value>, required_groups: bool) -> Result<(), String> {
    for key in settings.keys() {
        if !["fields", "status", "history", "importOptions"].contains(&key.as_str()) {
            return Err(format!("settings must NOT have additional property '{key}'"));
        }
    }
    let group = |name: &str| settings.get(name);
    if required_groups {
        for name in ["fields", "status", "history", "importOptions"] {
            if group(name).is_none() {
                return Err(format!("settings must have required property '{name}'"));
            }
        }
    }
    if let Some(fields) = group("fields") {
        let fields = object(fields, "settings/fields")?;
        only(fields, &["detail", "comment"], "settings/fields")?;
        for name in ["detail", "comment"] {
            check_field(fields.get(name), &format!("settings/fields/{name}"))?;
        }
    }
    if let Some(status) = group("status") {
        let status = object(status, "settings/status")?;
        only(status, &["canAccept", "resetCriteria", "minAcceptGrant"], "settings/status")?;
        boolean(status.get("canAccept"), "settings/status/canAccept")?;
        one_of(status.get("resetCriteria"), &["result", "any"], "settings/status/resetCriteria")?;
        integer(status.get("minAcceptGrant"), 2, 4, "settings/status/minAcceptGrant")?;
    }
    if let Some(history) = group("history") {
        let history = object(history, "settings/history")?;
        only(history, &["maxReviews"], "settings/history")?;
        integer(history.get("maxReviews"), 0, 15, "settings/history/maxReviews")?;
    }
    if let Some(options) = group("importOptions") {
        check_import_options(object(options, "settings/importOptions")?)?;
    }
    Ok(())
}

fn check_field(value: Option<&Value>, at: &str) -> Result<(), String> {
    let field = object(value.ok_or_else(|| format!("{at} is required"))?, at)?;
    only(field, &["enabled", "required"], at)?;
    let enabled = one_of(field.get("enabled"), &["always", "findings"], &format!("{at}/enabled"))?;
    let allowed: &[&str] = match enabled {
        "always" => &["always", "findings", "optional"],
        _ => &["findings", "optional"],
    };
    one_of(field.get("required"), allowed, &format!("{at}/required"))?;
    Ok(())
}

fn check_import_options(options: &Map<String, Value>) -> Result<(), String> {
    let at = "settings/importOptions";
    only(
        options,
        &[
            "autoStatus",
            "unreviewed",
            "unreviewedCommented",
            "emptyDetail",
            "emptyComment",
            "allowCustom",
            "updateAssetProps",
        ],
        at,
    )?;
    let auto = object(options.get("autoStatus").unwrap_or(&Value::Null), "autoStatus")?;
    only(auto, &["fail", "notapplicable", "pass"], "autoStatus")?;
    for result in ["fail", "notapplicable", "pass"] {
        match auto.get(result) {
            Some(Value::Null) => {}
            other => {
                one_of(other, &["null", "saved", "submitted", "accepted"], "autoStatus")?;
            }
        }
    }
    one_of(options.get("unreviewed"), &["never", "commented", "always"], "unreviewed")?;
    let commented = options.get("unreviewedCommented");
    one_of(commented, &["notchecked", "informational"], "unreviewedCommented")?;
    for name in ["emptyDetail", "emptyComment"] {
        one_of(options.get(name), &["ignore", "import", "replace"], name)?;
    }
    boolean(options.get("allowCustom"), "allowCustom")?;
    if let Some(value) = options.get("updateAssetProps") {
        boolean(Some(value), "updateAssetProps")?;
    }
    Ok(())
}

fn object<'a>(value: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    value.as_object().ok_or_else(|| format!("{at} must be object"))
}

fn only(map: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<(), String> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(format!("{at} must NOT have additional property '{key}'")),
        None => Ok(()),
    }
}

fn one_of<'a>(value: Option<&'a Value>, allowed: &[&str], at: &str) -> Result<&'a str, String> {
    match value.and_then(Value::as_str) {
        Some(text) if allowed.contains(&text) => Ok(text),
        _ => Err(format!("{at} must be one of: {}", allowed.join(", "))),
    }
}

fn boolean(value: Option<&Value>, at: &str) -> Result<(), String> {
    match value {
        Some(Value::Bool(_)) => Ok(()),
        _ => Err(format!("{at} must be boolean")),
    }
}

fn integer(value: Option<&Value>, min: i64, max: i64, at: &str) -> Result<(), String> {
    match value.and_then(Value::as_i64) {
        Some(n) if (min..=max).contains(&n) => Ok(()),
        _ => Err(format!("{at} must be an integer from {min} to {max}")),
    }
}

/// Metadata maps hold only string values.
pub fn check_metadata(metadata: &Map<String, Value>) -> Result<(), String> {
    match metadata.iter().find(|(_, v)| !v.is_string()) {
        Some((key, _)) => Err(format!("metadata/{key} must be string")),
        None => Ok(()),
    }
}

/// Label names are 1 to 16 characters, colours six hex digits, descriptions up to 255.
pub fn check_label(
    name: Option<&str>,
    color: Option<&str>,
    description: Option<&str>,
) -> Result<(), String> {
    if name.is_some_and(|n| !(1..=16).contains(&n.chars().count())) {
        return Err("name must be 1 to 16 characters".into());
    }
    if color.is_some_and(|c| c.len() != 6 || !c.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err("color must be six hexadecimal digits".into());
    }
    if description.is_some_and(|d| d.chars().count() > 255) {
        return Err("description must be at most 255 characters".into());
    }
    Ok(())
}

/// A grantee as the owner-set comparison sees it: `U<userId>` or `UG<userGroupId>`.
pub fn grantee_token(user_id: Option<i64>, user_group_id: Option<i64>) -> String {
    match (user_id, user_group_id) {
        (Some(user), _) => format!("U{user}"),
        (None, Some(group)) => format!("UG{group}"),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::settings::default_settings;
    use serde_json::json;

    #[test]
    fn the_defaults_pass_and_broken_groups_fail() {
        let defaults = default_settings();
        assert_eq!(check_settings(defaults.as_object().unwrap(), true), Ok(()));
        let bad = json!({"fields": {"detail": {"enabled": "findings", "required": "always"},
            "comment": {"enabled": "always", "required": "always"}}});
        assert!(check_settings(bad.as_object().unwrap(), false).is_err());
        let partial = json!({"history": {"maxReviews": 3}});
        assert_eq!(check_settings(partial.as_object().unwrap(), false), Ok(()));
        assert!(check_settings(partial.as_object().unwrap(), true).is_err());
        let range = json!({"history": {"maxReviews": 16}});
        assert!(check_settings(range.as_object().unwrap(), false).is_err());
    }

    #[test]
    fn labels_are_short_with_hex_colours() {
        assert!(check_label(Some("web"), Some("aa00FF"), None).is_ok());
        assert!(check_label(Some(""), None, None).is_err());
        assert!(check_label(None, Some("#aa00ff"), None).is_err());
    }
}
