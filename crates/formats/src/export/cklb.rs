//! CKLB output: STIG Viewer 3's JSON checklist.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{cklb_status, iso_millis, ExportAsset, ExportRule, ExportStig};

const TITLE_SUFFIX: &str = " Security Technical Implementation Guide";

/// Writes a CKLB holding every STIG in `stigs` for `asset`, titled `title`. `classification`
/// is the value written into each rule.
pub fn write_cklb(
    asset: &ExportAsset,
    stigs: &[ExportStig],
    title: &str,
    classification: &str,
) -> Value {
    let stigs: Vec<Value> = stigs.iter().map(|stig| stig_json(stig, classification)).collect();
    json!({
        "title": title,
        "id": Uuid::new_v4().to_string(),
        "active": false,
        "mode": 1,
        "has_path": true,
        "target_data": target_data(asset),
        "stigs": stigs,
    })
}

fn target_data(asset: &ExportAsset) -> Value {
    let meta = |key: &str| asset.meta(key).unwrap_or_default().to_string();
    json!({
        "target_type": if asset.noncomputing { "Non-Computing" } else { "Computing" },
        "host_name": asset.host_name(),
        "ip_address": asset.ip.clone().unwrap_or_default(),
        "mac_address": asset.mac.clone().unwrap_or_default(),
        "fqdn": asset.fqdn.clone().unwrap_or_default(),
        "comments": "",
        "role": asset.meta("cklRole").unwrap_or("None"),
        "is_web_database": asset.meta("cklHostName").is_some(),
        "technology_area": meta("cklTechArea"),
        "web_db_site": meta("cklWebDbSite"),
        "web_db_instance": meta("cklWebDbInstance"),
    })
}

fn stig_json(stig: &ExportStig, classification: &str) -> Value {
    let stig_uuid = Uuid::new_v4().to_string();
    let rules: Vec<Value> =
        stig.rules.iter().map(|rule| rule_json(rule, &stig_uuid, classification)).collect();
    json!({
        "stig_name": stig.title,
        "display_name": stig.title.strip_suffix(TITLE_SUFFIX).unwrap_or(&stig.title),
        "stig_id": stig.benchmark_id,
        "version": stig.version,
        "release_info": stig.release_info(),
        "uuid": stig_uuid,
        "reference_identifier": "0000",
        "size": stig.rules.len(),
        "rules": rules,
    })
}

fn rule_json(rule: &ExportRule, stig_uuid: &str, classification: &str) -> Value {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let review = rule.review.as_ref();
    json!({
        "uuid": Uuid::new_v4().to_string(),
        "stig_uuid": stig_uuid,
        "target_key": null,
        "stig_ref": null,
        "group_id": rule.group_id,
        "rule_id": rule.rule_id.strip_suffix("_rule").unwrap_or(&rule.rule_id),
        "rule_id_src": rule.rule_id,
        "weight": text(&rule.weight),
        "classification": classification,
        "severity": rule.severity,
        "rule_version": rule.version,
        "group_title": text(&rule.group_title),
        "rule_title": rule.title,
        "fix_text": rule.fix_text,
        "false_positives": text(&rule.false_positives),
        "false_negatives": text(&rule.false_negatives),
        "discussion": text(&rule.vuln_discussion),
        "check_content": rule.check_content,
        "documentable": text(&rule.documentable),
        "mitigations": text(&rule.mitigations),
        "potential_impacts": text(&rule.potential_impacts),
        "third_party_tools": text(&rule.third_party_tools),
        "mitigation_control": text(&rule.mitigation_control),
        "responsibility": text(&rule.responsibility),
        "security_override_guidance": text(&rule.severity_override_guidance),
        "ia_controls": text(&rule.ia_controls),
        "check_content_ref": {"href": "", "name": "M"},
        "legacy_ids": [],
        "group_tree": [{
            "id": rule.group_id,
            "title": text(&rule.group_title),
            "description": "<GroupDescription></GroupDescription>",
        }],
        "createdAt": review.map(|r| iso_millis(r.ts)),
        "updatedAt": review.map(|r| iso_millis(r.touch_ts)),
        "STIGUuid": stig_uuid,
        "status": cklb_status(review),
        "overrides": {},
        "comments": review.map(|r| r.comment.as_str()).unwrap_or_default(),
        "finding_details": review.map(|r| r.detail.as_str()).unwrap_or_default(),
        "ccis": rule.ccis.iter().map(|cci| format!("CCI-{cci}")).collect::<Vec<_>>(),
    })
}
