//! Inputs that must be refused with a clear error, and never with a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use stigward_formats::cci::parse_cci_list;
use stigward_formats::checklist::{parse_ckl, parse_cklb};
use stigward_formats::detect::{detect, Kind};
use stigward_formats::xccdf::parse_benchmark;
use stigward_formats::FormatError;

const SMALL_BENCHMARK: &str = "stigs/U_VPN_SRG-OTHER_V1R1_Manual-xccdf.xml";

#[test]
fn a_benchmark_cut_in_half_is_an_xml_error() {
    let bytes = common::read("stigs/U_ASD_STIG_V5R1_Manual-xccdf.xml");
    let err = parse_benchmark(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(matches!(err, FormatError::Xml { .. }), "{err:?}");
    assert!(err.to_string().starts_with("XML parse error at byte "), "{err}");
}

#[test]
fn non_xml_bytes_are_xml_errors() {
    let inputs: [&[u8]; 4] = [b"", b"hello world", b"%PDF-1.4\n%\xE2\xE3", b"\x00\x01\x02<"];
    for input in inputs {
        let err = parse_benchmark(input).unwrap_err();
        assert!(matches!(err, FormatError::Xml { .. }), "{input:?}: {err:?}");
        assert!(matches!(parse_ckl(input), Err(FormatError::Xml { .. })), "{input:?}");
        assert!(matches!(parse_cci_list(input), Err(FormatError::Xml { .. })), "{input:?}");
    }
    let mismatched = parse_benchmark(b"<Benchmark id='b'><title>t</Benchmark>").unwrap_err();
    assert!(matches!(mismatched, FormatError::Xml { .. }), "{mismatched:?}");
    let mismatched = parse_ckl(b"<CHECKLIST><ASSET></STIGS></CHECKLIST>").unwrap_err();
    assert!(matches!(mismatched, FormatError::Xml { .. }), "{mismatched:?}");
}

#[test]
fn wrong_documents_name_their_root() {
    let ckl = common::read("checklists/evalstig_chrome_V2R8_win.ckl");
    let err = parse_benchmark(&ckl).unwrap_err();
    assert_eq!(err, FormatError::NotBenchmark { root: "CHECKLIST".into() });
    assert_eq!(err.to_string(), "not an XCCDF benchmark: root element is <CHECKLIST>");

    let benchmark = common::read(SMALL_BENCHMARK);
    assert_eq!(
        parse_ckl(&benchmark).unwrap_err(),
        FormatError::NotCkl { root: "Benchmark".into() }
    );
}

#[test]
fn scap_data_streams_are_refused_with_their_own_error() {
    let benchmark = common::read_string(SMALL_BENCHMARK);
    let body = benchmark.split_once("?>").map(|(_, rest)| rest).unwrap_or(&benchmark);
    let body = body.split_once("?>").map(|(_, rest)| rest).unwrap_or(body);
    let stream = format!(
        "<?xml version=\"1.0\"?><ds:data-stream-collection \
         xmlns:ds=\"http://scap.nist.gov/schema/scap/source/1.2\"><ds:component id=\"c\">\
         {body}</ds:component></ds:data-stream-collection>"
    );
    let err = parse_benchmark(stream.as_bytes()).unwrap_err();
    assert_eq!(err, FormatError::ScapDataStream);
    assert_eq!(err.to_string(), "SCAP Benchmarks are not imported.");
    assert_eq!(detect(stream.as_bytes()), Kind::ScapDataStream);
}

#[test]
fn garbage_json_is_not_a_cklb() {
    let err = parse_cklb(b"{\"stigs\": [ {\"rules\": ").unwrap_err();
    assert!(matches!(err, FormatError::Json { .. }), "{err:?}");
    assert!(err.to_string().starts_with("JSON parse error: "));
    assert!(matches!(parse_cklb(b"\x89PNG\r\n"), Err(FormatError::Json { .. })));
    assert!(matches!(parse_cklb(b"[1, 2]"), Err(FormatError::NotCklb { .. })));
    let err = parse_cklb(b"{\"title\": \"x\"}").unwrap_err();
    assert_eq!(err.to_string(), "not a CKLB checklist: it has no \"stigs\" array");
}

#[test]
fn host_names_over_255_characters_are_refused() {
    let ckl = |host: &str| {
        format!(
            "<CHECKLIST><ASSET><HOST_NAME>{host}</HOST_NAME></ASSET><STIGS><iSTIG><STIG_INFO>\
             <SI_DATA><SID_NAME>stigid</SID_NAME><SID_DATA>X</SID_DATA></SI_DATA></STIG_INFO>\
             </iSTIG></STIGS></CHECKLIST>"
        )
    };
    let err = parse_ckl(ckl(&"h".repeat(256)).as_bytes()).unwrap_err();
    assert!(matches!(err, FormatError::Invalid(_)), "{err:?}");
    let ok = parse_ckl(ckl(&"h".repeat(255)).as_bytes()).expect("255 characters is allowed");
    assert_eq!(ok.stigs[0].benchmark_id, "X");
}

#[test]
fn long_fields_are_cut_to_the_api_limits() {
    let detail = "d".repeat(40_000);
    let rule = "SV-1234567890123456789012345678901234567890r1_rule";
    let cklb = serde_json::json!({
        "target_data": {"host_name": "h", "ip_address": "i".repeat(300)},
        "stigs": [{"stig_id": "S".repeat(300), "rules": [
            {"rule_id_src": rule, "status": "open", "finding_details": detail, "comments": "c"},
            {"rule_id_src": "SV-2r1_rule", "status": "reviewed"}
        ]}]
    });
    let parsed = parse_cklb(cklb.to_string().as_bytes()).expect("parses");
    assert_eq!(parsed.target.ip.as_ref().map(String::len), Some(255));
    let stig = &parsed.stigs[0];
    assert_eq!(stig.benchmark_id.len(), 255);
    assert_eq!(stig.reviews.len(), 1, "an unknown status skips the rule");
    assert_eq!(stig.reviews[0].rule_id, &rule[..45]);
    assert_eq!(stig.reviews[0].detail.len(), 32_767);
}

/// A tiny deterministic generator, so failures reproduce.
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    *seed >> 33
}

fn exercise(bytes: &[u8]) {
    let _ = parse_benchmark(bytes);
    let _ = parse_ckl(bytes);
    let _ = parse_cklb(bytes);
    let _ = parse_cci_list(bytes);
    let _ = detect(bytes);
}

#[test]
fn no_prefix_or_mutation_makes_a_reader_panic() {
    let sources = [
        common::read(SMALL_BENCHMARK),
        common::read("checklists/ckl_invalid_metadata.ckl"),
        common::read("checklists/evalstig_combined_chrome.cklb"),
    ];
    let mut seed = 7;
    for source in &sources {
        for end in (0..source.len()).step_by(37) {
            exercise(&source[..end]);
        }
        for _ in 0..300 {
            let mut mutated = source.clone();
            for _ in 0..8 {
                let at = (lcg(&mut seed) as usize) % mutated.len();
                mutated[at] = (lcg(&mut seed) & 0xFF) as u8;
            }
            exercise(&mutated);
        }
    }
}
