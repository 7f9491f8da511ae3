//! XCCDF results read back: the `rule-result`s of a `TestResult`, alone or inside the
//! `Benchmark` it scores, with the detail and comment STIG Manager's exports carry.
//!
//! Known shortcoming: only what the export tests need is read (rule, result, detail, comment,
//! target name); the `resultEngine`, overrides and target facts are not read back.

use crate::export::xccdf::{BENCHMARK_PREFIX, RULE_PREFIX};
use crate::text::prepare;
use crate::xml::Cursor;
use crate::FormatError;

/// The results of one test of one benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XccdfResults {
    /// `Benchmark@id` without DISA's prefix, when the document is a benchmark.
    pub benchmark_id: Option<String>,
    pub target: Option<String>,
    pub results: Vec<XccdfRuleResult>,
}

/// One `rule-result`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XccdfRuleResult {
    /// `rule-result@idref` without DISA's prefix.
    pub rule_id: String,
    /// The XCCDF result as written (`pass`, `fail`, `notchecked`, ...).
    pub result: String,
    /// `check-content/detail`, else the first `message`.
    pub detail: String,
    pub comment: String,
}

/// Reads the results of an XCCDF `Benchmark` holding a `TestResult`, or of a bare `TestResult`.
pub fn parse_results(xml: &[u8]) -> Result<XccdfResults, FormatError> {
    let bytes = prepare(xml);
    let mut cur = Cursor::new(&bytes);
    let root = cur.root()?;
    let mut out = XccdfResults::default();
    match root.name.as_str() {
        "TestResult" => {}
        "Benchmark" => {
            let id = root.attr("id").unwrap_or_default();
            out.benchmark_id = Some(id.strip_prefix(BENCHMARK_PREFIX).unwrap_or(id).to_string());
            if cur.find("TestResult")?.is_none() {
                return Err(FormatError::Invalid("the benchmark holds no TestResult".into()));
            }
        }
        _ => return Err(FormatError::NotBenchmark { root: root.name }),
    }
    while let Some(el) = cur.child()? {
        match el.name.as_str() {
            "target" => out.target = Some(cur.text()?),
            "rule-result" => {
                let idref = el.attr("idref").unwrap_or_default();
                let rule_id = idref.strip_prefix(RULE_PREFIX).unwrap_or(idref).to_string();
                out.results.push(read_rule_result(&mut cur, rule_id)?);
            }
            _ => cur.skip()?,
        }
    }
    Ok(out)
}

fn read_rule_result(cur: &mut Cursor, rule_id: String) -> Result<XccdfRuleResult, FormatError> {
    let mut item = XccdfRuleResult { rule_id, ..XccdfRuleResult::default() };
    let mut message = None;
    while let Some(el) = cur.child()? {
        match el.name.as_str() {
            "result" => item.result = cur.text()?,
            "message" if message.is_none() => message = Some(cur.text()?),
            "check" => read_check(cur, &mut item)?,
            _ => cur.skip()?,
        }
    }
    if item.detail.is_empty() {
        item.detail = message.unwrap_or_default();
    }
    Ok(item)
}

fn read_check(cur: &mut Cursor, item: &mut XccdfRuleResult) -> Result<(), FormatError> {
    while let Some(el) = cur.child()? {
        if el.name != "check-content" {
            cur.skip()?;
            continue;
        }
        while let Some(el) = cur.child()? {
            match el.name.as_str() {
                "detail" => item.detail = cur.text()?,
                "comment" => item.comment = cur.text()?,
                _ => cur.skip()?,
            }
        }
    }
    Ok(())
}
