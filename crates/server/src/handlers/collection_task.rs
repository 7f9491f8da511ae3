//! The Collection tag's task configuration: the review-aging rules of a collection.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use stigward_domain::Role;
use stigward_storage::review_aging::{AgingRule, AgingRuleWrite, AgingTarget};

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params};
use crate::state::AppState;

const NO_CONFIG: &str = "No config found for this collection/task.";

pub async fn get_collection_task_config_review_aging(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Vec<Value>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    caller.granted_access(&state, collection_id, Role::Manage).await?;
    let rules = state.store.aging_rules(collection_id).await?;
    if rules.is_empty() {
        return Err(ApiError::NotFound(Some(NO_CONFIG.into())));
    }
    Ok(Json(rules.iter().map(rule_json).collect()))
}

pub async fn put_collection_task_config_review_aging(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Vec<Value>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    let rules = parse_rules(&body).map_err(ApiError::Validation)?;
    caller.granted_access(&state, collection_id, Role::Owner).await?;
    let invalid = state.store.invalid_aging_targets(collection_id, &rules).await?;
    if !invalid.is_empty() {
        let detail = invalid
            .iter()
            .map(|i| {
                json!({"idx": i.idx, "assetId": i.target.asset_id.map(|a| a.to_string()),
                    "labelId": i.target.label_id, "benchmarkId": i.target.benchmark_id,
                    "validity": i.validity})
            })
            .collect();
        return Err(ApiError::Unprocessable(Value::Array(detail)));
    }
    state.store.replace_aging_rules(collection_id, &rules).await?;
    let stored = state.store.aging_rules(collection_id).await?;
    Ok(Json(stored.iter().map(rule_json).collect()))
}

pub async fn delete_collection_task_config_review_aging(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<StatusCode> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    caller.granted_access(&state, collection_id, Role::Owner).await?;
    match state.store.delete_aging_rules(collection_id).await? {
        0 => Err(ApiError::NotFound(Some(NO_CONFIG.into()))),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

fn rule_json(rule: &AgingRule) -> Value {
    let mut map = Map::new();
    if let Some(title) = &rule.title {
        map.insert("title".into(), json!(title));
    }
    map.insert("triggerField".into(), json!(rule.trigger_field));
    map.insert("triggerInterval".into(), json!(rule.trigger_interval));
    map.insert("triggerAction".into(), json!(rule.trigger_action));
    if let (Some(field), Some(value)) = (&rule.update_field, &rule.update_value) {
        map.insert("updateField".into(), json!(field));
        map.insert("updateValue".into(), json!(value));
    }
    let mut target = Map::new();
    if let Some((asset_id, name)) = &rule.asset {
        target.insert("asset".into(), json!({"assetId": asset_id.to_string(), "name": name}));
    }
    if let Some((label_id, name, color)) = &rule.label {
        target.insert("label".into(), json!({"labelId": label_id, "name": name, "color": color}));
    }
    if let Some(benchmark_id) = &rule.benchmark_id {
        target.insert("benchmarkId".into(), json!(benchmark_id));
    }
    if !target.is_empty() {
        map.insert("target".into(), Value::Object(target));
    }
    map.insert("enabled".into(), json!(rule.enabled));
    Value::Object(map)
}

/// Checks a PUT body against `ReviewAgingConfigPut` (an array of delete, update-status or
/// update-result rules); the message names the first violation.
fn parse_rules(body: &Value) -> Result<Vec<AgingRuleWrite>, String> {
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
        Some(Value::String(s)) => {
            Some(stigward_wire::id_string::parse(s).map_err(|e| format!("{at}/assetId: {e}"))?)
        }
        Some(_) => return Err(format!("{at}/assetId must be string")),
    };
    let label_id = match obj.get("labelId") {
        None => None,
        Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() && s.len() == 36 => {
            Some(s.to_lowercase())
        }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
    }
}
