//! Real CKL and CKLB files from `shared/data/checklists`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use serde_json::json;
use stigward_formats::checklist::{
    parse_ckl, parse_cklb, Checklist, ChecklistFormat, ChecklistResult,
};

fn ckl(file: &str) -> Checklist {
    parse_ckl(&common::read(&format!("checklists/{file}")))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn cklb(file: &str) -> Checklist {
    parse_cklb(&common::read(&format!("checklists/{file}")))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Result counts, keyed by the API's names.
fn tally<'a>(results: impl Iterator<Item = &'a ChecklistResult>) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for result in results {
        *counts.entry(result.api_str()).or_insert(0) += 1;
    }
    counts
}

/// `<STATUS>` values counted in the raw text, mapped to the API's names.
fn scan_statuses(text: &str) -> BTreeMap<&'static str, usize> {
    let mapping = [
        ("NotAFinding", "pass"),
        ("Open", "fail"),
        ("Not_Applicable", "notapplicable"),
        ("Not_Reviewed", "notchecked"),
    ];
    mapping
        .iter()
        .map(|(ckl, api)| (*api, common::count(text, &format!("<STATUS>{ckl}</STATUS>"))))
        .filter(|(_, n)| *n > 0)
        .collect()
}

#[test]
fn every_checklist_in_the_data_parses() {
    for (name, bytes) in common::files_in("checklists") {
        let parsed = if name.ends_with(".ckl") {
            parse_ckl(&bytes)
        } else if name.ends_with(".cklb") {
            parse_cklb(&bytes)
        } else {
            continue;
        };
        let checklist = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!checklist.stigs.is_empty(), "{name}");
    }
}

#[test]
fn ckl_review_counts_match_the_status_elements() {
    for (name, bytes) in common::files_in("checklists") {
        if !name.ends_with(".ckl") {
            continue;
        }
        let text = String::from_utf8(bytes.clone()).expect("UTF-8");
        let checklist = parse_ckl(&bytes).expect("parses");
        let reviews = checklist.stigs.iter().flat_map(|stig| stig.reviews.iter());
        assert_eq!(tally(reviews.map(|r| &r.result)), scan_statuses(&text), "{name}");
    }
}

#[test]
fn evaluate_stig_chrome_ckl() {
    let checklist = ckl("evalstig_chrome_V2R8_win.ckl");
    assert_eq!(checklist.format, ChecklistFormat::Ckl);
    let target = &checklist.target;
    assert_eq!(target.name.as_deref(), Some("CA1294WK16078"));
    assert_eq!(target.ip.as_deref(), Some("130.163.x.x, 192.168.x.x"));
    assert_eq!(target.mac.as_deref(), Some("00:05:9A:3C:7A:00, 2C:DB:07:3D:E5:9B"));
    assert_eq!(target.fqdn.as_deref(), Some("ca1294wk16078.cranrdte.navy.mil"));
    assert!(!target.noncomputing);
    assert_eq!(target.metadata, BTreeMap::from([("cklRole".into(), "Workstation".into())]));

    assert_eq!(checklist.stigs.len(), 1);
    let stig = &checklist.stigs[0];
    assert_eq!(stig.benchmark_id, "Google_Chrome_Current_Windows");
    assert_eq!(stig.revision_str.as_deref(), Some("V2R8"));
    assert_eq!(stig.reviews.len(), 43);
    let text = common::read_string("checklists/evalstig_chrome_V2R8_win.ckl");
    assert_eq!(tally(stig.reviews.iter().map(|r| &r.result)), scan_statuses(&text));

    let first = &stig.reviews[0];
    assert_eq!(first.rule_id, "SV-221558r769351_rule");
    assert!(first.detail.starts_with("Evaluate-STIG 1.2310.1 (Scan-GoogleChrome_Checks) found"));
    assert!(first.detail.ends_with("Type:\t\tREG_DWORD"), "detail is trimmed");
    assert_eq!(first.comment, "");
}

#[test]
fn evaluate_stig_comments_become_result_engines() {
    let checklist = ckl("evalstig_chrome_V2R8_win.ckl");
    let reviews = &checklist.stigs[0].reviews;
    let engine = json!({
        "type": "script",
        "product": "Evaluate-STIG",
        "version": "1.2310.1",
        "time": "2023-12-11T12:56:14.3576272-05:00",
        "checkContent": {"location": "Scan-GoogleChrome_Checks:1.2023.7.24"},
    });
    assert_eq!(reviews[0].result_engine.as_ref(), Some(&engine));

    let answered = reviews.iter().find(|r| r.rule_id == "SV-221584r850366_rule").expect("rule");
    let mut with_override = engine.clone();
    with_override["overrides"] = json!([{
        "authority": "Google_Chrome_Current_Windows_AnswerFile.xml",
        "oldResult": "notchecked",
        "newResult": "pass",
        "remark": "Evaluate-STIG Answer File",
    }]);
    assert_eq!(answered.result_engine.as_ref(), Some(&with_override));
    assert!(answered.comment.starts_with("Evaluate-STIG answer file for Key 'DEFAULT'"));
    let overridden = reviews.iter().filter(|r| r.result_engine.as_ref() != Some(&engine));
    assert_eq!(overridden.count(), 1);

    let combined = cklb("evalstig_combined_chrome.cklb");
    assert_eq!(combined.stigs[0].reviews[0].result_engine.as_ref(), Some(&engine));
    let edge = combined.stigs[1].reviews[0].result_engine.as_ref().expect("engine");
    assert_eq!(edge["checkContent"]["location"], "Scan-MicrosoftEdge_Checks:1.2023.7.24");
}

#[test]
fn kubernetes_ckl_without_host_or_release() {
    let checklist = ckl("stigviewer2_17_kubernetes_empty_hostname.ckl");
    assert_eq!(checklist.target.name, None);
    assert_eq!(checklist.stigs.len(), 1);
    let stig = &checklist.stigs[0];
    assert_eq!(stig.benchmark_id, "Kubernetes_STIG");
    assert_eq!(stig.revision_str, None);
    assert_eq!(stig.reviews.len(), 95);
    assert!(stig.reviews.iter().all(|r| r.result_engine.is_none()));
}

#[test]
fn multi_stig_and_non_computing_checklists() {
    let three = ckl("stigviewer2_three_stig_multi.ckl");
    let ids: Vec<(&str, Option<&str>, usize)> = three
        .stigs
        .iter()
        .map(|s| (s.benchmark_id.as_str(), s.revision_str.as_deref(), s.reviews.len()))
        .collect();
    let total: usize = ids.iter().map(|(_, _, n)| n).sum();
    assert_eq!(ids[0].0, "AAA_Service_SRG");
    assert_eq!(
        ids[1..].iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(),
        [
            ("Tomcat_Application_Server_9_STIG", Some("V2R4")),
            ("Application_Security_Development_STIG", Some("V5R2")),
        ]
    );
    assert_eq!(total, 438);

    let oss = ckl("STIG-Manager-OSS.ckl");
    assert!(oss.target.noncomputing);
    assert_eq!(oss.target.name.as_deref(), Some("STIG-Manager-OSS"));
    assert!(oss.target.metadata.is_empty(), "ROLE None is not metadata");

    let viewer3 = cklb("stigviewer3_multi-stig_truncated.cklb");
    assert_eq!(viewer3.format, ChecklistFormat::Cklb);
    assert!(viewer3.target.noncomputing);
    assert_eq!(viewer3.target.name.as_deref(), Some("Asset_aaaaaaaaaa"));
    let revisions: Vec<(&str, Option<&str>)> = viewer3
        .stigs
        .iter()
        .map(|s| (s.benchmark_id.as_str(), s.revision_str.as_deref()))
        .collect();
    assert_eq!(
        revisions,
        [
            ("RHEL_8_TRUNCATED", Some("V1R12")),
            ("RHEL_9_TRUNCATED", Some("V1R1")),
            ("VPN_TRUNCATED", Some("V2R5")),
        ]
    );
    let vpn = tally(viewer3.stigs[2].reviews.iter().map(|r| &r.result));
    let want = [("fail", 2), ("notapplicable", 1), ("notchecked", 4), ("pass", 3)];
    assert_eq!(vpn, BTreeMap::from(want));
}

#[test]
fn converted_cklb_with_a_non_disa_stig_id() {
    let checklist = cklb("converted_rhel8_nondisa_stigid.cklb");
    assert_eq!(checklist.target.name, None);
    let stig = &checklist.stigs[0];
    assert_eq!(stig.benchmark_id, "redhat-enterprise-linux-8-stig-baseline");
    assert_eq!(stig.revision_str.as_deref(), Some("V1R13"));
    let want = [("fail", 1), ("notapplicable", 1), ("notchecked", 1), ("pass", 1)];
    assert_eq!(tally(stig.reviews.iter().map(|r| &r.result)), BTreeMap::from(want));
}

#[test]
fn chrome_cklb_without_a_version_has_no_revision() {
    let checklist = cklb("evalstig_combined_chrome.cklb");
    assert_eq!(checklist.stigs[0].benchmark_id, "Google_Chrome_Current_Windows");
    assert_eq!(checklist.stigs[0].revision_str, None);
    assert_eq!(checklist.stigs[0].reviews[0].detail, "test");
}

#[test]
fn multi_line_and_invalid_addresses_are_kept_as_written() {
    let multi = ckl("ckl_multiple_ip_addresses.ckl");
    assert_eq!(multi.target.name.as_deref(), Some("="));
    assert_eq!(multi.target.ip.as_deref(), Some("10.1.11.12\n192.168.1.50\n172.16.0.23"));
    let invalid = ckl("ckl_invalid_metadata.ckl");
    assert_eq!(invalid.target.ip.as_deref(), Some("invalid"));
    let tech = invalid.target.metadata.get("cklTechArea").map(String::as_str);
    assert_eq!(tech, Some("Exchange Server"));
}
