//! CKL: STIG Viewer 2's XML checklist (`CHECKLIST/ASSET`, `CHECKLIST/STIGS/iSTIG`).

use std::collections::HashMap;

use super::engine::{result_engine, Record};
use super::RawTarget;
use super::{review, stig_header, Checklist, ChecklistFormat, ChecklistResult, ChecklistStig};
use crate::text::prepare;
use crate::xml::Cursor;
use crate::FormatError;

/// Reads a CKL checklist.
pub fn parse_ckl(xml: &[u8]) -> Result<Checklist, FormatError> {
    let bytes = prepare(xml);
    let mut cur = Cursor::new(&bytes).record_comments();
    let root = cur.root()?;
    if root.name != "CHECKLIST" {
        return Err(FormatError::NotCkl { root: root.name });
    }
    let file_engine = Record::from_comments(&cur.take_comments());
    let mut target = RawTarget::default();
    let mut stigs = Vec::new();
    while let Some(el) = cur.child()? {
        match el.name.as_str() {
            "ASSET" => target = read_asset(&mut cur)?,
            "STIGS" => read_stigs(&mut cur, file_engine.as_ref(), &mut stigs)?,
            _ => cur.skip()?,
        }
    }
    let target = target.into_target()?;
    Ok(Checklist { target, stigs, format: ChecklistFormat::Ckl })
}

fn read_asset(cur: &mut Cursor) -> Result<RawTarget, FormatError> {
    let mut target = RawTarget::default();
    while let Some(el) = cur.child()? {
        let slot = match el.name.as_str() {
            "HOST_NAME" => &mut target.host_name,
            "HOST_IP" => &mut target.ip,
            "HOST_FQDN" => &mut target.fqdn,
            "HOST_MAC" => &mut target.mac,
            "TARGET_COMMENT" => &mut target.comment,
            "ASSET_TYPE" => &mut target.asset_type,
            "ROLE" => &mut target.role,
            "TECH_AREA" => &mut target.tech_area,
            "WEB_DB_SITE" => &mut target.web_db_site,
            "WEB_DB_INSTANCE" => &mut target.web_db_instance,
            "WEB_OR_DATABASE" => {
                target.web_or_database = cur.text()? == "true";
                continue;
            }
            _ => {
                cur.skip()?;
                continue;
            }
        };
        *slot = cur.text()?;
    }
    Ok(target)
}

fn read_stigs(
    cur: &mut Cursor,
    file_engine: Option<&Record>,
    stigs: &mut Vec<ChecklistStig>,
) -> Result<(), FormatError> {
    while let Some(el) = cur.child()? {
        if el.name != "iSTIG" {
            cur.skip()?;
            continue;
        }
        cur.take_comments();
        if let Some(stig) = read_istig(cur, file_engine)? {
            stigs.push(stig);
        }
    }
    Ok(())
}

/// A VULN as read, before the STIG-level engine is known.
struct Vuln {
    rule_id: String,
    result: ChecklistResult,
    detail: String,
    comment: String,
    engine: Option<Record>,
}

fn read_istig(
    cur: &mut Cursor,
    file_engine: Option<&Record>,
) -> Result<Option<ChecklistStig>, FormatError> {
    let mut info = HashMap::new();
    let mut vulns = Vec::new();
    let mut comments = Vec::new();
    while let Some(el) = cur.child()? {
        comments.extend(cur.take_comments());
        match el.name.as_str() {
            "STIG_INFO" => info = read_stig_info(cur)?,
            "VULN" => vulns.extend(read_vuln(cur)?),
            _ => cur.skip()?,
        }
    }
    comments.extend(cur.take_comments());
    let stig_engine = Record::from_comments(&comments);
    let field = |name: &str| info.get(name).map(String::as_str).unwrap_or_default();
    let Some((benchmark_id, revision_str)) =
        stig_header(field("stigid"), field("version"), field("releaseinfo"))
    else {
        return Ok(None);
    };
    let reviews = vulns
        .into_iter()
        .map(|vuln| {
            let engine = result_engine(file_engine, stig_engine.as_ref(), vuln.engine.as_ref());
            review(&vuln.rule_id, vuln.result, vuln.detail, vuln.comment, engine)
        })
        .collect();
    Ok(Some(ChecklistStig { benchmark_id, revision_str, reviews }))
}

/// `SI_DATA` pairs as `SID_NAME → SID_DATA`.
fn read_stig_info(cur: &mut Cursor) -> Result<HashMap<String, String>, FormatError> {
    let mut info = HashMap::new();
    while let Some(el) = cur.child()? {
        if el.name != "SI_DATA" {
            cur.skip()?;
            continue;
        }
        let (name, data) = read_pair(cur, "SID_NAME", "SID_DATA")?;
        info.entry(name).or_insert(data);
    }
    Ok(info)
}

/// The texts of two named children of the element just opened.
fn read_pair(cur: &mut Cursor, key: &str, value: &str) -> Result<(String, String), FormatError> {
    let (mut k, mut v) = (String::new(), String::new());
    while let Some(el) = cur.child()? {
        match el.name.as_str() {
            name if name == key => k = cur.text()?,
            name if name == value => v = cur.text()?,
            _ => cur.skip()?,
        }
    }
    Ok((k, v))
}

/// A VULN with a `Rule_ID` and a known `STATUS`; others are skipped.
fn read_vuln(cur: &mut Cursor) -> Result<Option<Vuln>, FormatError> {
    let (mut rule_id, mut status) = (String::new(), String::new());
    let (mut detail, mut comment) = (String::new(), String::new());
    while let Some(el) = cur.child()? {
        match el.name.as_str() {
            "STIG_DATA" => {
                let (attribute, data) = read_pair(cur, "VULN_ATTRIBUTE", "ATTRIBUTE_DATA")?;
                if attribute == "Rule_ID" && rule_id.is_empty() {
                    rule_id = data;
                }
            }
            "STATUS" => status = cur.text()?,
            "FINDING_DETAILS" => detail = cur.text()?,
            "COMMENTS" => comment = cur.text()?,
            _ => cur.skip()?,
        }
    }
    let engine = Record::from_comments(&cur.take_comments());
    let result = ChecklistResult::from_ckl(&status);
    Ok(result.filter(|_| !rule_id.is_empty()).map(|result| Vuln {
        rule_id,
        result,
        detail,
        comment,
        engine,
    }))
}
