//! STIG Manager's portable application data (JSONL, DOMAIN-2 §5.1–5.2) mapped onto Stigward's
//! schema. Upstream's camelCase columns, MySQL datetimes, JSON-as-text and `Buffer` binaries
//! become our snake_case columns, epoch seconds, compact JSON and SHA-256 digests, and back.
//! Derived tables are recomputed, not loaded: `current_rev`, and the revisions of `default_rev`
//! (a view here), whose upstream row ids alone are kept.

use std::collections::BTreeMap;

use base64::Engine;
use futures::TryStreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};

use crate::{Cancellation, Dialect, Result, Store, StoreError};

/// One table of an application data file.
#[derive(Debug, Clone, Default)]
pub struct AppTable {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl AppTable {
    fn rows_as_maps(&self) -> Vec<BTreeMap<&str, &Value>> {
        self.rows
            .iter()
            .map(|row| self.columns.iter().map(String::as_str).zip(row.iter()).collect())
            .collect()
    }
}

/// A parsed file: the header, the table list line (echoed back), and the tables.
#[derive(Debug, Clone, Default)]
pub struct AppData {
    pub header: Value,
    pub table_list: Value,
    pub tables: Vec<AppTable>,
}

/// Reads the JSONL text. Unlike upstream, which skips unparsable lines, a malformed or
/// truncated file is refused as a whole so that nothing half-read replaces the data.
pub fn parse(text: &str) -> std::result::Result<AppData, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let mut read = |what: &str| -> std::result::Result<(usize, Value), String> {
        let (n, line) = lines.next().ok_or_else(|| format!("file ends before the {what}"))?;
        serde_json::from_str(line).map(|v| (n + 1, v)).map_err(|e| format!("line {}: {e}", n + 1))
    };
    let (_, header) = read("header")?;
    let (_, table_list) = read("table list")?;
    if table_list.get("tables").and_then(Value::as_array).is_none() {
        return Err("line 2 is not a table list".into());
    }
    let mut tables = Vec::new();
    while let Ok((n, head)) = read("next table") {
        let name =
            head.get("table").and_then(Value::as_str).ok_or(format!("line {n}: no table"))?;
        let columns =
            head.get("columns").and_then(Value::as_str).ok_or(format!("line {n}: no columns"))?;
        let count =
            head.get("rowCount").and_then(Value::as_u64).ok_or(format!("line {n}: no rowCount"))?;
        let columns: Vec<String> =
            columns.split(',').map(|c| c.trim().trim_matches('`').to_string()).collect();
        let mut rows = Vec::new();
        for _ in 0..count {
            let (n, row) = read(&format!("rows of {name}"))?;
            match row {
                Value::Array(values) if values.len() == columns.len() => rows.push(values),
                _ => {
                    return Err(format!(
                        "line {n}: a row of {name} must be an array of {} values",
                        columns.len()
                    ))
                }
            }
        }
        tables.push(AppTable { name: name.to_string(), columns, rows });
    }
    let listed = table_list["tables"].as_array().map_or(0, Vec::len);
    if listed != tables.len() {
        return Err(format!(
            "the table list names {listed} tables but the file holds {}",
            tables.len()
        ));
    }
    Ok(AppData { header, table_list, tables })
}

/// How one of our columns is filled from a source row.
#[derive(Clone, Copy)]
enum Src {
    Int(&'static str),
    Text(&'static str),
    /// Text that must not be NULL here (upstream allows it): NULL is stored as '', and the
    /// companion column `<ours>_null` (filled by `IsNull`) remembers it for the export.
    Required(&'static str),
    /// 1 when the column is NULL.
    IsNull(&'static str),
    /// MySQL `YYYY-MM-DD HH:MM:SS` → epoch seconds.
    Time(&'static str),
    Json(&'static str),
    Flag(&'static str),
    Bytes(&'static str),
    Uuid(&'static str),
    /// SHA-256 of a text column.
    Sha(&'static str),
    /// Numeric part of an id after a prefix of this many characters.
    Num(&'static str, usize),
    ReleaseNum(&'static str),
    /// The later of two datetimes.
    Later(&'static str, &'static str),
    Zero,
    /// An integer written after the whole table is in (a reference within the table).
    Deferred(&'static str),
    /// A metrics counter, recounted once loaded; upstream leaves new mappings' counters NULL.
    Counter(&'static str),
}

struct Mapping {
    source: &'static str,
    target: &'static str,
    columns: &'static [(&'static str, Src)],
    /// Rows failing this condition (over the bound `$N` values) are skipped: upstream loads
    /// with foreign keys off, so its files can hold rows whose parent is gone.
    guard: Option<&'static str>,
}

use Src::*;

/// Tables in load order (references first).
const MAPPINGS: &[Mapping] = &[
    Mapping {
        source: "user_data",
        target: "user_data",
        columns: &[
            ("user_id", Int("userId")),
            ("username", Text("username")),
            ("created", Time("created")),
            ("last_access", Int("lastAccess")),
            ("last_claims", Json("lastClaims")),
            ("status", Text("status")),
            ("status_date", Time("statusDate")),
            ("web_preferences", Json("webPreferences")),
            ("status_user_id", Deferred("statusUser")),
            ("task_id", Int("taskId")),
        ],
        guard: None,
    },
    Mapping {
        source: "user_group",
        target: "user_group",
        columns: &[
            ("user_group_id", Int("userGroupId")),
            ("name", Text("name")),
            ("description", Text("description")),
            ("created_user_id", Int("createdUserId")),
            ("created_date", Time("createdDate")),
            ("modified_user_id", Int("modifiedUserId")),
            ("modified_date", Time("modifiedDate")),
        ],
        guard: None,
    },
    Mapping {
        source: "user_group_user_map",
        target: "user_group_user_map",
        columns: &[
            ("ugum_id", Int("ugumId")),
            ("user_group_id", Int("userGroupId")),
            ("user_id", Int("userId")),
        ],
        guard: None,
    },
    Mapping {
        source: "collection",
        target: "collection",
        columns: &[
            ("collection_id", Int("collectionId")),
            ("name", Text("name")),
            ("description", Text("description")),
            ("settings", Json("settings")),
            ("metadata", Json("metadata")),
            ("created", Time("created")),
            ("created_user_id", Int("createdUserId")),
            ("state", Text("state")),
            ("state_date", Time("stateDate")),
            ("state_user_id", Int("stateUserId")),
        ],
        guard: None,
    },
    Mapping {
        source: "stig",
        target: "stig",
        columns: &[("benchmark_id", Text("benchmarkId")), ("title", Text("title"))],
        guard: None,
    },
    Mapping {
        source: "revision",
        target: "revision",
        columns: &[
            ("rev_id", Text("revId")),
            ("benchmark_id", Text("benchmarkId")),
            ("version", Int("version")),
            ("release", Text("release")),
            ("release_num", ReleaseNum("release")),
            ("benchmark_date", Text("benchmarkDate")),
            ("benchmark_date_sql", Text("benchmarkDateSql")),
            ("status", Text("status")),
            ("status_date", Text("statusDate")),
            ("marking", Text("marking")),
            ("description", Text("description")),
            ("group_count", Int("groupCount")),
            ("check_count", Int("checkCount")),
            ("fix_count", Int("fixCount")),
            ("low_count", Int("lowCount")),
            ("medium_count", Int("mediumCount")),
            ("high_count", Int("highCount")),
            ("active", Int("active")),
            ("imported", Zero),
        ],
        guard: None,
    },
    Mapping {
        source: "check_content",
        target: "check_content",
        columns: &[
            ("cc_id", Int("ccId")),
            ("digest", Sha("content")),
            ("content", Text("content")),
        ],
        guard: None,
    },
    Mapping {
        source: "fix_text",
        target: "fix_text",
        columns: &[("ft_id", Int("ftId")), ("digest", Sha("text")), ("text", Text("text"))],
        guard: None,
    },
    Mapping {
        source: "rev_group_rule_map",
        target: "rev_group_rule_map",
        columns: &[
            ("rgr_id", Int("rgrId")),
            ("rev_id", Text("revId")),
            ("group_id", Text("groupId")),
            ("group_title", Text("groupTitle")),
            ("group_severity", Text("groupSeverity")),
            ("group_num", Num("groupId", 2)),
            ("rule_num", Num("ruleId", 3)),
            ("rule_id", Text("ruleId")),
            ("version", Text("version")),
            ("title", Required("title")),
            ("title_null", IsNull("title")),
            ("severity", Required("severity")),
            ("severity_null", IsNull("severity")),
            ("weight", Text("weight")),
            ("vuln_discussion", Text("vulnDiscussion")),
            ("false_positives", Text("falsePositives")),
            ("false_negatives", Text("falseNegatives")),
            ("documentable", Text("documentable")),
            ("mitigations", Text("mitigations")),
            ("severity_override_guidance", Text("severityOverrideGuidance")),
            ("potential_impacts", Text("potentialImpacts")),
            ("third_party_tools", Text("thirdPartyTools")),
            ("mitigation_control", Text("mitigationControl")),
            ("responsibility", Text("responsibility")),
            ("ia_controls", Text("iaControls")),
            ("check_system", Text("checkSystem")),
            ("check_digest", Bytes("checkDigest")),
            ("fixref", Text("fixref")),
            ("fix_digest", Bytes("fixDigest")),
        ],
        guard: None,
    },
    Mapping {
        source: "rev_group_rule_cci_map",
        target: "rev_group_rule_cci_map",
        columns: &[("rgrcc_id", Int("rgrccId")), ("rgr_id", Int("rgrId")), ("cci", Text("cci"))],
        guard: Some("EXISTS (SELECT 1 FROM rev_group_rule_map WHERE rgr_id = $2)"),
    },
    Mapping {
        source: "rule_version_check_digest",
        target: "rule_version_check_digest",
        columns: &[
            ("rule_id", Text("ruleId")),
            ("version", Text("version")),
            ("check_digest", Bytes("checkDigest")),
        ],
        guard: None,
    },
    Mapping {
        source: "asset",
        target: "asset",
        columns: &[
            ("asset_id", Int("assetId")),
            ("collection_id", Int("collectionId")),
            ("name", Text("name")),
            ("fqdn", Text("fqdn")),
            ("ip", Text("ip")),
            ("mac", Text("mac")),
            ("description", Text("description")),
            ("noncomputing", Flag("noncomputing")),
            ("metadata", Json("metadata")),
            ("state", Text("state")),
            ("state_date", Time("stateDate")),
            ("state_user_id", Int("stateUserId")),
        ],
        guard: None,
    },
    Mapping {
        source: "collection_label",
        target: "collection_label",
        columns: &[
            ("label_id", Int("clId")),
            ("collection_id", Int("collectionId")),
            ("uuid", Uuid("uuid")),
            ("name", Text("name")),
            ("description", Text("description")),
            ("color", Text("color")),
        ],
        guard: None,
    },
    Mapping {
        source: "collection_label_asset_map",
        target: "collection_label_asset_map",
        columns: &[
            ("cla_id", Int("claId")),
            ("label_id", Int("clId")),
            ("asset_id", Int("assetId")),
        ],
        guard: None,
    },
    Mapping {
        source: "collection_grant",
        target: "collection_grant",
        columns: &[
            ("grant_id", Int("grantId")),
            ("collection_id", Int("collectionId")),
            ("user_id", Int("userId")),
            ("user_group_id", Int("userGroupId")),
            ("role_id", Int("roleId")),
        ],
        guard: None,
    },
    Mapping {
        source: "collection_grant_acl",
        target: "collection_grant_acl",
        columns: &[
            ("acl_id", Int("cgAclId")),
            ("grant_id", Int("grantId")),
            ("benchmark_id", Text("benchmarkId")),
            ("asset_id", Int("assetId")),
            ("label_id", Int("clId")),
            ("access", Text("access")),
            ("modified_user_id", Int("modifiedUserId")),
            ("modified_date", Time("modifiedDate")),
        ],
        guard: None,
    },
    Mapping {
        source: "stig_asset_map",
        target: "stig_asset_map",
        columns: &[
            ("sa_id", Int("saId")),
            ("benchmark_id", Text("benchmarkId")),
            ("asset_id", Int("assetId")),
            ("notchecked", Counter("notchecked")),
            ("notchecked_result_engine", Counter("notcheckedResultEngine")),
            ("notapplicable", Counter("notapplicable")),
            ("notapplicable_result_engine", Counter("notapplicableResultEngine")),
            ("pass", Counter("pass")),
            ("pass_result_engine", Counter("passResultEngine")),
            ("fail", Counter("fail")),
            ("fail_result_engine", Counter("failResultEngine")),
            ("unknown", Counter("unknown")),
            ("unknown_result_engine", Counter("unknownResultEngine")),
            ("error", Counter("error")),
            ("error_result_engine", Counter("errorResultEngine")),
            ("notselected", Counter("notselected")),
            ("notselected_result_engine", Counter("notselectedResultEngine")),
            ("informational", Counter("informational")),
            ("informational_result_engine", Counter("informationalResultEngine")),
            ("fixed", Counter("fixed")),
            ("fixed_result_engine", Counter("fixedResultEngine")),
            ("saved", Counter("saved")),
            ("saved_result_engine", Counter("savedResultEngine")),
            ("submitted", Counter("submitted")),
            ("submitted_result_engine", Counter("submittedResultEngine")),
            ("rejected", Counter("rejected")),
            ("rejected_result_engine", Counter("rejectedResultEngine")),
            ("accepted", Counter("accepted")),
            ("accepted_result_engine", Counter("acceptedResultEngine")),
            ("high_count", Counter("highCount")),
            ("medium_count", Counter("mediumCount")),
            ("low_count", Counter("lowCount")),
            ("assessed_high_count", Counter("assessedHighCount")),
            ("assessed_medium_count", Counter("assessedMediumCount")),
            ("assessed_low_count", Counter("assessedLowCount")),
            ("min_ts", Time("minTs")),
            ("max_ts", Time("maxTs")),
            ("max_touch_ts", Time("maxTouchTs")),
            ("user_ids", Json("userIds")),
        ],
        guard: None,
    },
    Mapping {
        source: "collection_rev_map",
        target: "collection_rev_map",
        columns: &[
            ("cr_id", Int("crId")),
            ("collection_id", Int("collectionId")),
            ("benchmark_id", Text("benchmarkId")),
            ("rev_id", Text("revId")),
        ],
        guard: None,
    },
    Mapping {
        // only the row ids: which revision is the default is decided, not loaded
        source: "default_rev",
        target: "default_rev_id",
        columns: &[
            ("vd_id", Int("vdId")),
            ("collection_id", Int("collectionId")),
            ("benchmark_id", Text("benchmarkId")),
        ],
        guard: None,
    },
    Mapping {
        source: "review",
        target: "review",
        columns: &[
            ("review_id", Int("reviewId")),
            ("asset_id", Int("assetId")),
            ("rule_id", Text("ruleId")),
            ("version", Text("version")),
            ("check_digest", Bytes("checkDigest")),
            ("result_id", Int("resultId")),
            ("detail", Required("detail")),
            ("detail_null", IsNull("detail")),
            ("comment", Required("comment")),
            ("comment_null", IsNull("comment")),
            ("auto_result", Flag("autoResult")),
            ("result_engine", Json("resultEngine")),
            ("metadata", Json("metadata")),
            ("user_id", Int("userId")),
            ("ts", Time("ts")),
            ("status_id", Int("statusId")),
            ("status_text", Text("statusText")),
            ("status_user_id", Int("statusUserId")),
            ("status_ts", Time("statusTs")),
            ("touch_ts", Later("ts", "statusTs")),
        ],
        guard: None,
    },
    Mapping {
        source: "review_history",
        target: "review_history",
        columns: &[
            ("history_id", Int("historyId")),
            ("review_id", Int("reviewId")),
            ("rule_id", Text("ruleId")),
            ("result_id", Int("resultId")),
            ("detail", Text("detail")),
            ("comment", Text("comment")),
            ("auto_result", Flag("autoResult")),
            ("result_engine", Json("resultEngine")),
            ("user_id", Int("userId")),
            ("ts", Time("ts")),
            ("status_id", Int("statusId")),
            ("status_text", Text("statusText")),
            ("status_user_id", Int("statusUserId")),
            ("status_ts", Time("statusTs")),
            ("touch_ts", Time("touchTs")),
        ],
        guard: None,
    },
    Mapping {
        source: "review_aging_rule",
        target: "review_aging_rule",
        columns: &[
            ("aging_rule_id", Int("ruleId")),
            ("collection_id", Int("collectionId")),
            ("ordinal", Int("ordinal")),
            ("title", Text("title")),
            ("enabled", Flag("enabled")),
            ("trigger_field", Text("triggerField")),
            ("trigger_interval", Int("triggerInterval")),
            ("trigger_action", Text("triggerAction")),
            ("update_field", Text("updateField")),
            ("update_value", Text("updateValue")),
            ("asset_id", Int("assetId")),
            ("label_id", Int("clId")),
            ("benchmark_id", Text("benchmarkId")),
        ],
        guard: None,
    },
];

/// Tables the file may hold that Stigward derives instead of loading.
const DERIVED: &[&str] = &["current_rev"];

/// The tables holding integer identities, for resetting PostgreSQL's sequences after a load.
const IDENTITIES: &[(&str, &str)] = &[
    ("user_data", "user_id"),
    ("user_group", "user_group_id"),
    ("collection", "collection_id"),
    ("collection_grant", "grant_id"),
    ("collection_label", "label_id"),
    ("asset", "asset_id"),
    ("collection_grant_acl", "acl_id"),
    ("rev_group_rule_map", "rgr_id"),
    ("stig_asset_map", "sa_id"),
    ("review", "review_id"),
    ("review_history", "history_id"),
    ("review_aging_rule", "aging_rule_id"),
    ("check_content", "cc_id"),
    ("fix_text", "ft_id"),
    ("rev_group_rule_cci_map", "rgrcc_id"),
    ("collection_label_asset_map", "cla_id"),
    ("user_group_user_map", "ugum_id"),
    ("collection_rev_map", "cr_id"),
];

/// A value ready to bind.
#[derive(Debug, Clone)]
enum Bind {
    Int(Option<i64>),
    Real(f64),
    Text(Option<String>),
    Bytes(Vec<u8>),
}

fn bad(table: &str, row: usize, column: &str, why: &str) -> StoreError {
    StoreError::Conflict(format!("{table} row {}: {column} {why}", row + 1))
}

fn convert(table: &str, i: usize, row: &BTreeMap<&str, &Value>, src: Src) -> Result<Bind> {
    let get = |c: &str| row.get(c).copied().unwrap_or(&Value::Null);
    let text = |c: &str| -> Result<Option<String>> {
        match get(c) {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            _ => Err(bad(table, i, c, "is not text")),
        }
    };
    let time = |c: &str| -> Result<Option<i64>> {
        match text(c)? {
            None => Ok(None),
            Some(t) => chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S")
                .map(|d| Some(d.and_utc().timestamp()))
                .map_err(|_| bad(table, i, c, "is not a YYYY-MM-DD HH:MM:SS time")),
        }
    };
    Ok(match src {
        Int(c) => match get(c) {
            Value::Null => Bind::Int(None),
            Value::Number(n) => {
                Bind::Int(Some(n.as_i64().ok_or_else(|| bad(table, i, c, "is not an integer"))?))
            }
            Value::String(s) => {
                Bind::Int(Some(s.parse().map_err(|_| bad(table, i, c, "is not an integer"))?))
            }
            Value::Bool(b) => Bind::Int(Some(i64::from(*b))),
            _ => return Err(bad(table, i, c, "is not an integer")),
        },
        Text(c) => Bind::Text(text(c)?),
        Required(c) => Bind::Text(Some(text(c)?.unwrap_or_default())),
        IsNull(c) => Bind::Int(Some(i64::from(get(c).is_null()))),
        Time(c) => Bind::Int(time(c)?),
        Json(c) => match get(c) {
            Value::Null => Bind::Text(None),
            Value::String(s) => {
                let parsed: Value =
                    serde_json::from_str(s).map_err(|_| bad(table, i, c, "is not JSON text"))?;
                Bind::Text(Some(parsed.to_string()))
            }
            other => Bind::Text(Some(other.to_string())),
        },
        Flag(c) => match get(c) {
            Value::Bool(b) => Bind::Int(Some(i64::from(*b))),
            Value::Number(n) => Bind::Int(Some(i64::from(n.as_i64() != Some(0)))),
            Value::Null => Bind::Int(Some(0)),
            _ => return Err(bad(table, i, c, "is not a flag")),
        },
        Bytes(c) => Bind::Bytes(buffer(get(c)).ok_or_else(|| bad(table, i, c, "is not a Buffer"))?),
        Uuid(c) => {
            let bytes = buffer(get(c)).ok_or_else(|| bad(table, i, c, "is not a Buffer"))?;
            Bind::Text(Some(
                swapped_uuid(&bytes).ok_or_else(|| bad(table, i, c, "is not 16 bytes"))?,
            ))
        }
        Sha(c) => Bind::Bytes(Sha256::digest(text(c)?.unwrap_or_default().as_bytes()).to_vec()),
        Num(c, skip) => {
            let id = text(c)?.unwrap_or_default();
            let digits: String = id.chars().skip(skip).take_while(|c| c.is_ascii_digit()).collect();
            Bind::Int(Some(digits.parse().unwrap_or(0)))
        }
        ReleaseNum(c) => Bind::Real(text(c)?.and_then(|r| r.parse().ok()).unwrap_or(0.0)),
        Later(a, b) => Bind::Int(time(a)?.max(time(b)?)),
        Zero => Bind::Int(Some(0)),
        Deferred(_) => Bind::Int(None),
        Counter(c) => match get(c) {
            Value::Null => Bind::Int(Some(0)),
            _ => return convert(table, i, row, Int(c)),
        },
    })
}

/// A `{"type":"Buffer","data":"base64:…"}` value (also a byte array or a plain string).
fn buffer(value: &Value) -> Option<Vec<u8>> {
    let data = match value {
        Value::Object(map) => map.get("data")?,
        other => other,
    };
    match data {
        Value::String(s) => match s.strip_prefix("base64:") {
            Some(b64) => base64::engine::general_purpose::STANDARD.decode(b64).ok(),
            None => Some(s.as_bytes().to_vec()),
        },
        Value::Array(items) => {
            items.iter().map(|v| v.as_u64().and_then(|b| u8::try_from(b).ok())).collect()
        }
        _ => None,
    }
}

/// MySQL's `UUID_TO_BIN(x, 1)` moves the time-high group first; this undoes it.
fn swapped_uuid(bytes: &[u8]) -> Option<String> {
    if bytes.len() != 16 {
        return None;
    }
    let mut canonical = Vec::with_capacity(16);
    canonical.extend_from_slice(&bytes[4..8]);
    canonical.extend_from_slice(&bytes[2..4]);
    canonical.extend_from_slice(&bytes[0..2]);
    canonical.extend_from_slice(&bytes[8..16]);
    uuid::Uuid::from_slice(&canonical).ok().map(|u| u.to_string())
}

/// Rows are written, and their progress reported, this many at a time.
const LOAD_CHUNK: usize = 10_000;

/// One progress record of an import, as upstream reports each statement it runs: a table's
/// truncation (`value_count` 0), then each chunk of rows written.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadProgress<'a> {
    pub seq: u64,
    pub table: &'a str,
    pub value_count: u64,
}

/// Hands progress records to the caller; a `false` from it (nobody is listening any more)
/// cancels the import, which then rolls back.
struct Progress<'r, F> {
    report: &'r mut F,
    seq: u64,
}

impl<F: FnMut(&LoadProgress) -> bool> Progress<'_, F> {
    fn send(&mut self, table: &str, value_count: u64) -> Result<()> {
        self.seq += 1;
        match (self.report)(&LoadProgress { seq: self.seq, table, value_count }) {
            true => Ok(()),
            false => Err(StoreError::Cancelled),
        }
    }
}

impl Store {
    /// Replaces all application data with the file's, in one transaction: on any failure the
    /// previous data stays. `report` sees each step as it completes, before the commit; a
    /// `cancel` set before the commit rolls it back too.
    pub async fn replace_app_data<F>(
        &self,
        data: &AppData,
        report: &mut F,
        cancel: &Cancellation,
    ) -> Result<()>
    where
        F: FnMut(&LoadProgress) -> bool + Send,
    {
        let by_name: BTreeMap<&str, &AppTable> =
            data.tables.iter().map(|t| (t.name.as_str(), t)).collect();
        if let Some(unknown) = by_name
            .keys()
            .find(|n| !DERIVED.contains(n) && !MAPPINGS.iter().any(|m| m.source == **n))
        {
            return Err(StoreError::Conflict(format!("unknown table {unknown}")));
        }
        let mut progress = Progress { report, seq: 0 };
        let mut write = self.begin_write().await?;
        clear(&mut write.tx).await?;
        for mapping in MAPPINGS {
            let Some(table) = by_name.get(mapping.source) else { continue };
            progress.send(&table.name, 0)?;
            load_table(&mut write.tx, mapping, table, &mut progress).await?;
        }
        if let Some(users) = by_name.get("user_data") {
            // status users point at other users: set once every user exists
            for row in users.rows_as_maps() {
                if let (Some(Value::Number(id)), Some(Value::Number(by))) =
                    (row.get("userId"), row.get("statusUser"))
                {
                    sqlx::query("UPDATE user_data SET status_user_id = $2 WHERE user_id = $1")
                        .bind(id.as_i64())
                        .bind(by.as_i64())
                        .execute(&mut *write.tx)
                        .await?;
                }
            }
        }
        derive(&mut write.tx).await?;
        if self.dialect == Dialect::Postgres {
            for (table, column) in IDENTITIES {
                let statement = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                         COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
                );
                sqlx::query(&statement).execute(&mut *write.tx).await?;
            }
        }
        write.commit_unless(cancel).await?;
        Ok(())
    }
}

/// Empties every table the file replaces, most dependent first.
async fn clear(tx: &mut Transaction<'static, Any>) -> Result<()> {
    sqlx::query("DELETE FROM current_rev").execute(&mut **tx).await?;
    for mapping in MAPPINGS.iter().rev() {
        let statement = format!("DELETE FROM {}", mapping.target);
        sqlx::query(&statement).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Loads one table, reporting each chunk of rows written (guarded rows may be skipped).
async fn load_table<F: FnMut(&LoadProgress) -> bool>(
    tx: &mut Transaction<'static, Any>,
    mapping: &Mapping,
    table: &AppTable,
    progress: &mut Progress<'_, F>,
) -> Result<()> {
    let names: Vec<&str> = mapping.columns.iter().map(|(c, _)| *c).collect();
    let marks: Vec<String> = (1..=names.len()).map(|n| format!("${n}")).collect();
    let statement = format!(
        "INSERT INTO {} ({}) SELECT {} WHERE {} ON CONFLICT DO NOTHING",
        mapping.target,
        names.join(", "),
        marks.join(", "),
        mapping.guard.unwrap_or("1 = 1")
    );
    let rows = table.rows_as_maps();
    for (chunk_index, chunk) in rows.chunks(LOAD_CHUNK).enumerate() {
        let mut inserted = 0;
        for (offset, row) in chunk.iter().enumerate() {
            let i = chunk_index * LOAD_CHUNK + offset;
            let mut query = sqlx::query(&statement);
            for (_, src) in mapping.columns {
                query = match convert(&table.name, i, row, *src)? {
                    Bind::Int(v) => query.bind(v),
                    Bind::Real(v) => query.bind(v),
                    Bind::Text(v) => query.bind(v),
                    Bind::Bytes(v) => query.bind(v),
                };
            }
            let done = query
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::Conflict(format!("{} row {}: {e}", table.name, i + 1)))?;
            inserted += done.rows_affected();
        }
        progress.send(&table.name, inserted)?;
    }
    Ok(())
}

/// Recomputes the derived tables from the loaded ones.
async fn derive(tx: &mut Transaction<'static, Any>) -> Result<()> {
    let rows = sqlx::query("SELECT benchmark_id FROM stig").fetch_all(&mut **tx).await?;
    for row in &rows {
        let benchmark_id: String = row.try_get(0)?;
        sqlx::query(
            "INSERT INTO current_rev (benchmark_id, rev_id)
             SELECT benchmark_id, rev_id FROM revision WHERE benchmark_id = $1
             ORDER BY CASE WHEN status = 'draft' THEN 1 ELSE 0 END, version DESC, release_num DESC
             LIMIT 1",
        )
        .bind(&benchmark_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn buffers_and_swapped_uuids_decode() {
        let value =
            serde_json::json!({"type": "Buffer", "data": "base64:EeyaaHVbiiixvAJCrBEAAg=="});
        let bytes = buffer(&value).unwrap();
        assert_eq!(bytes.len(), 16);
        let uuid = swapped_uuid(&bytes).unwrap();
        // the version nibble of a v1 UUID lands in the third group once unswapped
        assert!(uuid.split('-').nth(2).unwrap().starts_with('1'), "{uuid}");
        assert_eq!(buffer(&serde_json::json!([1, 2])).unwrap(), vec![1, 2]);
    }

    #[test]
    fn truncated_and_malformed_files_are_refused() {
        let good = "{\"version\":\"1\"}\n{\"tables\":[{\"table\":\"stig\",\"rowCount\":1}]}\n{\"table\":\"stig\",\"columns\":\"`benchmarkId`,`title`\",\"rowCount\":1}\n[\"X\",\"t\"]\n";
        assert_eq!(parse(good).unwrap().tables[0].rows.len(), 1);
        let truncated = good.trim_end().rsplit_once('\n').unwrap().0;
        assert!(parse(truncated).is_err());
        assert!(parse(&good.replace("[\"X\",\"t\"]", "[\"X\"]")).is_err());
        assert!(parse("not json").is_err());
    }
}

/// The head of one exported table: its upstream name, columns (sorted) and row count.
#[derive(Debug, Clone)]
pub struct TableHead {
    pub name: &'static str,
    pub columns: Vec<&'static str>,
    pub row_count: i64,
}

/// What an export writes, in order: the heads of all tables, then each table's head followed
/// by its rows (each row's values in the order of the head's columns).
pub enum ExportItem<'a> {
    Tables(&'a [TableHead]),
    Table(&'a TableHead),
    Row(Vec<Value>),
}

/// Where an export writes. `false` (nobody is reading any more) stops the export.
pub trait ExportSink: Send {
    fn write(&mut self, item: ExportItem<'_>) -> impl std::future::Future<Output = bool> + Send;
}

impl Src {
    /// The upstream column this source reads, when the value is stored as such (derived
    /// values, such as digests and sort numbers, are not exported).
    fn stored(self) -> Option<&'static str> {
        match self {
            Int(c) | Text(c) | Required(c) | Time(c) | Json(c) | Flag(c) | Bytes(c) | Uuid(c)
            | Deferred(c) | Counter(c) => Some(c),
            Sha(_) | Num(..) | ReleaseNum(_) | Later(..) | Zero | IsNull(_) => None,
        }
    }
}

/// How one exported table is read: the select list (expression, alias, encoding), in the
/// order of the upstream columns, and what follows `FROM`.
struct TableRead {
    head: TableHead,
    values: Vec<(String, &'static str, Src)>,
    from: String,
    order: String,
}

impl TableRead {
    fn of(mapping: &Mapping, name: &'static str, from: &str) -> TableRead {
        let mut stored: Vec<(&'static str, &'static str, Src)> = mapping
            .columns
            .iter()
            .filter_map(|(ours, src)| src.stored().map(|theirs| (theirs, *ours, *src)))
            .collect();
        // upstream lists columns as MySQL sorts names: regardless of case
        stored.sort_by_key(|(theirs, _, _)| (theirs.to_lowercase(), *theirs));
        TableRead {
            head: TableHead {
                name,
                columns: stored.iter().map(|(theirs, _, _)| *theirs).collect(),
                row_count: 0,
            },
            values: stored
                .iter()
                .map(|(_, ours, src)| (read_as(ours, *src), *ours, *src))
                .collect(),
            from: from.to_string(),
            order: mapping.columns[0].0.to_string(),
        }
    }

    /// `default_rev` as the view decides it, with the row ids an import brought.
    fn default_rev() -> TableRead {
        let values = [
            ("d.benchmark_id", "benchmark_id", Text("benchmarkId")),
            ("d.collection_id", "collection_id", Int("collectionId")),
            ("d.rev_id", "rev_id", Text("revId")),
            ("CAST(d.revision_pinned AS BIGINT)", "revision_pinned", Int("revisionPinned")),
            ("k.vd_id", "vd_id", Int("vdId")),
        ];
        TableRead {
            head: TableHead {
                name: "default_rev",
                columns: values.iter().filter_map(|(_, _, src)| src.stored()).collect(),
                row_count: 0,
            },
            values: values.iter().map(|(e, alias, src)| (e.to_string(), *alias, *src)).collect(),
            from: "default_rev d LEFT JOIN default_rev_id k
                   ON k.collection_id = d.collection_id AND k.benchmark_id = d.benchmark_id"
                .into(),
            order: "d.collection_id, d.benchmark_id".into(),
        }
    }

    fn select(&self) -> String {
        let list: Vec<String> = self.values.iter().map(|(e, a, _)| format!("{e} AS {a}")).collect();
        format!("SELECT {} FROM {} ORDER BY {}", list.join(", "), self.from, self.order)
    }
}

/// The expression reading one of our columns for the export.
fn read_as(ours: &str, src: Src) -> String {
    match src {
        Required(_) => format!("CASE WHEN {ours}_null = 1 THEN NULL ELSE {ours} END"),
        _ => ours.to_string(),
    }
}

/// Every exported table, alphabetically.
fn export_plan() -> Vec<TableRead> {
    let mut tables: Vec<TableRead> = MAPPINGS
        .iter()
        .filter(|m| m.source != "default_rev")
        .map(|m| TableRead::of(m, m.source, m.target))
        .collect();
    if let Some(revision) = MAPPINGS.iter().find(|m| m.source == "revision") {
        let only_current = "revision WHERE rev_id IN (SELECT rev_id FROM current_rev)";
        tables.push(TableRead::of(revision, "current_rev", only_current));
    }
    tables.push(TableRead::default_rev());
    tables.sort_by_key(|t| t.head.name);
    tables
}

fn export_value(row: &sqlx::any::AnyRow, column: &str, src: Src) -> Result<Value> {
    let text = |c: &str| -> Result<Value> {
        Ok(row.try_get::<Option<String>, _>(c)?.map_or(Value::Null, Value::String))
    };
    Ok(match src {
        Int(_) | Deferred(_) | Counter(_) => {
            row.try_get::<Option<i64>, _>(column)?.map_or(Value::Null, Value::from)
        }
        Text(_) | Required(_) => text(column)?,
        Json(_) => match row.try_get::<Option<String>, _>(column)? {
            Some(stored) => {
                let parsed: Value = serde_json::from_str(&stored)
                    .map_err(|e| StoreError::Corrupt(format!("{column} is not JSON: {e}")))?;
                let mut out = String::new();
                mysql_json(&parsed, &mut out);
                Value::String(out)
            }
            None => Value::Null,
        },
        Time(_) => match row.try_get::<Option<i64>, _>(column)? {
            Some(t) => Value::String(
                chrono::DateTime::from_timestamp(t, 0)
                    .unwrap_or_default()
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
            ),
            None => Value::Null,
        },
        Flag(_) => Value::Bool(row.try_get::<Option<i64>, _>(column)?.unwrap_or(0) != 0),
        Bytes(_) => buffer_value(&row.try_get::<Vec<u8>, _>(column)?),
        Uuid(_) => {
            let text: String = row.try_get(column)?;
            let parsed = uuid::Uuid::parse_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("label uuid {text}: {e}")))?;
            let b = parsed.as_bytes();
            let mut swapped = Vec::with_capacity(16);
            swapped.extend_from_slice(&b[6..8]);
            swapped.extend_from_slice(&b[4..6]);
            swapped.extend_from_slice(&b[0..4]);
            swapped.extend_from_slice(&b[8..16]);
            buffer_value(&swapped)
        }
        Sha(_) | Num(..) | ReleaseNum(_) | Later(..) | Zero | IsNull(_) => Value::Null,
    })
}

/// JSON text as MySQL prints a JSON column, which is how upstream's files hold it: object
/// keys ordered by length, then bytewise, and a space after each `,` and `:`.
fn mysql_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                mysql_json(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                mysql_json(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn buffer_value(bytes: &[u8]) -> Value {
    let data = match bytes.is_empty() {
        true => String::new(),
        false => format!("base64:{}", base64::engine::general_purpose::STANDARD.encode(bytes)),
    };
    serde_json::json!({"type": "Buffer", "data": data})
}

impl Store {
    /// Writes every table in STIG Manager's layout to `sink`, rows as they are read, from one
    /// consistent snapshot (so the row counts written first hold for the rows that follow).
    // Known shortcoming: stig_asset_map `userIds` (upstream's restricted users of a checklist)
    // is kept as imported, never derived.
    pub async fn export_app_data<S: ExportSink>(&self, sink: &mut S) -> Result<()> {
        let mut tx = self.read_snapshot().await?;
        let mut tables = export_plan();
        for table in &mut tables {
            let count = format!("SELECT COUNT(*) FROM {}", table.from);
            table.head.row_count = sqlx::query_scalar(&count).fetch_one(&mut *tx).await?;
        }
        let heads: Vec<TableHead> = tables.iter().map(|t| t.head.clone()).collect();
        if !sink.write(ExportItem::Tables(&heads)).await {
            return Err(StoreError::Cancelled);
        }
        // default_rev rows no import numbered take the ids after the largest one kept
        let mut next_vd: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(vd_id), 0) + 1 FROM default_rev_id")
                .fetch_one(&mut *tx)
                .await?;
        for table in &tables {
            if !sink.write(ExportItem::Table(&table.head)).await {
                return Err(StoreError::Cancelled);
            }
            let select = table.select();
            let mut rows = sqlx::query(&select).fetch(&mut *tx);
            while let Some(row) = rows.try_next().await? {
                let mut values = Vec::with_capacity(table.values.len());
                for (_, alias, src) in &table.values {
                    let value = match export_value(&row, alias, *src)? {
                        Value::Null if *alias == "vd_id" => {
                            next_vd += 1;
                            Value::from(next_vd - 1)
                        }
                        value => value,
                    };
                    values.push(value);
                }
                if !sink.write(ExportItem::Row(values)).await {
                    return Err(StoreError::Cancelled);
                }
            }
        }
        tx.rollback().await?;
        Ok(())
    }
}
