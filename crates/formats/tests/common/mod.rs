//! Helpers shared by the integration tests: paths into `shared/data` and file loading.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

pub fn data_path(relative: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(relative)
}

pub fn read(relative: &str) -> Vec<u8> {
    let path = data_path(relative);
    std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

pub fn read_string(relative: &str) -> String {
    String::from_utf8(read(relative)).expect("test data is UTF-8")
}

/// Every file in a data directory, sorted, as (file name, bytes).
pub fn files_in(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(data_path(dir))
        .expect("data directory exists")
        .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.into_iter().map(|name| (name.clone(), read(&format!("{dir}/{name}")))).collect()
}

/// Occurrences of `needle` in `haystack`, counted without regexes.
pub fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Rows of a CSV file (RFC 4180 quoting), header included.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// CSV rows as maps from header name to value.
pub fn csv_records(relative: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut rows = csv_rows(&read_string(relative)).into_iter();
    let header = rows.next().expect("header row");
    rows.map(|row| header.iter().cloned().zip(row).collect()).collect()
}
