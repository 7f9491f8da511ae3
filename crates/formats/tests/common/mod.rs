//! Helpers shared by the integration tests: paths into `shared/data` and file loading.
#![allow(dead_code)]

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
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| (name.clone(), read(&format!("{dir}/{name}"))))
        .collect()
}

/// Occurrences of `needle` in `haystack`, counted without regexes.
pub fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}
