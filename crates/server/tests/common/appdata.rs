//! STIG Manager's sample installation (shared/data/appdata/appdata.jsonl) loaded into a
//! TestServer, and the same file read by the test: who holds which role, which asset/STIG
//! pairs an ACL opens, which reviews each caller must see. Expected values come from the
//! file's rows, never from the server.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::{shared, TestServer};

pub type Row = Map<String, Value>;

/// The file's tables, each as column → value maps.
pub struct AppData {
    pub text: String,
    tables: BTreeMap<String, Vec<Row>>,
}

impl AppData {
    pub fn read() -> AppData {
        let text = std::fs::read_to_string(shared("data/appdata/appdata.jsonl")).unwrap();
        let mut tables: BTreeMap<String, Vec<Row>> = BTreeMap::new();
        let mut current: Option<(String, Vec<String>)> = None;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let value: Value = serde_json::from_str(line).unwrap();
            if let (Some(table), Some(columns)) =
                (value["table"].as_str(), value["columns"].as_str())
            {
                let columns = columns.split(',').map(|c| c.trim_matches('`').to_string()).collect();
                tables.entry(table.to_string()).or_default();
                current = Some((table.to_string(), columns));
                continue;
            }
            if let (Some((table, columns)), Value::Array(values)) = (&current, value) {
                let row: Row = columns.iter().cloned().zip(values).collect();
                tables.get_mut(table).unwrap().push(row);
            }
        }
        AppData { text, tables }
    }

    pub fn rows(&self, table: &str) -> &[Row] {
        self.tables.get(table).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn user(&self, user_id: i64) -> &Row {
        self.rows("user_data").iter().find(|u| u["userId"] == user_id).unwrap()
    }

    /// The privileges a user's stored claims carry (`realm_access.roles`).
    pub fn privileges(&self, user_id: i64) -> Vec<String> {
        let claims: Value =
            serde_json::from_str(self.user(user_id)["lastClaims"].as_str().unwrap_or("{}"))
                .unwrap_or(Value::Null);
        claims["realm_access"]["roles"]
            .as_array()
            .map(|roles| roles.iter().filter_map(|r| r.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    pub fn is_admin(&self, user_id: i64) -> bool {
        self.privileges(user_id).iter().any(|p| p == "admin")
    }

    pub fn enabled_collections(&self) -> BTreeSet<i64> {
        self.rows("collection")
            .iter()
            .filter(|c| c["state"] == "enabled")
            .map(|c| c["collectionId"].as_i64().unwrap())
            .collect()
    }

    /// The user's effective grants in a collection: a direct grant alone, else the grants of
    /// the user's groups that share the highest role. Returns (role, grant ids).
    pub fn effective_grant(&self, collection_id: i64, user_id: i64) -> Option<(i64, Vec<i64>)> {
        if !self.enabled_collections().contains(&collection_id) {
            return None;
        }
        let grants: Vec<&Row> = self
            .rows("collection_grant")
            .iter()
            .filter(|g| g["collectionId"] == collection_id)
            .collect();
        if let Some(g) = grants.iter().find(|g| g["userId"] == user_id) {
            return Some((g["roleId"].as_i64().unwrap(), vec![g["grantId"].as_i64().unwrap()]));
        }
        let groups: BTreeSet<i64> = self
            .rows("user_group_user_map")
            .iter()
            .filter(|m| m["userId"] == user_id)
            .map(|m| m["userGroupId"].as_i64().unwrap())
            .collect();
        let via: Vec<&&Row> = grants
            .iter()
            .filter(|g| g["userGroupId"].as_i64().is_some_and(|ug| groups.contains(&ug)))
            .collect();
        let top = via.iter().map(|g| g["roleId"].as_i64().unwrap()).max()?;
        let ids = via
            .iter()
            .filter(|g| g["roleId"] == top)
            .map(|g| g["grantId"].as_i64().unwrap())
            .collect();
        Some((top, ids))
    }

    /// Enabled assets of a collection.
    pub fn assets_of(&self, collection_id: i64) -> BTreeSet<i64> {
        self.rows("asset")
            .iter()
            .filter(|a| a["collectionId"] == collection_id && a["state"] == "enabled")
            .map(|a| a["assetId"].as_i64().unwrap())
            .collect()
    }

    pub fn asset_name(&self, asset_id: i64) -> &str {
        let asset = self.rows("asset").iter().find(|a| a["assetId"] == asset_id).unwrap();
        asset["name"].as_str().unwrap()
    }

    /// (asset, benchmark) assignments of the collection's enabled assets.
    pub fn pairs_of(&self, collection_id: i64) -> BTreeSet<(i64, String)> {
        let assets = self.assets_of(collection_id);
        self.rows("stig_asset_map")
            .iter()
            .map(|m| (m["assetId"].as_i64().unwrap(), m["benchmarkId"].as_str().unwrap().into()))
            .filter(|(a, _)| assets.contains(a))
            .collect()
    }

    /// Access to one asset/STIG pair through the given grants, by the ACL rules' specificity
    /// (asset+STIG 3, label+STIG 2, asset, label or STIG 1, collection 0); the most
    /// restrictive rule wins a tie; no rule leaves restricted grants without access.
    pub fn pair_access(&self, role: i64, grant_ids: &[i64], asset: i64, benchmark: &str) -> Access {
        let labels: BTreeSet<i64> = self
            .rows("collection_label_asset_map")
            .iter()
            .filter(|m| m["assetId"] == asset)
            .map(|m| m["clId"].as_i64().unwrap())
            .collect();
        let mut best: Option<(u8, Access)> = None;
        for rule in self.rows("collection_grant_acl") {
            if !grant_ids.contains(&rule["grantId"].as_i64().unwrap()) {
                continue;
            }
            let on_asset = rule["assetId"].as_i64();
            let on_label = rule["clId"].as_i64();
            let on_stig = rule["benchmarkId"].as_str();
            let matches = on_asset.is_none_or(|a| a == asset)
                && on_label.is_none_or(|l| labels.contains(&l))
                && on_stig.is_none_or(|b| b == benchmark);
            if !matches {
                continue;
            }
            let specificity = u8::from(on_stig.is_some())
                + u8::from(on_asset.is_some())
                + u8::from(on_asset.is_some() && on_stig.is_some())
                + u8::from(on_label.is_some());
            let access = Access::parse(rule["access"].as_str().unwrap());
            best = match best {
                Some((s, a)) if s > specificity || (s == specificity && a <= access) => {
                    Some((s, a))
                }
                _ => Some((specificity, access)),
            };
        }
        match best {
            Some((_, access)) => access,
            None if role == 1 => Access::None,
            None => Access::ReadWrite,
        }
    }

    /// The default revision's rules per benchmark in a collection: (version, check digest) →
    /// rule ids.
    pub fn default_rules(&self, collection_id: i64) -> BTreeMap<String, Vec<RuleKey>> {
        let mut out: BTreeMap<String, Vec<RuleKey>> = BTreeMap::new();
        for d in self.rows("default_rev").iter().filter(|d| d["collectionId"] == collection_id) {
            let benchmark = d["benchmarkId"].as_str().unwrap().to_string();
            let rules = self.rows("rev_group_rule_map").iter().filter(|r| r["revId"] == d["revId"]);
            out.entry(benchmark).or_default().extend(rules.map(|r| RuleKey {
                rule_id: r["ruleId"].as_str().unwrap().to_string(),
                version: r["version"].as_str().unwrap().to_string(),
                digest: r["checkDigest"].clone(),
            }));
        }
        out
    }

    /// The reviews of the collection a `GET /collections/{id}/reviews` lists (default revision
    /// of a mapped STIG), each with the STIGs its rule belongs to on that asset.
    pub fn listed_reviews(&self, collection_id: i64) -> Vec<(Row, BTreeSet<String>)> {
        let pairs = self.pairs_of(collection_id);
        let rules = self.default_rules(collection_id);
        let mut out = Vec::new();
        for review in self.rows("review") {
            let asset = review["assetId"].as_i64().unwrap();
            let stigs: BTreeSet<String> = rules
                .iter()
                .filter(|(b, _)| pairs.contains(&(asset, b.to_string())))
                .filter(|(_, keys)| {
                    keys.iter().any(|k| {
                        review["version"] == k.version.as_str() && review["checkDigest"] == k.digest
                    })
                })
                .map(|(b, _)| b.clone())
                .collect();
            if !stigs.is_empty() {
                out.push((review.clone(), stigs));
            }
        }
        out
    }

    /// A label's API id: the file stores it as MySQL's `UUID_TO_BIN(uuid, 1)`, time-high
    /// first, so the three time fields are put back in text order here.
    pub fn label_id(&self, cl_id: i64) -> String {
        use base64::Engine;
        let label = self.rows("collection_label").iter().find(|l| l["clId"] == cl_id).unwrap();
        let text = label["uuid"]["data"].as_str().unwrap().trim_start_matches("base64:");
        let b = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let (low, mid, high) = (hex(&b[4..8]), hex(&b[2..4]), hex(&b[0..2]));
        format!("{low}-{mid}-{high}-{}-{}", hex(&b[8..10]), hex(&b[10..16]))
    }

    /// The collection's settings as stored in the file.
    pub fn settings(&self, collection_id: i64) -> Value {
        let c = self.rows("collection").iter().find(|c| c["collectionId"] == collection_id);
        serde_json::from_str(c.unwrap()["settings"].as_str().unwrap()).unwrap()
    }

    /// Loads the file into the server through `POST /op/appdata?elevate=true`, as an admin the
    /// file names.
    pub async fn load_into(&self, server: &TestServer) {
        let admin = self
            .rows("user_data")
            .iter()
            .map(|u| u["userId"].as_i64().unwrap())
            .find(|id| self.is_admin(*id))
            .expect("an admin in the file");
        let username = self.user(admin)["username"].as_str().unwrap();
        let token = server.token(username, &["admin"]);
        let response = server
            .client
            .post(server.url("/op/appdata?elevate=true"))
            .bearer_auth(token)
            .header("content-type", "application/jsonl")
            .body(self.text.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let reply = response.text().await.unwrap();
        assert_eq!(status, 200, "{reply}");
        let last: Value = serde_json::from_str(reply.lines().last().unwrap()).unwrap();
        assert_eq!(last, json!({"status": "success"}), "{reply}");
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleKey {
    pub rule_id: String,
    pub version: String,
    pub digest: Value,
}

/// Effective access to an asset/STIG pair, ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    None,
    Read,
    ReadWrite,
}

impl Access {
    pub fn parse(text: &str) -> Access {
        match text {
            "none" => Access::None,
            "r" => Access::Read,
            "rw" => Access::ReadWrite,
            other => panic!("access {other}"),
        }
    }

    pub fn wire(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Read => "r",
            Access::ReadWrite => "rw",
        }
    }
}
