//! Loading content, shared by the API and `stigward import`: benchmark files and DISA library
//! zips, the CCI list, and checklists written as reviews of an asset.

use stigward_formats::detect::{detect, Kind};
use stigward_formats::library::{members, Limits};
use stigward_formats::xccdf::{parse_benchmark, Benchmark};
use stigward_formats::FormatError;
use stigward_storage::Store;
use stigward_wire::stig::RevisionPost;

use crate::error::{ApiError, ApiResult};

/// A benchmark read from an upload, with the marking its file name carries.
pub struct Parsed {
    pub marking: Option<String>,
    pub benchmark: Benchmark,
}

/// The marking is the file name's prefix: `U_`, `CUI_` or `FOUO_`.
pub fn marking_of(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    ["CUI", "FOUO", "U"]
        .into_iter()
        .find(|m| base.starts_with(&format!("{m}_")))
        .map(str::to_string)
}

/// Reads every benchmark in an upload: one XCCDF file, or a zip (nested zips included) whose
/// other members (PDFs, SCAP content) are passed over. Nothing is written here, so a bad file
/// leaves the library as it was.
pub fn parse_upload(file_name: &str, bytes: &[u8]) -> ApiResult<Vec<Parsed>> {
    match detect(bytes) {
        Kind::Benchmark => Ok(vec![parse_one(file_name, bytes)?]),
        Kind::ScapDataStream => Err(ApiError::unprocessable("SCAP Benchmarks are not imported.")),
        Kind::Zip => parse_zip(bytes),
        _ => {
            Err(ApiError::client(format!("{file_name} is not an XCCDF benchmark or a zip of them")))
        }
    }
}

fn parse_one(file_name: &str, bytes: &[u8]) -> ApiResult<Parsed> {
    let benchmark = parse_benchmark(bytes).map_err(|e| format_error(file_name, e))?;
    Ok(Parsed { marking: marking_of(file_name), benchmark })
}

fn parse_zip(bytes: &[u8]) -> ApiResult<Vec<Parsed>> {
    let members = members(bytes, &Limits::default()).map_err(|e| format_error("zip", e))?;
    let mut parsed = Vec::new();
    for member in &members {
        if detect(&member.bytes) == Kind::Benchmark {
            parsed.push(parse_one(&member.name, &member.bytes)?);
        }
    }
    if parsed.is_empty() {
        return Err(ApiError::client("The zip holds no XCCDF benchmark."));
    }
    Ok(parsed)
}

fn format_error(file_name: &str, err: FormatError) -> ApiError {
    match err {
        FormatError::ScapDataStream => ApiError::unprocessable("SCAP Benchmarks are not imported."),
        other => ApiError::client(format!("{file_name}: {other}")),
    }
}

/// Imports parsed benchmarks one revision at a time.
pub async fn import_benchmarks(
    store: &Store,
    parsed: &[Parsed],
    clobber: bool,
    now: i64,
) -> ApiResult<Vec<RevisionPost>> {
    let mut results = Vec::with_capacity(parsed.len());
    for p in parsed {
        results
            .push(store.import_benchmark(&p.benchmark, p.marking.as_deref(), clobber, now).await?);
    }
    Ok(results)
}

/// Loads DISA's CCI list, replacing the stored one.
pub async fn import_cci_list(
    store: &Store,
    bytes: &[u8],
) -> ApiResult<stigward_wire::stig::CciImport> {
    if detect(bytes) != Kind::CciList {
        return Err(ApiError::client("The file is not a DISA CCI list."));
    }
    let ccis =
        stigward_formats::cci::parse_cci_list(bytes).map_err(|e| format_error("CCI list", e))?;
    let (cci_count, reference_count) = store.replace_ccis(&ccis).await?;
    Ok(stigward_wire::stig::CciImport { cci_count, reference_count })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn marking_comes_from_the_file_name() {
        assert_eq!(marking_of("U_VPN_SRG_V1R1_Manual-xccdf.xml").as_deref(), Some("U"));
        assert_eq!(marking_of("dir/CUI_X.xml").as_deref(), Some("CUI"));
        assert_eq!(marking_of("FOUO_X.xml").as_deref(), Some("FOUO"));
        assert_eq!(marking_of("VPN.xml"), None);
        assert_eq!(marking_of("UX_VPN.xml"), None);
    }
}

/// What became of one STIG of an imported checklist.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StigReport {
    pub benchmark_id: String,
    pub revision_str: Option<String>,
    /// False when the benchmark is not in the library; nothing was written for it.
    pub benchmark_loaded: bool,
    pub inserted: usize,
    pub updated: usize,
    /// Rule ids of the checklist that no loaded revision of the benchmark holds.
    pub not_matched: Vec<String>,
    /// Rules skipped by the collection's import options (unreviewed, uncommented).
    pub skipped: usize,
    pub rejected: Vec<stigward_wire::review::RejectedReview>,
}

/// What became of an imported checklist.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChecklistReport {
    /// A string, as the API writes ids.
    #[serde(with = "stigward_wire::id_string")]
    pub asset_id: i64,
    pub asset_name: String,
    pub asset_created: bool,
    pub stigs: Vec<StigReport>,
}

/// Where a checklist's reviews go.
pub struct ChecklistTarget<'a> {
    pub collection_id: i64,
    /// The asset's name; `None` takes the checklist's host name.
    pub asset_name: Option<&'a str>,
    pub create_asset: bool,
}

/// Writes a checklist's results as reviews of an asset, assigning each loaded STIG to it and
/// applying the collection's import options.
pub async fn import_checklist(
    store: &Store,
    checklist: &stigward_formats::checklist::Checklist,
    target: ChecklistTarget<'_>,
    writer: stigward_domain::review::Writer,
) -> ApiResult<ChecklistReport> {
    let name = target
        .asset_name
        .map(str::to_string)
        .or_else(|| checklist.target.name.clone())
        .ok_or_else(|| ApiError::client("The checklist names no host; name the asset."))?;
    let (asset_id, asset_created) = checklist_asset(store, checklist, &target, &name).await?;
    let stored = store.collection_settings(target.collection_id).await?;
    let settings = stigward_domain::CollectionSettings::from_stored(&stored);
    let options = import_options(&stored);
    let mut stigs = Vec::new();
    for stig in &checklist.stigs {
        stigs.push(import_stig(store, asset_id, stig, &options, &settings, writer).await?);
    }
    Ok(ChecklistReport { asset_id, asset_name: name, asset_created, stigs })
}

async fn checklist_asset(
    store: &Store,
    checklist: &stigward_formats::checklist::Checklist,
    target: &ChecklistTarget<'_>,
    name: &str,
) -> ApiResult<(i64, bool)> {
    if let Some(asset_id) = store.asset_by_name(target.collection_id, name).await? {
        return Ok((asset_id, false));
    }
    if !target.create_asset {
        return Err(ApiError::unprocessable(format!(
            "No asset named {name} in the collection; ask for it to be created."
        )));
    }
    let t = &checklist.target;
    let body = stigward_wire::asset::AssetCreate {
        name: name.to_string(),
        collection_id: target.collection_id,
        description: t.description.clone(),
        ip: t.ip.clone(),
        fqdn: t.fqdn.clone(),
        mac: t.mac.clone(),
        noncomputing: t.noncomputing,
        metadata: t.metadata.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect(),
        stigs: Vec::new(),
        label_names: None,
    };
    Ok((store.create_asset(&body).await?, true))
}

/// The writes one checklist STIG turns into, given the rule ids the library holds for its
/// benchmark; shared by the local and the remote import.
pub struct StigPlan {
    pub items: Vec<stigward_storage::reviews::ReviewWrite>,
    pub report: StigReport,
}

pub fn plan_stig(
    stig: &stigward_formats::checklist::ChecklistStig,
    known: Option<&std::collections::HashSet<String>>,
    options: &serde_json::Value,
    settings: &stigward_domain::CollectionSettings,
    role: stigward_domain::Role,
) -> StigPlan {
    let mut report = StigReport {
        benchmark_id: stig.benchmark_id.clone(),
        revision_str: stig.revision_str.clone(),
        benchmark_loaded: known.is_some(),
        inserted: 0,
        updated: 0,
        not_matched: Vec::new(),
        skipped: 0,
        rejected: Vec::new(),
    };
    let Some(known) = known else { return StigPlan { items: Vec::new(), report } };
    let mut items = Vec::new();
    for review in &stig.reviews {
        if !known.contains(&review.rule_id) {
            report.not_matched.push(review.rule_id.clone());
            continue;
        }
        let result = stigward_domain::import::ChecklistResult {
            result: stigward_domain::ReviewResult::from_api(review.result.api_str())
                .unwrap_or(stigward_domain::ReviewResult::NotChecked),
            detail: review.detail.clone(),
            comment: review.comment.clone(),
            result_engine: review.result_engine.clone(),
        };
        match stigward_domain::import::review_from_checklist(&result, options, settings, role) {
            Some(incoming) => items.push(stigward_storage::reviews::ReviewWrite {
                rule_id: review.rule_id.clone(),
                incoming,
            }),
            None => report.skipped += 1,
        }
    }
    StigPlan { items, report }
}

/// A collection's import options, or the defaults when it stores none.
pub fn import_options(settings: &serde_json::Value) -> serde_json::Value {
    match settings.get("importOptions") {
        Some(options) if options.is_object() => options.clone(),
        _ => stigward_domain::settings::default_settings()["importOptions"].clone(),
    }
}

async fn import_stig(
    store: &Store,
    asset_id: i64,
    stig: &stigward_formats::checklist::ChecklistStig,
    options: &serde_json::Value,
    settings: &stigward_domain::CollectionSettings,
    writer: stigward_domain::review::Writer,
) -> ApiResult<StigReport> {
    let known = match store.benchmark_exists(&stig.benchmark_id).await? {
        true => Some(store.benchmark_rule_ids(&stig.benchmark_id).await?),
        false => None,
    };
    let StigPlan { items, mut report } =
        plan_stig(stig, known.as_ref(), options, settings, writer.role);
    if !report.benchmark_loaded {
        return Ok(report);
    }
    store.attach_stig(asset_id, &stig.benchmark_id).await?;
    let collection_id = store.asset_collection(asset_id).await?.ok_or(ApiError::NotFound(None))?;
    let access = store.full_access_map(collection_id).await?;
    let written = store.write_asset_reviews(asset_id, items, settings, writer, &access).await?;
    report.inserted = written.affected.inserted;
    report.updated = written.affected.updated;
    report.rejected = written.rejected;
    Ok(report)
}
