//! The Metrics tag: summary metrics per asset.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use stigward_domain::Role;
use stigward_storage::metrics::MetricsFilter;
use stigward_wire::metrics::AssetSummary;

use crate::auth::{scope, Caller};
use crate::error::ApiResult;
use crate::extract::{parse_id, Params};
use crate::state::AppState;

pub async fn get_metrics_summary_by_collection_agg_asset(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Response> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let filter = MetricsFilter {
        asset_ids: params.ids("assetId")?,
        benchmark_ids: params.all("benchmarkId"),
        label_ids: params.all("labelId"),
        label_names: params.all("labelName"),
        unlabeled: params.choice("labelMatch", &["null"])?.is_some(),
    };
    let csv = params.choice("format", &["json", "csv"])?.as_deref() == Some("csv");
    params.finish()?;
    caller.collection_access(&state, collection_id, Role::Restricted).await?;
    // Known shortcoming: restricted grants see every asset here; ACL narrowing comes with the
    // access-model work.
    let rows = state.store.metrics_summary_by_asset(collection_id, &filter).await?;
    if csv {
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], summary_csv(&rows))
            .into_response());
    }
    Ok(Json(rows).into_response())
}

const SUMMARY_COLUMNS: &str = "assessments,assessmentsLow,assessmentsMedium,assessmentsHigh,\
assessed,assessedLow,assessedMedium,assessedHigh,minTs,maxTs,maxTouchTs,findingsLow,\
findingsMedium,findingsHigh,pass,fail,notapplicable,other,saved,submitted,accepted,rejected";

fn summary_csv(rows: &[AssetSummary]) -> String {
    let mut out = format!("assetId,name,labels,benchmarkIds,{SUMMARY_COLUMNS}\n");
    for row in rows {
        let m = &row.metrics;
        let labels: Vec<&str> = row.labels.iter().map(|l| l.name.as_str()).collect();
        let ts = |t: &Option<String>| t.clone().unwrap_or_default();
        let fields = [
            row.asset_id.to_string(),
            row.name.clone(),
            labels.join(","),
            row.benchmark_ids.join(","),
            m.assessments.to_string(),
            m.assessments_by_severity.low.to_string(),
            m.assessments_by_severity.medium.to_string(),
            m.assessments_by_severity.high.to_string(),
            m.assessed.to_string(),
            m.assessed_by_severity.low.to_string(),
            m.assessed_by_severity.medium.to_string(),
            m.assessed_by_severity.high.to_string(),
            ts(&m.min_ts),
            ts(&m.max_ts),
            ts(&m.max_touch_ts),
            m.findings.low.to_string(),
            m.findings.medium.to_string(),
            m.findings.high.to_string(),
            m.results.pass.to_string(),
            m.results.fail.to_string(),
            m.results.notapplicable.to_string(),
            m.results.other.to_string(),
            m.statuses.saved.to_string(),
            m.statuses.submitted.to_string(),
            m.statuses.accepted.to_string(),
            m.statuses.rejected.to_string(),
        ];
        let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

/// RFC 4180 quoting: fields holding a comma, quote or line break are quoted.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
