//! CKLB: STIG Viewer 3's JSON checklist (`target_data`, `stigs[].rules[]`).

use serde_json::{Map, Value};

use super::engine::{result_engine, Record};
use super::{review, stig_header, Checklist, ChecklistFormat, ChecklistResult, ChecklistReview};
use super::{ChecklistStig, RawTarget};
use crate::text::prepare;
use crate::FormatError;

/// Reads a CKLB checklist.
pub fn parse_cklb(json: &[u8]) -> Result<Checklist, FormatError> {
    let bytes = prepare(json);
    let document: Value = serde_json::from_slice(&bytes)?;
    let not_cklb = |reason: &str| FormatError::NotCklb { reason: reason.to_string() };
    let root = document.as_object().ok_or_else(|| not_cklb("the document is not a JSON object"))?;
    let stigs = root.get("stigs").and_then(Value::as_array);
    let stigs = stigs.ok_or_else(|| not_cklb("it has no \"stigs\" array"))?;
    let file_engine = Record::from_json(root.get("evaluate-stig"));
    let target = match root.get("target_data").and_then(Value::as_object) {
        Some(data) => read_target(data),
        None => RawTarget::default(),
    };
    let stigs = stigs
        .iter()
        .filter_map(Value::as_object)
        .filter_map(|stig| read_stig(stig, file_engine.as_ref()))
        .collect();
    let target = target.into_target()?;
    Ok(Checklist { target, stigs, format: ChecklistFormat::Cklb })
}

/// A string, number or boolean member as text; absent, null and other kinds as `""`.
fn text(object: &Map<String, Value>, key: &str) -> String {
    match object.get(key) {
        Some(Value::String(text)) => text.clone(),
        Some(value @ (Value::Number(_) | Value::Bool(_))) => value.to_string(),
        _ => String::new(),
    }
}

fn read_target(data: &Map<String, Value>) -> RawTarget {
    RawTarget {
        host_name: text(data, "host_name"),
        ip: text(data, "ip_address"),
        fqdn: text(data, "fqdn"),
        mac: text(data, "mac_address"),
        comment: text(data, "comments"),
        asset_type: text(data, "target_type"),
        role: text(data, "role"),
        tech_area: text(data, "technology_area"),
        web_or_database: text(data, "is_web_database") == "true",
        web_db_site: text(data, "web_db_site"),
        web_db_instance: text(data, "web_db_instance"),
    }
}

fn read_stig(stig: &Map<String, Value>, file_engine: Option<&Record>) -> Option<ChecklistStig> {
    let stig_id = text(stig, "stig_id");
    let header = stig_header(&stig_id, &text(stig, "version"), &text(stig, "release_info"));
    let (benchmark_id, revision_str) = header?;
    let stig_engine = Record::from_json(stig.get("evaluate-stig"));
    let rules = stig.get("rules").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let reviews = rules
        .iter()
        .filter_map(Value::as_object)
        .filter_map(|rule| read_rule(rule, file_engine, stig_engine.as_ref()))
        .collect();
    Some(ChecklistStig { benchmark_id, revision_str, reviews })
}

/// A rule with a `rule_id_src` and a known `status`; others are skipped.
fn read_rule(
    rule: &Map<String, Value>,
    file_engine: Option<&Record>,
    stig_engine: Option<&Record>,
) -> Option<ChecklistReview> {
    let rule_id = text(rule, "rule_id_src");
    let result = ChecklistResult::from_cklb(&text(rule, "status"))?;
    if rule_id.is_empty() {
        return None;
    }
    let rule_engine = Record::from_json(rule.get("evaluate-stig"));
    let engine = result_engine(file_engine, stig_engine, rule_engine.as_ref());
    let (detail, comment) = (text(rule, "finding_details"), text(rule, "comments"));
    Some(review(&rule_id, result, detail, comment, engine))
}
