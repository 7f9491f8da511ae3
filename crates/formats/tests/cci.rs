//! DISA's CCI list, checked against the same data published as CSV beside it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};

use stigward_formats::cci::{parse_cci_list, Cci};
use stigward_formats::FormatError;

fn load() -> Vec<Cci> {
    parse_cci_list(&common::read("cci/U_CCI_List.xml")).expect("the CCI list parses")
}

#[test]
fn every_item_matches_cci_csv() {
    let ccis = load();
    let text = common::read_string("cci/U_CCI_List.xml");
    assert_eq!(ccis.len(), common::count(&text, "<cci_item "));
    let rows = common::csv_records("cci/cci.csv");
    assert_eq!(ccis.len(), rows.len());
    let by_id: HashMap<&str, &Cci> = ccis.iter().map(|c| (c.cci.as_str(), c)).collect();
    for row in &rows {
        let cci = by_id[row["cci"].as_str()];
        // The CSV keeps the XML's untrimmed text; the reader trims every text node.
        let csv = |column: &str| Some(row[column].trim());
        assert_eq!(cci.status.as_deref(), csv("status"), "{}", cci.cci);
        assert_eq!(cci.publish_date.as_deref(), csv("publishdate"), "{}", cci.cci);
        assert_eq!(cci.contributor.as_deref(), csv("contributor"), "{}", cci.cci);
        assert_eq!(cci.cci_type.as_deref(), csv("type"), "{}", cci.cci);
        assert_eq!(Some(cci.definition.as_str()), csv("definition"), "{}", cci.cci);
    }
}

#[test]
fn ap_acronym_and_control_match_cci_reference_csv() {
    let ccis = load();
    let by_id: HashMap<&str, &Cci> = ccis.iter().map(|c| (c.cci.as_str(), c)).collect();
    let mut seen = HashSet::new();
    let first_reference: Vec<HashMap<String, String>> =
        common::csv_records("cci/cci_reference.csv")
            .into_iter()
            .filter(|row| seen.insert(row["cci"].clone()))
            .collect();
    assert!(first_reference.len() > 3000);
    for row in &first_reference {
        let cci = by_id[row["cci"].as_str()];
        assert_eq!(cci.ap_acronym().as_deref(), Some(row["indexDisa"].as_str()), "{}", cci.cci);
        assert_eq!(cci.control().as_deref(), Some(row["parentControl"].as_str()), "{}", cci.cci);
        let reference = &cci.references[0];
        assert_eq!(reference.title, row["title"]);
        assert_eq!(reference.version, row["version"]);
        assert_eq!(reference.location.as_deref(), Some(row["location"].as_str()));
    }
}

#[test]
fn a_known_cci() {
    let ccis = load();
    let cci = ccis.iter().find(|c| c.cci == "000366").expect("CCI-000366");
    assert_eq!(cci.definition, "Implement the security configuration settings.");
    assert_eq!(cci.ap_acronym().as_deref(), Some("CM-6 b"));
    assert_eq!(cci.control().as_deref(), Some("CM-6"));
    let two = ccis.iter().find(|c| c.cci == "002153").expect("CCI-002153");
    assert_eq!(two.references.len(), 2);
}

#[test]
fn a_truncated_list_is_an_error() {
    let bytes = common::read("cci/U_CCI_List.xml");
    let half = &bytes[..bytes.len() / 2];
    assert!(matches!(parse_cci_list(half), Err(FormatError::Xml { .. })));
    let benchmark = common::read("stigs/U_VPN_SRG-OTHER_V1R1_Manual-xccdf.xml");
    let err = parse_cci_list(&benchmark).unwrap_err();
    assert_eq!(err, FormatError::NotCciList { root: "Benchmark".into() });
}
