//! The review-aging task configuration's schema (`ReviewAgingConfigPut`): an ordered list of
//! delete, update-status and update-result rules, each with an optional target.

use serde_json::Value;

/// Where a rule applies; `None` parts match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgingTarget {
    pub asset_id: Option<i64>,
    /// The label's uuid.
    pub label_id: Option<String>,
    pub benchmark_id: Option<String>,
}

/// One rule as written.
#[derive(Debug, Clone, PartialEq)]
pub struct AgingRuleWrite {
    pub title: Option<String>,
    pub enabled: bool,
    pub trigger_field: String,
    pub trigger_interval: i64,
    pub trigger_action: String,
    pub update_field: Option<String>,
    pub update_value: Option<String>,
    pub target: Option<AgingTarget>,
}

/// Checks a PUT body against `ReviewAgingConfigPut` (an array of delete, update-status or
/// update-result rules); the message names the first violation.
pub fn parse_rules(body: &Value) -> Result<Vec<AgingRuleWrite>, String> {
    let items = body.as_array().ok_or("request/body must be array")?;
    items.iter().enumerate().map(|(i, item)| parse_rule(i, item)).collect()
}

fn parse_rule(i: usize, item: &Value) -> Result<AgingRuleWrite, String> {
    let at = format!("request/body/{i}");
    let obj = item.as_object().ok_or(format!("{at} must be object"))?;
    const KEYS: &[&str] = &[
        "title",
        "triggerField",
        "triggerInterval",
        "triggerAction",
        "updateField",
        "updateValue",
        "target",
        "enabled",
    ];
    if let Some(key) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("{at} must NOT have additional property '{key}'"));
    }
    let text = |key: &str, allowed: &[&str]| -> Result<Option<String>, String> {
        match obj.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
            Some(_) => Err(format!(
                "{at}/{key} must be equal to one of the allowed values: {}",
                allowed.join(", ")
            )),
        }
    };
    let required = |key: &str| format!("{at} must have required property '{key}'");
    let title = match obj.get("title") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 45 => Some(s.clone()),
        Some(_) => return Err(format!("{at}/title must be a string of at most 45 characters")),
    };
    let trigger_field =
        text("triggerField", &["ts", "statusTs", "touchTs"])?.ok_or(required("triggerField"))?;
    let trigger_interval = match obj.get("triggerInterval") {
        None => return Err(required("triggerInterval")),
        Some(v) => v
            .as_i64()
            .filter(|n| (0..=2_147_483_647).contains(n))
            .ok_or(format!("{at}/triggerInterval must be an integer from 0 to 2147483647"))?,
    };
    let trigger_action =
        text("triggerAction", &["delete", "update"])?.ok_or(required("triggerAction"))?;
    let enabled = match obj.get("enabled") {
        None => return Err(required("enabled")),
        Some(v) => v.as_bool().ok_or(format!("{at}/enabled must be boolean"))?,
    };
    let update_field = text("updateField", &["status", "result"])?;
    let update_value = match update_field.as_deref() {
        Some("status") => text("updateValue", &["saved", "submitted"])?,
        Some(_) => text("updateValue", &["notchecked", "informational"])?,
        None => text("updateValue", &["saved", "submitted", "notchecked", "informational"])?,
    };
    match (trigger_action.as_str(), &update_field, &update_value) {
        ("delete", None, None) | ("update", Some(_), Some(_)) => {}
        ("delete", _, _) => {
            return Err(format!("{at} with triggerAction delete must not have updateField"))
        }
        (_, None, _) => return Err(required("updateField")),
        _ => return Err(required("updateValue")),
    }
    let target = match obj.get("target") {
        None => None,
        Some(t) => Some(parse_target(&format!("{at}/target"), t)?),
    };
    Ok(AgingRuleWrite {
        title,
        enabled,
        trigger_field,
        trigger_interval,
        trigger_action,
        update_field,
        update_value,
        target,
    })
}

fn parse_target(at: &str, value: &Value) -> Result<AgingTarget, String> {
    let obj = value.as_object().ok_or(format!("{at} must be object"))?;
    if let Some(key) =
        obj.keys().find(|k| !["assetId", "labelId", "benchmarkId"].contains(&k.as_str()))
    {
        return Err(format!("{at} must NOT have additional property '{key}'"));
    }
    let asset_id = match obj.get("assetId") {
        None => None,
        Some(Value::String(s)) if is_id(s) => {
            Some(s.parse::<i64>().map_err(|e| format!("{at}/assetId: {e}"))?)
        }
        Some(_) => return Err(format!("{at}/assetId must match pattern \"^[0-9]{{1,10}}$\"")),
    };
    let label_id = match obj.get("labelId") {
        None => None,
        Some(Value::String(s)) if is_uuid(s) => Some(s.clone()),
        Some(_) => return Err(format!("{at}/labelId must be a UUID")),
    };
    let benchmark_id = match obj.get("benchmarkId") {
        None => None,
        Some(Value::String(s)) if s.len() <= 255 => Some(s.clone()),
        Some(_) => return Err(format!("{at}/benchmarkId must be a string of at most 255")),
    };
    match (&asset_id, &label_id, &benchmark_id) {
        (Some(_), Some(_), _) => Err(format!("{at} must match exactly one schema in oneOf")),
        (None, None, None) => Err(format!("{at} must match exactly one schema in oneOf")),
        _ => Ok(AgingTarget { asset_id, label_id, benchmark_id }),
    }
}

/// `StringIntId`: 1 to 10 digits.
fn is_id(s: &str) -> bool {
    (1..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// `StringUuid`: lowercase hex in 8-4-4-4-12 groups.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| {
            g.len() == n && g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_follow_the_put_schema() {
        let ok = json!([{"triggerField": "ts", "triggerInterval": 5, "triggerAction": "delete",
            "enabled": true},
            {"triggerField": "statusTs", "triggerInterval": 0, "triggerAction": "update",
            "updateField": "result", "updateValue": "informational", "enabled": false,
            "target": {"benchmarkId": "X"}}]);
        assert_eq!(parse_rules(&ok).unwrap().len(), 2);
        for bad in [
            json!({}),
            json!([{"triggerField": "ts", "triggerInterval": 5, "triggerAction": "delete"}]),
            json!([{"triggerField": "ts", "triggerInterval": -1, "triggerAction": "delete",
                "enabled": true}]),
            json!([{"triggerField": "ts", "triggerInterval": 1, "triggerAction": "update",
                "updateField": "status", "updateValue": "notchecked", "enabled": true}]),
            json!([{"triggerField": "ts", "triggerInterval": 1, "triggerAction": "delete",
                "updateField": "status", "updateValue": "saved", "enabled": true}]),
            json!([{"triggerField": "ts", "triggerInterval": 1, "triggerAction": "delete",
                "enabled": true, "target": {}}]),
            json!([{"triggerField": "ts", "triggerInterval": 1, "triggerAction": "delete",
                "enabled": true, "bogus": 1}]),
        ] {
            assert!(parse_rules(&bad).is_err(), "{bad}");
        }
        assert!(is_uuid("0a1b2c3d-0000-4000-8000-00000000000f"));
        assert!(!is_uuid("0A1B2C3D-0000-4000-8000-00000000000F"));
        assert!(is_id("1") && !is_id("12345678901") && !is_id("1a"));
    }
}
