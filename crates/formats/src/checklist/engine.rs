//! The `resultEngine` of reviews written by Evaluate-STIG, which records itself in CKL
//! comments (`<!--<Evaluate-STIG>...</Evaluate-STIG>-->`) and in CKLB `evaluate-stig` objects.
//!
//! Known shortcoming: the shape is inferred from sample files and from the engine STIG Manager
//! itself exports for Evaluate-STIG results (version from the file-level record, time and
//! `{module}:{module version}` from the STIG-level record, an override per answer-file
//! change). Fields Evaluate-STIG may add in other versions are ignored.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::xml::Cursor;

const PRODUCT: &str = "Evaluate-STIG";
const OVERRIDE_REMARK: &str = "Evaluate-STIG Answer File";

/// One Evaluate-STIG record, flattened to `path/of/leaf → text`.
#[derive(Debug, Default, Clone)]
pub(super) struct Record(BTreeMap<String, String>);

impl Record {
    /// Reads a CKL comment; `None` unless it is an Evaluate-STIG record.
    pub(super) fn from_comment(comment: &str) -> Option<Self> {
        let comment = comment.trim();
        if !comment.starts_with("<Evaluate-STIG>") {
            return None;
        }
        let mut cur = Cursor::new(comment.as_bytes());
        cur.root().ok()?;
        let mut leaves = BTreeMap::new();
        flatten(&mut cur, "", &mut leaves).ok()?;
        Some(Record(leaves))
    }

    /// The first Evaluate-STIG record among comments.
    pub(super) fn from_comments(comments: &[String]) -> Option<Self> {
        comments.iter().find_map(|comment| Record::from_comment(comment))
    }

    /// Reads a CKLB `evaluate-stig` object.
    pub(super) fn from_json(value: Option<&Value>) -> Option<Self> {
        let mut leaves = BTreeMap::new();
        flatten_json(value?.as_object()?, "", &mut leaves);
        Some(Record(leaves))
    }

    fn get(&self, paths: &[&str]) -> Option<String> {
        paths.iter().find_map(|path| self.0.get(*path)).filter(|v| !v.is_empty()).cloned()
    }
}

/// Leaves of the record, descending only into the top-level `module` and `global` groups
/// (so a hostile comment cannot drive the recursion deep).
fn flatten(
    cur: &mut Cursor,
    prefix: &str,
    leaves: &mut BTreeMap<String, String>,
) -> Result<(), crate::FormatError> {
    while let Some(el) = cur.child()? {
        let path = format!("{prefix}{}", el.name);
        if prefix.is_empty() && matches!(el.name.as_str(), "module" | "global") {
            flatten(cur, &format!("{path}/"), leaves)?;
        } else {
            leaves.insert(path, cur.text()?);
        }
    }
    Ok(())
}

fn flatten_json(
    object: &serde_json::Map<String, Value>,
    prefix: &str,
    leaves: &mut BTreeMap<String, String>,
) {
    for (key, value) in object {
        let path = format!("{prefix}{key}");
        match value {
            Value::Object(inner) => flatten_json(inner, &format!("{path}/"), leaves),
            Value::String(text) => {
                leaves.insert(path, text.clone());
            }
            Value::Number(_) | Value::Bool(_) => {
                leaves.insert(path, value.to_string());
            }
            Value::Null | Value::Array(_) => {}
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultEngine {
    #[serde(rename = "type")]
    kind: &'static str,
    product: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check_content: Option<CheckContent>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    overrides: Vec<Override>,
}

#[derive(Serialize)]
struct CheckContent {
    location: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Override {
    authority: String,
    old_result: &'static str,
    new_result: &'static str,
    remark: &'static str,
}

/// The engine for one review, from the file-level, STIG-level and rule-level records.
pub(super) fn result_engine(
    file: Option<&Record>,
    stig: Option<&Record>,
    rule: Option<&Record>,
) -> Option<Value> {
    if file.is_none() && stig.is_none() {
        return None;
    }
    let both = [stig, file];
    let find = |paths: &[&str]| both.iter().flatten().find_map(|record| record.get(paths));
    let module = find(&["module/name"]);
    let location = match (module, find(&["module/version"])) {
        (Some(name), Some(version)) => Some(format!("{name}:{version}")),
        (name, _) => name,
    };
    let engine = ResultEngine {
        kind: "script",
        product: PRODUCT,
        version: file.and_then(|r| r.get(&["version", "global/version"])),
        time: find(&["time", "global/time"]),
        check_content: location.map(|location| CheckContent { location }),
        overrides: rule.and_then(answer_file_override).into_iter().collect(),
    };
    serde_json::to_value(engine).ok()
}

/// An answer file that changed the tool's result becomes an override.
fn answer_file_override(rule: &Record) -> Option<Override> {
    let authority = rule.get(&["AnswerFile", "answer_file", "answerFile"])?;
    let modified = rule.get(&["AFMod", "afmod", "af_mod"]);
    if modified.is_some_and(|flag| flag.eq_ignore_ascii_case("false")) {
        return None;
    }
    let old = rule.get(&["OldStatus", "old_status", "oldStatus"]);
    let new = rule.get(&["NewStatus", "new_status", "newStatus"]);
    Some(Override {
        authority,
        old_result: api_result(old.as_deref()),
        new_result: api_result(new.as_deref()),
        remark: OVERRIDE_REMARK,
    })
}

/// A result named in any of the API, CKL or CKLB vocabularies, as the API names it.
fn api_result(status: Option<&str>) -> &'static str {
    const API: [&str; 9] = [
        "pass",
        "fail",
        "notapplicable",
        "notchecked",
        "unknown",
        "error",
        "notselected",
        "informational",
        "fixed",
    ];
    let Some(status) = status else {
        return "unknown";
    };
    if let Some(api) = API.iter().find(|api| api.eq_ignore_ascii_case(status)) {
        return api;
    }
    super::ChecklistResult::from_ckl(status)
        .or_else(|| super::ChecklistResult::from_cklb(status))
        .map_or("unknown", |result| result.api_str())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_engine_from_ckl_comments() {
        let file =
            Record::from_comment("<Evaluate-STIG><version>1.2310.1</version></Evaluate-STIG>");
        let stig = Record::from_comment(
            "<Evaluate-STIG><time>2023-12-11T12:56:14-05:00</time><module><name>Scan-X</name>\
             <version>1.2023.7.24</version></module></Evaluate-STIG>",
        );
        let rule = Record::from_comment(
            "<Evaluate-STIG><AnswerFile>X.xml</AnswerFile><AFMod>true</AFMod>\
             <OldStatus>notchecked</OldStatus><NewStatus>NotAFinding</NewStatus></Evaluate-STIG>",
        );
        let engine = result_engine(file.as_ref(), stig.as_ref(), rule.as_ref()).unwrap();
        let want = serde_json::json!({
            "type": "script", "product": "Evaluate-STIG", "version": "1.2310.1",
            "time": "2023-12-11T12:56:14-05:00",
            "checkContent": {"location": "Scan-X:1.2023.7.24"},
            "overrides": [{"authority": "X.xml", "oldResult": "notchecked", "newResult": "pass",
                           "remark": "Evaluate-STIG Answer File"}]
        });
        assert_eq!(engine, want);
    }

    #[test]
    fn deeply_nested_comments_do_not_recurse() {
        let deep = format!("<Evaluate-STIG>{}", "<module>".repeat(100_000));
        assert!(Record::from_comment(&deep).is_none());
        let closed = format!("{deep}{}</Evaluate-STIG>", "</module>".repeat(100_000));
        assert!(Record::from_comment(&closed).is_some());
    }

    #[test]
    fn other_comments_give_no_engine() {
        assert!(Record::from_comment("DISA STIG Viewer :: 2.17").is_none());
        assert!(Record::from_comment("<Evaluate-STIG><broken").is_none());
        assert_eq!(result_engine(None, None, None), None);
    }
}
