//! Findings (failed reviews on the rules of each STIG's default revision, aggregated by rule,
//! group or CCI) and the POA&M spreadsheet built from them.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::Serialize;
use stigward_domain::Role;
use stigward_storage::checklists::{FindingCci, FindingFilter, FindingRow};

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, Params, Path};
use crate::handlers::checklist::{download, escape_file_name, file_date};
use crate::state::AppState;

const PROJECTIONS: &[&str] = &["assets", "groups", "rules", "stigs", "ccis"];
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub async fn get_findings_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<Finding>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let aggregator = required(&mut params, &["ruleId", "groupId", "cci"])?;
    let filter = filter(&mut params)?;
    let projection = params.choices("projection", PROJECTIONS)?;
    params.finish()?;
    let rows = read(&caller, &state, collection_id, &filter).await?;
    let has = |p: &str| projection.iter().any(|x| x == p);
    let findings = aggregate(&rows, &aggregator)
        .into_iter()
        .map(|(key, rows)| finding(&aggregator, &key, &rows, &has))
        .collect();
    Ok(Json(findings))
}

pub async fn get_poam_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Response> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let aggregator = required(&mut params, &["ruleId", "groupId"])?;
    let filter = filter(&mut params)?;
    let format = params.choice("format", &["EMASS", "MCCAST"])?.unwrap_or_else(|| "EMASS".into());
    let date = params.one("date")?;
    if date.as_deref().is_some_and(|d| !is_us_date(d)) {
        return Err(ApiError::Validation("request/query/date must match MM/DD/YYYY".into()));
    }
    let text = |params: &mut Params, name: &str| -> ApiResult<String> {
        let value = params.one(name)?.unwrap_or_default();
        match value.chars().count() > 255 {
            true => Err(ApiError::Validation(format!(
                "request/query/{name} must NOT have more than 255 characters"
            ))),
            false => Ok(value),
        }
    };
    let options = PoamOptions {
        mccast: format == "MCCAST",
        date: date.unwrap_or_else(|| us_date(caller.now)),
        office: text(&mut params, "office")?,
        status: text(&mut params, "status")?,
        package_id: text(&mut params, "mccastPackageId")?,
        auth_name: text(&mut params, "mccastAuthName")?,
    };
    params.finish()?;
    let rows = read(&caller, &state, collection_id, &filter).await?;
    let findings = aggregate(&rows, &aggregator);
    let bytes = poam(&findings, &options).map_err(|e| ApiError::Internal(e.to_string()))?;
    let name = state.store.collection_name(collection_id).await?;
    let file = format!("POAM-{format}-{name}_{}.xlsx", file_date(caller.now));
    Ok(download(bytes, XLSX, &escape_file_name(&file), "attachment"))
}

/// A required single-valued parameter from a fixed set.
fn required(params: &mut Params, allowed: &[&str]) -> ApiResult<String> {
    params.choice("aggregator", allowed)?.ok_or_else(|| {
        ApiError::Validation("request/query must have required property 'aggregator'".into())
    })
}

fn filter(params: &mut Params) -> ApiResult<FindingFilter> {
    Ok(FindingFilter {
        accepted_only: params.flag("acceptedOnly")?,
        benchmark_id: params.one("benchmarkId")?,
        asset_id: params.id("assetId")?,
    })
}

async fn read(
    caller: &Caller<scope::CollectionRead>,
    state: &AppState,
    collection_id: i64,
    filter: &FindingFilter,
) -> ApiResult<Vec<FindingRow>> {
    let access = caller.granted_access(state, collection_id, Role::Restricted).await?;
    let acl = match access.viewer() {
        Some(grant) => Some(state.store.access_map(grant).await?),
        None => None,
    };
    Ok(state.store.findings(collection_id, filter, acl.as_ref()).await?)
}

/// Failed reviews by the aggregator's key; a review counts once under each CCI of its rule.
fn aggregate<'a>(
    rows: &'a [FindingRow],
    aggregator: &str,
) -> BTreeMap<String, Vec<&'a FindingRow>> {
    let mut out: BTreeMap<String, Vec<&FindingRow>> = BTreeMap::new();
    for row in rows {
        match aggregator {
            "groupId" => out.entry(row.group_id.clone()).or_default().push(row),
            "cci" => {
                for cci in &row.ccis {
                    out.entry(cci.cci.clone()).or_default().push(row);
                }
            }
            _ => out.entry(row.rule_id.clone()).or_default().push(row),
        }
    }
    out
}

/// One aggregated finding with the projections asked for.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cci: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ap_acronym: Option<Option<String>>,
    asset_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    assets: Option<Vec<AssetBasic>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<GroupBasic>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<Vec<RuleAbbr>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stigs: Option<Vec<StigBasic>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ccis: Option<Vec<CciBasic>>,
}

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
struct AssetBasic {
    name: String,
    asset_id: String,
}

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
struct GroupBasic {
    group_id: String,
    title: Option<String>,
    severity: String,
}

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
struct RuleAbbr {
    rule_id: String,
    version: String,
    title: String,
    severity: String,
}

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
struct StigBasic {
    benchmark_id: String,
    revision_str: String,
    benchmark_date: Option<String>,
    revision_pinned: bool,
    rule_count: i64,
}

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
struct CciBasic {
    cci: String,
    ap_acronym: Option<String>,
    definition: String,
    control: Option<String>,
}

fn finding(
    aggregator: &str,
    key: &str,
    rows: &[&FindingRow],
    has: &dyn Fn(&str) -> bool,
) -> Finding {
    let first = rows.first().copied();
    let assets = distinct(
        rows.iter()
            .map(|r| AssetBasic { name: r.asset_name.clone(), asset_id: r.asset_id.to_string() }),
    );
    let cci_of = |c: &FindingCci| CciBasic {
        cci: c.cci.clone(),
        ap_acronym: c.ap_acronym.clone(),
        definition: c.definition.clone(),
        control: c.control.clone(),
    };
    let key_cci = first.and_then(|r| r.ccis.iter().find(|c| c.cci == key));
    Finding {
        rule_id: (aggregator == "ruleId").then(|| key.to_string()),
        group_id: (aggregator == "groupId").then(|| key.to_string()),
        cci: (aggregator == "cci").then(|| key.to_string()),
        title: match aggregator {
            "ruleId" => first.map(|r| Some(r.title.clone())),
            "groupId" => first.map(|r| r.group_title.clone()),
            _ => None,
        },
        severity: (aggregator != "cci").then(|| first.map(|r| r.severity.clone())).flatten(),
        definition: key_cci.map(|c| c.definition.clone()),
        ap_acronym: key_cci.map(|c| c.ap_acronym.clone()),
        asset_count: assets.len(),
        assets: has("assets").then_some(assets),
        groups: has("groups").then(|| {
            distinct(rows.iter().map(|r| GroupBasic {
                group_id: r.group_id.clone(),
                title: r.group_title.clone(),
                severity: r.severity.clone(),
            }))
        }),
        rules: has("rules").then(|| {
            distinct(rows.iter().map(|r| RuleAbbr {
                rule_id: r.rule_id.clone(),
                version: r.version.clone(),
                title: r.title.clone(),
                severity: r.severity.clone(),
            }))
        }),
        stigs: has("stigs").then(|| {
            distinct(rows.iter().map(|r| StigBasic {
                benchmark_id: r.benchmark_id.clone(),
                revision_str: r.revision_str.clone(),
                benchmark_date: r.benchmark_date.clone(),
                revision_pinned: r.revision_pinned,
                rule_count: r.rule_count,
            }))
        }),
        ccis: has("ccis").then(|| distinct(rows.iter().flat_map(|r| r.ccis.iter().map(cci_of)))),
    }
}

/// The items once each, in order.
fn distinct<T: Ord>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    items.into_iter().collect::<BTreeSet<T>>().into_iter().collect()
}

/// The values typed into the POA&M besides the findings.
struct PoamOptions {
    mccast: bool,
    date: String,
    office: String,
    status: String,
    package_id: String,
    auth_name: String,
}

const EMASS_COLUMNS: [&str; 24] = [
    "Control Vulnerability Description",
    "Security Control Number (NC/NA controls only)",
    "Office/Org",
    "Security Checks",
    "Resources Required",
    "Scheduled Completion Date",
    "Milestone with Completion Dates",
    "Milestone Changes",
    "Source Identifying Vulnerability ",
    "Status",
    "Comments",
    "Raw Severity",
    "Devices Affected",
    "Mitigations",
    "Predisposing Conditions",
    "Severity",
    "Relevance of Threat",
    "Threat Description",
    "Likelihood",
    "Impact",
    "Impact Description",
    "Residual Risk Level",
    "Recommendations",
    "Resulting Residual Risk after Proposed Mitigations",
];

/// A POA&M workbook: a header row, then one row per finding.
///
/// Known shortcoming: the sheet is laid out here with the eMASS column names, not filled into
/// DISA's eMASS or MCCAST template workbooks, so their instruction rows, extra sheets and cell
/// styles are absent.
fn poam(
    findings: &BTreeMap<String, Vec<&FindingRow>>,
    options: &PoamOptions,
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold().set_text_wrap();
    let wrap = Format::new().set_text_wrap();
    let sheet = workbook.add_worksheet();
    sheet.set_name("POA&M Items")?;
    if options.mccast {
        sheet.write_string(0, 0, format!("Authorization Name: {}", options.auth_name))?;
    }
    let top: u32 = if options.mccast { 1 } else { 0 };
    for (col, title) in (0u16..).zip(EMASS_COLUMNS) {
        sheet.write_string_with_format(top, col, title, &header)?;
        sheet.set_column_width(col, 24)?;
    }
    for (row, (key, rows)) in (top + 1..).zip(findings) {
        for (col, value) in (0u16..).zip(poam_row(key, rows, options)) {
            sheet.write_string_with_format(row, col, value, &wrap)?;
        }
    }
    workbook.save_to_buffer()
}

fn poam_row(key: &str, rows: &[&FindingRow], options: &PoamOptions) -> Vec<String> {
    let Some(first) = rows.first() else { return Vec::new() };
    let ccis: BTreeSet<&FindingCci> = rows.iter().flat_map(|r| r.ccis.iter()).collect();
    let acronyms: BTreeSet<&str> = ccis.iter().filter_map(|c| c.ap_acronym.as_deref()).collect();
    let control = acronyms
        .iter()
        .map(|ap| match options.mccast {
            true => format!("DoD RMF-{}-{}-CNSSI 1253", options.package_id, ap.replace('.', " ")),
            false => ap.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let stigs: BTreeSet<String> = rows
        .iter()
        .map(|r| {
            let date = r.benchmark_date.as_deref().unwrap_or_default();
            format!("{}\n{}\nBenchmark Date: {date}", r.benchmark_id, r.revision_str)
        })
        .collect();
    let assets: BTreeSet<&str> = rows.iter().map(|r| r.asset_name.as_str()).collect();
    let severities: BTreeSet<&str> = rows.iter().map(|r| r.severity.as_str()).collect();
    let (raw, risk) = match severities.iter().next().filter(|_| severities.len() == 1) {
        Some(&"high") => ("I", "High"),
        Some(&"medium") => ("II", "Moderate"),
        Some(&"low") => ("III", "Low"),
        _ => ("Mixed", ""),
    };
    let description = format!(
        "Title:\n{}\n\nDescription:\n{}",
        first.title,
        first.vuln_discussion.as_deref().unwrap_or_default()
    );
    let ccis = ccis.iter().map(|c| format!("CCI-{}", c.cci)).collect::<Vec<_>>().join("\n");
    vec![
        description,
        control,
        options.office.clone(),
        key.to_string(),
        String::new(),
        options.date.clone(),
        format!("Resolve this finding. {}", options.date),
        String::new(),
        stigs.into_iter().collect::<Vec<_>>().join("\n"),
        options.status.clone(),
        ccis,
        raw.to_string(),
        assets.into_iter().collect::<Vec<_>>().join("\n"),
        String::new(),
        String::new(),
        risk.to_string(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        risk.to_string(),
        String::new(),
        risk.to_string(),
    ]
}

/// `MM/DD/YYYY` with a real month and day of month.
fn is_us_date(text: &str) -> bool {
    chrono::NaiveDate::parse_from_str(text, "%m/%d/%Y").is_ok() && text.len() == 10
}

fn us_date(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0).unwrap_or_default().format("%m/%d/%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poam_dates_are_us_style() {
        assert!(is_us_date("05/01/2024"));
        assert!(!is_us_date("5/1/2024"));
        assert!(!is_us_date("13/01/2024"));
        assert_eq!(us_date(1714566720), "05/01/2024");
    }
}
