//! Operation responses: configuration.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Commit {
    pub branch: String,
    pub sha: String,
    pub tag: String,
    pub describe: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    pub version: String,
    pub commit: Commit,
    pub last_migration: i64,
    pub classification: String,
}
