//! Collection settings: the defaults, the shallow merge applied on create and replace, and the
//! typed view the review rules read.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The settings every collection starts from, as JSON.
pub fn default_settings() -> Value {
    json!({
        "fields": {
            "detail": {"enabled": "always", "required": "always"},
            "comment": {"enabled": "findings", "required": "findings"}
        },
        "status": {"canAccept": true, "resetCriteria": "result", "minAcceptGrant": 3},
        "history": {"maxReviews": 5},
        "importOptions": {
            "autoStatus": {"fail": "saved", "notapplicable": "saved", "pass": "saved"},
            "unreviewed": "commented",
            "unreviewedCommented": "informational",
            "emptyDetail": "replace",
            "emptyComment": "ignore",
            "allowCustom": true
        }
    })
}

/// Create and replace merge the supplied groups over the defaults at the top level only: a
/// supplied `fields` replaces the whole default `fields`.
pub fn merge_over_defaults(supplied: Option<&Map<String, Value>>) -> Value {
    let mut merged = default_settings();
    if let (Some(target), Some(supplied)) = (merged.as_object_mut(), supplied) {
        for (key, value) in supplied {
            target.insert(key.clone(), value.clone());
        }
    }
    merged
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Required {
    Always,
    Findings,
    Optional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResetCriteria {
    Result,
    Any,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FieldSetting {
    pub required: Required,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FieldSettings {
    pub detail: FieldSetting,
    pub comment: FieldSetting,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusSettings {
    pub can_accept: bool,
    pub reset_criteria: ResetCriteria,
    pub min_accept_grant: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistorySettings {
    pub max_reviews: i64,
}

/// The parts of a collection's settings that the server acts on.
#[derive(Debug, Clone, Deserialize)]
pub struct CollectionSettings {
    pub fields: FieldSettings,
    pub status: StatusSettings,
    pub history: HistorySettings,
}

impl CollectionSettings {
    /// Reads stored settings; groups that are missing or unreadable fall back to the defaults.
    pub fn from_stored(stored: &Value) -> Self {
        let merged = merge_over_defaults(stored.as_object());
        let group = |name: &str| merged.get(name).cloned().unwrap_or(Value::Null);
        let defaults = default_settings();
        let pick = |name: &str| {
            let value = group(name);
            let fallback = defaults.get(name).cloned().unwrap_or(Value::Null);
            (value, fallback)
        };
        CollectionSettings {
            fields: parse_or_default(pick("fields")),
            status: parse_or_default(pick("status")),
            history: parse_or_default(pick("history")),
        }
    }
}

fn parse_or_default<T: serde::de::DeserializeOwned>((value, fallback): (Value, Value)) -> T {
    serde_json::from_value(value)
        .or_else(|_| serde_json::from_value(fallback))
        .unwrap_or_else(|_| unreachable!("the default settings always deserialize"))
}

impl Default for CollectionSettings {
    fn default() -> Self {
        Self::from_stored(&Value::Null)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_shallow() {
        let supplied = json!({"fields": {"detail": {"enabled": "always", "required": "optional"}}});
        let merged = merge_over_defaults(supplied.as_object());
        assert_eq!(merged["fields"].get("comment"), None);
        assert_eq!(merged["history"]["maxReviews"], 5);
    }

    #[test]
    fn stored_settings_are_read_with_defaults_for_broken_groups() {
        let stored = json!({"status": {"canAccept": false, "resetCriteria": "any",
            "minAcceptGrant": 4}, "history": "broken"});
        let s = CollectionSettings::from_stored(&stored);
        assert!(!s.status.can_accept);
        assert_eq!(s.status.reset_criteria, ResetCriteria::Any);
        assert_eq!(s.history.max_reviews, 5);
        assert_eq!(s.fields.detail.required, Required::Always);
    }
}
