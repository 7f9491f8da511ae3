//! Role by role on STIG Manager's sample installation: appdata.jsonl is loaded through
//! `POST /op/appdata`, the test reads the same file to find a user for each role (admin,
//! owner, manage, full, restricted, no grant, group-only grant) and computes from its rows what
//! each may see and change; every User, Asset, Collection, STIG and Review operation is then
//! called as each of them, and as an admin without grants, which the file lacks and the test
//! adds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::appdata::{Access, AppData};
use common::xccdf::BenchmarkFile;
use common::TestServer;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Owner,
    Manage,
    Full,
    Restricted,
    NoGrant,
    GroupOnly,
    /// An admin with no grant anywhere: the file has none (its admins own every collection),
    /// so the test adds one, created by its first token as STIG Manager provisions users.
    GrantlessAdmin,
}

/// The roles the file itself holds.
const IN_FILE: [Who; 7] =
    [Who::Admin, Who::Owner, Who::Manage, Who::Full, Who::Restricted, Who::NoGrant, Who::GroupOnly];

/// The username of the added admin, one the file does not use.
const GRANTLESS_ADMIN: &str = "grantless-admin";

/// A user of the file and what the file gives it in the collection under test.
#[derive(Debug, Clone)]
struct Persona {
    who: Who,
    username: String,
    /// None for the added admin, whose id the server assigns.
    user_id: Option<i64>,
    privileges: Vec<String>,
    admin: bool,
    /// Effective role in the collection and the grants it comes from.
    role: Option<i64>,
    grants: Vec<i64>,
}

/// The file, the collection every role is tested in, and one user per role, all found by
/// reading the file.
struct Cast {
    data: AppData,
    cid: i64,
    people: Vec<Persona>,
}

impl Cast {
    fn read() -> Cast {
        let data = AppData::read();
        let cid = Self::collection(&data);
        let mut people = Vec::new();
        for who in IN_FILE {
            let user_id = Self::pick(&data, cid, who)
                .unwrap_or_else(|| panic!("appdata.jsonl has no {who:?} user in {cid}"));
            let (role, grants) = match data.effective_grant(cid, user_id) {
                Some((role, grants)) => (Some(role), grants),
                None => (None, Vec::new()),
            };
            people.push(Persona {
                who,
                username: data.user(user_id)["username"].as_str().unwrap().to_string(),
                user_id: Some(user_id),
                privileges: data.privileges(user_id),
                admin: data.is_admin(user_id),
                role,
                grants,
            });
        }
        assert!(data.rows("user_data").iter().all(|u| u["username"] != GRANTLESS_ADMIN));
        people.push(Persona {
            who: Who::GrantlessAdmin,
            username: GRANTLESS_ADMIN.into(),
            user_id: None,
            privileges: vec!["admin".into()],
            admin: true,
            role: None,
            grants: Vec::new(),
        });
        Cast { data, cid, people }
    }

    /// The enabled collection whose direct user grants cover every role, with a restricted
    /// grant narrowed by ACL rules, and where some user's only grant comes through a group.
    fn collection(data: &AppData) -> i64 {
        data.enabled_collections()
            .into_iter()
            .find(|&cid| IN_FILE.iter().all(|&who| Self::pick(data, cid, who).is_some()))
            .expect("a collection of appdata.jsonl holding every role")
    }

    fn pick(data: &AppData, cid: i64, who: Who) -> Option<i64> {
        let people: Vec<i64> = data
            .rows("user_data")
            .iter()
            .filter(|u| u["status"] == "available" && u["taskId"].is_null())
            .map(|u| u["userId"].as_i64().unwrap())
            .collect();
        let direct = |role: i64| {
            people.iter().copied().find(|&u| {
                !data.is_admin(u)
                    && data.rows("collection_grant").iter().any(|g| {
                        g["collectionId"] == cid && g["userId"] == u && g["roleId"] == role
                    })
            })
        };
        let acl_of = |grant: &Value| {
            data.rows("collection_grant_acl").iter().any(|r| &r["grantId"] == grant)
        };
        match who {
            Who::Admin => people.iter().copied().find(|&u| data.is_admin(u)),
            Who::Owner => direct(4),
            Who::Manage => direct(3),
            Who::Full => direct(2),
            Who::Restricted => people.iter().copied().find(|&u| {
                !data.is_admin(u)
                    && data.rows("collection_grant").iter().any(|g| {
                        g["collectionId"] == cid
                            && g["userId"] == u
                            && g["roleId"] == 1
                            && acl_of(&g["grantId"])
                    })
            }),
            Who::NoGrant => people.iter().copied().find(|&u| {
                !data.is_admin(u)
                    && data.effective_grant(cid, u).is_none()
                    && !data.rows("user_group_user_map").iter().any(|m| m["userId"] == u)
            }),
            Who::GrantlessAdmin => None,
            Who::GroupOnly => people.iter().copied().find(|&u| {
                let direct = data
                    .rows("collection_grant")
                    .iter()
                    .any(|g| g["collectionId"] == cid && g["userId"] == u);
                !direct && data.effective_grant(cid, u).is_some()
            }),
        }
    }

    fn persona(&self, who: Who) -> &Persona {
        self.people.iter().find(|p| p.who == who).unwrap()
    }

    fn token(&self, server: &TestServer, p: &Persona) -> String {
        let privileges: Vec<&str> = p.privileges.iter().map(String::as_str).collect();
        server.token(&p.username, &privileges)
    }

    fn access(&self, p: &Persona, asset: i64, benchmark: &str) -> Access {
        match p.role {
            Some(role) => self.data.pair_access(role, &p.grants, asset, benchmark),
            None => Access::None,
        }
    }

    /// Assets the persona may read: any grant above restricted sees every enabled asset, a
    /// restricted one those with at least one readable STIG.
    fn visible_assets(&self, p: &Persona) -> BTreeSet<i64> {
        self.data
            .pairs_of(self.cid)
            .into_iter()
            .filter(|(a, b)| self.access(p, *a, b) >= Access::Read)
            .map(|(a, _)| a)
            .chain(
                self.data.assets_of(self.cid).into_iter().filter(|_| p.role.is_some_and(|r| r > 1)),
            )
            .collect()
    }

    fn visible_stigs(&self, p: &Persona) -> BTreeSet<String> {
        self.data
            .pairs_of(self.cid)
            .into_iter()
            .filter(|(a, b)| self.access(p, *a, b) >= Access::Read)
            .map(|(_, b)| b)
            .collect()
    }

    /// (assetId, ruleId) → access of every review the persona must be listed, from the
    /// file's reviews, default revisions, assignments and ACL rules.
    fn visible_reviews(&self, p: &Persona) -> BTreeMap<(String, String), String> {
        let mut out = BTreeMap::new();
        for (review, stigs) in self.data.listed_reviews(self.cid) {
            let asset = review["assetId"].as_i64().unwrap();
            let access =
                stigs.iter().map(|b| self.access(p, asset, b)).filter(|a| *a >= Access::Read).min();
            if let Some(access) = access {
                let key = (asset.to_string(), review["ruleId"].as_str().unwrap().to_string());
                out.insert(key, access.wire().to_string());
            }
        }
        out
    }

    /// Benchmark → the collections, across the whole file, where the persona reads an asset
    /// mapped to it: any grant above restricted reads every assignment, a restricted one the
    /// pairs its ACL opens.
    fn stig_collections(&self, p: &Persona) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for collection in self.data.enabled_collections() {
            let grant = p.user_id.and_then(|u| self.data.effective_grant(collection, u));
            let Some((role, grants)) = grant else {
                continue;
            };
            for (asset, b) in self.data.pairs_of(collection) {
                if self.data.pair_access(role, &grants, asset, &b) >= Access::Read {
                    out.entry(b).or_default().insert(collection.to_string());
                }
            }
        }
        out
    }

    /// (asset, STIG, access) of every pair an ACL rule of the persona's grants opens; the
    /// implicit access of roles above restricted is not listed.
    fn acl_pairs(&self, p: &Persona) -> BTreeSet<(String, String, String)> {
        let ruled = |a: i64, b: &str| {
            let labels: Vec<&Value> = self
                .data
                .rows("collection_label_asset_map")
                .iter()
                .filter(|m| m["assetId"] == a)
                .map(|m| &m["clId"])
                .collect();
            self.data.rows("collection_grant_acl").iter().any(|r| {
                p.grants.contains(&r["grantId"].as_i64().unwrap())
                    && r["assetId"].as_i64().is_none_or(|x| x == a)
                    && r["benchmarkId"].as_str().is_none_or(|x| x == b)
                    && (r["clId"].is_null() || labels.contains(&&r["clId"]))
            })
        };
        self.data
            .pairs_of(self.cid)
            .into_iter()
            .filter(|(a, b)| ruled(*a, b))
            .map(|(a, b)| (a, b.clone(), self.access(p, a, &b)))
            .filter(|(_, _, access)| *access >= Access::Read)
            .map(|(a, b, access)| (a.to_string(), b, access.wire().to_string()))
            .collect()
    }

    /// assetId → (STIG, rule) of each rule of the current revision of every STIG the persona
    /// reads on the asset that has no review, or one whose result is not pass, fail or
    /// notapplicable.
    fn unreviewed(&self, p: &Persona) -> BTreeMap<String, BTreeSet<(String, String)>> {
        let assessed =
            |r: &&common::appdata::Row| [2, 3, 4].contains(&r["resultId"].as_i64().unwrap());
        let mut out: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        for (asset, b) in self.data.pairs_of(self.cid) {
            if self.access(p, asset, &b) < Access::Read {
                continue;
            }
            let current =
                self.data.rows("current_rev").iter().find(|c| c["benchmarkId"] == b.as_str());
            let rules = self
                .data
                .rows("rev_group_rule_map")
                .iter()
                .filter(|r| r["revId"] == current.unwrap()["revId"]);
            for rule in rules {
                let reviewed = self
                    .data
                    .rows("review")
                    .iter()
                    .filter(|r| {
                        r["assetId"] == asset
                            && r["version"] == rule["version"]
                            && r["checkDigest"] == rule["checkDigest"]
                    })
                    .any(|r| assessed(&r));
                if !reviewed {
                    let entry = (b.clone(), rule["ruleId"].as_str().unwrap().to_string());
                    out.entry(asset.to_string()).or_default().insert(entry);
                }
            }
        }
        out
    }

    /// History entries per enabled asset of the collection, for grants that may read history:
    /// the rows of reviews on those assets written by a known user.
    fn history_per_asset(&self) -> BTreeMap<String, usize> {
        let assets = self.data.assets_of(self.cid);
        let users: BTreeSet<i64> =
            self.data.rows("user_data").iter().map(|u| u["userId"].as_i64().unwrap()).collect();
        let mut out = BTreeMap::new();
        for h in self.data.rows("review_history") {
            let review = self.data.rows("review").iter().find(|r| r["reviewId"] == h["reviewId"]);
            let asset = review.unwrap()["assetId"].as_i64().unwrap();
            if assets.contains(&asset) && h["userId"].as_i64().is_some_and(|u| users.contains(&u)) {
                *out.entry(asset.to_string()).or_default() += 1;
            }
        }
        out
    }

    /// Label name → uses the persona must see: labels on assets it can read.
    fn visible_labels(&self, p: &Persona) -> BTreeMap<String, usize> {
        let seen = self.visible_assets(p);
        let mut out = BTreeMap::new();
        for label in
            self.data.rows("collection_label").iter().filter(|l| l["collectionId"] == self.cid)
        {
            let uses = self
                .data
                .rows("collection_label_asset_map")
                .iter()
                .filter(|m| m["clId"] == label["clId"])
                .filter(|m| seen.contains(&m["assetId"].as_i64().unwrap()))
                .count();
            let restricted = p.role == Some(1);
            if uses > 0 || !restricted {
                out.insert(label["name"].as_str().unwrap().to_string(), uses);
            }
        }
        out
    }
}

async fn loaded_server(cast: &Cast) -> TestServer {
    let server = TestServer::start_with(&["--experimental-appdata", "true"]).await;
    cast.data.load_into(&server).await;
    server
}

/// A loaded server that also holds DISA's CCI list. STIG Manager ships its CCI table with the
/// schema and application data leaves it out; Stigward's administrator loads the list.
async fn loaded_server_with_ccis(cast: &Cast) -> TestServer {
    let server = loaded_server(cast).await;
    let admin = cast.token(&server, cast.persona(Who::Admin));
    let list = std::fs::read(common::shared("data/cci/U_CCI_List.xml")).unwrap();
    let path = "/op/ccis?elevate=true";
    let (status, body) = server.upload(&admin, path, "U_CCI_List.xml", list).await;
    assert_eq!(status, 200, "{body}");
    server
}

fn ids(list: &Value, key: &str) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item[key].as_str().unwrap().to_string())
        .collect()
}

fn strings(list: &Value) -> BTreeSet<String> {
    list.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

#[test]
fn the_file_holds_every_role_in_one_collection() {
    let cast = Cast::read();
    let role = |who| cast.persona(who).role;
    assert_eq!(
        [Who::Owner, Who::Manage, Who::Full, Who::Restricted].map(role),
        [Some(4), Some(3), Some(2), Some(1)]
    );
    assert_eq!(role(Who::NoGrant), None);
    assert!(cast.persona(Who::Admin).admin);
    assert_eq!(role(Who::GrantlessAdmin), None);
    let group_only = cast.persona(Who::GroupOnly);
    let group_grant =
        cast.data.rows("collection_grant").iter().find(|g| g["grantId"] == group_only.grants[0]);
    assert!(group_grant.unwrap()["userGroupId"].is_number(), "{group_only:?}");
}

/// Each role lists exactly the collections, assets, STIGs, labels and reviews the file gives
/// it.
#[tokio::test]
async fn each_role_sees_what_the_file_grants_it() {
    let cast = Cast::read();
    let server = loaded_server(&cast).await;
    let manager = cast.token(&server, cast.persona(Who::Manage));
    for p in &cast.people {
        let token = cast.token(&server, p);
        let view = View { server: &server, cast: &cast, p, token: &token, manager: &manager };
        view.user_and_library().await;
        if p.role.is_some() {
            view.assets_and_stigs().await;
            view.acl_and_labels().await;
            view.reviews_and_history().await;
        }
    }
    server.stop().await;
}

/// One persona's reads, each compared with what the file says it may see.
struct View<'a> {
    server: &'a TestServer,
    cast: &'a Cast,
    p: &'a Persona,
    token: &'a str,
    /// A manager of the collection, to ask about the persona's grant.
    manager: &'a str,
}

impl View<'_> {
    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.server.get(self.token, path).await;
        assert_eq!(status, 200, "{:?} {path}: {body}", self.p.who);
        body
    }

    /// `/user`, the collection list, the library's collection ids, and whether the
    /// collection's assets and the persona's effective ACL are open at all.
    async fn user_and_library(&self) {
        let (cast, p, who, cid) = (self.cast, self.p, self.p.who, self.cast.cid);
        let me = self.get("/user").await;
        assert_eq!(me["username"], p.username.as_str());
        if let Some(id) = p.user_id {
            assert_eq!(me["userId"], id.to_string());
        }
        assert_eq!(me["privileges"]["admin"], p.admin, "{who:?}");
        let cid_text = cid.to_string();
        let granted = me["collectionGrants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["collection"]["collectionId"].as_str() == Some(cid_text.as_str()))
            .map(|g| g["roleId"].as_i64().unwrap());
        assert_eq!(granted, p.role, "{who:?} role in {cid}");
        let listed = self.get("/collections").await;
        assert_eq!(ids(&listed, "collectionId").contains(&cid_text), p.role.is_some());

        // the library tells each caller which of its collections use each STIG
        let library = self.get("/stigs").await;
        let used: BTreeMap<String, BTreeSet<String>> = library
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["benchmarkId"].as_str().unwrap().into(), strings(&s["collectionIds"])))
            .filter(|(_, c): &(String, BTreeSet<String>)| !c.is_empty())
            .collect();
        assert_eq!(used, cast.stig_collections(p), "{who:?} STIG collectionIds");
        if p.admin {
            self.elevated_listings().await;
        }

        let granted = p.role.is_some();
        let path =
            format!("/collections/{cid}/users/{}/effective-acl", me["userId"].as_str().unwrap());
        let (status, _) = self.server.get(self.manager, &path).await;
        assert_eq!(status, if granted { 200 } else { 422 }, "{who:?} effective ACL");
        let path = format!("/assets?collectionId={cid}");
        let (status, assets) = self.server.get(self.token, &path).await;
        assert_eq!(status, if granted { 200 } else { 403 }, "{who:?}: {assets}");
    }

    /// Elevated, an admin lists every enabled collection and every collection using a STIG,
    /// grant or not.
    async fn elevated_listings(&self) {
        let data = &self.cast.data;
        let all = self.get("/collections?elevate=true").await;
        let enabled: BTreeSet<String> =
            data.enabled_collections().iter().map(|c| c.to_string()).collect();
        assert_eq!(ids(&all, "collectionId"), enabled, "{:?}", self.p.who);
        let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for collection in data.enabled_collections() {
            for (_, b) in data.pairs_of(collection) {
                expected.entry(b).or_default().insert(collection.to_string());
            }
        }
        let library = self.get("/stigs?elevate=true").await;
        let used: BTreeMap<String, BTreeSet<String>> = library
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["benchmarkId"].as_str().unwrap().into(), strings(&s["collectionIds"])))
            .filter(|(_, c): &(String, BTreeSet<String>)| !c.is_empty())
            .collect();
        assert_eq!(used, expected, "{:?} elevated STIG collectionIds", self.p.who);
    }

    async fn assets_and_stigs(&self) {
        let (cast, p, who, cid) = (self.cast, self.p, self.p.who, self.cast.cid);
        let assets = self.get(&format!("/assets?collectionId={cid}")).await;
        let expected: BTreeSet<String> =
            cast.visible_assets(p).iter().map(|a| a.to_string()).collect();
        assert_eq!(ids(&assets, "assetId"), expected, "{who:?} assets");

        let stigs = self.get(&format!("/collections/{cid}/stigs")).await;
        assert_eq!(ids(&stigs, "benchmarkId"), cast.visible_stigs(p), "{who:?} STIGs");
        let path = format!("/collections/{cid}?projection=stigs&projection=statistics");
        let collection = self.get(&path).await;
        assert_eq!(ids(&collection["stigs"], "benchmarkId"), cast.visible_stigs(p), "{who:?}");
        let readable: Vec<(i64, String)> = cast
            .data
            .pairs_of(cid)
            .into_iter()
            .filter(|(a, b)| cast.access(p, *a, b) >= Access::Read)
            .collect();
        let statistics = &collection["statistics"];
        assert_eq!(
            (&statistics["assetCount"], &statistics["checklistCount"]),
            (&json!(cast.visible_assets(p).len()), &json!(readable.len())),
            "{who:?} statistics"
        );
        for asset in cast.visible_assets(p) {
            let read = self.get(&format!("/assets/{asset}?projection=stigs")).await;
            let expected: BTreeSet<String> =
                readable.iter().filter(|(a, _)| *a == asset).map(|(_, b)| b.clone()).collect();
            assert_eq!(ids(&read["stigs"], "benchmarkId"), expected, "{who:?} asset {asset}");
        }
    }

    async fn acl_and_labels(&self) {
        let (cast, p, who, cid) = (self.cast, self.p, self.p.who, self.cast.cid);
        // a manager asks what the persona's ACL rules give it, pair by pair
        let path = format!("/collections/{cid}/users/{}/effective-acl", p.user_id.unwrap());
        let (_, explained) = self.server.get(self.manager, &path).await;
        let explained: BTreeSet<(String, String, String)> = explained
            .as_array()
            .unwrap_or_else(|| panic!("{who:?}: {explained}"))
            .iter()
            .map(|e| {
                let asset = e["asset"]["assetId"].as_str().unwrap().to_string();
                let b = e["benchmarkId"].as_str().unwrap().to_string();
                (asset, b, e["access"].as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(explained, cast.acl_pairs(p), "{who:?} effective ACL");

        let labels = self.get(&format!("/collections/{cid}/labels")).await;
        let labels: BTreeMap<String, usize> = labels
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (l["name"].as_str().unwrap().to_string(), l["uses"].as_u64().unwrap() as usize)
            })
            .collect();
        assert_eq!(labels, cast.visible_labels(p), "{who:?} labels");
    }

    async fn reviews_and_history(&self) {
        let (cast, p, who, cid) = (self.cast, self.p, self.p.who, self.cast.cid);
        let reviews = self.get(&format!("/collections/{cid}/reviews")).await;
        let seen: BTreeMap<(String, String), String> = reviews
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let key =
                    (r["assetId"].as_str().unwrap().into(), r["ruleId"].as_str().unwrap().into());
                (key, r["access"].as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(seen, cast.visible_reviews(p), "{who:?} reviews");

        let unreviewed = self.get(&format!("/collections/{cid}/unreviewed/assets")).await;
        let listed: BTreeMap<String, BTreeSet<(String, String)>> = unreviewed
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let items = a["unreviewed"].as_array().unwrap().iter().map(|u| {
                    (
                        u["benchmarkId"].as_str().unwrap().into(),
                        u["ruleId"].as_str().unwrap().into(),
                    )
                });
                (a["assetId"].as_str().unwrap().to_string(), items.collect())
            })
            .collect();
        assert_eq!(listed, cast.unreviewed(p), "{who:?} unreviewed");

        let path = format!("/collections/{cid}/review-history");
        let (status, history) = self.server.get(self.token, &path).await;
        if p.role < Some(2) {
            assert_eq!(status, 403, "{who:?}: {history}");
            return;
        }
        let counted: BTreeMap<String, usize> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let entries = a["reviewHistories"].as_array().unwrap();
                let count = entries.iter().map(|r| r["history"].as_array().unwrap().len()).sum();
                (a["assetId"].as_str().unwrap().to_string(), count)
            })
            .collect();
        assert_eq!(counted, cast.history_per_asset(), "{who:?} review history");
    }
}

/// What an operation asks of its caller.
#[derive(Debug, Clone)]
enum Need {
    Anyone,
    /// The admin privilege with `elevate=true`.
    Elevated,
    Role(i64),
    /// A role, or the admin privilege with `elevate=true` standing in for it.
    RoleOrElevated(i64),
    /// A grant that reads at least one STIG of the asset.
    SeeAsset(i64),
    /// Read access to the asset/STIG pair (a grant without it gets `deny_without_read`).
    Read(i64, String),
    /// Read-write access to the asset/STIG pair.
    Write(i64, String),
    /// Read-write access and a role the collection's settings let accept reviews.
    Accept(i64, String),
    /// A role the collection's settings let accept or reject reviews (batch writes refuse
    /// the whole request otherwise).
    AcceptRole,
    /// A privilege the token carries, or the admin privilege with `elevate=true`.
    Privilege(&'static str),
    /// A grant that reads at least one asset mapped to the STIG (a grant without one gets
    /// `deny_without_read`).
    SeeStig(String),
}

/// One row of the table: an operation, what it needs, and its status when allowed.
struct Case {
    name: String,
    method: &'static str,
    path: String,
    body: Value,
    need: Need,
    ok: u16,
    /// The operation declares `elevate`; the admin sends `elevate=true`.
    elevatable: bool,
    /// A benchmark file sent as a multipart upload instead of `body`.
    upload: Option<&'static str>,
    /// Status for a caller with a grant but no read access (reads that filter answer 204).
    deny_without_read: u16,
}

impl Case {
    fn new(method: &'static str, path: String, need: Need, ok: u16) -> Case {
        Case {
            name: format!("{method} {path}"),
            method,
            path,
            body: Value::Null,
            need,
            ok,
            elevatable: false,
            upload: None,
            deny_without_read: 403,
        }
    }

    fn body(mut self, body: Value) -> Case {
        self.body = body;
        self
    }

    /// Tells apart cases that send the same method and path with different bodies.
    fn labelled(mut self, what: &str) -> Case {
        self.name = format!("{} ({what})", self.name);
        self
    }

    fn elevatable(mut self) -> Case {
        self.elevatable = true;
        self
    }

    fn expected(&self, cast: &Cast, p: &Persona) -> u16 {
        let role = p.role.unwrap_or(0);
        let settings = cast.data.settings(cast.cid);
        let may_accept = settings["status"]["canAccept"] == true
            && role >= settings["status"]["minAcceptGrant"].as_i64().unwrap();
        let allowed = match &self.need {
            Need::Anyone => true,
            Need::Elevated => p.admin,
            Need::Role(r) => role >= *r,
            Need::RoleOrElevated(r) => role >= *r || (p.admin && self.elevatable),
            Need::SeeAsset(a) => cast.visible_assets(p).contains(a),
            Need::Read(a, b) => {
                if role > 0 && cast.access(p, *a, b) < Access::Read {
                    return self.deny_without_read;
                }
                cast.access(p, *a, b) >= Access::Read
            }
            Need::Write(a, b) => cast.access(p, *a, b) == Access::ReadWrite,
            Need::Accept(a, b) => cast.access(p, *a, b) == Access::ReadWrite && may_accept,
            Need::AcceptRole => may_accept,
            Need::Privilege(name) => {
                p.privileges.iter().any(|x| x == name) || (p.admin && self.elevatable)
            }
            Need::SeeStig(b) => {
                let seen = cast.visible_stigs(p).contains(b);
                if role > 0 && !seen {
                    return self.deny_without_read;
                }
                seen
            }
        };
        if allowed {
            self.ok
        } else {
            403
        }
    }

    async fn call(&self, server: &TestServer, token: &str, p: &Persona) -> (u16, Value) {
        let mut path = self.path.clone();
        if self.elevatable && p.admin {
            path.push(if path.contains('?') { '&' } else { '?' });
            path.push_str("elevate=true");
        }
        match self.upload {
            Some(file) => server.upload(token, &path, file, BenchmarkFile::bytes(file)).await,
            None => server.send(self.method, token, &path, self.body.clone()).await,
        }
    }
}

/// The ids and bodies the cases use, all taken from the file.
struct Targets {
    cid: i64,
    /// The caller's role name, to keep created names apart.
    who: String,
    /// The asset with the most assignments, one of its STIGs and that STIG's revision.
    asset: i64,
    benchmark: String,
    revision: String,
    /// A rule with a review on `asset`.
    rule: String,
    /// One reviewed rule per asset/STIG pair that has a review.
    reviewed: BTreeMap<(i64, String), String>,
    /// An enabled asset without STIGs, if any.
    unassigned: Option<i64>,
    /// Two STIGs no asset uses (one loses a revision, one is deleted), with revisions.
    unmapped: Vec<(String, String)>,
    aging_status: u16,
    /// A review-aging rule that never fires: disabled, and over the longest interval.
    aging_rule: Value,
    label: String,
    tagged: Vec<String>,
    group: i64,
    group_name: Value,
    collection_name: Value,
    /// A key of the collection's and of the asset's metadata in the file, if they have one.
    collection_key: Option<String>,
    asset_key: Option<String>,
    /// The metadata of each reviewed (asset, rule) of `reviewed`, and a key some of them hold.
    review_metadata: BTreeMap<(i64, String), Value>,
    review_key: String,
    /// Every STIG assigned in the collection, and the assets assigned `benchmark`.
    stigs: BTreeSet<String>,
    benchmark_assets: Vec<String>,
    /// The group of `rule` in `revision`, and a CCI of a rule of that revision.
    rule_group: String,
    cci: String,
    grants: Vec<Value>,
    /// The restricted grant's ACL as a PUT body, when it names no labels.
    acl: Option<Vec<Value>>,
    asset_row: common::appdata::Row,
    asset_stigs: Vec<String>,
    full: Persona,
    restricted: Persona,
    nobody: Persona,
    /// The no-grant user can be deleted: it has never signed in.
    nobody_deletable: bool,
}

impl Targets {
    fn read(cast: &Cast, p: &Persona) -> Targets {
        let data = &cast.data;
        let cid = cast.cid;
        let pairs = data.pairs_of(cid);
        let assigned = |asset: i64| pairs.iter().filter(move |(a, _)| *a == asset);
        let asset = *data
            .assets_of(cid)
            .iter()
            .max_by_key(|a| (assigned(**a).count(), std::cmp::Reverse(**a)))
            .unwrap();
        let benchmark = assigned(asset).next().unwrap().1.clone();
        let mut reviewed: BTreeMap<(i64, String), String> = BTreeMap::new();
        for (review, stigs) in data.listed_reviews(cid) {
            let a = review["assetId"].as_i64().unwrap();
            for b in stigs {
                reviewed.entry((a, b)).or_insert_with(|| review["ruleId"].as_str().unwrap().into());
            }
        }
        let rule = reviewed.iter().find(|((a, _), _)| *a == asset).unwrap().1.clone();
        let revision_of = |benchmark: &str| {
            let r = data.rows("revision").iter().find(|r| r["benchmarkId"] == benchmark).unwrap();
            format!("V{}R{}", r["version"], r["release"].as_str().unwrap())
        };
        let unmapped = data
            .rows("stig")
            .iter()
            .map(|s| s["benchmarkId"].as_str().unwrap())
            .filter(|b| !data.rows("stig_asset_map").iter().any(|m| m["benchmarkId"] == *b))
            .map(|b| (b.to_string(), revision_of(b)))
            .collect();
        let has_aging = data.rows("review_aging_rule").iter().any(|r| r["collectionId"] == cid);
        let rev_id = {
            let r = data.rows("revision").iter().find(|r| r["benchmarkId"] == benchmark.as_str());
            r.unwrap()["revId"].clone()
        };
        let rev_rules: Vec<&common::appdata::Row> =
            data.rows("rev_group_rule_map").iter().filter(|r| r["revId"] == rev_id).collect();
        let rule_row = rev_rules.iter().find(|r| r["ruleId"] == rule.as_str()).unwrap();
        let cci = data
            .rows("rev_group_rule_cci_map")
            .iter()
            .find(|c| rev_rules.iter().any(|r| r["rgrId"] == c["rgrId"]))
            .unwrap()["cci"]
            .as_str()
            .unwrap()
            .to_string();
        let review_metadata: BTreeMap<(i64, String), Value> = data
            .rows("review")
            .iter()
            .filter(|r| {
                let key = (r["assetId"].as_i64().unwrap(), r["ruleId"].as_str().unwrap());
                reviewed.iter().any(|((a, _), rule)| (*a, rule.as_str()) == key)
            })
            .map(|r| {
                let key = (r["assetId"].as_i64().unwrap(), r["ruleId"].as_str().unwrap().into());
                (key, serde_json::from_str(r["metadata"].as_str().unwrap()).unwrap())
            })
            .collect();
        let review_key = review_metadata
            .values()
            .find_map(|m: &Value| m.as_object().unwrap().keys().next().cloned())
            .expect("a reviewed rule of the collection with metadata");
        let first_key = |text: &Value| -> Option<String> {
            let map: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
            map.as_object().unwrap().keys().next().cloned()
        };
        let collection_row = data.rows("collection").iter().find(|r| r["collectionId"] == cid);
        let benchmark_assets =
            pairs.iter().filter(|(_, b)| *b == benchmark).map(|(a, _)| a.to_string()).collect();
        let asset_row = data.rows("asset").iter().find(|r| r["assetId"] == asset).unwrap();
        let label = data.rows("collection_label").iter().find(|l| l["collectionId"] == cid);
        let cl_id = label.unwrap()["clId"].as_i64().unwrap();
        let nobody = cast.persona(Who::NoGrant).clone();
        let restricted = cast.persona(Who::Restricted).clone();
        Targets {
            cid,
            who: format!("{:?}", p.who).to_lowercase(),
            asset,
            revision: revision_of(&benchmark),
            benchmark,
            rule,
            reviewed,
            unassigned: data.assets_of(cid).into_iter().find(|a| assigned(*a).next().is_none()),
            unmapped,
            aging_status: if has_aging { 200 } else { 404 },
            aging_rule: json!({"triggerField": "ts", "triggerInterval": 2147483647,
                "triggerAction": "update", "updateField": "status", "updateValue": "saved",
                "enabled": false}),
            label: data.label_id(cl_id),
            tagged: data
                .rows("collection_label_asset_map")
                .iter()
                .filter(|m| m["clId"] == cl_id)
                .map(|m| m["assetId"].to_string())
                .collect(),
            group: data.rows("user_group")[0]["userGroupId"].as_i64().unwrap(),
            group_name: data.rows("user_group")[0]["name"].clone(),
            collection_name: collection_row.unwrap()["name"].clone(),
            collection_key: first_key(&collection_row.unwrap()["metadata"]),
            asset_key: first_key(&asset_row["metadata"]),
            review_metadata,
            review_key,
            stigs: pairs.iter().map(|(_, b)| b.clone()).collect(),
            benchmark_assets,
            rule_group: rule_row["groupId"].as_str().unwrap().to_string(),
            cci,
            grants: Self::grants_body(data, cid),
            acl: Self::acl_body(data, restricted.grants[0]),
            asset_row: asset_row.clone(),
            asset_stigs: assigned(asset).map(|(_, b)| b.clone()).collect(),
            full: cast.persona(Who::Full).clone(),
            nobody_deletable: data.user(nobody.user_id.unwrap())["lastAccess"].is_null(),
            restricted,
            nobody,
        }
    }

    /// The collection's grants as a PUT /collections body sends them.
    fn grants_body(data: &AppData, cid: i64) -> Vec<Value> {
        data.rows("collection_grant")
            .iter()
            .filter(|g| g["collectionId"] == cid)
            .map(|g| match g["userId"].as_i64() {
                Some(u) => json!({"userId": u.to_string(), "roleId": g["roleId"]}),
                None => json!({"userGroupId": g["userGroupId"].to_string(), "roleId": g["roleId"]}),
            })
            .collect()
    }

    fn acl_body(data: &AppData, grant_id: i64) -> Option<Vec<Value>> {
        data.rows("collection_grant_acl")
            .iter()
            .filter(|r| r["grantId"] == grant_id)
            .map(|r| {
                let access = &r["access"];
                match (r["assetId"].as_i64(), r["benchmarkId"].as_str(), r["clId"].is_null()) {
                    (Some(a), Some(b), true) => {
                        Some(json!({"assetId": a.to_string(), "benchmarkId": b, "access": access}))
                    }
                    (Some(a), None, true) => {
                        Some(json!({"assetId": a.to_string(), "access": access}))
                    }
                    (None, Some(b), true) => Some(json!({"benchmarkId": b, "access": access})),
                    _ => None,
                }
            })
            .collect()
    }

    fn c(&self, rest: &str) -> String {
        format!("/collections/{}{rest}", self.cid)
    }
}

/// The operations of the User, Asset, Collection, STIG and Review tags, on the collection
/// and rows the file holds. Writes come after reads, deletes last, so one pass leaves every
/// later case its data.
fn cases(cast: &Cast, p: &Persona) -> Vec<Case> {
    let t = Targets::read(cast, p);
    let mut out = read_cases(&t);
    out.extend(review_read_cases(&t));
    out.extend(write_cases(&t));
    out.extend(review_write_cases(&t));
    out.extend(delete_cases(&t));
    out
}

fn read_cases(t: &Targets) -> Vec<Case> {
    let (cid, asset, benchmark, revision) = (t.cid, t.asset, &t.benchmark, &t.revision);
    let (rule, label, group) = (&t.rule, &t.label, t.group);
    let full_grant = t.full.grants[0];
    let mut out = vec![
        // User
        Case::new("GET", "/user".into(), Need::Anyone, 200),
        Case::new("GET", "/users".into(), Need::Anyone, 200),
        Case::new("GET", "/users?projection=collectionGrants".into(), Need::Elevated, 200)
            .elevatable(),
        Case::new("GET", format!("/users/{}", t.nobody.user_id.unwrap()), Need::Elevated, 200)
            .elevatable(),
        Case::new("GET", "/user-groups".into(), Need::Anyone, 200),
        Case::new("GET", format!("/user-groups/{group}"), Need::Anyone, 200),
        Case::new("GET", "/user/web-preferences".into(), Need::Anyone, 200),
        Case::new("PATCH", "/user/web-preferences".into(), Need::Anyone, 200)
            .body(json!({"darkMode": false})),
        // Collection
        Case::new("GET", "/collections".into(), Need::Anyone, 200).elevatable(),
        Case::new("GET", t.c(""), Need::RoleOrElevated(1), 200).elevatable(),
        Case::new("GET", t.c("?projection=grants"), Need::RoleOrElevated(1), 200).elevatable(),
        Case::new("GET", t.c("/grants"), Need::RoleOrElevated(3), 200).elevatable(),
        Case::new("GET", t.c(&format!("/grants/{full_grant}")), Need::RoleOrElevated(3), 200)
            .elevatable(),
        Case::new(
            "GET",
            t.c(&format!("/grants/{}/acl", t.restricted.grants[0])),
            Need::Role(3),
            200,
        ),
        Case::new(
            "GET",
            t.c(&format!("/users/{}/effective-acl", t.restricted.user_id.unwrap())),
            Need::Role(3),
            200,
        ),
        Case::new("GET", t.c("/labels"), Need::Role(1), 200),
        Case::new("GET", t.c(&format!("/labels/{label}")), Need::Role(1), 200),
        Case::new("GET", t.c(&format!("/labels/{label}/assets")), Need::Role(1), 200),
        Case::new("GET", t.c("/metadata"), Need::Role(3), 200),
        Case::new("GET", t.c("/metadata/keys"), Need::Role(3), 200),
        Case::new("GET", t.c("/metadata/keys/absent"), Need::Role(3), 404).labelled("absent"),
        Case::new("GET", t.c("/stigs"), Need::Role(1), 200),
        Case::new("GET", t.c(&format!("/stigs/{benchmark}/assets")), Need::Role(1), 200),
        Case::new("GET", t.c("/unreviewed/assets"), Need::Role(1), 200),
        Case::new("GET", t.c("/unreviewed/rules"), Need::Role(1), 200),
        Case::new("GET", t.c("/review-history"), Need::Role(2), 200),
        Case::new("GET", t.c("/review-history/stats"), Need::Role(2), 200),
        Case::new("GET", t.c("/tasks/review-aging/config"), Need::Role(3), t.aging_status),
        Case::new("GET", t.c("/tasks/review-aging/output"), Need::Role(3), 200),
        // Asset
        Case::new("GET", format!("/assets?collectionId={cid}"), Need::Role(1), 200),
        Case::new("GET", format!("/assets/{asset}"), Need::SeeAsset(asset), 200),
        Case::new("GET", format!("/assets/{asset}/stigs"), Need::Role(1), 200),
        Case::new("GET", format!("/assets/{asset}/metadata"), Need::Role(1), 200),
        Case::new("GET", format!("/assets/{asset}/metadata/keys"), Need::Role(1), 200),
        Case::new("GET", format!("/assets/{asset}/metadata/keys/absent"), Need::Role(1), 404),
        // STIG
        Case::new("GET", "/stigs".into(), Need::Anyone, 200),
        Case::new("GET", format!("/stigs/{benchmark}"), Need::Anyone, 200),
        Case::new("GET", format!("/stigs/{benchmark}/revisions"), Need::Anyone, 200),
        Case::new("GET", format!("/stigs/{benchmark}/revisions/{revision}"), Need::Anyone, 200),
        Case::new("GET", format!("/stigs/{benchmark}/revisions/latest/rules"), Need::Anyone, 200),
        Case::new("GET", format!("/stigs/rules/{rule}"), Need::Anyone, 200),
        Case::new(
            "GET",
            format!("/stigs/{benchmark}/revisions/{revision}/ccis"),
            Need::Anyone,
            200,
        ),
        Case::new(
            "GET",
            format!("/stigs/{benchmark}/revisions/{revision}/groups"),
            Need::Anyone,
            200,
        ),
        Case::new(
            "GET",
            format!("/stigs/{benchmark}/revisions/{revision}/groups/{}", t.rule_group),
            Need::Anyone,
            200,
        ),
        Case::new(
            "GET",
            format!("/stigs/{benchmark}/revisions/{revision}/rules/{rule}"),
            Need::Anyone,
            200,
        ),
        Case::new("GET", format!("/stigs/ccis/{}", t.cci), Need::Anyone, 200),
        Case::new("GET", "/stigs/scap-maps".into(), Need::Anyone, 200),
    ];
    // the collection's STIGs one by one: a grant that reads none of a STIG's assets finds
    // no such STIG in the collection
    for b in &t.stigs {
        out.push(Case {
            deny_without_read: 204,
            ..Case::new("GET", t.c(&format!("/stigs/{b}")), Need::SeeStig(b.clone()), 200)
        });
    }
    if let Some(key) = &t.collection_key {
        out.push(Case::new("GET", t.c(&format!("/metadata/keys/{key}")), Need::Role(3), 200));
    }
    if let Some(key) = &t.asset_key {
        let path = format!("/assets/{asset}/metadata/keys/{key}");
        out.push(Case::new("GET", path, Need::Role(1), 200));
    }
    out
}

fn review_read_cases(t: &Targets) -> Vec<Case> {
    let mut out = vec![
        Case::new("GET", t.c("/reviews"), Need::Role(1), 200),
        Case::new("GET", t.c(&format!("/reviews/{}", t.asset)), Need::Role(1), 200),
    ];
    for ((a, b), rule) in &t.reviewed {
        let path = t.c(&format!("/reviews/{a}/{rule}"));
        let read = Need::Read(*a, b.clone());
        // a review the caller may not read is absent to it
        out.push(Case {
            deny_without_read: 204,
            ..Case::new("GET", path.clone(), read.clone(), 200)
        });
        out.push(Case::new("GET", format!("{path}/metadata"), read.clone(), 200));
        out.push(Case::new("GET", format!("{path}/metadata/keys"), read.clone(), 200));
        // the key one reviewed rule's metadata holds: found there, missing elsewhere
        let stored = &t.review_metadata[&(*a, rule.clone())];
        let found = if stored.get(&t.review_key).is_some() { 200 } else { 404 };
        let key = format!("{path}/metadata/keys/{}", t.review_key);
        out.push(Case::new("GET", key, read, found));
    }
    out
}

fn write_cases(t: &Targets) -> Vec<Case> {
    let (cid, asset, benchmark, who, label) = (t.cid, t.asset, &t.benchmark, &t.who, &t.label);
    let nobody = t.nobody.user_id.unwrap().to_string();
    let row = &t.asset_row;
    let mut out = vec![
        Case::new("POST", "/users".into(), Need::Elevated, 201)
            .body(json!({"username": format!("new-{who}"), "collectionGrants": []}))
            .elevatable(),
        Case::new("POST", "/user-groups".into(), Need::Elevated, 201)
            .body(json!({"name": format!("group-{who}"), "userIds": []}))
            .elevatable(),
        Case::new("PATCH", t.c(""), Need::RoleOrElevated(3), 200)
            .body(json!({"description": format!("patched by {who}")}))
            .elevatable(),
        Case::new("POST", t.c("/grants"), Need::RoleOrElevated(3), 201)
            .body(json!([{"userId": nobody, "roleId": 2}]))
            .elevatable(),
        Case::new("POST", "/collections".into(), Need::Privilege("create_collection"), 201)
            .body(json!({"name": format!("created by {who}"), "grants": []}))
            .elevatable(),
        Case::new("POST", t.c("/labels"), Need::Role(3), 201)
            .body(json!({"name": format!("l-{who}"), "description": "", "color": "00FF00"})),
        Case::new("POST", t.c("/labels/batch"), Need::Role(3), 201)
            .body(json!([{"name": format!("b-{who}"), "description": "", "color": "0000FF"}])),
        Case::new("PUT", t.c("/metadata"), Need::Role(3), 200).body(json!({"by": who})),
        Case::new("PUT", t.c("/metadata/keys/role"), Need::Role(3), 204).body(json!(who)),
        Case::new("PATCH", t.c("/metadata"), Need::Role(3), 200).body(json!({"by": who})),
        Case::new("PUT", t.c("/tasks/review-aging/config"), Need::Role(4), 200)
            .body(json!([t.aging_rule])),
        Case::new("PUT", t.c(&format!("/stigs/{benchmark}/assets")), Need::Role(3), 200)
            .body(json!(t.benchmark_assets)),
        Case::new("POST", t.c(&format!("/stigs/{benchmark}")), Need::Role(3), 200)
            .body(json!({"defaultRevisionStr": "latest"})),
        Case::new("POST", "/assets".into(), Need::Role(3), 201).body(json!({
            "name": format!("asset-{who}"), "collectionId": cid.to_string(), "description": null,
            "ip": null, "noncomputing": false, "metadata": {}, "stigs": [benchmark]})),
        Case::new("POST", t.c("/assets"), Need::Role(3), 201).body(json!([{
            "name": format!("batch-{who}"), "description": null, "ip": null,
            "noncomputing": true, "metadata": {}, "stigs": []}])),
        Case::new("PATCH", format!("/assets/{asset}"), Need::Role(3), 200)
            .body(json!({"description": format!("patched by {who}")})),
        Case::new("PATCH", format!("/assets/{asset}/metadata"), Need::Role(3), 200)
            .body(json!({"by": who})),
        Case::new("PUT", format!("/assets/{asset}/metadata"), Need::Role(3), 200)
            .body(json!({"by": who})),
        Case::new("PUT", format!("/assets/{asset}/metadata/keys/role"), Need::Role(3), 204)
            .body(json!(who)),
        Case::new("PUT", format!("/assets/{asset}/stigs/{benchmark}"), Need::Role(3), 200),
        Case::new("PUT", format!("/assets/{asset}"), Need::Role(3), 200).body(json!({
            "name": row["name"], "collectionId": cid.to_string(),
            "description": format!("replaced by {who}"), "ip": row["ip"],
            "noncomputing": row["noncomputing"], "metadata": {}, "stigs": t.asset_stigs})),
        Case::new("PATCH", t.c(&format!("/labels/{label}")), Need::Role(3), 200)
            .body(json!({"color": "123456"})),
        Case::new("PUT", t.c(&format!("/labels/{label}/assets")), Need::Role(3), 200)
            .body(json!(t.tagged)),
        Case::new(
            "PUT",
            t.c(&format!("/grants/{}", t.full.grants[0])),
            Need::RoleOrElevated(3),
            200,
        )
        .body(json!({"userId": t.full.user_id.unwrap().to_string(), "roleId": 2}))
        .elevatable(),
        Case::new("PUT", t.c(""), Need::RoleOrElevated(3), 200)
            .body(json!({"name": t.collection_name, "description": format!("replaced by {who}"),
                "grants": t.grants}))
            .elevatable(),
        Case::new("PATCH", format!("/users/{nobody}"), Need::Elevated, 200)
            .body(json!({"collectionGrants": []}))
            .elevatable(),
        Case::new("PUT", format!("/users/{nobody}"), Need::Elevated, 200)
            .body(json!({"username": t.nobody.username, "collectionGrants": []}))
            .elevatable(),
        Case::new("PATCH", format!("/user-groups/{}", t.group), Need::Elevated, 200)
            .body(json!({"description": format!("patched by {who}")}))
            .elevatable(),
        Case::new("PUT", format!("/user-groups/{}", t.group), Need::Elevated, 200)
            .body(json!({"name": t.group_name, "description": format!("replaced by {who}")}))
            .elevatable(),
        Case {
            upload: Some("U_VPN_SRG-OTHER_V1R1_Manual-xccdf.xml"),
            ..Case::new("POST", "/stigs".into(), Need::Elevated, 200).elevatable()
        },
    ];
    if let Some(acl) = &t.acl {
        let path = t.c(&format!("/grants/{}/acl", t.restricted.grants[0]));
        out.push(Case::new("PUT", path, Need::Role(3), 200).body(json!(acl)));
    }
    out
}

fn review_write_cases(t: &Targets) -> Vec<Case> {
    let who = &t.who;
    // any grant may post to an asset of the collection; the reply lists what it could not
    // write
    let post = json!([{"ruleId": t.rule, "result": "pass", "detail": format!("by {who}"),
        "comment": ""}]);
    let path = t.c(&format!("/reviews/{}", t.asset));
    let mut out = vec![Case::new("POST", path, Need::Role(1), 200).body(post)];
    for ((a, b), rule) in &t.reviewed {
        let path = t.c(&format!("/reviews/{a}/{rule}"));
        let write = Need::Write(*a, b.clone());
        let put = json!({"result": "pass", "detail": format!("by {who}"), "comment": ""});
        out.push(Case::new("PUT", path.clone(), write.clone(), 200).body(put));
        // any rw grant submits; rejecting and accepting need the settings' minAcceptGrant
        let accept = Need::Accept(*a, b.clone());
        let submit = json!({"status": "submitted"});
        out.push(
            Case::new("PATCH", path.clone(), write.clone(), 200).body(submit).labelled("submit"),
        );
        let reject = json!({"status": {"label": "rejected", "text": format!("by {who}")}});
        out.push(
            Case::new("PATCH", path.clone(), accept.clone(), 200).body(reject).labelled("reject"),
        );
        let accepted = json!({"status": "accepted"});
        out.push(Case::new("PATCH", path.clone(), accept, 200).body(accepted).labelled("accept"));
        let meta = format!("{path}/metadata");
        out.push(Case::new("PATCH", meta.clone(), write.clone(), 200).body(json!({"by": who})));
        out.push(Case::new("PUT", meta.clone(), write.clone(), 200).body(json!({"by": who})));
        let key = format!("{meta}/keys/role");
        out.push(Case::new("PUT", key.clone(), write.clone(), 204).body(json!(who)));
        out.push(Case::new("DELETE", key, write, 204));
    }
    // the batch refuses a status the caller's role may not set as a whole, and answers any
    // grant's submission, reporting the targets it could not write in its body
    let (assets, rules): (BTreeSet<String>, BTreeSet<String>) =
        t.reviewed.iter().map(|((a, _), rule)| (a.to_string(), rule.clone())).unzip();
    let batch = |status: Value| {
        json!({"source": {"review": {"status": status}}, "assets": {"assetIds": assets},
            "rules": {"ruleIds": rules}})
    };
    let rejected = json!({"label": "rejected", "text": "batch"});
    let reject = Case::new("POST", t.c("/reviews"), Need::AcceptRole, 200).body(batch(rejected));
    out.push(reject.labelled("reject"));
    let submit = Case::new("POST", t.c("/reviews"), Need::Role(1), 200);
    out.push(submit.body(batch(json!("submitted"))).labelled("submit"));
    out
}

fn delete_cases(t: &Targets) -> Vec<Case> {
    let (cid, asset, benchmark, label) = (t.cid, t.asset, &t.benchmark, &t.label);
    let stale = "/review-history?retentionDate=2021-01-01";
    let mut out = vec![Case::new("DELETE", t.c(stale), Need::Role(3), 200)];
    for ((a, b), rule) in &t.reviewed {
        let path = t.c(&format!("/reviews/{a}/{rule}"));
        out.push(Case::new("DELETE", path, Need::Write(*a, b.clone()), 200));
    }
    let user_deleted = if t.nobody_deletable { 200 } else { 422 };
    out.extend([
        Case::new("DELETE", format!("/assets/{asset}/metadata/keys/role"), Need::Role(3), 204),
        Case::new("DELETE", t.c("/metadata/keys/role"), Need::Role(3), 204),
        Case::new("DELETE", format!("/assets/{asset}/stigs/{benchmark}"), Need::Role(3), 200),
        Case::new("DELETE", format!("/assets/{asset}/stigs"), Need::Role(3), 200),
        Case::new("DELETE", t.c("/tasks/review-aging/config"), Need::Role(4), 204),
        Case::new("DELETE", t.c(&format!("/labels/{label}")), Need::Role(3), 204),
        Case::new(
            "DELETE",
            t.c(&format!("/grants/{}", t.full.grants[0])),
            Need::RoleOrElevated(3),
            200,
        )
        .elevatable(),
        Case::new("DELETE", format!("/user-groups/{}", t.group), Need::Elevated, 200).elevatable(),
        Case::new(
            "DELETE",
            format!("/users/{}", t.nobody.user_id.unwrap()),
            Need::Elevated,
            user_deleted,
        )
        .elevatable(),
    ]);
    if let Some(unassigned) = t.unassigned {
        let path = format!("/assets?collectionId={cid}");
        let body = json!({"operation": "delete", "assetIds": [unassigned.to_string()]});
        out.push(Case::new("PATCH", path, Need::Role(3), 200).body(body));
    }
    let (first, revision) = &t.unmapped[0];
    let path = format!("/stigs/{first}/revisions/{revision}");
    out.push(Case::new("DELETE", path, Need::Elevated, 200).elevatable());
    let path = format!("/stigs/{}", t.unmapped[1].0);
    out.push(Case::new("DELETE", path, Need::Elevated, 200).elevatable());
    out.push(Case::new("DELETE", format!("/assets/{asset}"), Need::Role(3), 200));
    out.push(Case::new("DELETE", t.c(""), Need::RoleOrElevated(4), 200).elevatable());
    out
}

/// Every operation, called as every role on a freshly loaded copy of the file, answers the
/// status the role's grant, ACL and privileges call for.
#[tokio::test]
async fn every_operation_answers_each_role_as_its_grant_allows() {
    let cast = Cast::read();
    let mut wrong = Vec::new();
    let mut outcomes: BTreeMap<String, BTreeSet<bool>> = BTreeMap::new();
    for p in &cast.people {
        let server = loaded_server_with_ccis(&cast).await;
        let token = cast.token(&server, p);
        for case in cases(&cast, p) {
            let expected = case.expected(&cast, p);
            let (status, body) = case.call(&server, &token, p).await;
            if status != expected {
                wrong.push(format!(
                    "{:?} {}: {status}, expected {expected}: {body}",
                    p.who, case.name
                ));
            }
            if status == 403 {
                assert!(body["error"].is_string(), "{:?} {}: {body}", p.who, case.name);
            }
            outcomes.entry(case.name).or_default().insert(expected < 300);
        }
        server.stop().await;
    }
    assert!(wrong.is_empty(), "{} mismatches:\n{}", wrong.len(), wrong.join("\n"));
    // the table is not trivially open: most operations turn some role away
    let split = outcomes.values().filter(|o| o.len() == 2).count();
    assert!(split * 4 > outcomes.len() * 3, "{split} of {} operations", outcomes.len());
}

/// Rule ids of the collection's default revisions, with the STIG each belongs to and the
/// review key it writes to.
fn default_rule(cast: &Cast, rule_id: &str) -> (String, String, Value) {
    for (benchmark, keys) in cast.data.default_rules(cast.cid) {
        if let Some(k) = keys.iter().find(|k| k.rule_id == rule_id) {
            return (benchmark, k.version.clone(), k.digest.clone());
        }
    }
    panic!("{rule_id} is in no default revision");
}

/// Whether the file holds a review of the asset under the rule's key.
fn has_review(cast: &Cast, asset: i64, key: &common::appdata::RuleKey) -> bool {
    cast.data.rows("review").iter().any(|r| {
        r["assetId"] == asset
            && r["version"] == key.version.as_str()
            && r["checkDigest"] == key.digest
    })
}

fn stored_review(cast: &Cast, asset: i64, rule_id: &str) -> bool {
    let (_, version, digest) = default_rule(cast, rule_id);
    has_review(cast, asset, &common::appdata::RuleKey { rule_id: rule_id.into(), version, digest })
}

/// For each default-revision STIG: the rules reviewed somewhere in the collection and one
/// that nobody has reviewed.
fn rules_to_write(cast: &Cast) -> Vec<String> {
    let listed = cast.data.listed_reviews(cast.cid);
    let mut out = BTreeSet::new();
    for (_, keys) in cast.data.default_rules(cast.cid) {
        let reviewed = |k: &&common::appdata::RuleKey| {
            listed
                .iter()
                .any(|(r, _)| r["version"] == k.version.as_str() && r["checkDigest"] == k.digest)
        };
        out.extend(keys.iter().filter(reviewed).map(|k| k.rule_id.clone()));
        out.extend(keys.iter().find(|k| !reviewed(k)).map(|k| k.rule_id.clone()));
    }
    out.into_iter().collect()
}

/// Per-asset posts and batch writes accept exactly the targets each role's ACL makes
/// writable, insert where no review exists and update where one does.
#[tokio::test]
async fn review_posts_and_batches_write_only_what_each_acl_opens() {
    let cast = Cast::read();
    let cid = cast.cid;
    let rules = rules_to_write(&cast);
    let pairs = cast.data.pairs_of(cid);
    let assets: Vec<i64> =
        pairs.iter().map(|(a, _)| *a).collect::<BTreeSet<_>>().into_iter().collect();
    let writable = |p: &Persona, asset: i64, rule: &str| {
        let benchmark = default_rule(&cast, rule).0;
        pairs.contains(&(asset, benchmark.clone()))
            && cast.access(p, asset, &benchmark) == Access::ReadWrite
    };
    for p in &cast.people {
        let server = loaded_server(&cast).await;
        let token = cast.token(&server, p);
        let who = p.who;

        // one asset, every rule, through POST /collections/{id}/reviews/{assetId}
        let asset = assets[0];
        let items: Vec<Value> = rules
            .iter()
            .map(|r| json!({"ruleId": r, "result": "pass", "detail": "posted", "comment": ""}))
            .collect();
        let path = format!("/collections/{cid}/reviews/{asset}");
        let (status, reply) = server.send("POST", &token, &path, json!(items)).await;
        if p.role.is_none() {
            assert_eq!(status, 403, "{who:?}: {reply}");
        } else {
            assert_eq!(status, 200, "{who:?}: {reply}");
            let (mut inserted, mut updated, mut rejected) = (0, 0, BTreeSet::new());
            for r in &rules {
                match (writable(p, asset, r), stored_review(&cast, asset, r)) {
                    (false, _) => drop(rejected.insert(r.clone())),
                    (true, true) => updated += 1,
                    (true, false) => inserted += 1,
                }
            }
            assert_eq!(
                reply["affected"],
                json!({"inserted": inserted, "updated": updated}),
                "{who:?}: {reply}"
            );
            assert_eq!(ids(&reply["rejected"], "ruleId"), rejected, "{who:?}");
        }

        // every other asset and the same rules, through the batch endpoint
        let others: Vec<String> = assets[1..].iter().map(|a| a.to_string()).collect();
        let batch = json!({"source": {"review": {"result": "fail", "detail": "batched",
            "comment": format!("{who:?}")}}, "assets": {"assetIds": others},
            "rules": {"ruleIds": rules}});
        let path = format!("/collections/{cid}/reviews");
        let (status, reply) = server.send("POST", &token, &path, batch).await;
        if p.role.is_none() {
            assert_eq!(status, 403, "{who:?}: {reply}");
            server.stop().await;
            continue;
        }
        assert_eq!(status, 200, "{who:?}: {reply}");
        let (mut inserted, mut updated, mut failed) = (0, 0, 0);
        let mut written = BTreeSet::new();
        for &asset in &assets[1..] {
            for r in &rules {
                match (writable(p, asset, r), stored_review(&cast, asset, r)) {
                    (false, _) => failed += 1,
                    (true, true) => updated += 1,
                    (true, false) => inserted += 1,
                }
                if writable(p, asset, r) {
                    written.insert((asset.to_string(), r.clone()));
                }
            }
        }
        assert_eq!(
            (&reply["inserted"], &reply["updated"], &reply["failedValidation"]),
            (&json!(inserted), &json!(updated), &json!(failed)),
            "{who:?}: {reply}"
        );

        // the owner reads back exactly the written targets with the batch's comment
        let owner = cast.token(&server, cast.persona(Who::Owner));
        let (_, all) = server.get(&owner, &format!("{path}?rules=all")).await;
        let found: BTreeSet<(String, String)> = all
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["comment"] == format!("{who:?}"))
            .flat_map(|r| {
                let asset = r["assetId"].as_str().unwrap().to_string();
                let aliases = r["ruleIds"].as_array().unwrap().clone();
                aliases.into_iter().map(move |id| (asset.clone(), id.as_str().unwrap().into()))
            })
            .filter(|(_, rule)| rules.contains(rule))
            .collect();
        assert_eq!(found, written, "{who:?}");
        server.stop().await;
    }
}

/// The batch's text filters are LIKE patterns: `_` is one character, `%` any run, and a
/// backslash makes either literal. Expected matches are worked out with plain string tests.
#[tokio::test]
async fn batch_text_filters_match_like_wildcards() {
    let cast = Cast::read();
    let cid = cast.cid;
    let server = loaded_server(&cast).await;
    let owner = cast.token(&server, cast.persona(Who::Owner));
    let listed = cast.data.listed_reviews(cid);
    let assets: BTreeSet<String> = listed.iter().map(|(r, _)| r["assetId"].to_string()).collect();
    let rules: BTreeSet<String> =
        listed.iter().map(|(r, _)| r["ruleId"].as_str().unwrap().to_string()).collect();
    let details: Vec<String> =
        listed.iter().map(|(r, _)| r["detail"].as_str().unwrap_or("").to_lowercase()).collect();
    let count = |test: &dyn Fn(&str) -> bool| details.iter().filter(|d| test(d)).count();

    let lvl_and_one = |d: &str| d.match_indices("lvl").any(|(i, _)| d.len() > i + 3);
    let checks: Vec<(&str, &str, usize)> = vec![
        ("contains", "lvl_", count(&lvl_and_one)),
        ("equals", "test_visible to lvl1", count(&|d| d == "test\nvisible to lvl1")),
        ("beginsWith", "TEST%above", count(&|d| d.starts_with("test") && d[4..].contains("above"))),
        ("endsWith", "lvl\\_", count(&|d| d.ends_with("lvl_"))),
        ("contains", "to%\\%", count(&|d| d.find("to").is_some_and(|i| d[i..].contains('%')))),
        ("equals", "%", details.len()),
    ];
    assert!(checks[0].2 > 0 && checks[1].2 > 0 && checks[2].2 > 0, "the file exercises matches");
    assert!(checks[1].2 < checks[0].2, "an equals pattern is narrower than a contains one");
    let path = format!("/collections/{cid}/reviews");
    for (condition, value, expected) in &checks {
        let batch = json!({"source": {"review": {"comment": "matched"}}, "action": "update",
            "assets": {"assetIds": assets}, "rules": {"ruleIds": rules}, "dryRun": true,
            "updateFilters": [{"field": "detail", "condition": condition, "value": value}]});
        let (status, reply) = server.send("POST", &owner, &path, batch).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["willUpdate"], *expected, "{condition} {value:?}: {reply}");
    }

    // a real write touches only the matching reviews
    let batch = json!({"source": {"review": {"comment": "matched"}}, "action": "update",
        "assets": {"assetIds": assets}, "rules": {"ruleIds": rules},
        "updateFilters": [{"field": "detail", "value": "test_visible to lvl1"}]});
    let (_, reply) = server.send("POST", &owner, &path, batch).await;
    assert_eq!(reply["updated"], checks[1].2, "{reply}");
    let (_, reviews) = server.get(&owner, &path).await;
    for r in reviews.as_array().unwrap() {
        let hit = r["detail"].as_str().unwrap().eq_ignore_ascii_case("test\nvisible to lvl1");
        assert_eq!(r["comment"] == "matched", hit, "{r}");
    }
    server.stop().await;
}

/// A batch that picks assets and rules by STIG reaches, for each role, the assets its ACL
/// lets it write for those STIGs and, with several STIGs, only the asset/rule pairs whose
/// own STIG is assigned and writable.
#[tokio::test]
async fn batches_chosen_by_stig_reach_only_writable_pairs() {
    let cast = Cast::read();
    let cid = cast.cid;
    let server = loaded_server(&cast).await;
    let pairs = cast.data.pairs_of(cid);
    let defaults = cast.data.default_rules(cid);
    let every: Vec<String> = defaults.keys().cloned().collect();
    let mut choices: Vec<Vec<String>> = every.iter().map(|b| vec![b.clone()]).collect();
    choices.push(every.clone());
    for p in cast.people.iter().filter(|p| p.role.is_some()) {
        let token = cast.token(&server, p);
        for stigs in &choices {
            let writable = |asset: i64, b: &String| {
                pairs.contains(&(asset, b.clone())) && cast.access(p, asset, b) == Access::ReadWrite
            };
            let assets: BTreeSet<i64> = cast
                .data
                .assets_of(cid)
                .into_iter()
                .filter(|a| stigs.iter().any(|b| writable(*a, b)))
                .collect();
            let (mut inserted, mut updated, mut failed) = (0, 0, 0);
            for &asset in &assets {
                for b in stigs {
                    for key in &defaults[b] {
                        if !writable(asset, b) {
                            failed += 1;
                        } else if has_review(&cast, asset, key) {
                            updated += 1;
                        } else {
                            inserted += 1;
                        }
                    }
                }
            }
            let batch = json!({"source": {"review": {"result": "pass", "detail": "x"}},
                "assets": {"benchmarkIds": stigs}, "rules": {"benchmarkIds": stigs},
                "dryRun": true});
            let path = format!("/collections/{cid}/reviews");
            let (status, reply) = server.send("POST", &token, &path, batch).await;
            assert_eq!(status, 200, "{:?} {stigs:?}: {reply}", p.who);
            assert_eq!(
                (&reply["willInsert"], &reply["willUpdate"], &reply["willFailValidation"]),
                (&json!(inserted), &json!(updated), &json!(failed)),
                "{:?} {stigs:?}",
                p.who
            );
        }
    }
    server.stop().await;
}
