//! Revision names (`V1R23`, `V3R0.3`) and the order that decides a benchmark's "latest" revision.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A concrete revision name, `V{version}R{release}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionStr {
    pub version: String,
    pub release: String,
}

impl RevisionStr {
    /// The revision's primary key as upstream forms it: `{benchmarkId}-{version}-{release}`.
    pub fn rev_id(&self, benchmark_id: &str) -> String {
        format!("{benchmark_id}-{}-{}", self.version, self.release)
    }
}

impl fmt::Display for RevisionStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "V{}R{}", self.version, self.release)
    }
}

impl FromStr for RevisionStr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("'{s}' is not a revision string like V1R2");
        let rest = s.strip_prefix('V').ok_or_else(invalid)?;
        let (version, release) = rest.split_once('R').ok_or_else(invalid)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        let release_ok = match release.split_once('.') {
            Some((whole, frac)) => digits(whole) && digits(frac),
            None => digits(release),
        };
        if !digits(version) || !release_ok {
            return Err(invalid());
        }
        Ok(RevisionStr { version: version.to_string(), release: release.to_string() })
    }
}

/// What the "latest" ordering looks at in a revision.
#[derive(Debug, Clone)]
pub struct RevisionRank<'a> {
    pub status: Option<&'a str>,
    pub version: i64,
    pub release: f64,
}

/// Orders revisions so the latest comes first: non-drafts before drafts, then version and
/// release descending. Benchmark dates play no part.
pub fn latest_first(a: &RevisionRank, b: &RevisionRank) -> Ordering {
    let draft = |r: &RevisionRank| r.status == Some("draft");
    draft(a)
        .cmp(&draft(b))
        .then(b.version.cmp(&a.version))
        .then(b.release.partial_cmp(&a.release).unwrap_or(Ordering::Equal))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_revision_strings() {
        let r: RevisionStr = "V3R0.3".parse().unwrap();
        assert_eq!((r.version.as_str(), r.release.as_str()), ("3", "0.3"));
        assert_eq!(r.rev_id("RHEL_7"), "RHEL_7-3-0.3");
        assert_eq!(r.to_string(), "V3R0.3");
        for bad in ["latest", "V1", "R1", "V1R", "VxR1", "V1R1.", "V1R1.2.3"] {
            assert!(bad.parse::<RevisionStr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn drafts_sort_after_every_other_revision() {
        let draft = RevisionRank { status: Some("draft"), version: 9, release: 0.0 };
        let old = RevisionRank { status: Some("accepted"), version: 1, release: 1.0 };
        let newer = RevisionRank { status: Some("deprecated"), version: 1, release: 2.0 };
        let mut all = [draft.clone(), old.clone(), newer.clone()];
        all.sort_by(latest_first);
        assert_eq!(all[0].release, 2.0);
        assert_eq!(all[2].status, Some("draft"));
    }
}
