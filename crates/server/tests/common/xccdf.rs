//! Facts about benchmark files read straight from their text, without the product's parser, so
//! tests can compute what the server must answer.

use sha2::{Digest, Sha256};

use super::shared;

/// Text between `open` and `close` after each occurrence of `open`.
pub fn between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(close) else { break };
        out.push(&after[..end]);
        rest = &after[end..];
    }
    out
}

/// Decodes the XML entities a benchmark's text nodes use.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#xD;", "\r")
        .replace("&#xA;", "\n")
        .replace("&amp;", "&")
}

#[derive(Debug, Clone)]
pub struct RuleFacts {
    pub rule_id: String,
    pub group_id: String,
    pub version: String,
    pub severity: String,
    pub ccis: Vec<String>,
    /// SHA-256 of the trimmed, entity-decoded check content: the review key's digest.
    pub check_digest: String,
}

#[derive(Debug, Clone)]
pub struct BenchmarkFile {
    pub benchmark_id: String,
    pub revision_str: String,
    pub status: String,
    pub rules: Vec<RuleFacts>,
}

impl BenchmarkFile {
    pub fn read(file: &str) -> BenchmarkFile {
        let text = std::fs::read_to_string(shared(&format!("data/stigs/{file}"))).unwrap();
        let root = &text[text.find("<Benchmark").unwrap()..];
        let version = between(root, "<version>", "</version>")[0].trim().to_string();
        let release_info = between(root, "<plain-text id=\"release-info\">", "<")[0];
        let release = release_info.split_whitespace().nth(1).unwrap().to_string();
        let status = between(root, "<status", "</status>")[0];
        let mut rules = Vec::new();
        for group in between(&text, "<Group id=\"", "</Group>") {
            let group_id = group[..group.find('"').unwrap()].to_string();
            for rule in between(group, "<Rule id=\"", "</Rule>") {
                let rule_id = rule[..rule.find('"').unwrap()].to_string();
                let severity = between(rule, "severity=\"", "\"")[0].to_string();
                let check = between(rule, "<check-content>", "</check-content>")
                    .first()
                    .map(|c| unescape(c.trim()))
                    .unwrap_or_default();
                let ccis = between(rule, "cci\">", "</ident>")
                    .iter()
                    .map(|c| c.trim_start_matches("CCI-").to_string())
                    .collect();
                rules.push(RuleFacts {
                    rule_id,
                    group_id: group_id.clone(),
                    version: between(rule, "<version>", "</version>")[0].trim().to_string(),
                    severity,
                    ccis,
                    check_digest: hex::encode(Sha256::digest(check.as_bytes())),
                });
            }
        }
        BenchmarkFile {
            benchmark_id: between(root, " id=\"", "\"")[0].to_string(),
            revision_str: format!("V{version}R{release}"),
            status: status[status.find('>').unwrap() + 1..].trim().to_string(),
            rules,
        }
    }

    pub fn bytes(file: &str) -> Vec<u8> {
        std::fs::read(shared(&format!("data/stigs/{file}"))).unwrap()
    }

    pub fn rule(&self, rule_id: &str) -> &RuleFacts {
        self.rules.iter().find(|r| r.rule_id == rule_id).unwrap()
    }
}
