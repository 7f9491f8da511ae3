//! Checklist exports of one asset (JSON, CKL, CKLB, XCCDF; one STIG or several) and the
//! per-rule summary of a collection's checklists of one revision, with the marking and file
//! naming rules the archives share.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use stigward_domain::{iso_millis, iso_seconds, Role};
use stigward_formats::export::{write_ckl, write_cklb, write_xccdf, ExportAsset, ExportStig};
use stigward_storage::access::Access;
use stigward_storage::checklists::{ChecklistRow, MinMax, RevisionHead, RuleSummary};
use stigward_storage::stigs::RuleProjection;
use stigward_wire::stig::Rule;

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, Params, Path};
use crate::handlers::asset::asset_access;
use crate::handlers::stig::{resolve_revision, unknown_benchmark};
use crate::state::AppState;

const ASSET_FORMATS: &[&str] = &["json", "json-access", "ckl", "cklb", "xccdf"];
const PROJECTIONS: &[&str] = &["rule", "detail", "comment"];
const NOT_READABLE: &str = "User has insufficient access to this asset/STIG pair.";

pub async fn get_checklist_by_asset_stig(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((asset_id, benchmark_id, revision_str)): Path<(String, String, String)>,
    mut params: Params,
) -> ApiResult<Response> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let format = params.choice("format", ASSET_FORMATS)?.unwrap_or_else(|| "json".into());
    let projection = params.choices("projection", PROJECTIONS)?;
    params.finish()?;
    let grant = asset_access(&state, &caller, asset_id, Role::Restricted).await?;
    let access = grant.access_map(&state).await?.access(asset_id, &benchmark_id);
    if access == Access::None {
        return Err(ApiError::privilege(NOT_READABLE));
    }
    let rev_id = resolve_revision(&state, &benchmark_id, &revision_str).await?;
    let head = state.store.revision_head(&rev_id).await?;
    let file = match format.as_str() {
        "ckl" => ChecklistFile::Ckl,
        "cklb" => ChecklistFile::Cklb,
        "xccdf" => ChecklistFile::Xccdf,
        _ => {
            let items = json_checklist(&state, asset_id, &head, &projection).await?;
            return Ok(match format.as_str() {
                "json" => Json(items).into_response(),
                _ => Json(JsonAccess { access: access.api(), checklist: items }).into_response(),
            });
        }
    };
    asset_stig_file(&state, asset_id, &head, file, caller.now).await
}

/// The current revisions a multi-STIG export holds: the named STIGs, which must be mapped (400)
/// and readable (403), or without names every readable one.
fn multi_stig_choice<'a>(
    mapped: &'a [(String, String)],
    requested: &[String],
    access: impl Fn(&str) -> Access,
) -> ApiResult<Vec<&'a String>> {
    if requested.iter().any(|b| !mapped.iter().any(|(m, _)| m == b)) {
        return Err(ApiError::client("Asset is not mapped to all requested benchmarkIds"));
    }
    let readable = |b: &str| access(b) > Access::None;
    if requested.iter().any(|b| !readable(b)) {
        return Err(ApiError::privilege(NOT_READABLE));
    }
    let wanted: Vec<&String> = mapped
        .iter()
        .filter(|(b, _)| readable(b) && (requested.is_empty() || requested.contains(b)))
        .map(|(_, rev_id)| rev_id)
        .collect();
    match wanted.is_empty() {
        true => Err(ApiError::privilege(NOT_READABLE)),
        false => Ok(wanted),
    }
}

/// One asset's checklist of one revision as a file, named after the asset, STIG and time.
async fn asset_stig_file(
    state: &AppState,
    asset_id: i64,
    head: &RevisionHead,
    file: ChecklistFile,
    now: i64,
) -> ApiResult<Response> {
    let asset = state.store.export_asset(asset_id).await?;
    let stig = state.store.export_stig(asset_id, head).await?;
    let marking = marking(state, [head.marking.as_deref()]);
    let stamp = file_date(now);
    let base =
        format!("{marking}_{}-{}-{}_{stamp}", asset.name, head.benchmark_id, head.revision_str);
    let name = match file {
        ChecklistFile::Xccdf => {
            format!(
                "{marking}_{}-{}-{}-xccdf_{stamp}.xml",
                asset.name, head.benchmark_id, head.revision_str
            )
        }
        ChecklistFile::Ckl => format!("{base}.ckl"),
        ChecklistFile::Cklb => format!("{base}.cklb"),
    };
    let bytes = render(state, file, &asset, &[stig], &marking, &base, now)?;
    Ok(download(bytes, file.content_type(), &escape_file_name(&name), "inline"))
}

pub async fn get_checklist_by_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    mut params: Params,
) -> ApiResult<Response> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let requested = params.all("benchmarkId");
    let format = params.choice("format", &["ckl", "cklb"])?.unwrap_or_else(|| "ckl".into());
    params.finish()?;
    let grant = asset_access(&state, &caller, asset_id, Role::Restricted).await?;
    let mapped = state.store.asset_current_revisions(asset_id).await?;
    if mapped.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let acl = grant.access_map(&state).await?;
    let wanted = multi_stig_choice(&mapped, &requested, |b| acl.access(asset_id, b))?;
    let asset = state.store.export_asset(asset_id).await?;
    let mut heads = Vec::new();
    let mut stigs = Vec::new();
    for rev_id in wanted {
        let head = state.store.revision_head(rev_id).await?;
        stigs.push(state.store.export_stig(asset_id, &head).await?);
        heads.push(head);
    }
    let now = caller.now;
    let marking = marking(&state, heads.iter().map(|h| h.marking.as_deref()));
    let stamp = file_date(now);
    let (file, name) = match format.as_str() {
        "cklb" => (ChecklistFile::Cklb, format!("{}_{stamp}.cklb", asset.name)),
        _ => (ChecklistFile::Ckl, format!("{marking}_{}_{stamp}.ckl", asset.name)),
    };
    let bytes = render(&state, file, &asset, &stigs, &marking, &name, now)?;
    Ok(download(bytes, file.content_type(), &escape_file_name(&name), "inline"))
}

pub async fn get_checklist_by_collection_stig(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, benchmark_id, revision_str)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Vec<CollectionChecklistItem>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    let grant = caller.granted_access(&state, collection_id, Role::Restricted).await?;
    if !state.store.benchmark_exists(&benchmark_id).await? {
        return Err(unknown_benchmark(&benchmark_id));
    }
    let rev_id = resolve_revision(&state, &benchmark_id, &revision_str).await?;
    let head = state.store.revision_head(&rev_id).await?;
    let acl = match grant.viewer() {
        Some(viewer) => Some(state.store.access_map(viewer).await?),
        None => None,
    };
    let rules = state.store.collection_checklist(collection_id, &head, acl.as_ref()).await?;
    Ok(Json(rules.into_iter().map(CollectionChecklistItem::from).collect()))
}

/// The file kinds a checklist export produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChecklistFile {
    Ckl,
    Cklb,
    Xccdf,
}

impl ChecklistFile {
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            ChecklistFile::Cklb => "application/json",
            ChecklistFile::Ckl | ChecklistFile::Xccdf => "application/xml",
        }
    }
}

/// Writes one checklist file: CKL and CKLB hold every STIG given, XCCDF the first.
pub(crate) fn render(
    state: &AppState,
    file: ChecklistFile,
    asset: &ExportAsset,
    stigs: &[ExportStig],
    marking: &str,
    title: &str,
    now: i64,
) -> ApiResult<Vec<u8>> {
    let version = env!("CARGO_PKG_VERSION");
    let failed = |e: stigward_formats::FormatError| ApiError::Internal(e.to_string());
    match file {
        ChecklistFile::Ckl => {
            write_ckl(asset, stigs, &format!("Stigward {version}"), marking).map_err(failed)
        }
        ChecklistFile::Cklb => {
            let document = write_cklb(asset, stigs, title, &state.config.classification);
            serde_json::to_vec(&document).map_err(|e| ApiError::Internal(e.to_string()))
        }
        ChecklistFile::Xccdf => {
            let Some(stig) = stigs.first() else {
                return Err(ApiError::Internal("an XCCDF export needs one STIG".into()));
            };
            let system = format!("cpe:/a:stigward:stigward:{version}");
            write_xccdf(asset, stig, &system, now).map_err(failed)
        }
    }
}

/// The marking of an export: with the classification `NONE`, `U` or `CUI`, the alphabetically
/// first marking of the revisions exported (`U` when none has one); otherwise the configured
/// classification.
pub(crate) fn marking<'a>(
    state: &AppState,
    revisions: impl IntoIterator<Item = Option<&'a str>>,
) -> String {
    let configured = state.config.classification.as_str();
    if !matches!(configured, "NONE" | "U" | "CUI") {
        return configured.to_string();
    }
    let lowest = revisions.into_iter().flatten().filter(|m| !m.is_empty()).min();
    lowest.unwrap_or("U").to_string()
}

/// A timestamp for file names: `2024-05-01T1234Z`.
pub(crate) fn file_date(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H%MZ")
        .to_string()
}

/// A file name safe for any file system: the characters Windows forbids become HTML entities,
/// control characters numeric references, and the result is cut to 255 characters.
pub(crate) fn escape_file_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        match c {
            '/' => out.push_str("&sol;"),
            '\\' => out.push_str("&bsol;"),
            ':' => out.push_str("&colon;"),
            '*' => out.push_str("&ast;"),
            '"' => out.push_str("&quot;"),
            '?' => out.push_str("&quest;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&vert;"),
            c if c.is_control() => out.push_str(&format!("&#x{:02};", u32::from(c))),
            c => out.push(c),
        }
    }
    out.chars().take(255).collect()
}

/// A file response: its type, and a `Content-Disposition` a browser client may read.
pub(crate) fn download(
    body: impl Into<Body>,
    content_type: &str,
    name: &str,
    kind: &str,
) -> Response {
    let disposition = content_disposition(kind, name);
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    let disposition = HeaderValue::from_str(&disposition)
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Content-Disposition"),
    );
    response
}

/// `filename` for ASCII names; other names also get the UTF-8 `filename*` form (RFC 6266)
/// beside an ASCII stand-in.
fn content_disposition(kind: &str, name: &str) -> String {
    let plain = |c: char| c.is_ascii_graphic() || c == ' ';
    let ascii: String = name.chars().map(|c| if plain(c) && c != '"' { c } else { '_' }).collect();
    if name.chars().all(plain) && !name.contains('"') {
        return format!("{kind}; filename=\"{ascii}\"");
    }
    let mut encoded = String::new();
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(char::from(byte))
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[derive(Debug, Serialize)]
struct JsonAccess {
    access: &'static str,
    checklist: Vec<ChecklistItem>,
}

/// One rule of an asset's JSON checklist.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ChecklistItem {
    asset_id: String,
    rule_id: String,
    rule_title: String,
    version: String,
    group_id: String,
    group_title: Option<String>,
    severity: String,
    result: Option<String>,
    result_engine: Option<serde_json::Value>,
    auto_result: bool,
    status: Option<&'static str>,
    status_ts: Option<String>,
    ts: Option<String>,
    touch_ts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<Rule>,
}

async fn json_checklist(
    state: &AppState,
    asset_id: i64,
    head: &RevisionHead,
    projection: &[String],
) -> ApiResult<Vec<ChecklistItem>> {
    let has = |p: &str| projection.iter().any(|x| x == p);
    let rows = state.store.asset_checklist(asset_id, &head.rev_id).await?;
    let mut rules = match has("rule") {
        true => {
            let all = RuleProjection {
                detail: true,
                ccis: true,
                check: true,
                fix: true,
                rule_ids: true,
                stigs: true,
            };
            state.store.rules(&head.rev_id, all).await?
        }
        false => Vec::new(),
    };
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let rule = rules
            .iter()
            .position(|r| r.rule_id == row.rule.rule_id)
            .map(|at| rules.swap_remove(at));
        items.push(checklist_item(asset_id, row, has("detail"), has("comment"), rule));
    }
    Ok(items)
}

fn checklist_item(
    asset_id: i64,
    row: ChecklistRow,
    detail: bool,
    comment: bool,
    rule: Option<Rule>,
) -> ChecklistItem {
    let review = row.rule.review;
    ChecklistItem {
        asset_id: asset_id.to_string(),
        rule_id: row.rule.rule_id,
        rule_title: row.rule.title,
        version: row.rule.version,
        group_id: row.rule.group_id,
        group_title: row.rule.group_title,
        severity: row.rule.severity,
        result: review.as_ref().map(|r| r.result.clone()),
        result_engine: review.as_ref().and_then(|r| r.result_engine.clone()),
        auto_result: row.auto_result,
        status: row.status.map(|s| s.api()),
        status_ts: row.status_ts.map(iso_millis),
        ts: review.as_ref().map(|r| iso_millis(r.ts)),
        touch_ts: review.as_ref().map(|r| iso_millis(r.touch_ts)),
        detail: detail.then(|| review.as_ref().map(|r| r.detail.clone())),
        comment: comment.then(|| review.as_ref().map(|r| r.comment.clone())),
        rule,
    }
}

/// One rule of a collection's checklist summary.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionChecklistItem {
    rule_id: String,
    rule_title: String,
    severity: String,
    version: String,
    group_id: String,
    group_title: Option<String>,
    counts: Counts,
    timestamps: Timestamps,
}

#[derive(Debug, Serialize)]
struct Counts {
    results: ResultCounts,
    statuses: StatusCounts,
}

#[derive(Debug, Serialize)]
struct ResultCounts {
    pass: i64,
    fail: i64,
    notapplicable: i64,
    other: i64,
}

#[derive(Debug, Serialize)]
struct StatusCounts {
    saved: i64,
    submitted: i64,
    rejected: i64,
    accepted: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Timestamps {
    ts: Range,
    status_ts: Range,
    touch_ts: Range,
}

#[derive(Debug, Serialize)]
struct Range {
    min: Option<String>,
    max: Option<String>,
}

impl From<MinMax> for Range {
    fn from(range: MinMax) -> Self {
        Range { min: range.min.map(iso_seconds), max: range.max.map(iso_seconds) }
    }
}

impl From<RuleSummary> for CollectionChecklistItem {
    fn from(rule: RuleSummary) -> Self {
        let [saved, submitted, rejected, accepted] = rule.statuses;
        CollectionChecklistItem {
            rule_id: rule.rule_id,
            rule_title: rule.title,
            severity: rule.severity,
            version: rule.version,
            group_id: rule.group_id,
            group_title: rule.group_title,
            counts: Counts {
                results: ResultCounts {
                    pass: rule.pass,
                    fail: rule.fail,
                    notapplicable: rule.notapplicable,
                    other: rule.other,
                },
                statuses: StatusCounts { saved, submitted, rejected, accepted },
            },
            timestamps: Timestamps {
                ts: rule.ts.into(),
                status_ts: rule.status_ts.into(),
                touch_ts: rule.touch_ts.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_escape_what_file_systems_forbid() {
        assert_eq!(escape_file_name("a/b:c*?"), "a&sol;b&colon;c&ast;&quest;");
        assert_eq!(escape_file_name("x\u{1}y"), "x&#x01;y");
        assert_eq!(escape_file_name(&"n".repeat(300)).len(), 255);
    }

    #[test]
    fn non_ascii_names_get_an_encoded_form() {
        assert_eq!(content_disposition("inline", "a b.ckl"), "inline; filename=\"a b.ckl\"");
        assert_eq!(
            content_disposition("attachment", "hôte.ckl"),
            "attachment; filename=\"h_te.ckl\"; filename*=UTF-8''h%C3%B4te.ckl"
        );
    }

    #[test]
    fn file_dates_drop_seconds_and_separators() {
        assert_eq!(file_date(1714566720), "2024-05-01T1232Z");
    }
}
