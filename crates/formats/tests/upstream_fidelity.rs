//! Compares parsed benchmarks with what upstream STIG Manager stored for the same files, as
//! carried by the application-data fixture (`shared/data/appdata/appdata.jsonl`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use serde_json::Value;
use stigward_formats::xccdf::{parse_benchmark, Benchmark, Rule};

/// Rows of one table of the fixture, each a column name → value map.
type Rows = Vec<HashMap<String, Value>>;

fn appdata_tables() -> BTreeMap<String, Rows> {
    let text = common::read_string("appdata/appdata.jsonl");
    let mut tables: BTreeMap<String, Rows> = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).expect("jsonl line");
        if let Some(columns) = value.get("columns").and_then(Value::as_str) {
            let table = value["table"].as_str().expect("table name").to_string();
            let names = columns.split(',').map(|c| c.trim_matches('`').to_string()).collect();
            current = Some((table, names));
        } else if let (Some((table, names)), Some(row)) = (&current, value.as_array()) {
            let row = names.iter().cloned().zip(row.iter().cloned()).collect();
            tables.entry(table.clone()).or_default().push(row);
        }
    }
    tables
}

fn buffer(value: &Value) -> Vec<u8> {
    let data = value["data"].as_str().expect("buffer data");
    let encoded = data.strip_prefix("base64:").expect("base64 buffer");
    base64::engine::general_purpose::STANDARD.decode(encoded).expect("valid base64")
}

fn opt_str(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

fn assert_rule(rule: &Rule, group_id: &str, group_title: &str, row: &HashMap<String, Value>) {
    let id = &rule.rule_id;
    assert_eq!(rule.check_digest.to_vec(), buffer(&row["checkDigest"]), "{id} checkDigest");
    assert_eq!(rule.fix_digest.to_vec(), buffer(&row["fixDigest"]), "{id} fixDigest");
    assert_eq!(Some(rule.check_system.clone()), opt_str(&row["checkSystem"]), "{id} system");
    assert_eq!(rule.fixref, opt_str(&row["fixref"]), "{id} fixref");
    assert_eq!(Some(group_id.to_string()), opt_str(&row["groupId"]), "{id} groupId");
    assert_eq!(Some(group_title.to_string()), opt_str(&row["groupTitle"]), "{id}");
    assert_eq!(Some(rule.version.clone()), opt_str(&row["version"]), "{id} version");
    assert_eq!(Some(rule.title.clone()), opt_str(&row["title"]), "{id} title");
    // A rule without a severity attribute has severity "" here and NULL upstream.
    let severity = Some(rule.severity.clone()).filter(|s| !s.is_empty());
    assert_eq!(severity, opt_str(&row["severity"]), "{id} severity");
    assert_eq!(rule.weight, opt_str(&row["weight"]), "{id} weight");
    let fields = [
        (&rule.vuln_discussion, "vulnDiscussion"),
        (&rule.false_positives, "falsePositives"),
        (&rule.false_negatives, "falseNegatives"),
        (&rule.documentable, "documentable"),
        (&rule.mitigations, "mitigations"),
        (&rule.severity_override_guidance, "severityOverrideGuidance"),
        (&rule.potential_impacts, "potentialImpacts"),
        (&rule.third_party_tools, "thirdPartyTools"),
        (&rule.mitigation_control, "mitigationControl"),
        (&rule.responsibility, "responsibility"),
    ];
    for (ours, column) in fields {
        assert_eq!(ours, &opt_str(&row[column]), "{id} {column}");
    }
}

fn assert_revision(benchmark: &Benchmark, row: &HashMap<String, Value>) {
    let counts = benchmark.counts();
    assert_eq!(Some(benchmark.benchmark_date.clone().unwrap()), opt_str(&row["benchmarkDate"]));
    assert_eq!(benchmark.benchmark_date_sql, opt_str(&row["benchmarkDateSql"]));
    assert_eq!(benchmark.status, opt_str(&row["status"]));
    assert_eq!(benchmark.status_date, opt_str(&row["statusDate"]));
    assert_eq!(benchmark.description, opt_str(&row["description"]));
    assert_eq!(Some(benchmark.release.clone()), opt_str(&row["release"]));
    assert_eq!(benchmark.version, row["version"].to_string());
    assert_eq!(counts.groups as u64, row["groupCount"].as_u64().unwrap());
    assert_eq!(counts.checks as u64, row["checkCount"].as_u64().unwrap());
    assert_eq!(counts.fixes as u64, row["fixCount"].as_u64().unwrap());
    assert_eq!(counts.low as u64, row["lowCount"].as_u64().unwrap());
    assert_eq!(counts.medium as u64, row["mediumCount"].as_u64().unwrap());
    assert_eq!(counts.high as u64, row["highCount"].as_u64().unwrap());
}

/// rgrId → CCIs of that rule-in-revision, in table order.
fn ccis_by_rgr(tables: &BTreeMap<String, Rows>) -> HashMap<u64, Vec<String>> {
    let mut map: HashMap<u64, Vec<String>> = HashMap::new();
    for row in &tables["rev_group_rule_cci_map"] {
        let rgr = row["rgrId"].as_u64().unwrap();
        map.entry(rgr).or_default().push(row["cci"].as_str().unwrap().to_string());
    }
    map
}

#[test]
fn every_field_and_digest_matches_what_upstream_stored() {
    let tables = appdata_tables();
    let ccis = ccis_by_rgr(&tables);
    let files = [
        ("stigs/U_MS_Windows_10_STIG_V1R23_Manual-xccdf.xml", 287),
        ("stigs/U_RHEL_7_STIG_V3R0-3_Manual-xccdf.xml", 247),
        ("stigs/U_VPN_SRG_V1R1_Manual-xccdf.xml", 81),
        ("stigs/U_VPN_SRG-OTHER_V1R1_Manual-xccdf.xml", 2),
    ];
    for (file, expected_rules) in files {
        let benchmark = parse_benchmark(&common::read(file)).expect(file);
        let rev_id = benchmark.rev_id();
        let revision = tables["revision"].iter().find(|r| r["revId"] == rev_id.as_str());
        assert_revision(&benchmark, revision.expect("revision in appdata"));
        let rows: HashMap<&str, &HashMap<String, Value>> = tables["rev_group_rule_map"]
            .iter()
            .filter(|row| row["revId"] == rev_id.as_str())
            .map(|row| (row["ruleId"].as_str().unwrap(), row))
            .collect();
        assert_eq!(rows.len(), expected_rules, "{file}");
        let mut seen = 0;
        for group in &benchmark.groups {
            for rule in &group.rules {
                let row = rows.get(rule.rule_id.as_str()).expect("rule stored upstream");
                assert_rule(rule, &group.group_id, &group.title, row);
                let stored = ccis.get(&row["rgrId"].as_u64().unwrap()).cloned();
                let mut stored = stored.unwrap_or_default();
                let mut ours = rule.ccis.clone();
                stored.sort();
                ours.sort();
                assert_eq!(ours, stored, "{} ccis", rule.rule_id);
                seen += 1;
            }
        }
        assert_eq!(seen, expected_rules, "{file}");
    }
}
