//! The Collection tag's unreviewed reports: per asset or per rule, the current-revision rules
//! with no review or a result other than pass, fail or notapplicable.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use stigward_domain::Role;
use stigward_storage::unreviewed::{UnreviewedFilter, UnreviewedItem};
use stigward_wire::unreviewed::{
    UnreviewedAsset, UnreviewedAssetRule, UnreviewedRule, UnreviewedRuleAsset, UnreviewedRuleBase,
};

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, Params, Path};
use crate::state::AppState;

const PROJECTIONS: &[&str] = &["ruleTitle", "groupTitle"];
const SEVERITIES: &[&str] = &["high", "medium", "low"];

pub async fn get_unreviewed_assets_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<UnreviewedAsset>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let mut filter = common_filter(&mut params)?;
    filter.asset_id = params.id("assetId")?;
    let projection = Projection::from(params.choices("projection", PROJECTIONS)?);
    params.finish()?;
    let items = read(&caller, &state, collection_id, &filter).await?;
    let mut assets: Vec<UnreviewedAsset> = Vec::new();
    for item in items {
        let rule = UnreviewedAssetRule { rule: projection.rule(&item), result: result(&item) };
        match assets.last_mut() {
            Some(asset) if asset.asset_id == item.asset_id => asset.unreviewed.push(rule),
            _ => assets.push(UnreviewedAsset {
                asset_id: item.asset_id,
                name: item.asset_name,
                labels: item.labels,
                unreviewed: vec![rule],
            }),
        }
    }
    Ok(Json(assets))
}

pub async fn get_unreviewed_rules_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<UnreviewedRule>>> {
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
    let mut rules: BTreeMap<(String, String), UnreviewedRule> = BTreeMap::new();
    for item in items {
        let result = result(&item);
        let rule = rules
            .entry((item.rule_id.clone(), item.benchmark_id.clone()))
            .or_insert_with(|| UnreviewedRule { rule: projection.rule(&item), unreviewed: vec![] });
        rule.unreviewed.push(UnreviewedRuleAsset {
            asset_id: item.asset_id,
            name: item.asset_name,
            labels: item.labels,
            result,
        });
    }
    Ok(Json(rules.into_values().collect()))
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

impl Projection {
    fn rule(self, item: &UnreviewedItem) -> UnreviewedRuleBase {
        UnreviewedRuleBase {
            rule_id: item.rule_id.clone(),
            group_id: item.group_id.clone(),
            benchmark_id: item.benchmark_id.clone(),
            severity: item.severity.clone(),
            rule_title: self.rule_title.then(|| item.rule_title.clone()),
            group_title: self.group_title.then(|| item.group_title.clone()),
        }
    }
}

fn result(item: &UnreviewedItem) -> Option<&'static str> {
    item.result.map(|r| r.api())
}
