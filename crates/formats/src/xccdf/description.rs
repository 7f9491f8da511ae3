//! The small text grammars inside a benchmark: rule description sub-fields and release info.

use chrono::NaiveDate;

use crate::text::{non_empty, release_token};

/// The sub-fields DISA packs, as escaped markup, into `Rule/description`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct RuleDescription {
    pub(super) vuln_discussion: Option<String>,
    pub(super) false_positives: Option<String>,
    pub(super) false_negatives: Option<String>,
    pub(super) documentable: Option<String>,
    pub(super) mitigations: Option<String>,
    pub(super) severity_override_guidance: Option<String>,
    pub(super) potential_impacts: Option<String>,
    pub(super) third_party_tools: Option<String>,
    pub(super) mitigation_control: Option<String>,
    pub(super) responsibility: Option<String>,
}

impl RuleDescription {
    /// Reads the sub-fields from the decoded description text (which holds literal tags).
    pub(super) fn parse(text: &str) -> Self {
        RuleDescription {
            vuln_discussion: greedy(text, "VulnDiscussion"),
            false_positives: greedy(text, "FalsePositives"),
            false_negatives: greedy(text, "FalseNegatives"),
            documentable: greedy(text, "Documentable"),
            mitigations: greedy(text, "Mitigations"),
            severity_override_guidance: greedy(text, "SeverityOverrideGuidance"),
            potential_impacts: greedy(text, "PotentialImpacts"),
            third_party_tools: greedy(text, "ThirdPartyTools"),
            mitigation_control: greedy(text, "MitigationControl"),
            responsibility: every(text, "Responsibility"),
        }
    }
}

/// Upstream's `<Tag>([\s\S]*)</Tag>`: from the first opening tag to the last closing tag.
fn greedy(text: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].rfind(&close)?;
    non_empty(text[start..start + len].to_string())
}

/// Every `<Tag>...</Tag>` in turn, the non-empty ones joined with `, `.
fn every(text: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        let Some(len) = after.find(&close) else { break };
        if !after[..len].is_empty() {
            found.push(&after[..len]);
        }
        rest = &after[len + close.len()..];
    }
    non_empty(found.join(", "))
}

/// Release and date text from `Release: 8 Benchmark Date: 27 Oct 2022`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ReleaseInfo {
    pub(super) release: String,
    pub(super) date: Option<String>,
}

/// Upstream matches `Release:\s+(\S+)\s+Benchmark Date:\s+(.*)`; when only the release part
/// is present we still take the release rather than reject the benchmark.
pub(super) fn release_info(text: &str) -> Option<ReleaseInfo> {
    let full = text.match_indices("Release:").find_map(|(at, _)| full_match(&text[at + 8..]));
    full.or_else(|| {
        let token = release_token(text)?;
        Some(ReleaseInfo { release: token.to_string(), date: None })
    })
}

fn full_match(rest: &str) -> Option<ReleaseInfo> {
    let rest = skip_space(rest, 1)?;
    let token_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    if token_len == 0 {
        return None;
    }
    let (release, rest) = rest.split_at(token_len);
    let rest = skip_space(rest, 1)?.strip_prefix("Benchmark Date:")?;
    let rest = skip_space(rest, 1)?;
    let line_end = rest.find(['\n', '\r', '\u{2028}', '\u{2029}']).unwrap_or(rest.len());
    let date = non_empty(rest[..line_end].to_string());
    Some(ReleaseInfo { release: release.to_string(), date })
}

fn skip_space(s: &str, at_least: usize) -> Option<&str> {
    let trimmed = s.trim_start();
    let skipped = s[..s.len() - trimmed.len()].chars().count();
    (skipped >= at_least).then_some(trimmed)
}

/// `day month year` (e.g. `27 Oct 2022`, `4 Sept 2021`, `19 July 2019`) as `YYYY-MM-DD`.
pub(super) fn date_sql(text: &str) -> Option<String> {
    let mut parts = text.split_whitespace();
    let day: u32 = parts.next()?.parse().ok()?;
    let month = month_number(parts.next()?)?;
    let year: i32 = parts.next()?.parse().ok()?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    Some(date.format("%Y-%m-%d").to_string())
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let name = name.to_ascii_lowercase();
    if name == "sept" {
        return Some(9);
    }
    let index = MONTHS.iter().position(|full| *full == name || full[..3] == name)?;
    u32::try_from(index + 1).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn sub_fields_use_greedy_matches() {
        let text = "<VulnDiscussion>a <Subject> b</VulnDiscussion>\
                    <Documentable>false</Documentable><Mitigations></Mitigations>\
                    <Responsibility>System Administrator</Responsibility>\
                    <Responsibility>Information Assurance Officer</Responsibility>";
        let parsed = RuleDescription::parse(text);
        assert_eq!(parsed.vuln_discussion.as_deref(), Some("a <Subject> b"));
        assert_eq!(parsed.documentable.as_deref(), Some("false"));
        assert_eq!(parsed.mitigations, None);
        assert_eq!(parsed.false_positives, None);
        let want = "System Administrator, Information Assurance Officer";
        assert_eq!(parsed.responsibility.as_deref(), Some(want));
        assert_eq!(greedy("<A>1</A><A>2</A>", "A").as_deref(), Some("1</A><A>2"));
    }

    #[test]
    fn release_info_follows_the_upstream_pattern() {
        let info = release_info("Release: 8 Benchmark Date: 27 Oct 2022").unwrap();
        assert_eq!(info.release, "8");
        assert_eq!(info.date.as_deref(), Some("27 Oct 2022"));
        let info = release_info("Release: 0.3 Benchmark Date: 31 Mar 2020\nmore").unwrap();
        assert_eq!((info.release.as_str(), info.date.as_deref()), ("0.3", Some("31 Mar 2020")));
        let short = release_info("Release: 13").unwrap();
        assert_eq!((short.release.as_str(), short.date), ("13", None));
        assert_eq!(release_info("Thu Jun 08 2023"), None);
    }

    #[test]
    fn dates_are_zero_padded() {
        assert_eq!(date_sql("27 Oct 2022").as_deref(), Some("2022-10-27"));
        assert_eq!(date_sql("4 Sept 2021").as_deref(), Some("2021-09-04"));
        assert_eq!(date_sql("19 July 2019").as_deref(), Some("2019-07-19"));
        assert_eq!(date_sql("31 Feb 2019"), None);
        assert_eq!(date_sql("Oct 2022"), None);
    }
}
