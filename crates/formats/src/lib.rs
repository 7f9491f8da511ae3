//! Readers for the content STIG Manager ingests: DISA XCCDF benchmarks, CKL and CKLB checklists,
//! DISA's CCI list, zip libraries, and content sniffing.

pub mod cci;
pub mod checklist;
pub mod detect;
mod error;
pub mod library;
mod text;
pub mod xccdf;
mod xml;

pub use error::FormatError;
