//! Request bodies of the streamed collection operations: clone and export-to.

use serde::Deserialize;

use crate::review::double_option;

/// `POST /collections/{collectionId}/clone`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectionCloneRequest {
    pub name: String,
    /// Required but nullable: `None` when absent, `Some(None)` for `null`.
    #[serde(default, deserialize_with = "double_option")]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub options: CollectionCloneOptions,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectionCloneOptions {
    /// Deprecated; only `true` is accepted (assets are always cloned).
    pub assets: Option<bool>,
    /// Deprecated; only `true` is accepted (labels are always cloned).
    pub labels: Option<bool>,
    pub grants: Option<bool>,
    pub stig_mappings: Option<StigMappingsOption>,
    pub pin_revisions: Option<PinRevisionsOption>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StigMappingsOption {
    WithReviews,
    WithoutReviews,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PinRevisionsOption {
    MatchSource,
    SourceDefaults,
}

/// One item of `POST /collections/{collectionId}/export-to/{dstCollectionId}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetStigSelection {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    /// Absent: every STIG mapped to the asset, at the source's default revision.
    #[serde(default)]
    pub stigs: Option<Vec<StigSelection>>,
}

/// A benchmark id (its default revision) or a benchmark and a named revision.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(untagged)]
pub enum StigSelection {
    Benchmark(String),
    Revision(BenchmarkRevision),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BenchmarkRevision {
    pub benchmark_id: String,
    pub revision_str: String,
}
