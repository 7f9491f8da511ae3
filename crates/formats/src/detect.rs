//! Content sniffing: what kind of document some bytes are, judged by content, not file name.

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::library::is_zip;
use crate::text::prepare;
use crate::xml::Cursor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An XCCDF benchmark without results (a "Manual" STIG).
    Benchmark,
    /// A SCAP 1.2+ data-stream collection.
    ScapDataStream,
    Ckl,
    Cklb,
    /// XCCDF results: a `TestResult` document, or a `Benchmark` that carries one.
    XccdfResults,
    CciList,
    Zip,
    Unknown,
}

/// Sniffs the kind of a document.
pub fn detect(bytes: &[u8]) -> Kind {
    if is_zip(bytes) {
        return Kind::Zip;
    }
    let bytes = prepare(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => json_kind(&bytes),
        Some(b'<') => xml_kind(&bytes),
        _ => Kind::Unknown,
    }
}

/// The one member a CKLB must have; everything else is skipped without being kept.
#[derive(Deserialize)]
struct CklbProbe {
    stigs: Option<Vec<IgnoredAny>>,
}

fn json_kind(bytes: &[u8]) -> Kind {
    match serde_json::from_slice::<CklbProbe>(bytes) {
        Ok(CklbProbe { stigs: Some(_) }) => Kind::Cklb,
        _ => Kind::Unknown,
    }
}

fn xml_kind(bytes: &[u8]) -> Kind {
    let mut cur = Cursor::new(bytes);
    let Ok(root) = cur.root() else {
        return Kind::Unknown;
    };
    match root.name.as_str() {
        // Tools that score a benchmark write it back with a TestResult inside.
        "Benchmark" if !contains(bytes, b"TestResult") => Kind::Benchmark,
        "Benchmark" => match cur.find("TestResult") {
            Ok(Some(_)) => Kind::XccdfResults,
            _ => Kind::Benchmark,
        },
        "TestResult" => Kind::XccdfResults,
        "CHECKLIST" => Kind::Ckl,
        "data-stream-collection" => Kind::ScapDataStream,
        "cci_list" => Kind::CciList,
        _ => Kind::Unknown,
    }
}

/// A cheap pre-check before walking the whole document.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_small_documents() {
        assert_eq!(detect(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(detect(b" {\"stigs\": [], \"x\": {\"y\": 1}}"), Kind::Cklb);
        assert_eq!(detect(b"{\"stigs\": 3}"), Kind::Unknown);
        assert_eq!(detect(b"[1]"), Kind::Unknown);
        assert_eq!(detect(b"\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><CHECKLIST/>"), Kind::Ckl);
        assert_eq!(detect(b"<cdf:Benchmark><cdf:TestResult/></cdf:Benchmark>"), Kind::XccdfResults);
        assert_eq!(detect(b"<Benchmark><Group/></Benchmark>"), Kind::Benchmark);
        assert_eq!(detect(b"<TestResult/>"), Kind::XccdfResults);
        assert_eq!(detect(b"<ds:data-stream-collection/>"), Kind::ScapDataStream);
        assert_eq!(detect(b"<cci_list/>"), Kind::CciList);
        assert_eq!(detect(b"<html/>"), Kind::Unknown);
        assert_eq!(detect(b"plain text"), Kind::Unknown);
        assert_eq!(detect(b""), Kind::Unknown);
    }
}
