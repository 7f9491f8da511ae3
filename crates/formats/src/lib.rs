//! Readers for the content STIG Manager ingests (DISA XCCDF benchmarks, CKL and CKLB checklists,
//! XCCDF results, DISA's CCI list, zip libraries, content sniffing) and writers for the
//! checklists and results it exports.

pub mod cci;
pub mod checklist;
pub mod detect;
mod error;
pub mod export;
pub mod library;
mod text;
pub mod xccdf;
mod xml;

pub use error::FormatError;
