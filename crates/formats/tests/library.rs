//! Zip libraries: nested archives, limits on inflation, corrupt archives, and sniffing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Cursor, Write};

use stigward_formats::detect::{detect, Kind};
use stigward_formats::library::{is_zip, members, Limits};
use stigward_formats::xccdf::parse_benchmark;
use stigward_formats::FormatError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn build_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, bytes) in files {
        writer.start_file(*name, options).expect("start file");
        writer.write_all(bytes).expect("write file");
    }
    writer.finish().expect("finish zip").into_inner()
}

#[test]
fn nested_library_zips_are_flattened() {
    let benchmark = common::read("stigs/U_VPN_SRG_V1R1_Manual-xccdf.xml");
    let inner = build_zip(&[("U_VPN_SRG_V1R1_Manual-xccdf.xml", &benchmark)]);
    let outer = build_zip(&[("U_VPN_SRG_V1R1_STIG.zip", &inner), ("readme.txt", b"hello")]);
    assert!(is_zip(&outer));
    assert_eq!(detect(&outer), Kind::Zip);

    let found = members(&outer, &Limits::default()).expect("reads");
    let names: Vec<&str> = found.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["U_VPN_SRG_V1R1_STIG.zip/U_VPN_SRG_V1R1_Manual-xccdf.xml", "readme.txt"]);
    assert_eq!(found[0].bytes, benchmark);
    assert_eq!(detect(&found[0].bytes), Kind::Benchmark);
    assert_eq!(parse_benchmark(&found[0].bytes).expect("parses").revision_str(), "V1R1");
    assert_eq!(detect(&found[1].bytes), Kind::Unknown);
}

#[test]
fn a_zip_that_inflates_far_beyond_its_size_is_a_bomb() {
    let zeros = vec![0u8; 8 << 20];
    let bomb = build_zip(&[("zeros.xml", &zeros)]);
    assert!(bomb.len() < 100_000, "deflate squeezes zeros");
    let err = members(&bomb, &Limits::default()).unwrap_err();
    assert!(matches!(err, FormatError::ZipBomb { .. }), "{err:?}");
    assert!(err.to_string().contains("200 times"), "{err}");

    let nested = build_zip(&[("inner.zip", &bomb)]);
    assert!(matches!(members(&nested, &Limits::default()), Err(FormatError::ZipBomb { .. })));
}

#[test]
fn total_size_and_entry_limits_hold() {
    let text = vec![b'x'; 5_000];
    let zip = build_zip(&[("a.txt", &text), ("b.txt", &text), ("c.txt", &text)]);
    let small = Limits { max_total_bytes: 12_000, ..Limits::default() };
    let err = members(&zip, &small).unwrap_err();
    assert!(err.to_string().contains("more than 12000 bytes"), "{err}");
    let few = Limits { max_entries: 2, ..Limits::default() };
    let err = members(&zip, &few).unwrap_err();
    assert!(err.to_string().contains("more than 2 entries"), "{err}");
    assert_eq!(members(&zip, &Limits::default()).expect("within limits").len(), 3);
}

#[test]
fn corrupt_zips_are_zip_errors() {
    let err = members(b"PK\x03\x04 this is not really a zip", &Limits::default()).unwrap_err();
    assert!(matches!(err, FormatError::Zip(_)), "{err:?}");
    let good = build_zip(&[("a.txt", b"some text that is long enough to matter")]);
    let cut = &good[..good.len() - 30];
    assert!(matches!(members(cut, &Limits::default()), Err(FormatError::Zip(_))));
}

#[test]
fn a_zip_of_something_else_yields_the_member_as_unknown() {
    let zip = build_zip(&[("photo.jpg", b"\xFF\xD8\xFF\xE0 not a benchmark")]);
    let found = members(&zip, &Limits::default()).expect("reads");
    assert_eq!(found.len(), 1);
    assert_eq!(detect(&found[0].bytes), Kind::Unknown);
    assert!(parse_benchmark(&found[0].bytes).is_err());
}

#[test]
fn every_data_file_is_sniffed_by_content() {
    for (name, bytes) in common::files_in("stigs") {
        assert_eq!(detect(&bytes), Kind::Benchmark, "{name}");
    }
    for (name, bytes) in common::files_in("checklists") {
        let want = match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("ckl") => Kind::Ckl,
            Some("cklb") => Kind::Cklb,
            _ => Kind::XccdfResults,
        };
        assert_eq!(detect(&bytes), want, "{name}");
    }
    assert_eq!(detect(&common::read("cci/U_CCI_List.xml")), Kind::CciList);
    assert_eq!(detect(&common::read("appdata/appdata.jsonl")), Kind::Unknown);
}
