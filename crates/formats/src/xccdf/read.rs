//! The streaming walk over an XCCDF document that builds a [`Benchmark`].

use sha2::{Digest, Sha256};

use super::description::{date_sql, release_info, RuleDescription};
use super::{Benchmark, Group, Rule};
use crate::text::{non_empty, prepare};
use crate::xml::{Cursor, Element};
use crate::FormatError;

/// What separates the texts of a rule's several checks (or fixes) before digesting.
const AND_SEPARATOR: &str = "\n\n-----AND-----\n\n";

const CCI_SYSTEMS: [&str; 2] = ["http://iase.disa.mil/cci", "http://cyber.mil/cci"];

/// Reads a DISA XCCDF benchmark.
///
/// Only `Benchmark/Group/Rule` is read, as upstream does; nested groups and rules placed
/// directly under the benchmark are ignored.
pub fn parse_benchmark(xml: &[u8]) -> Result<Benchmark, FormatError> {
    let bytes = prepare(xml);
    let mut cur = Cursor::new(&bytes);
    let root = cur.root()?;
    match root.name.as_str() {
        "Benchmark" => read_benchmark(&mut cur, &root),
        "data-stream-collection" => match cur.find("Benchmark")? {
            Some(_) => Err(FormatError::ScapDataStream),
            None => Err(FormatError::NotBenchmark { root: root.name }),
        },
        _ => Err(FormatError::NotBenchmark { root: root.name }),
    }
}

/// The benchmark's own fields, first occurrence wins.
#[derive(Default)]
struct Head {
    title: Option<String>,
    version: Option<String>,
    plain_text: Option<String>,
    status: Option<(String, Option<String>)>,
    description: Option<String>,
}

fn read_benchmark(cur: &mut Cursor, root: &Element) -> Result<Benchmark, FormatError> {
    let mut head = Head::default();
    let mut groups = Vec::new();
    while let Some(el) = cur.child()? {
        match el.name.as_str() {
            "Group" => groups.push(read_group(cur, &el)?),
            "title" => first(&mut head.title, cur.text()?),
            "version" => first(&mut head.version, cur.text()?),
            "plain-text" => first(&mut head.plain_text, cur.text()?),
            "description" => first(&mut head.description, cur.text()?),
            "status" => {
                let date = el.attr("date").map(str::to_string);
                first(&mut head.status, (cur.text()?, date));
            }
            _ => cur.skip()?,
        }
    }
    finish_benchmark(root, head, groups)
}

fn first<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

fn finish_benchmark(
    root: &Element,
    head: Head,
    groups: Vec<Group>,
) -> Result<Benchmark, FormatError> {
    let invalid = |what: &str| FormatError::Invalid(format!("invalid XCCDF benchmark: {what}"));
    let benchmark_id =
        root.attr("id").filter(|id| !id.is_empty()).ok_or_else(|| invalid("no id"))?;
    let version = head.version.and_then(non_empty).ok_or_else(|| invalid("no version"))?;
    let info = head
        .plain_text
        .as_deref()
        .and_then(release_info)
        .ok_or_else(|| invalid("no \"Release: N Benchmark Date: D\" plain-text"))?;
    let (status, status_date) = match head.status {
        Some((text, date)) => (non_empty(text), date),
        None => (None, None),
    };
    Ok(Benchmark {
        benchmark_id: benchmark_id.to_string(),
        title: head.title.unwrap_or_default(),
        version,
        release: info.release,
        benchmark_date_sql: info.date.as_deref().and_then(date_sql),
        benchmark_date: info.date,
        status,
        status_date,
        description: head.description.and_then(non_empty),
        groups,
    })
}

fn read_group(cur: &mut Cursor, el: &Element) -> Result<Group, FormatError> {
    let mut title = None;
    let mut rules = Vec::new();
    while let Some(child) = cur.child()? {
        match child.name.as_str() {
            "title" => first(&mut title, cur.text()?),
            "Rule" => rules.push(read_rule(cur, &child)?),
            _ => cur.skip()?,
        }
    }
    let group_id = el.attr("id").unwrap_or_default().to_string();
    Ok(Group { group_id, title: title.unwrap_or_default(), rules })
}

/// Everything a `Rule` element holds before joining and digesting.
#[derive(Default)]
struct RawRule {
    version: Option<String>,
    title: Option<String>,
    description: Option<String>,
    checks: Vec<(String, String)>,
    fixes: Vec<(Option<String>, String)>,
    ccis: Vec<String>,
}

fn read_rule(cur: &mut Cursor, el: &Element) -> Result<Rule, FormatError> {
    let mut raw = RawRule::default();
    while let Some(child) = cur.child()? {
        match child.name.as_str() {
            "version" => first(&mut raw.version, cur.text()?),
            "title" => first(&mut raw.title, cur.text()?),
            "description" => first(&mut raw.description, cur.text()?),
            "check" => raw.checks.push(read_check(cur, &child)?),
            "fixtext" => {
                let fixref = child.attr("fixref").map(str::to_string);
                raw.fixes.push((fixref, cur.text()?));
            }
            "ident" => read_ident(cur, &child, &mut raw.ccis)?,
            _ => cur.skip()?,
        }
    }
    Ok(finish_rule(el, raw))
}

fn read_check(cur: &mut Cursor, el: &Element) -> Result<(String, String), FormatError> {
    let system = el.attr("system").unwrap_or_default().to_string();
    let mut content = None;
    while let Some(child) = cur.child()? {
        match child.name.as_str() {
            "check-content" => first(&mut content, cur.text()?),
            _ => cur.skip()?,
        }
    }
    Ok((system, content.unwrap_or_default()))
}

fn read_ident(cur: &mut Cursor, el: &Element, ccis: &mut Vec<String>) -> Result<(), FormatError> {
    let is_cci = el.attr("system").is_some_and(|system| CCI_SYSTEMS.contains(&system));
    let text = cur.text()?;
    if !is_cci {
        return Ok(());
    }
    let cci = text.strip_prefix("CCI-").unwrap_or(&text);
    if !cci.is_empty() && !ccis.iter().any(|known| known == cci) {
        ccis.push(cci.to_string());
    }
    Ok(())
}

fn finish_rule(el: &Element, raw: RawRule) -> Rule {
    let text = |value: Option<String>| value.unwrap_or_default();
    let attr = |name: &str| el.attr(name).map(str::to_string);
    let details = RuleDescription::parse(raw.description.as_deref().unwrap_or_default());
    let check_content = join(raw.checks.iter().map(|(_, content)| content.as_str()), AND_SEPARATOR);
    let fix_text = join(raw.fixes.iter().map(|(_, text)| text.as_str()), AND_SEPARATOR);
    let fixref = match raw.fixes.is_empty() {
        true => None,
        false => non_empty(join(raw.fixes.iter().map(|(r, _)| r.as_deref().unwrap_or("")), ",")),
    };
    Rule {
        rule_id: attr("id").unwrap_or_default(),
        version: text(raw.version),
        title: text(raw.title),
        severity: attr("severity").unwrap_or_default(),
        weight: attr("weight"),
        vuln_discussion: details.vuln_discussion,
        false_positives: details.false_positives,
        false_negatives: details.false_negatives,
        documentable: details.documentable,
        mitigations: details.mitigations,
        severity_override_guidance: details.severity_override_guidance,
        potential_impacts: details.potential_impacts,
        third_party_tools: details.third_party_tools,
        mitigation_control: details.mitigation_control,
        responsibility: details.responsibility,
        check_system: join(raw.checks.iter().map(|(system, _)| system.as_str()), ","),
        check_digest: sha256(&check_content),
        check_content,
        check_count: raw.checks.len(),
        fixref,
        fix_digest: sha256(&fix_text),
        fix_text,
        fix_count: raw.fixes.len(),
        ccis: raw.ccis,
    }
}

fn join<'s>(parts: impl Iterator<Item = &'s str>, separator: &str) -> String {
    parts.collect::<Vec<_>>().join(separator)
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const RULE: &str = r#"<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.1" id="T">
        <status date="2020-01-02">accepted</status><title>T title</title>
        <plain-text id="release-info">Release: 4 Benchmark Date: 1 Sept 2020</plain-text>
        <version>3</version>
        <Group id="V-1"><title>G</title><Rule id="SV-1r1_rule" severity="high" weight="10.0">
          <version>X-1</version><title>R</title>
     <description>&lt;VulnDiscussion&gt;Use &amp;amp; &lt;b&gt;&lt;/VulnDiscussion&gt;</description>
          <ident system="http://cyber.mil/legacy">V-9</ident>
          <ident system="http://cyber.mil/cci">CCI-000366</ident>
          <ident system="http://iase.disa.mil/cci">CCI-000366</ident>
          <fixtext fixref="F-1">Fix  </fixtext>
          <check system="C-1"><check-content>One</check-content></check>
          <check system="C-2"><check-content-ref name="M"/></check>
        </Rule></Group>
        <Group id="V-2"><title>H</title><Rule id="SV-2r1_rule" severity="unknown"/></Group>
        </Benchmark>"#;

    #[test]
    fn reads_a_small_benchmark() {
        let b = parse_benchmark(RULE.as_bytes()).unwrap();
        assert_eq!((b.revision_str(), b.rev_id()), ("V3R4".to_string(), "T-3-4".to_string()));
        assert_eq!(b.benchmark_date_sql.as_deref(), Some("2020-09-01"));
        assert_eq!(b.status_date.as_deref(), Some("2020-01-02"));
        let rule = &b.groups[0].rules[0];
        assert_eq!(rule.vuln_discussion.as_deref(), Some("Use & <b>"));
        assert_eq!(rule.ccis, vec!["000366".to_string()]);
        assert_eq!(rule.check_system, "C-1,C-2");
        assert_eq!(rule.check_content, "One\n\n-----AND-----\n\n");
        assert_eq!(rule.check_digest, sha256("One\n\n-----AND-----\n\n"));
        assert_eq!((rule.fix_text.as_str(), rule.fixref.as_deref()), ("Fix", Some("F-1")));
        let empty = &b.groups[1].rules[0];
        assert_eq!((empty.check_content.as_str(), empty.check_digest), ("", sha256("")));
        assert_eq!((empty.fixref.as_deref(), empty.check_count), (None, 0));
        assert_eq!((b.rule_count(), b.counts().checks, b.counts().groups), (1, 2, 2));
    }

    #[test]
    fn recognises_data_streams_and_other_roots() {
        let scap = b"<ds:data-stream-collection xmlns:ds='x'><ds:component><xccdf:Benchmark/>\
                     </ds:component></ds:data-stream-collection>";
        assert_eq!(parse_benchmark(scap), Err(FormatError::ScapDataStream));
        let other = parse_benchmark(b"<CHECKLIST/>");
        assert_eq!(other, Err(FormatError::NotBenchmark { root: "CHECKLIST".to_string() }));
        assert!(matches!(parse_benchmark(b"<Benchmark id='x'/>"), Err(FormatError::Invalid(_))));
    }
}
