//! Review vocabularies and the write engine's rules: how an incoming partial review combines
//! with the stored one, when a status resets, and which candidates are refused and why.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::settings::{CollectionSettings, Required, ResetCriteria};
use crate::Role;

/// A review result. The discriminants are the stored `result_id`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewResult {
    NotChecked = 1,
    NotApplicable = 2,
    Pass = 3,
    Fail = 4,
    Unknown = 5,
    Error = 6,
    NotSelected = 7,
    Informational = 8,
    Fixed = 9,
}

impl ReviewResult {
    pub const ALL: [ReviewResult; 9] = [
        Self::NotChecked,
        Self::NotApplicable,
        Self::Pass,
        Self::Fail,
        Self::Unknown,
        Self::Error,
        Self::NotSelected,
        Self::Informational,
        Self::Fixed,
    ];

    pub fn id(self) -> i64 {
        self as i64
    }

    pub fn from_id(id: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }

    pub fn api(self) -> &'static str {
        match self {
            Self::NotChecked => "notchecked",
            Self::NotApplicable => "notapplicable",
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Unknown => "unknown",
            Self::Error => "error",
            Self::NotSelected => "notselected",
            Self::Informational => "informational",
            Self::Fixed => "fixed",
        }
    }

    pub fn from_api(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.api() == s)
    }

    /// Pass, fail and not applicable are the results that count as assessed and may be submitted.
    pub fn is_assessed(self) -> bool {
        matches!(self, Self::Pass | Self::Fail | Self::NotApplicable)
    }
}

/// A review's place in the approval workflow. The discriminants are the stored `status_id`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewStatus {
    Saved = 0,
    Submitted = 1,
    Rejected = 2,
    Accepted = 3,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 4] =
        [Self::Saved, Self::Submitted, Self::Rejected, Self::Accepted];

    pub fn id(self) -> i64 {
        self as i64
    }

    pub fn from_id(id: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.id() == id)
    }

    pub fn api(self) -> &'static str {
        match self {
            Self::Saved => "saved",
            Self::Submitted => "submitted",
            Self::Rejected => "rejected",
            Self::Accepted => "accepted",
        }
    }

    fn needs_accept_right(self) -> bool {
        matches!(self, Self::Accepted | Self::Rejected)
    }
}

/// The text a status gets when a change to the review drops it back to saved.
pub const RESET_TEXT: &str = "Review change triggered status update";

/// What a write request says about one review. `None` means the field was absent.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub result: Option<ReviewResult>,
    pub detail: Option<String>,
    pub comment: Option<String>,
    /// Absent, explicitly `null` (`Some(None)`), or an engine object.
    pub result_engine: Option<Option<Value>>,
    pub metadata: Option<Value>,
    pub status: Option<(ReviewStatus, Option<String>)>,
}

/// The stored state of a review, as far as the write engine needs it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub result: ReviewResult,
    pub detail: String,
    pub comment: String,
    pub result_engine: Option<Value>,
    pub metadata: Value,
    pub status: ReviewStatus,
    pub status_text: Option<String>,
    pub status_ts: i64,
    pub status_user_id: Option<i64>,
    pub user_id: Option<i64>,
    pub ts: i64,
}

/// The review that a valid write leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub result: ReviewResult,
    pub detail: String,
    pub comment: String,
    pub result_engine: Option<Value>,
    pub metadata: Value,
    pub status: ReviewStatus,
    pub status_text: Option<String>,
    pub status_ts: i64,
    pub status_user_id: Option<i64>,
    pub user_id: Option<i64>,
    pub ts: i64,
}

impl Candidate {
    pub fn touch_ts(&self) -> i64 {
        self.ts.max(self.status_ts)
    }
}

/// Who writes, when, and through which route (per-asset and batch writes differ in details).
#[derive(Debug, Clone, Copy)]
pub struct Writer {
    pub user_id: i64,
    pub role: Role,
    pub now: i64,
    pub batch: bool,
}

/// Why a candidate was refused; `reason` renders the per-asset or the batch wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    NoGrant,
    NullResult,
    CollectionCannotAccept,
    UserCannotAccept,
    ResultNotSubmittable,
    DetailRequired,
    CommentRequired,
    FindingDetailRequired,
    FindingCommentRequired,
}

impl Rejection {
    pub fn reason(self, batch: bool) -> &'static str {
        use Rejection::*;
        match (self, batch) {
            (NoGrant, _) => "no grant for this asset/ruleId",
            (NullResult, _) => "cannot insert null result",
            (CollectionCannotAccept, _) => {
                "status = accepted, rejected not allowed for this Collection"
            }
            (UserCannotAccept, _) => "status = accepted, rejected not allowed for this User",
            (ResultNotSubmittable, _) => "status is not allowed for the result",
            (DetailRequired, false) => {
                "empty detail is not allowed for status = submitted, accepted, rejected"
            }
            (DetailRequired, true) => "detail is empty and detail.required = always",
            (CommentRequired, false) => {
                "empty comment is not allowed for status = submitted, accepted, rejected"
            }
            (CommentRequired, true) => "comment is empty and comment.required = always",
            (FindingDetailRequired, false) => {
                "result = fail and empty detail not allowed for status = submitted, accepted, rejected"
            }
            (FindingDetailRequired, true) => "detail is empty and detail.required = findings",
            (FindingCommentRequired, false) => {
                "result = fail and empty comment not allowed for status = submitted, accepted, rejected"
            }
            // the trailing space is part of the wire text clients compare against
            (FindingCommentRequired, true) => "comment is empty and comment.required = findings ",
        }
    }
}

/// Trims spaces only: newlines and tabs at either end are part of the text.
fn trim_spaces(s: &str) -> String {
    s.trim_matches(' ').to_string()
}

/// Combines an incoming write with the stored review and checks the result against the
/// collection's settings and the writer's role.
pub fn build_candidate(
    incoming: &Incoming,
    stored: Option<&Stored>,
    settings: &CollectionSettings,
    writer: Writer,
) -> Result<Candidate, Rejection> {
    let candidate = match stored {
        None => insert_candidate(incoming, writer)?,
        Some(stored) => update_candidate(incoming, stored, settings, writer),
    };
    validate(&candidate, incoming, settings, writer)?;
    Ok(candidate)
}

fn insert_candidate(incoming: &Incoming, writer: Writer) -> Result<Candidate, Rejection> {
    let result = incoming.result.ok_or(Rejection::NullResult)?;
    let (status, status_text) = incoming.status.clone().unwrap_or((ReviewStatus::Saved, None));
    Ok(Candidate {
        result,
        detail: incoming.detail.as_deref().map(trim_spaces).unwrap_or_default(),
        comment: incoming.comment.as_deref().map(trim_spaces).unwrap_or_default(),
        result_engine: incoming.result_engine.clone().flatten(),
        metadata: incoming.metadata.clone().unwrap_or_else(|| Value::Object(Default::default())),
        status,
        status_text,
        status_ts: writer.now,
        status_user_id: Some(writer.user_id),
        user_id: Some(writer.user_id),
        ts: writer.now,
    })
}

fn update_candidate(
    incoming: &Incoming,
    stored: &Stored,
    settings: &CollectionSettings,
    writer: Writer,
) -> Candidate {
    let detail = incoming.detail.as_deref().map(trim_spaces);
    let comment = incoming.comment.as_deref().map(trim_spaces);
    let touches_content = incoming.result.is_some() || detail.is_some() || comment.is_some();
    let resets = incoming.status.is_none()
        && stored.status != ReviewStatus::Saved
        && reset_fires(incoming, detail.as_deref(), comment.as_deref(), stored, settings);

    let (status, status_text, status_ts, status_user_id) = match (&incoming.status, resets) {
        (Some((status, text)), _) => (*status, text.clone(), writer.now, Some(writer.user_id)),
        (None, true) => {
            (ReviewStatus::Saved, Some(RESET_TEXT.to_string()), writer.now, Some(writer.user_id))
        }
        (None, false) => {
            (stored.status, stored.status_text.clone(), stored.status_ts, stored.status_user_id)
        }
    };
    Candidate {
        result: incoming.result.unwrap_or(stored.result),
        detail: detail.unwrap_or_else(|| stored.detail.clone()),
        comment: comment.unwrap_or_else(|| stored.comment.clone()),
        result_engine: updated_engine(incoming, stored, writer.batch),
        metadata: incoming.metadata.clone().unwrap_or_else(|| stored.metadata.clone()),
        status,
        status_text,
        status_ts,
        status_user_id,
        user_id: if touches_content { Some(writer.user_id) } else { stored.user_id },
        ts: if touches_content { writer.now } else { stored.ts },
    }
}

/// An explicit engine wins; without one, a per-asset write that carries any result clears the
/// engine, while a batch write clears it only when the result changes.
fn updated_engine(incoming: &Incoming, stored: &Stored, batch: bool) -> Option<Value> {
    if let Some(engine) = &incoming.result_engine {
        return engine.clone();
    }
    match incoming.result {
        None => stored.result_engine.clone(),
        Some(result) if batch && result == stored.result => stored.result_engine.clone(),
        Some(_) => None,
    }
}

fn reset_fires(
    incoming: &Incoming,
    detail: Option<&str>,
    comment: Option<&str>,
    stored: &Stored,
    settings: &CollectionSettings,
) -> bool {
    let result_changed = incoming.result.is_some_and(|r| r != stored.result);
    match settings.status.reset_criteria {
        ResetCriteria::Result => result_changed,
        ResetCriteria::Any => {
            result_changed
                || detail.is_some_and(|d| d != stored.detail)
                || comment.is_some_and(|c| c != stored.comment)
        }
    }
}

fn validate(
    candidate: &Candidate,
    incoming: &Incoming,
    settings: &CollectionSettings,
    writer: Writer,
) -> Result<(), Rejection> {
    let requested = incoming.status.as_ref().map(|(status, _)| *status);
    if requested.is_some_and(ReviewStatus::needs_accept_right) {
        if !settings.status.can_accept {
            return Err(Rejection::CollectionCannotAccept);
        }
        if writer.role.id() < settings.status.min_accept_grant {
            return Err(Rejection::UserCannotAccept);
        }
    }
    if candidate.status == ReviewStatus::Saved {
        return Ok(());
    }
    if !candidate.result.is_assessed() {
        return Err(Rejection::ResultNotSubmittable);
    }
    let fail = candidate.result == ReviewResult::Fail;
    let fields = &settings.fields;
    match (fields.detail.required, candidate.detail.is_empty()) {
        (Required::Always, true) => return Err(Rejection::DetailRequired),
        (Required::Findings, true) if fail => return Err(Rejection::FindingDetailRequired),
        _ => {}
    }
    match (fields.comment.required, candidate.comment.is_empty()) {
        (Required::Always, true) => Err(Rejection::CommentRequired),
        (Required::Findings, true) if fail => Err(Rejection::FindingCommentRequired),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn writer(role: Role) -> Writer {
        Writer { user_id: 7, role, now: 1_000, batch: false }
    }

    fn stored(status: ReviewStatus) -> Stored {
        Stored {
            result: ReviewResult::Pass,
            detail: "ok".into(),
            comment: String::new(),
            result_engine: Some(serde_json::json!({"type": "scap"})),
            metadata: serde_json::json!({}),
            status,
            status_text: Some("looks fine".into()),
            status_ts: 10,
            status_user_id: Some(2),
            user_id: Some(2),
            ts: 10,
        }
    }

    #[test]
    fn an_insert_without_result_is_refused() {
        let incoming = Incoming { detail: Some("x".into()), ..Default::default() };
        let got = build_candidate(&incoming, None, &Default::default(), writer(Role::Full));
        assert_eq!(got, Err(Rejection::NullResult));
    }

    #[test]
    fn an_insert_trims_spaces_but_keeps_newlines() {
        let incoming = Incoming {
            result: Some(ReviewResult::Fail),
            detail: Some("  why\n ".into()),
            ..Default::default()
        };
        let c = build_candidate(&incoming, None, &Default::default(), writer(Role::Full)).unwrap();
        assert_eq!(c.detail, "why\n");
        assert_eq!((c.status, c.ts, c.user_id), (ReviewStatus::Saved, 1_000, Some(7)));
    }

    #[test]
    fn a_changed_result_resets_a_submitted_review_and_clears_the_engine() {
        let incoming = Incoming { result: Some(ReviewResult::Fail), ..Default::default() };
        let s = stored(ReviewStatus::Submitted);
        let c =
            build_candidate(&incoming, Some(&s), &Default::default(), writer(Role::Full)).unwrap();
        assert_eq!(c.status, ReviewStatus::Saved);
        assert_eq!(c.status_text.as_deref(), Some(RESET_TEXT));
        assert_eq!(c.result_engine, None);
    }

    #[test]
    fn a_comment_only_update_keeps_status_and_engine_under_result_criteria() {
        let incoming = Incoming { comment: Some("note".into()), ..Default::default() };
        let s = stored(ReviewStatus::Submitted);
        let c =
            build_candidate(&incoming, Some(&s), &Default::default(), writer(Role::Full)).unwrap();
        assert_eq!(c.status, ReviewStatus::Submitted);
        assert!(c.result_engine.is_some());
        assert_eq!(c.ts, 1_000);
    }

    #[test]
    fn accepting_needs_the_minimum_role() {
        let incoming = Incoming {
            result: Some(ReviewResult::Pass),
            detail: Some("d".into()),
            status: Some((ReviewStatus::Accepted, None)),
            ..Default::default()
        };
        let settings = CollectionSettings::default();
        let full = build_candidate(&incoming, None, &settings, writer(Role::Full));
        assert_eq!(full, Err(Rejection::UserCannotAccept));
        assert!(build_candidate(&incoming, None, &settings, writer(Role::Manage)).is_ok());
    }

    #[test]
    fn submitting_needs_an_assessed_result_and_the_required_fields() {
        let submit = |result, detail: &str| Incoming {
            result: Some(result),
            detail: Some(detail.into()),
            status: Some((ReviewStatus::Submitted, None)),
            ..Default::default()
        };
        let s = CollectionSettings::default();
        let w = writer(Role::Full);
        let informational = submit(ReviewResult::Informational, "d");
        assert_eq!(
            build_candidate(&informational, None, &s, w),
            Err(Rejection::ResultNotSubmittable)
        );
        let no_detail = submit(ReviewResult::Pass, "");
        assert_eq!(build_candidate(&no_detail, None, &s, w), Err(Rejection::DetailRequired));
        let fail_no_comment = submit(ReviewResult::Fail, "d");
        assert_eq!(
            build_candidate(&fail_no_comment, None, &s, w),
            Err(Rejection::FindingCommentRequired)
        );
        assert_eq!(Rejection::FindingCommentRequired.reason(true).chars().last(), Some(' '));
    }
}
