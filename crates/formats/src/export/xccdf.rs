//! XCCDF 1.2 results: the revision's rules as a `Benchmark` with one `TestResult` holding a
//! `rule-result` per rule, reviews' detail, comment and engine in STIG Manager's namespace.

use quick_xml::events::{BytesDecl, Event};
use quick_xml::Writer;
use serde_json::Value;

use super::ckl::Xml;
use super::{iso_millis, ExportAsset, ExportRule, ExportStig};
use crate::FormatError;

const CDF: &str = "http://checklists.nist.gov/xccdf/1.2";
const DC: &str = "http://purl.org/dc/elements/1.1/";
const SM: &str = "http://github.com/nuwcdivnpt/stig-manager";
pub(crate) const BENCHMARK_PREFIX: &str = "xccdf_mil.disa.stig_benchmark_";
pub(crate) const RULE_PREFIX: &str = "xccdf_mil.disa.stig_rule_";
const GROUP_PREFIX: &str = "xccdf_mil.disa.stig_group_";
const FACT_PREFIX: &str = "tag:stig-manager@users.noreply.github.com,2020:asset:";

/// Writes the XCCDF results of one STIG for `asset`. `test_system` is the producing tool's
/// CPE and `now` (epoch seconds) the end time of the test.
pub fn write_xccdf(
    asset: &ExportAsset,
    stig: &ExportStig,
    test_system: &str,
    now: i64,
) -> Result<Vec<u8>, FormatError> {
    let mut out = Xml(Writer::new_with_indent(Vec::new(), b' ', 2));
    out.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let id = format!("{BENCHMARK_PREFIX}{}", stig.benchmark_id);
    out.open_with(
        "cdf:Benchmark",
        &[("xmlns:cdf", CDF), ("xmlns:dc", DC), ("xmlns:sm", SM), ("id", &id)],
    )?;
    let status_date = stig.status_date.as_deref().unwrap_or_default();
    out.leaf_with("cdf:status", &[("date", status_date)], "accepted")?;
    out.leaf("cdf:title", &stig.title)?;
    out.leaf("cdf:description", stig.description.as_deref().unwrap_or_default())?;
    out.leaf_with("cdf:platform", &[("idref", "cpe:2.3:a:disa:stig")], "")?;
    out.leaf("cdf:version", &stig.revision_str())?;
    out.open("cdf:metadata")?;
    out.leaf("dc:creator", "DISA")?;
    out.leaf("dc:publisher", "STIG Manager OSS")?;
    out.close("cdf:metadata")?;
    for rule in &stig.rules {
        write_group(&mut out, rule)?;
    }
    write_test_result(&mut out, asset, stig, test_system, now)?;
    out.close("cdf:Benchmark")?;
    Ok(out.0.into_inner())
}

fn write_group(out: &mut Xml, rule: &ExportRule) -> Result<(), FormatError> {
    out.open_with("cdf:Group", &[("id", &format!("{GROUP_PREFIX}{}", rule.group_id))])?;
    out.leaf("cdf:title", rule.group_title.as_deref().unwrap_or_default())?;
    let id = format!("{RULE_PREFIX}{}", rule.rule_id);
    let weight = rule.weight.as_deref().unwrap_or("10.0");
    out.open_with("cdf:Rule", &[("id", &id), ("weight", weight), ("severity", &rule.severity)])?;
    out.leaf("cdf:title", &rule.title)?;
    out.open_with("cdf:check", &[("system", rule.check_system.as_deref().unwrap_or_default())])?;
    out.leaf("cdf:check-content", &rule.check_content)?;
    out.close("cdf:check")?;
    out.close("cdf:Rule")?;
    out.close("cdf:Group")
}

fn write_test_result(
    out: &mut Xml,
    asset: &ExportAsset,
    stig: &ExportStig,
    test_system: &str,
    now: i64,
) -> Result<(), FormatError> {
    let id = format!("xccdf_mil.navy.nuwcdivnpt.stig-manager_testresult_{}", stig.benchmark_id);
    let end = iso_millis(now);
    let attrs = [("id", id.as_str()), ("test-system", test_system), ("end-time", &end)];
    out.open_with("cdf:TestResult", &[attrs.as_slice(), &[("version", "1.0")]].concat())?;
    out.leaf("cdf:title", "")?;
    out.leaf("cdf:target", &asset.name)?;
    out.leaf("cdf:target-address", asset.ip.as_deref().unwrap_or_default())?;
    out.open("cdf:target-facts")?;
    for (name, value) in facts(asset) {
        out.leaf_with("cdf:fact", &[("name", &name), ("type", "string")], &value)?;
    }
    out.close("cdf:target-facts")?;
    for rule in &stig.rules {
        write_rule_result(out, rule)?;
    }
    out.leaf("cdf:score", "1.0")?;
    out.close("cdf:TestResult")
}

fn write_rule_result(out: &mut Xml, rule: &ExportRule) -> Result<(), FormatError> {
    let idref = format!("{RULE_PREFIX}{}", rule.rule_id);
    let review = rule.review.as_ref();
    let time = review.map(|r| iso_millis(r.ts));
    let mut attrs = vec![("idref", idref.as_str())];
    if let Some(time) = &time {
        attrs.push(("time", time));
    }
    out.open_with("cdf:rule-result", &attrs)?;
    out.leaf("cdf:result", review.map(|r| r.result.as_str()).unwrap_or("notchecked"))?;
    out.open_with("cdf:check", &[("system", rule.check_system.as_deref().unwrap_or_default())])?;
    out.open("cdf:check-content")?;
    if let Some(review) = review {
        if !review.detail.is_empty() {
            out.leaf("sm:detail", &review.detail)?;
        }
        if !review.comment.is_empty() {
            out.leaf("sm:comment", &review.comment)?;
        }
        if let Some(engine) = &review.result_engine {
            write_engine(out, "resultEngine", engine)?;
        }
    }
    out.close("cdf:check-content")?;
    out.close("cdf:check")?;
    out.close("cdf:rule-result")
}

/// A JSON value as `sm:` elements: objects nest, arrays repeat their key, nulls are left out.
fn write_engine(out: &mut Xml, key: &str, value: &Value) -> Result<(), FormatError> {
    let name = format!("sm:{key}");
    match value {
        Value::Null => Ok(()),
        Value::Object(members) => {
            out.open(&name)?;
            for (key, value) in members {
                write_engine(out, key, value)?;
            }
            out.close(&name)
        }
        Value::Array(items) => items.iter().try_for_each(|item| write_engine(out, key, item)),
        Value::String(text) => out.leaf(&name, text),
        other => out.leaf(&name, &other.to_string()),
    }
}

/// Target facts: each non-empty asset property, then each metadata entry.
fn facts(asset: &ExportAsset) -> Vec<(String, String)> {
    let properties = [
        ("name", Some(asset.name.clone())),
        ("description", asset.description.clone()),
        ("fqdn", asset.fqdn.clone()),
        ("ip", asset.ip.clone()),
        ("mac", asset.mac.clone()),
        ("noncomputing", Some(asset.noncomputing.to_string())),
    ];
    let mut facts: Vec<(String, String)> = properties
        .into_iter()
        .filter_map(|(name, value)| {
            value.filter(|v| !v.is_empty()).map(|v| (format!("{FACT_PREFIX}{name}"), v))
        })
        .collect();
    for (key, value) in &asset.metadata {
        let name = match key.starts_with("urn:") {
            true => key.clone(),
            false => format!("{FACT_PREFIX}metadata:{}", encode_uri(key)),
        };
        facts.push((name, value.clone()));
    }
    facts
}

/// Percent-encodes what a URI may not hold, keeping the characters URIs reserve.
fn encode_uri(text: &str) -> String {
    const KEPT: &[u8] = b"-_.!~*'();/?:@&=+$,#";
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || KEPT.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keys_are_uri_encoded() {
        assert_eq!(encode_uri("a b/ä"), "a%20b/%C3%A4");
        assert_eq!(encode_uri("cklRole"), "cklRole");
    }
}
