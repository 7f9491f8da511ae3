//! Zip archives of content (DISA's library zip nests one zip per STIG), inflated with limits
//! so that a small upload cannot expand into unbounded memory.

use std::io::{Cursor, Read};

use zip::ZipArchive;

use crate::FormatError;

/// Nested zips deeper than this are refused (DISA's library nests one level).
const MAX_DEPTH: usize = 4;

/// Members that inflate to no more than this are never judged by their ratio: small, highly
/// repetitive text legitimately compresses very well.
const RATIO_FLOOR: u64 = 1 << 20;

/// How far an archive may inflate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes inflated in total, nested archives included.
    pub max_total_bytes: u64,
    /// Inflated bytes per compressed byte, for each member and for each archive as a whole.
    pub max_ratio: u64,
    /// Entries in total, nested archives included.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_total_bytes: 1 << 30, max_ratio: 200, max_entries: 100_000 }
    }
}

/// A file found in an archive. Members of nested zips are named `{outer member}/{inner name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Whether the bytes start like a zip archive (a local file header or an empty archive).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Every file member, recursing into nested zips, with the limits enforced on the bytes
/// actually inflated (header sizes are not trusted).
pub fn members(zip_bytes: &[u8], limits: &Limits) -> Result<Vec<Member>, FormatError> {
    let mut budget = Budget { limits, inflated: 0, entries: 0 };
    let mut found = Vec::new();
    expand(zip_bytes, "", 0, &mut budget, &mut found)?;
    Ok(found)
}

/// What has been spent of the limits so far.
struct Budget<'l> {
    limits: &'l Limits,
    inflated: u64,
    entries: usize,
}

fn bomb(reason: String) -> FormatError {
    FormatError::ZipBomb { reason }
}

fn ratio_cap(compressed: u64, ratio: u64) -> u64 {
    compressed.saturating_mul(ratio).max(RATIO_FLOOR)
}

fn expand(
    bytes: &[u8],
    prefix: &str,
    depth: usize,
    budget: &mut Budget,
    found: &mut Vec<Member>,
) -> Result<(), FormatError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes))?;
    budget.count_entries(archive.len())?;
    let archive_cap = ratio_cap(bytes.len() as u64, budget.limits.max_ratio);
    let mut archive_inflated = 0u64;
    for index in 0..archive.len() {
        let mut file = archive.by_index(index)?;
        if file.is_dir() {
            continue;
        }
        let name = format!("{prefix}{}", file.name());
        let member_cap = ratio_cap(file.compressed_size(), budget.limits.max_ratio);
        let cap = member_cap.min(archive_cap.saturating_sub(archive_inflated));
        let data = budget.inflate(&mut file, &name, cap)?;
        archive_inflated += data.len() as u64;
        drop(file);
        if !is_zip(&data) {
            found.push(Member { name, bytes: data });
        } else if depth + 1 > MAX_DEPTH {
            return Err(bomb(format!("zips are nested more than {MAX_DEPTH} levels deep")));
        } else {
            expand(&data, &format!("{name}/"), depth + 1, budget, found)?;
        }
    }
    Ok(())
}

impl Budget<'_> {
    fn count_entries(&mut self, entries: usize) -> Result<(), FormatError> {
        self.entries = self.entries.saturating_add(entries);
        if self.entries > self.limits.max_entries {
            let max = self.limits.max_entries;
            return Err(bomb(format!("the archive holds more than {max} entries")));
        }
        Ok(())
    }

    /// Inflates one member, stopping one byte past whichever limit is nearest.
    fn inflate(
        &mut self,
        file: &mut impl Read,
        name: &str,
        ratio_cap: u64,
    ) -> Result<Vec<u8>, FormatError> {
        let total_left = self.limits.max_total_bytes.saturating_sub(self.inflated);
        let allowed = total_left.min(ratio_cap);
        let mut data = Vec::new();
        file.take(allowed.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|err| FormatError::Zip(format!("cannot inflate {name}: {err}")))?;
        let size = data.len() as u64;
        if size > total_left {
            let max = self.limits.max_total_bytes;
            return Err(bomb(format!("the archive inflates to more than {max} bytes")));
        }
        if size > ratio_cap {
            let ratio = self.limits.max_ratio;
            return Err(bomb(format!(
                "{name} inflates more than {ratio} times its compressed size"
            )));
        }
        self.inflated += size;
        Ok(data)
    }
}
