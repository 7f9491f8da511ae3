//! The one error type of this crate; its `Display` text is shown to API users.

use thiserror::Error;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    /// Not well-formed XML, truncated XML, or bytes that are not XML at all.
    #[error("XML parse error at byte {position}: {message}")]
    Xml { position: u64, message: String },

    /// Well-formed XML whose root is not an XCCDF `Benchmark`.
    #[error("not an XCCDF benchmark: root element is <{root}>")]
    NotBenchmark { root: String },

    /// A SCAP data-stream collection; STIG Manager answers 422 for these.
    #[error("SCAP Benchmarks are not imported.")]
    ScapDataStream,

    /// Well-formed XML whose root is not a CKL `CHECKLIST`.
    #[error("not a CKL checklist: root element is <{root}>")]
    NotCkl { root: String },

    /// Valid JSON that does not have the shape of a CKLB checklist.
    #[error("not a CKLB checklist: {reason}")]
    NotCklb { reason: String },

    /// Well-formed XML whose root is not a DISA `cci_list`.
    #[error("not a CCI list: root element is <{root}>")]
    NotCciList { root: String },

    /// Bytes that are not JSON.
    #[error("JSON parse error: {message}")]
    Json { line: usize, column: usize, message: String },

    /// The document has the right shape but lacks or breaks something required.
    #[error("{0}")]
    Invalid(String),

    /// A document could not be written (the writer's sink failed).
    #[error("cannot write the document: {0}")]
    Write(String),

    /// A zip archive that cannot be read.
    #[error("zip error: {0}")]
    Zip(String),

    /// A zip archive that inflates beyond the configured limits.
    #[error("zip archive rejected: {reason}")]
    ZipBomb { reason: String },
}

impl From<serde_json::Error> for FormatError {
    fn from(err: serde_json::Error) -> Self {
        FormatError::Json { line: err.line(), column: err.column(), message: err.to_string() }
    }
}

impl From<zip::result::ZipError> for FormatError {
    fn from(err: zip::result::ZipError) -> Self {
        FormatError::Zip(err.to_string())
    }
}
