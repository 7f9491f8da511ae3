//! The Collection tag's unreviewed reports: per asset or per rule, the current-revision rules
//! with no review or a result other than pass, fail or notapplicable.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Map, Value};
use stigward_domain::Role;
use stigward_storage::unreviewed::{UnreviewedFilter, UnreviewedItem};

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, Params};
use crate::state::AppState;

/// A rule's fields and its unreviewed assets.
type Grouped = (Map<String, Value>, Vec<Value>);

const PROJECTIONS: &[&str] = &["ruleTitle", "groupTitle"];
const SEVERITIES: &[&str] = &["high", "medium", "low"];

pub async fn get_unreviewed_assets_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<Value>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let mut filter = common_filter(&mut params)?;
    filter.asset_id = params.id("assetId")?;
    let projection = Projection::from(params.choices("projection", PROJECTIONS)?);
    params.finish()?;
    let items = read(&caller, &state, collection_id, &filter).await?;
    let mut assets: Vec<(i64, Value, Vec<Value>)> = Vec::new();
    for item in &items {
        if assets.last().is_none_or(|(id, _, _)| *id != item.asset_id) {
            let head = json!({"assetId": item.asset_id.to_string(), "name": item.asset_name,
                "labels": labels(item)});
            assets.push((item.asset_id, head, Vec::new()));
        }
        let mut entry = rule_fields(item, projection);
        entry.insert("result".into(), result(item));
        if let Some((_, _, list)) = assets.last_mut() {
            list.push(Value::Object(entry));
        }
    }
    let out = assets
        .into_iter()
        .map(|(_, mut head, list)| {
            head["unreviewed"] = Value::Array(list);
            head
        })
        .collect();
    Ok(Json(out))
}

pub async fn get_unreviewed_rules_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<Value>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let mut filter = common_filter(&mut params)?;
    filter.rule_id = params.one("ruleId")?;
    if filter.rule_id.as_ref().is_some_and(|r| r.is_empty() || r.len() > 45) {
        return Err(ApiError::Validation(
            "request/query/ruleId must NOT have more than 45 characters".into(),
        ));
    }
    let projection = Projection::from(params.choices("projection", PROJECTIONS)?);
    params.finish()?;
    let items = read(&caller, &state, collection_id, &filter).await?;
    let mut rules: BTreeMap<(&str, &str), Grouped> = BTreeMap::new();
    for item in &items {
        let (_, list) = rules
            .entry((item.rule_id.as_str(), item.benchmark_id.as_str()))
            .or_insert_with(|| (rule_fields(item, projection), Vec::new()));
        list.push(json!({"assetId": item.asset_id.to_string(), "name": item.asset_name,
            "labels": labels(item), "result": result(item)}));
    }
    let out = rules
        .into_values()
        .map(|(mut head, list)| {
            head.insert("unreviewed".into(), Value::Array(list));
            Value::Object(head)
        })
        .collect();
    Ok(Json(out))
}

async fn read(
    caller: &Caller<scope::CollectionRead>,
    state: &AppState,
    collection_id: i64,
    filter: &UnreviewedFilter,
) -> ApiResult<Vec<UnreviewedItem>> {
    let access = caller.granted_access(state, collection_id, Role::Restricted).await?;
    let acl = match access.viewer() {
        Some(grant) => Some(state.store.access_map(grant).await?),
        None => None,
    };
    Ok(state.store.unreviewed(collection_id, filter, acl.as_ref()).await?)
}

/// The filters both reports share: labels, STIG and severity.
fn common_filter(params: &mut Params) -> ApiResult<UnreviewedFilter> {
    let label_ids = params.all("labelId");
    if let Some(bad) = label_ids.iter().find(|id| uuid::Uuid::parse_str(id).is_err()) {
        return Err(ApiError::Validation(format!("request/query/labelId '{bad}' is not a UUID")));
    }
    let label_names = params.all("labelName");
    if label_names.iter().any(|n| n.is_empty() || n.chars().count() > 16) {
        return Err(ApiError::Validation(
            "request/query/labelName must be 1 to 16 characters".into(),
        ));
    }
    let benchmark_id = params.one("benchmarkId")?;
    if benchmark_id.as_ref().is_some_and(|b| b.len() > 255) {
        return Err(ApiError::Validation(
            "request/query/benchmarkId must NOT have more than 255 characters".into(),
        ));
    }
    let severities = params.choices("severity", SEVERITIES)?;
    if severities.len() > 2 {
        return Err(ApiError::Validation(
            "request/query/severity must NOT have more than 2 items".into(),
        ));
    }
    Ok(UnreviewedFilter { benchmark_id, label_ids, label_names, severities, ..Default::default() })
}

#[derive(Debug, Clone, Copy, Default)]
struct Projection {
    rule_title: bool,
    group_title: bool,
}

impl From<Vec<String>> for Projection {
    fn from(names: Vec<String>) -> Self {
        Projection {
            rule_title: names.iter().any(|n| n == "ruleTitle"),
            group_title: names.iter().any(|n| n == "groupTitle"),
        }
    }
}

fn rule_fields(item: &UnreviewedItem, projection: Projection) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("ruleId".into(), json!(item.rule_id));
    map.insert("groupId".into(), json!(item.group_id));
    map.insert("benchmarkId".into(), json!(item.benchmark_id));
    map.insert("severity".into(), json!(item.severity));
    if projection.rule_title {
        map.insert("ruleTitle".into(), json!(item.rule_title));
    }
    if projection.group_title {
        map.insert("groupTitle".into(), json!(item.group_title));
    }
    map
}

fn labels(item: &UnreviewedItem) -> Value {
    item.labels.iter().map(|l| json!({"labelId": l.label_id, "name": l.name})).collect()
}

fn result(item: &UnreviewedItem) -> Value {
    item.result.map_or(Value::Null, |r| json!(r.api()))
}
