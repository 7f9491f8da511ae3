//! The Metrics tag: summary and detail metrics of one collection (unaggregated, or by asset,
//! collection, label or STIG) and across the caller's collections (meta), as JSON or CSV.
//! Every form is limited to the asset/STIG pairs the caller's grant and ACL let it read.

mod csv;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use stigward_domain::Role;
use stigward_storage::metrics::group::Row;
use stigward_storage::metrics::{
    Counts, MetricsData, MetricsFilter, ScopedCollection, Style, Visibility,
};

use crate::auth::{scope, Authenticated, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, Params, Path};
use crate::state::AppState;
use csv::CsvBase;

/// A parsed metrics request: filters, the output format and, for one collection, its id.
struct Request {
    filter: MetricsFilter,
    csv: bool,
}

impl Request {
    /// Query parameters of the collection forms.
    fn collection(mut params: Params) -> ApiResult<Request> {
        let filter = MetricsFilter {
            asset_ids: unique(params.ids("assetId")?, "assetId")?,
            benchmark_ids: benchmark_ids(&mut params)?,
            label_ids: label_ids(&mut params)?,
            label_names: label_names(&mut params)?,
            unlabeled: params.choice("labelMatch", &["null"])?.is_some(),
            rev_ids: Vec::new(),
        };
        Request::finish(filter, params)
    }

    /// Query parameters of the meta forms; `revisionId` only where the contract has it.
    fn meta(mut params: Params, with_revisions: bool) -> ApiResult<(Request, Vec<i64>)> {
        let collection_ids = unique(params.ids("collectionId")?, "collectionId")?;
        let rev_ids = match with_revisions {
            true => unique(params.all("revisionId"), "revisionId")?,
            false => Vec::new(),
        };
        let filter = MetricsFilter {
            benchmark_ids: benchmark_ids(&mut params)?,
            rev_ids,
            ..MetricsFilter::default()
        };
        Ok((Request::finish(filter, params)?, collection_ids))
    }

    fn finish(filter: MetricsFilter, mut params: Params) -> ApiResult<Request> {
        let csv = params.choice("format", &["json", "csv"])?.as_deref() == Some("csv");
        params.finish()?;
        Ok(Request { filter, csv })
    }
}

fn unique<T: PartialEq + Clone>(values: Vec<T>, name: &str) -> ApiResult<Vec<T>> {
    for (i, value) in values.iter().enumerate() {
        if values[..i].contains(value) {
            return Err(ApiError::Validation(format!(
                "request/query/{name} must NOT have duplicate items"
            )));
        }
    }
    Ok(values)
}

fn benchmark_ids(params: &mut Params) -> ApiResult<Vec<String>> {
    let ids = unique(params.all("benchmarkId"), "benchmarkId")?;
    match ids.iter().find(|id| id.is_empty() || id.chars().count() > 255) {
        Some(_) => Err(ApiError::Validation(
            "request/query/benchmarkId must be 1 to 255 characters".into(),
        )),
        None => Ok(ids),
    }
}

/// Label ids are the labels' uuids.
fn label_ids(params: &mut Params) -> ApiResult<Vec<String>> {
    let ids = unique(params.all("labelId"), "labelId")?;
    match ids.iter().find(|id| !is_uuid(id)) {
        Some(bad) => Err(ApiError::Validation(format!(
            "request/query/labelId '{bad}' must match format \"uuid\""
        ))),
        None => Ok(ids),
    }
}

fn label_names(params: &mut Params) -> ApiResult<Vec<String>> {
    let names = unique(params.all("labelName"), "labelName")?;
    match names.iter().find(|n| n.is_empty() || n.chars().count() > 16) {
        Some(_) => {
            Err(ApiError::Validation("request/query/labelName must be 1 to 16 characters".into()))
        }
        None => Ok(names),
    }
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The visible checklists of one collection. Any grant may read metrics; the ACL decides
/// which asset/STIG pairs count.
async fn collection_data(
    caller: &Authenticated,
    state: &AppState,
    collection_id: &str,
    request: &Request,
) -> ApiResult<MetricsData> {
    let collection_id = parse_id(collection_id, "params/collectionId")?;
    let access = caller.collection_access(state, collection_id, Role::Restricted).await?;
    // elevation confers no review access, so an elevated caller without a grant reads nothing
    let acl = match &access.grant {
        Some(grant) => state.store.metrics_visibility(grant).await?,
        None => Visibility::Pairs(Default::default()),
    };
    let scoped = ScopedCollection {
        collection_id,
        access: acl,
        bare_assets: access.grant.is_some() && access.role > Role::Restricted,
    };
    Ok(state.store.metrics_data(&[scoped], &request.filter).await?)
}

/// The visible checklists of every collection the caller holds a grant in (narrowed by
/// `collectionId`; ids without a grant are ignored, as upstream does).
async fn meta_data(
    caller: &Authenticated,
    state: &AppState,
    collection_ids: &[i64],
    request: &Request,
) -> ApiResult<MetricsData> {
    let mut scope = Vec::new();
    for grant in state.store.effective_grants(caller.user_id).await? {
        if !collection_ids.is_empty() && !collection_ids.contains(&grant.collection_id) {
            continue;
        }
        scope.push(ScopedCollection {
            collection_id: grant.collection_id,
            access: state.store.metrics_visibility(&grant).await?,
            bare_assets: grant.role > Role::Restricted,
        });
    }
    Ok(state.store.metrics_data(&scope, &request.filter).await?)
}

fn reply_rows<B: Serialize + CsvBase>(rows: Vec<Row<B>>, style: Style, csv: bool) -> Response {
    if csv {
        return csv_response(csv::render(&rows, style));
    }
    match style {
        Style::Summary => {
            json_rows(&rows.into_iter().map(|r| r.map_metrics(|m| m.summary())).collect::<Vec<_>>())
        }
        Style::Detail => {
            json_rows(&rows.into_iter().map(|r| r.map_metrics(|m| m.detail())).collect::<Vec<_>>())
        }
    }
}

fn reply_one<B: Serialize + CsvBase>(row: Row<B>, style: Style, csv: bool) -> Response {
    if csv {
        return csv_response(csv::render(std::slice::from_ref(&row), style));
    }
    match style {
        Style::Summary => Json(row.map_metrics(|m: Counts| m.summary())).into_response(),
        Style::Detail => Json(row.map_metrics(|m: Counts| m.detail())).into_response(),
    }
}

/// About what one row of the by-asset forms takes as JSON.
const ROW_BYTES: usize = 1024;

/// Rows written into one buffer sized for them at the start: the by-asset forms run to
/// megabytes, which a buffer grown as it is written copies over several times.
fn json_rows<T: Serialize>(rows: &[T]) -> Response {
    let mut body = Vec::with_capacity(rows.len().saturating_mul(ROW_BYTES).max(64));
    json_body(serde_json::to_writer(&mut body, rows).map(|()| body))
}

fn json_body(body: serde_json::Result<Vec<u8>>) -> Response {
    match body {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => ApiError::Internal(format!("metrics rows: {e}")).into_response(),
    }
}

/// The unaggregated forms, one row per checklist.
fn reply_checklists(data: &MetricsData, style: Style, csv: bool) -> Response {
    match csv {
        true => csv_response(csv::render(&data.by_checklist(), style)),
        false => json_body(data.by_checklist_json(style)),
    }
}

fn csv_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
}

/// The one collection row of the collection form; it exists unless a STIG filter matched
/// nothing, in which case the row is all zeros.
fn collection_row(data: &MetricsData) -> ApiResult<Row<stigward_wire::metrics::CollectionBase>> {
    if let Some(row) = data.by_collection().into_iter().next() {
        return Ok(row);
    }
    let (collection_id, name) =
        data.collections.first().cloned().ok_or(ApiError::Privilege(None))?;
    Ok(stigward_wire::metrics::WithMetrics {
        base: stigward_wire::metrics::CollectionBase {
            collection_id,
            name,
            assets: 0,
            stigs: 0,
            checklists: 0,
        },
        metrics: Counts::default(),
    })
}

pub async fn get_metrics_detail_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let request = Request::collection(params)?;
    let data = collection_data(&caller, &state, &collection_id, &request).await?;
    Ok(reply_checklists(&data, Style::Detail, request.csv))
}

pub async fn get_metrics_detail_by_collection_agg_asset(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let request = Request::collection(params)?;
    let data = collection_data(&caller, &state, &collection_id, &request).await?;
    Ok(reply_rows(data.by_asset(), Style::Detail, request.csv))
}

pub async fn get_metrics_detail_by_collection_agg(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let request = Request::collection(params)?;
    let data = collection_data(&caller, &state, &collection_id, &request).await?;
    Ok(reply_one(collection_row(&data)?, Style::Detail, request.csv))
}

pub async fn get_metrics_detail_by_collection_agg_label(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let request = Request::collection(params)?;
    let data = collection_data(&caller, &state, &collection_id, &request).await?;
    Ok(reply_rows(data.by_label(), Style::Detail, request.csv))
}

pub async fn get_metrics_detail_by_collection_agg_stig(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let request = Request::collection(params)?;
    let data = collection_data(&caller, &state, &collection_id, &request).await?;
    Ok(reply_rows(data.by_stig(), Style::Detail, request.csv))
}

pub async fn get_metrics_summary_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let request = Request::collection(params)?;
    let data = collection_data(&caller, &state, &collection_id, &request).await?;
    Ok(reply_checklists(&data, Style::Summary, request.csv))
}

pub async fn get_metrics_summary_by_collection_agg_asset(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let request = Request::collection(params)?;
    let data = collection_data(&caller, &state, &collection_id, &request).await?;
    Ok(reply_rows(data.by_asset(), Style::Summary, request.csv))
}

pub async fn get_metrics_summary_by_collection_agg(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let request = Request::collection(params)?;
    let data = collection_data(&caller, &state, &collection_id, &request).await?;
    Ok(reply_one(collection_row(&data)?, Style::Summary, request.csv))
}

pub async fn get_metrics_summary_by_collection_agg_label(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let request = Request::collection(params)?;
    let data = collection_data(&caller, &state, &collection_id, &request).await?;
    Ok(reply_rows(data.by_label(), Style::Summary, request.csv))
}

pub async fn get_metrics_summary_by_collection_agg_stig(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let request = Request::collection(params)?;
    let data = collection_data(&caller, &state, &collection_id, &request).await?;
    Ok(reply_rows(data.by_stig(), Style::Summary, request.csv))
}

pub async fn get_metrics_detail_by_meta(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Response> {
    let (request, collection_ids) = Request::meta(params, false)?;
    let data = meta_data(&caller, &state, &collection_ids, &request).await?;
    Ok(reply_one(data.meta(), Style::Detail, request.csv))
}

pub async fn get_metrics_detail_by_meta_agg_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Response> {
    let (request, collection_ids) = Request::meta(params, true)?;
    let data = meta_data(&caller, &state, &collection_ids, &request).await?;
    Ok(reply_rows(data.by_collection(), Style::Detail, request.csv))
}

pub async fn get_metrics_detail_by_meta_agg_stig(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Response> {
    let (request, collection_ids) = Request::meta(params, false)?;
    let data = meta_data(&caller, &state, &collection_ids, &request).await?;
    Ok(reply_rows(data.meta_by_stig(), Style::Detail, request.csv))
}

pub async fn get_metrics_summary_by_meta(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Response> {
    let (request, collection_ids) = Request::meta(params, false)?;
    let data = meta_data(&caller, &state, &collection_ids, &request).await?;
    Ok(reply_one(data.meta(), Style::Summary, request.csv))
}

pub async fn get_metrics_summary_by_meta_agg_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Response> {
    let (request, collection_ids) = Request::meta(params, true)?;
    let data = meta_data(&caller, &state, &collection_ids, &request).await?;
    Ok(reply_rows(data.by_collection(), Style::Summary, request.csv))
}

pub async fn get_metrics_summary_by_meta_agg_stig(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Response> {
    let (request, collection_ids) = Request::meta(params, false)?;
    let data = meta_data(&caller, &state, &collection_ids, &request).await?;
    Ok(reply_rows(data.meta_by_stig(), Style::Summary, request.csv))
}
