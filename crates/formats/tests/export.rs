//! The writers against the readers: a real benchmark with reviews written as CKL, CKLB and
//! XCCDF results reads back as the same asset and reviews.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use stigward_formats::checklist::{parse_ckl, parse_cklb, Checklist};
use stigward_formats::export::{
    write_ckl, write_cklb, write_xccdf, ExportAsset, ExportReview, ExportRule, ExportStig,
};
use stigward_formats::xccdf::{parse_benchmark, parse_results, Benchmark};

const RESULTS: [&str; 6] =
    ["pass", "fail", "notapplicable", "informational", "fixed", "notchecked"];

/// The benchmark as an export model; every rule but each seventh has a review, with results
/// cycling through `RESULTS` and text that needs escaping.
fn model(benchmark: &Benchmark) -> ExportStig {
    let rules = benchmark
        .groups
        .iter()
        .flat_map(|g| g.rules.iter().map(move |r| (g, r)))
        .enumerate()
        .map(|(i, (group, rule))| ExportRule {
            group_id: group.group_id.clone(),
            group_title: Some(group.title.clone()),
            rule_id: rule.rule_id.clone(),
            version: rule.version.clone(),
            title: rule.title.clone(),
            severity: rule.severity.clone(),
            weight: rule.weight.clone(),
            vuln_discussion: rule.vuln_discussion.clone(),
            check_system: Some(rule.check_system.clone()),
            check_content: rule.check_content.clone(),
            fix_text: rule.fix_text.clone(),
            ccis: rule.ccis.clone(),
            review: (i % 7 != 6).then(|| ExportReview {
                result: RESULTS[i % RESULTS.len()].to_string(),
                detail: format!("line one <{i}> & \"two\"\nline 'three'"),
                comment: if i % 2 == 0 { format!("comment {i}") } else { String::new() },
                ts: 1_700_000_000 + i as i64,
                touch_ts: 1_700_000_100 + i as i64,
                result_engine: None,
            }),
            ..ExportRule::default()
        })
        .collect();
    ExportStig {
        benchmark_id: benchmark.benchmark_id.clone(),
        title: benchmark.title.clone(),
        version: benchmark.version.clone(),
        release: benchmark.release.clone(),
        benchmark_date: benchmark.benchmark_date.clone(),
        status_date: benchmark.status_date.clone(),
        description: benchmark.description.clone(),
        rules,
    }
}

fn asset() -> ExportAsset {
    ExportAsset {
        name: "web01".into(),
        ip: Some("10.1.2.3".into()),
        fqdn: Some("web01.example.mil".into()),
        mac: Some("00:11:22:33:44:55".into()),
        noncomputing: true,
        metadata: BTreeMap::from([
            ("cklRole".to_string(), "Member Server".to_string()),
            ("cklTechArea".to_string(), "Web Server".to_string()),
        ]),
        ..ExportAsset::default()
    }
}

/// The CKL/CKLB reading of a review: results without a checklist status read as notchecked.
fn expected(rule: &ExportRule) -> (&'static str, String, String) {
    match &rule.review {
        None => ("notchecked", String::new(), String::new()),
        Some(review) => {
            let result = match review.result.as_str() {
                "pass" | "fixed" => "pass",
                "fail" => "fail",
                "notapplicable" => "notapplicable",
                _ => "notchecked",
            };
            (result, review.detail.clone(), review.comment.clone())
        }
    }
}

fn assert_round_trip(parsed: &Checklist, stig: &ExportStig) {
    assert_eq!(parsed.target.name.as_deref(), Some("web01"));
    assert_eq!(parsed.target.fqdn.as_deref(), Some("web01.example.mil"));
    assert_eq!(parsed.target.mac.as_deref(), Some("00:11:22:33:44:55"));
    assert!(parsed.target.noncomputing);
    assert_eq!(parsed.target.metadata, asset().metadata);
    let read = &parsed.stigs[0];
    assert_eq!(read.benchmark_id, stig.benchmark_id);
    assert_eq!(read.revision_str.as_deref(), Some(stig.revision_str().as_str()));
    assert_eq!(read.reviews.len(), stig.rules.len());
    for (review, rule) in read.reviews.iter().zip(&stig.rules) {
        assert_eq!(review.rule_id, rule.rule_id);
        let got = (review.result.api_str(), review.detail.clone(), review.comment.clone());
        assert_eq!(got, expected(rule), "{}", rule.rule_id);
    }
}

#[test]
fn ckl_cklb_and_xccdf_read_back_as_written() {
    for file in
        ["U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml", "U_RHEL_7_STIG_V3R0-3_Manual-xccdf.xml"]
    {
        let benchmark = parse_benchmark(&common::read(&format!("stigs/{file}"))).unwrap();
        let stig = model(&benchmark);
        let stigs = std::slice::from_ref(&stig);

        let ckl = write_ckl(&asset(), stigs, "Stigward test", "U").unwrap();
        assert!(String::from_utf8_lossy(&ckl).contains("<!-- Classification: U -->"));
        assert_round_trip(&parse_ckl(&ckl).unwrap(), &stig);

        let cklb = write_cklb(&asset(), stigs, "web01 checklist", "NONE");
        assert_eq!(cklb["stigs"][0]["size"], stig.rules.len());
        assert_round_trip(&parse_cklb(&serde_json::to_vec(&cklb).unwrap()).unwrap(), &stig);

        let xml = write_xccdf(&asset(), &stig, "cpe:/a:test:test:1", 1_700_000_000).unwrap();
        let results = parse_results(&xml).unwrap();
        assert_eq!(results.benchmark_id.as_deref(), Some(stig.benchmark_id.as_str()));
        assert_eq!(results.target.as_deref(), Some("web01"));
        for (item, rule) in results.results.iter().zip(&stig.rules) {
            assert_eq!(item.rule_id, rule.rule_id);
            let review = rule.review.as_ref();
            assert_eq!(item.result, review.map_or("notchecked", |r| r.result.as_str()));
            assert_eq!(item.detail, review.map(|r| r.detail.clone()).unwrap_or_default());
            assert_eq!(item.comment, review.map(|r| r.comment.clone()).unwrap_or_default());
        }
        assert_eq!(results.results.len(), stig.rules.len());
    }
}

#[test]
fn results_reader_refuses_documents_without_results() {
    assert!(parse_results(b"<Benchmark id='x'><Group/></Benchmark>").is_err());
    assert!(parse_results(b"<CHECKLIST/>").is_err());
    assert!(parse_results(b"<TestResult><rule-result").is_err());
}

/// Whether every character is one XML 1.0 documents may hold.
fn xml_chars_only(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).unwrap().chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    })
}

#[test]
fn control_characters_the_api_stored_are_left_out_of_xml() {
    let benchmark =
        parse_benchmark(&common::read("stigs/U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml")).unwrap();
    let mut stig = model(&benchmark);
    let review = stig.rules[0].review.as_mut().unwrap();
    review.detail = "bad\u{0}\u{7} detail\u{1b}\ttab".into();
    review.comment = "\u{fffe}note\u{ffff}".into();
    let mut target = asset();
    target.name = "web\u{1b}01".into();
    target.metadata.insert("key\u{8}".into(), "value\u{1}".into());

    let ckl = write_ckl(&target, std::slice::from_ref(&stig), "Stigward test", "U").unwrap();
    assert!(xml_chars_only(&ckl));
    let parsed = parse_ckl(&ckl).unwrap();
    assert_eq!(parsed.target.name.as_deref(), Some("web01"));
    let first = &parsed.stigs[0].reviews[0];
    assert_eq!((first.detail.as_str(), first.comment.as_str()), ("bad detail\ttab", "note"));

    let xml = write_xccdf(&target, &stig, "cpe:/a:test:test:1", 1_700_000_000).unwrap();
    assert!(xml_chars_only(&xml));
    let results = parse_results(&xml).unwrap();
    assert_eq!(results.target.as_deref(), Some("web01"));
    assert_eq!(results.results[0].detail, "bad detail\ttab");
}
