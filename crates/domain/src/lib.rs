//! STIG Manager's domain rules, free of HTTP and SQL: the result, status and role vocabularies,
//! revision naming, collection settings and the checks a review must pass before it is written.

pub mod collection_rules;
pub mod import;
pub mod review;
pub mod review_aging;
pub mod revision;
pub mod settings;

pub use review::{ReviewResult, ReviewStatus};
pub use revision::RevisionStr;
pub use settings::CollectionSettings;

use serde::{Deserialize, Serialize};

/// A collection grant's role; the numbers are the wire `roleId`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub enum Role {
    Restricted = 1,
    Full = 2,
    Manage = 3,
    Owner = 4,
}

impl Role {
    pub fn id(self) -> i64 {
        self as i64
    }
}

impl TryFrom<i64> for Role {
    type Error = String;

    fn try_from(id: i64) -> Result<Self, Self::Error> {
        match id {
            1 => Ok(Role::Restricted),
            2 => Ok(Role::Full),
            3 => Ok(Role::Manage),
            4 => Ok(Role::Owner),
            other => Err(format!("roleId {other} is not 1, 2, 3 or 4")),
        }
    }
}

impl From<Role> for i64 {
    fn from(role: Role) -> i64 {
        role.id()
    }
}

/// Formats epoch seconds the way most of the API does: `2021-07-16T03:34:02Z`.
/// (Metrics write three per checklist, so this skips parsing a format string each time.)
pub fn iso_seconds(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Formats epoch seconds with milliseconds, as the asset checklist JSON and `/op/state` do.
pub fn iso_millis(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_like_the_api() {
        assert_eq!(iso_seconds(1626406442), "2021-07-16T03:34:02Z");
        assert_eq!(iso_millis(1626406442), "2021-07-16T03:34:02.000Z");
    }

    #[test]
    fn roles_round_trip_through_their_ids() {
        assert_eq!(Role::try_from(3), Ok(Role::Manage));
        assert!(Role::try_from(5).is_err());
        assert!(Role::Owner > Role::Manage);
    }
}
