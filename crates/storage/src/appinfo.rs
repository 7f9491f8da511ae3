//! Deployment statistics for `GET /op/appinfo` and `GET /op/appdata/tables`: per-collection
//! counts, users and groups, and table sizes from each database's own catalogue.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::any::AnyRow;
use sqlx::Row;
use stigward_domain::Role;
use stigward_wire::appinfo::{
    AppDataTable, AppInfoCollection, AppInfoGrant, AppInfoGroup, AppInfoTable, AssetStigRanges,
    Grantee, LabelCounts, RoleCounts, RuleCounts,
};

use crate::access::{resolve, Access, AclRule, Assignment};
use crate::{json_column, Dialect, Result, Store, StoreError};

/// A user as appinfo reports it, before the server reads privileges from the claims.
pub struct UserStats {
    pub user_id: i64,
    pub username: String,
    pub created: i64,
    pub last_access: Option<i64>,
    pub last_claims: serde_json::Value,
    pub roles: RoleCounts,
}

fn add_role(counts: &mut RoleCounts, role_id: i64, n: i64) {
    match role_id {
        1 => counts.restricted += n,
        2 => counts.full += n,
        3 => counts.manage += n,
        4 => counts.owner += n,
        _ => {}
    }
}

fn role_name(role_id: i64) -> &'static str {
    match role_id {
        1 => "restricted",
        2 => "full",
        3 => "manage",
        _ => "owner",
    }
}

/// How many distinct STIGs and assets among `pairs` a grant with `role` and `rules` reaches.
fn reach(role: Role, rules: &[AclRule], pairs: &[Assignment]) -> (i64, i64) {
    let mut stigs = HashSet::new();
    let mut assets = HashSet::new();
    for pair in pairs.iter().filter(|p| resolve(role, rules, p) > Access::None) {
        stigs.insert(pair.benchmark_id.as_str());
        assets.insert(pair.asset_id);
    }
    (stigs.len() as i64, assets.len() as i64)
}

/// Runs `sql` (collection_id, n) and returns the counts by collection.
async fn per_collection(store: &Store, sql: &str) -> Result<BTreeMap<i64, i64>> {
    let rows = sqlx::query(sql).fetch_all(&store.pool).await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

impl Store {
    /// Every enabled or deleted collection with its counters, keyed by id.
    pub async fn appinfo_collections(&self) -> Result<BTreeMap<String, AppInfoCollection>> {
        let count = |sql: &'static str| per_collection(self, sql);
        let assets = count("SELECT collection_id, COUNT(*) FROM asset WHERE state = 'enabled' GROUP BY collection_id").await?;
        let disabled = count("SELECT collection_id, COUNT(*) FROM asset WHERE state = 'disabled' GROUP BY collection_id").await?;
        let assignments = count(
            "SELECT a.collection_id, COUNT(*) FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id AND a.state = 'enabled' GROUP BY a.collection_id",
        )
        .await?;
        let stigs = count(
            "SELECT a.collection_id, COUNT(DISTINCT sa.benchmark_id) FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id AND a.state = 'enabled' GROUP BY a.collection_id",
        )
        .await?;
        let rules = count(
            "SELECT d.collection_id, CAST(SUM(r.check_count) AS BIGINT) FROM default_rev d
             JOIN revision r ON r.rev_id = d.rev_id GROUP BY d.collection_id",
        )
        .await?;
        let reviews = count(
            "SELECT a.collection_id, COUNT(*) FROM review v JOIN asset a ON a.asset_id = v.asset_id
             WHERE a.state = 'enabled' GROUP BY a.collection_id",
        )
        .await?;
        let reviews_disabled = count(
            "SELECT a.collection_id, COUNT(*) FROM review v JOIN asset a ON a.asset_id = v.asset_id
             WHERE a.state = 'disabled' GROUP BY a.collection_id",
        )
        .await?;
        let mut ranges = self.asset_stig_ranges().await?;
        let mut grants = self.appinfo_grants().await?;
        let mut labels = self.label_counts().await?;

        let rows = sqlx::query(
            "SELECT collection_id, name, state, settings FROM collection
             WHERE state IN ('enabled', 'disabled') ORDER BY collection_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = BTreeMap::new();
        for row in &rows {
            let id: i64 = row.try_get("collection_id")?;
            let of = |map: &BTreeMap<i64, i64>| map.get(&id).copied().unwrap_or(0);
            let (grant_map, role_counts) = grants.remove(&id).unwrap_or_default();
            out.insert(
                id.to_string(),
                AppInfoCollection {
                    name: row.try_get("name")?,
                    state: row.try_get("state")?,
                    settings: json_column(&row.try_get::<String, _>("settings")?, "settings")?,
                    assets: of(&assets),
                    assets_disabled: of(&disabled),
                    unique_stigs: of(&stigs),
                    stig_assignments: of(&assignments),
                    rules: of(&rules),
                    reviews: of(&reviews),
                    reviews_disabled: of(&reviews_disabled),
                    asset_stig_ranges: ranges.remove(&id).unwrap_or_default(),
                    grants: grant_map,
                    role_counts,
                    label_counts: labels.remove(&id).unwrap_or_default(),
                },
            );
        }
        Ok(out)
    }

    /// How many enabled assets of each collection have 0, 1–5, 6–10, 11–15 and 16+ STIGs.
    async fn asset_stig_ranges(&self) -> Result<BTreeMap<i64, AssetStigRanges>> {
        let rows = sqlx::query(
            "SELECT a.collection_id, COUNT(sa.benchmark_id) AS n FROM asset a
             LEFT JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
             WHERE a.state = 'enabled' GROUP BY a.asset_id, a.collection_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<i64, AssetStigRanges> = BTreeMap::new();
        for row in &rows {
            let ranges = out.entry(row.try_get(0)?).or_default();
            match row.try_get::<i64, _>(1)? {
                0 => ranges.range00 += 1,
                1..=5 => ranges.range01to05 += 1,
                6..=10 => ranges.range06to10 += 1,
                11..=15 => ranges.range11to15 += 1,
                _ => ranges.range16plus += 1,
            }
        }
        Ok(out)
    }

    async fn appinfo_grants(
        &self,
    ) -> Result<BTreeMap<i64, (BTreeMap<String, AppInfoGrant>, RoleCounts)>> {
        let rows = sqlx::query(
            "SELECT g.grant_id, g.collection_id, g.user_id, g.user_group_id, g.role_id,
                 COUNT(acl.acl_id) FILTER (WHERE acl.access = 'r') AS r,
                 COUNT(acl.acl_id) FILTER (WHERE acl.access = 'rw') AS rw,
                 COUNT(acl.acl_id) FILTER (WHERE acl.access = 'none') AS none
             FROM collection_grant g LEFT JOIN collection_grant_acl acl ON acl.grant_id = g.grant_id
             GROUP BY g.grant_id, g.collection_id, g.user_id, g.user_group_id, g.role_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let pairs = self.appinfo_pairs().await?;
        let rules = self.appinfo_acl_rules().await?;
        let none = (Vec::new(), Vec::new());
        let mut out: BTreeMap<i64, (BTreeMap<String, AppInfoGrant>, RoleCounts)> = BTreeMap::new();
        for row in &rows {
            let role_id: i64 = row.try_get("role_id")?;
            let grant_id: i64 = row.try_get("grant_id")?;
            let collection_id: i64 = row.try_get("collection_id")?;
            let role = Role::try_from(role_id).map_err(StoreError::Corrupt)?;
            let rules = rules.get(&grant_id).map(Vec::as_slice).unwrap_or_default();
            let (enabled, disabled) = pairs.get(&collection_id).unwrap_or(&none);
            let (unique_stigs, unique_assets) = reach(role, rules, enabled);
            let (unique_stigs_disabled, unique_assets_disabled) = reach(role, rules, disabled);
            let entry = out.entry(collection_id).or_default();
            add_role(&mut entry.1, role_id, 1);
            let grant = AppInfoGrant {
                role: role_name(role_id),
                grantee: Grantee {
                    user_id: row.try_get("user_id")?,
                    user_group_id: row.try_get("user_group_id")?,
                },
                rule_counts: RuleCounts {
                    r: row.try_get("r")?,
                    rw: row.try_get("rw")?,
                    none: row.try_get("none")?,
                },
                unique_stigs,
                unique_assets,
                unique_stigs_disabled,
                unique_assets_disabled,
            };
            entry.0.insert(grant_id.to_string(), grant);
        }
        Ok(out)
    }

    /// Every STIG assignment with its asset's labels, by collection: (enabled, deleted assets).
    async fn appinfo_pairs(&self) -> Result<BTreeMap<i64, (Vec<Assignment>, Vec<Assignment>)>> {
        let label_rows = sqlx::query("SELECT asset_id, label_id FROM collection_label_asset_map")
            .fetch_all(&self.pool)
            .await?;
        let mut labels: HashMap<i64, HashSet<i64>> = HashMap::new();
        for row in &label_rows {
            labels.entry(row.try_get(0)?).or_default().insert(row.try_get(1)?);
        }
        let rows = sqlx::query(
            "SELECT a.collection_id, a.state, sa.asset_id, sa.benchmark_id FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<i64, (Vec<Assignment>, Vec<Assignment>)> = BTreeMap::new();
        for row in &rows {
            let asset_id: i64 = row.try_get(2)?;
            let pair = Assignment {
                asset_id,
                benchmark_id: row.try_get(3)?,
                label_ids: labels.get(&asset_id).cloned().unwrap_or_default(),
            };
            let entry = out.entry(row.try_get(0)?).or_default();
            match row.try_get::<String, _>(1)?.as_str() {
                "enabled" => entry.0.push(pair),
                _ => entry.1.push(pair),
            }
        }
        Ok(out)
    }

    /// Every grant's ACL rules, by grant.
    async fn appinfo_acl_rules(&self) -> Result<HashMap<i64, Vec<AclRule>>> {
        let rows = sqlx::query(
            "SELECT grant_id, asset_id, benchmark_id, label_id, access FROM collection_grant_acl",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<i64, Vec<AclRule>> = HashMap::new();
        for row in &rows {
            let text: String = row.try_get("access")?;
            out.entry(row.try_get("grant_id")?).or_default().push(AclRule {
                asset_id: row.try_get("asset_id")?,
                benchmark_id: row.try_get("benchmark_id")?,
                label_id: row.try_get("label_id")?,
                access: Access::parse(&text)
                    .ok_or_else(|| StoreError::Corrupt(format!("ACL access '{text}'")))?,
            });
        }
        Ok(out)
    }

    async fn label_counts(&self) -> Result<BTreeMap<i64, LabelCounts>> {
        let labels = per_collection(
            self,
            "SELECT collection_id, COUNT(*) FROM collection_label GROUP BY collection_id",
        )
        .await?;
        let maps = sqlx::query(
            "SELECT l.collection_id, COUNT(DISTINCT m.asset_id), COUNT(*) FROM collection_label_asset_map m
             JOIN collection_label l ON l.label_id = m.label_id GROUP BY l.collection_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<i64, LabelCounts> = BTreeMap::new();
        for (id, n) in labels {
            out.entry(id).or_default().collection_labels = n;
        }
        for row in &maps {
            let counts = out.entry(row.try_get(0)?).or_default();
            counts.labeled_assets = row.try_get(1)?;
            counts.asset_labels = row.try_get(2)?;
        }
        Ok(out)
    }

    /// Users (not the task accounts) with their direct grants counted by role.
    pub async fn appinfo_users(&self) -> Result<Vec<UserStats>> {
        let rows = sqlx::query(
            "SELECT u.user_id, u.username, u.created, u.last_access, u.last_claims, g.role_id,
                 COUNT(g.grant_id) AS n
             FROM user_data u LEFT JOIN collection_grant g ON g.user_id = u.user_id
             WHERE u.task_id IS NULL
             GROUP BY u.user_id, u.username, u.created, u.last_access, u.last_claims, g.role_id
             ORDER BY u.user_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<UserStats> = Vec::new();
        for row in &rows {
            let user_id: i64 = row.try_get("user_id")?;
            if out.last().is_none_or(|u| u.user_id != user_id) {
                out.push(user_stats(row)?);
            }
            if let (Some(user), Some(role)) =
                (out.last_mut(), row.try_get::<Option<i64>, _>("role_id")?)
            {
                add_role(&mut user.roles, role, row.try_get("n")?);
            }
        }
        Ok(out)
    }

    pub async fn appinfo_groups(&self) -> Result<BTreeMap<String, AppInfoGroup>> {
        let rows = sqlx::query(
            "SELECT g.user_group_id, g.name, g.created_date, g.modified_date,
                 (SELECT COUNT(*) FROM user_group_user_map m WHERE m.user_group_id = g.user_group_id) AS members
             FROM user_group g ORDER BY g.user_group_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let grants = sqlx::query(
            "SELECT user_group_id, role_id, COUNT(*) FROM collection_grant
             WHERE user_group_id IS NOT NULL GROUP BY user_group_id, role_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut roles: BTreeMap<i64, RoleCounts> = BTreeMap::new();
        for row in &grants {
            add_role(roles.entry(row.try_get(0)?).or_default(), row.try_get(1)?, row.try_get(2)?);
        }
        let mut out = BTreeMap::new();
        for row in &rows {
            let id: i64 = row.try_get("user_group_id")?;
            out.insert(
                id.to_string(),
                AppInfoGroup {
                    name: row.try_get("name")?,
                    members: row.try_get("members")?,
                    created: iso(row.try_get("created_date")?),
                    modified_date: iso(row.try_get("modified_date")?),
                    roles: roles.remove(&id).unwrap_or_default(),
                },
            );
        }
        Ok(out)
    }

    /// The database server's version string.
    pub async fn database_version(&self) -> Result<String> {
        let sql = match self.dialect {
            Dialect::Sqlite => "SELECT 'SQLite ' || sqlite_version()",
            Dialect::Postgres => "SELECT version()",
        };
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    /// The schema's tables, with exact row counts when `exact` (else `row_count` is `None`).
    pub async fn appinfo_tables(&self, exact: bool) -> Result<BTreeMap<String, AppInfoTable>> {
        let mut out = BTreeMap::new();
        for table in self.appdata_tables().await? {
            let row_count = match exact {
                true => Some(self.row_count(&table.name).await?),
                false => None,
            };
            let info = AppInfoTable {
                table_rows: table.rows,
                table_collation: String::new(),
                avg_row_length: None,
                data_length: Some(table.data_length),
                index_length: None,
                auto_increment: None,
                create_time: None,
                update_time: None,
                row_count,
            };
            out.insert(table.name, info);
        }
        Ok(out)
    }

    /// Each table's (approximate on PostgreSQL) row count and size in bytes.
    pub async fn appdata_tables(&self) -> Result<Vec<AppDataTable>> {
        let names: Vec<String> = match self.dialect {
            Dialect::Sqlite => sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
            ),
            Dialect::Postgres => sqlx::query_scalar(
                "SELECT CAST(tablename AS TEXT) FROM pg_tables WHERE schemaname = current_schema()
                 AND tablename NOT LIKE '_sqlx%' ORDER BY tablename",
            ),
        }
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for name in names {
            let (rows, data_length) = self.table_size(&name).await?;
            out.push(AppDataTable { name, rows, data_length });
        }
        Ok(out)
    }

    async fn table_size(&self, name: &str) -> Result<(i64, i64)> {
        match self.dialect {
            // SQLite keeps no row statistics, so the rows are counted; its size needs the
            // optional dbstat table, and reads as 0 where that is not compiled in
            Dialect::Sqlite => {
                let rows = self.row_count(name).await?;
                let size: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(SUM(pgsize) AS BIGINT) FROM dbstat WHERE name = $1",
                )
                .bind(name)
                .fetch_one(&self.pool)
                .await
                .unwrap_or(None);
                Ok((rows, size.unwrap_or(0)))
            }
            Dialect::Postgres => {
                let row = sqlx::query(
                    "SELECT CAST(GREATEST(c.reltuples, 0) AS BIGINT),
                         CAST(pg_total_relation_size(c.oid) AS BIGINT)
                     FROM pg_class c WHERE c.oid = CAST($1 AS regclass)",
                )
                .bind(name)
                .fetch_one(&self.pool)
                .await?;
                Ok((row.try_get(0)?, row.try_get(1)?))
            }
        }
    }

    /// The exact row count of one of the schema's own tables (names come from the catalogue).
    async fn row_count(&self, table: &str) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', ""));
        Ok(sqlx::query_scalar(&sql).fetch_one(&self.pool).await?)
    }
}

fn user_stats(row: &AnyRow) -> Result<UserStats> {
    Ok(UserStats {
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        created: row.try_get("created")?,
        last_access: row.try_get("last_access")?,
        last_claims: json_column(&row.try_get::<String, _>("last_claims")?, "last_claims")?,
        roles: RoleCounts::default(),
    })
}

/// Epoch seconds as an ISO 8601 UTC timestamp.
pub fn iso(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S.000Z").to_string())
        .unwrap_or_default()
}
