//! Real DISA benchmarks from `shared/data/stigs`: identity, counts, CCIs and digests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};
use stigward_formats::xccdf::{parse_benchmark, Benchmark};

/// What a benchmark file must yield; every number was counted with grep in the file.
struct Expected {
    file: &'static str,
    benchmark_id: &'static str,
    revision_str: &'static str,
    date_sql: &'static str,
    status: &'static str,
    groups: usize,
    rules: usize,
    ccis_total: usize,
    ccis_distinct: usize,
    low_medium_high: (usize, usize, usize),
}

const EXPECTED: [Expected; 6] = [
    Expected {
        file: "U_ASD_STIG_V5R1_Manual-xccdf.xml",
        benchmark_id: "Application_Security_Development_STIG",
        revision_str: "V5R1",
        date_sql: "2020-10-23",
        status: "accepted",
        groups: 286,
        rules: 286,
        ccis_total: 344,
        ccis_distinct: 217,
        low_medium_high: (22, 233, 31),
    },
    Expected {
        file: "U_VPN_SRG_V1R1_Manual-xccdf.xml",
        benchmark_id: "VPN_SRG_TEST",
        revision_str: "V1R1",
        date_sql: "2019-07-19",
        status: "accepted",
        groups: 81,
        rules: 81,
        ccis_total: 85,
        ccis_distinct: 62,
        low_medium_high: (7, 63, 11),
    },
    Expected {
        file: "U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml",
        benchmark_id: "Google_Chrome_Current_Windows",
        revision_str: "V2R8",
        date_sql: "2023-01-26",
        status: "accepted",
        groups: 43,
        rules: 43,
        ccis_total: 43,
        ccis_distinct: 15,
        low_medium_high: (1, 41, 1),
    },
    Expected {
        file: "U_MS_Windows_Server_2019_STIG_V2R2_Manual-xccdf.xml",
        benchmark_id: "Windows_Server_2019_STIG",
        revision_str: "V2R2",
        date_sql: "2021-05-04",
        status: "accepted",
        groups: 304,
        rules: 304,
        ccis_total: 412,
        ccis_distinct: 91,
        low_medium_high: (14, 257, 33),
    },
    Expected {
        file: "U_Kubernetes_STIG_V1R2_Manual-xccdf.xml",
        benchmark_id: "Kubernetes_STIG",
        revision_str: "V1R2",
        date_sql: "2021-07-23",
        status: "accepted",
        groups: 93,
        rules: 93,
        ccis_total: 107,
        ccis_distinct: 34,
        low_medium_high: (0, 78, 15),
    },
    // Three rules have no severity: 247 groups, 244 counted rules.
    Expected {
        file: "U_RHEL_7_STIG_V3R0-3_Manual-xccdf.xml",
        benchmark_id: "RHEL_7_STIG_TEST",
        revision_str: "V3R0.3",
        date_sql: "2020-03-31",
        status: "draft",
        groups: 247,
        rules: 244,
        ccis_total: 390,
        ccis_distinct: 82,
        low_medium_high: (14, 201, 29),
    },
];

fn load(file: &str) -> Benchmark {
    parse_benchmark(&common::read(&format!("stigs/{file}")))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn cci_totals(benchmark: &Benchmark) -> (usize, usize) {
    let all: Vec<&String> = benchmark.rules().flat_map(|rule| rule.ccis.iter()).collect();
    let distinct: BTreeSet<&String> = all.iter().copied().collect();
    (all.len(), distinct.len())
}

#[test]
fn known_benchmarks_match_grep_counts() {
    for want in &EXPECTED {
        let got = load(want.file);
        let counts = got.counts();
        let file = want.file;
        assert_eq!(got.benchmark_id, want.benchmark_id, "{file}");
        assert_eq!(got.revision_str(), want.revision_str, "{file}");
        assert_eq!(got.benchmark_date_sql.as_deref(), Some(want.date_sql), "{file}");
        assert_eq!(got.status.as_deref(), Some(want.status), "{file}");
        assert_eq!(counts.groups, want.groups, "{file}");
        assert_eq!(got.rule_count(), want.rules, "{file}");
        assert_eq!(cci_totals(&got), (want.ccis_total, want.ccis_distinct), "{file}");
        assert_eq!((counts.low, counts.medium, counts.high), want.low_medium_high, "{file}");
    }
}

/// What a plain text scan of the file finds, with no XML parser involved.
struct Scan {
    groups: usize,
    rules: usize,
    checks: usize,
    fixes: usize,
    severities: (usize, usize, usize),
    ccis_total: usize,
    ccis_distinct: usize,
}

/// CCIs of one rule's markup: the text of each CCI `ident`, first occurrence only.
fn scan_rule_ccis(rule: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for system in
        ["<ident system=\"http://iase.disa.mil/cci\">", "<ident system=\"http://cyber.mil/cci\">"]
    {
        for piece in rule.split(system).skip(1) {
            let value = piece.split("</ident>").next().unwrap_or_default();
            let cci = value.trim_start_matches("CCI-").to_string();
            if !found.contains(&cci) {
                found.push(cci);
            }
        }
    }
    found
}

fn scan(text: &str) -> Scan {
    let rule_chunks: Vec<&str> = text.split("<Rule ").skip(1).collect();
    let per_rule: Vec<Vec<String>> =
        rule_chunks.iter().map(|chunk| scan_rule_ccis(chunk)).collect();
    let distinct: BTreeSet<&String> = per_rule.iter().flatten().collect();
    Scan {
        groups: common::count(text, "<Group "),
        rules: rule_chunks.len(),
        checks: common::count(text, "<check "),
        fixes: common::count(text, "<fixtext "),
        severities: (
            common::count(text, "severity=\"low\""),
            common::count(text, "severity=\"medium\""),
            common::count(text, "severity=\"high\""),
        ),
        ccis_total: per_rule.iter().map(Vec::len).sum(),
        ccis_distinct: distinct.len(),
    }
}

#[test]
fn every_benchmark_matches_an_independent_text_scan() {
    let files = common::files_in("stigs");
    assert!(files.len() >= 14);
    for (name, bytes) in files {
        let text = String::from_utf8(bytes.clone()).expect("UTF-8");
        let want = scan(&text);
        let got = parse_benchmark(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let counts = got.counts();
        assert_eq!(counts.groups, want.groups, "{name} groups");
        assert_eq!(got.rules().count(), want.rules, "{name} rules");
        assert_eq!((counts.checks, counts.fixes), (want.checks, want.fixes), "{name}");
        assert_eq!((counts.low, counts.medium, counts.high), want.severities, "{name}");
        assert_eq!(cci_totals(&got), (want.ccis_total, want.ccis_distinct), "{name} ccis");
        let sum = want.severities.0 + want.severities.1 + want.severities.2;
        assert_eq!(got.rule_count(), sum, "{name}");
    }
}

#[test]
fn escaped_markup_is_decoded_before_digesting() {
    let asd = load("U_ASD_STIG_V5R1_Manual-xccdf.xml");
    let rule = |id: &str| asd.rules().find(|r| r.rule_id == id).expect("rule present").clone();

    let saml = rule("SV-222401r508029_rule");
    let discussion = saml.vuln_discussion.expect("discussion");
    assert!(discussion.contains("(user) represented by the <Subject> element. SAML assertion"));
    assert!(discussion.ends_with("could lead to unauthorized access to a web service."));
    assert_eq!(saml.documentable.as_deref(), Some("false"));
    assert_eq!(saml.mitigations, None);

    let one_time = rule("SV-222405r508029_rule");
    let expected = "Ask the application representative for the design document.\n\n\
        Review the design document for web services using SAML assertions.\n\n\
        If the application does not utilize SAML assertions, this check is not applicable.\n\n\
        Examine the contents of a SOAP message using the OneTimeUse element; all messages \
        should contain only one instance of a <OneTimeUse> element in a SAML assertion. This \
        can be accomplished using a protocol analyzer such as Wireshark.\n\n\
        If SOAP message uses more than one, OneTimeUse element in a SAML assertion, this is a \
        finding.";
    assert_eq!(one_time.check_content, expected);
    assert_eq!(one_time.check_digest, <[u8; 32]>::from(Sha256::digest(expected.as_bytes())));
    let hex = "fa68ea6ddd58e1b3d10ac6fa8bd10b9da4b02f02ca99c24844b9d999b6bd4a19";
    assert_eq!(hex::encode(one_time.check_digest), hex);

    let patches = rule("SV-222614r508029_rule");
    assert!(patches.fix_text.contains("in accordance with POA&Ms, IAVMs"));
    assert_eq!(patches.fix_digest, <[u8; 32]>::from(Sha256::digest(patches.fix_text.as_bytes())));
}

#[test]
fn a_draft_with_a_decimal_release_keeps_its_identity() {
    let rhel = load("U_RHEL_7_STIG_V3R0-3_Manual-xccdf.xml");
    assert_eq!((rhel.version.as_str(), rhel.release.as_str()), ("3", "0.3"));
    assert_eq!(rhel.rev_id(), "RHEL_7_STIG_TEST-3-0.3");
    assert_eq!(rhel.benchmark_date.as_deref(), Some("31 Mar 2020"));
    assert_eq!(rhel.status_date.as_deref(), Some("2020-03-27"));
    let unrated = rhel.rules().filter(|rule| rule.severity.is_empty()).count();
    assert_eq!(unrated, 3);
}
