//! Collection import options: how a checklist's results become reviews (which unreviewed rules
//! are kept, what replaces empty text, which status each result gets).

use serde_json::Value;

use crate::review::{Incoming, ReviewStatus};
use crate::settings::{CollectionSettings, Required};
use crate::{ReviewResult, Role};

pub const NO_DETAIL: &str = "There is no detail provided for the assessment";
pub const NO_COMMENT: &str = "There is no comment provided for the assessment";

/// One result read from a checklist.
#[derive(Debug, Clone)]
pub struct ChecklistResult {
    pub result: ReviewResult,
    pub detail: String,
    pub comment: String,
    pub result_engine: Option<Value>,
}

/// Turns a checklist result into a write, or `None` when the options skip it.
pub fn review_from_checklist(
    item: &ChecklistResult,
    options: &Value,
    settings: &CollectionSettings,
    role: Role,
) -> Option<Incoming> {
    let text = |key: &str| options.get(key).and_then(Value::as_str).unwrap_or_default();
    let commented = !item.detail.is_empty() || !item.comment.is_empty();
    let result = match (item.result.is_assessed(), text("unreviewed")) {
        (true, _) => item.result,
        (false, "never") => return None,
        (false, "always") if !commented => ReviewResult::NotChecked,
        (false, "always" | "commented") if commented => unreviewed_commented(options),
        (false, _) => return None,
    };
    let detail = filled(&item.detail, text("emptyDetail"), NO_DETAIL);
    let comment = filled(&item.comment, text("emptyComment"), NO_COMMENT);
    let status =
        auto_status(options, result, detail.as_deref(), comment.as_deref(), settings, role);
    Some(Incoming {
        result: Some(result),
        detail,
        comment,
        result_engine: Some(item.result_engine.clone()),
        metadata: None,
        status: status.map(|s| (s, None)),
    })
}

fn unreviewed_commented(options: &Value) -> ReviewResult {
    match options.get("unreviewedCommented").and_then(Value::as_str) {
        Some("notchecked") => ReviewResult::NotChecked,
        _ => ReviewResult::Informational,
    }
}

/// Empty text is left out (`ignore`), kept empty (`import`) or replaced (`replace`).
fn filled(text: &str, option: &str, replacement: &str) -> Option<String> {
    match (text.is_empty(), option) {
        (false, _) => Some(text.to_string()),
        (true, "ignore") => None,
        (true, "replace") => Some(replacement.to_string()),
        (true, _) => Some(String::new()),
    }
}

/// The status `autoStatus` asks for, lowered to what the review may hold.
fn auto_status(
    options: &Value,
    result: ReviewResult,
    detail: Option<&str>,
    comment: Option<&str>,
    settings: &CollectionSettings,
    role: Role,
) -> Option<ReviewStatus> {
    let wanted = match options.get("autoStatus") {
        Some(Value::String(s)) => s.as_str(),
        Some(map) => map.get(result.api()).and_then(Value::as_str).unwrap_or("saved"),
        None => "saved",
    };
    let submittable = result.is_assessed()
        && meets(settings.fields.detail.required, result, detail)
        && meets(settings.fields.comment.required, result, comment);
    let may_accept = settings.status.can_accept && role.id() >= settings.status.min_accept_grant;
    match wanted {
        "null" => None,
        "accepted" if submittable && may_accept => Some(ReviewStatus::Accepted),
        "accepted" | "submitted" if submittable => Some(ReviewStatus::Submitted),
        _ => Some(ReviewStatus::Saved),
    }
}

fn meets(required: Required, result: ReviewResult, text: Option<&str>) -> bool {
    let empty = text.is_none_or(str::is_empty);
    match required {
        Required::Optional => true,
        Required::Findings => result != ReviewResult::Fail || !empty,
        Required::Always => !empty,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::settings::default_settings;

    fn item(result: ReviewResult, detail: &str) -> ChecklistResult {
        ChecklistResult {
            result,
            detail: detail.into(),
            comment: String::new(),
            result_engine: None,
        }
    }

    #[test]
    fn default_options_keep_commented_unreviewed_rules_as_informational() {
        let options = default_settings()["importOptions"].clone();
        let s = CollectionSettings::default();
        let skipped =
            review_from_checklist(&item(ReviewResult::NotChecked, ""), &options, &s, Role::Owner);
        assert!(skipped.is_none());
        let kept = review_from_checklist(
            &item(ReviewResult::NotChecked, "why"),
            &options,
            &s,
            Role::Owner,
        )
        .unwrap();
        assert_eq!(kept.result, Some(ReviewResult::Informational));
        assert_eq!(kept.comment, None);
        let pass = review_from_checklist(&item(ReviewResult::Pass, ""), &options, &s, Role::Owner)
            .unwrap();
        assert_eq!(pass.detail.as_deref(), Some(NO_DETAIL));
        assert_eq!(pass.status, Some((ReviewStatus::Saved, None)));
    }

    #[test]
    fn auto_status_falls_back_when_a_review_cannot_be_submitted() {
        let mut options = default_settings()["importOptions"].clone();
        options["autoStatus"] = Value::String("accepted".into());
        options["emptyDetail"] = Value::String("import".into());
        let s = CollectionSettings::default();
        let empty = review_from_checklist(&item(ReviewResult::Pass, ""), &options, &s, Role::Owner);
        assert_eq!(empty.unwrap().status, Some((ReviewStatus::Saved, None)));
        let full = review_from_checklist(&item(ReviewResult::Pass, "d"), &options, &s, Role::Full);
        assert_eq!(full.unwrap().status, Some((ReviewStatus::Submitted, None)));
        let owner =
            review_from_checklist(&item(ReviewResult::Pass, "d"), &options, &s, Role::Owner);
        assert_eq!(owner.unwrap().status, Some((ReviewStatus::Accepted, None)));
    }
}
