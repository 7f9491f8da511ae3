//! Collections, labels, metadata, grants and ACLs through the API, on a real server; on SQLite
//! by default and on PostgreSQL with `STIGWARD_TEST_BACKEND=postgres`. Expected values come
//! from the request bodies and the benchmark files, not from earlier responses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{shared, TestServer};
use serde_json::{json, Value};

/// The Benchmark id and `V{version}R{release}` of a benchmark file, read from its text.
fn benchmark_of(file: &str) -> (String, String) {
    let text = std::fs::read_to_string(shared(&format!("data/stigs/{file}"))).unwrap();
    let root = &text[text.find("<Benchmark").unwrap()..];
    let id = root.split(" id=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let version = root.split("<version>").nth(1).unwrap().split('<').next().unwrap().trim();
    let info = root.split("release-info\">").nth(1).unwrap().split('<').next().unwrap();
    let release = info.split_whitespace().nth(1).unwrap();
    (id, format!("V{version}R{release}"))
}

const CHROME: &str = "U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml";
const VPN_R0: &str = "U_VPN_SRG_V1R0_Manual-xccdf.xml";
const VPN_R1: &str = "U_VPN_SRG_V1R1_Manual-xccdf.xml";

/// A server with benchmarks loaded and one user per role in collection "Alpha", plus a
/// second collection "Beta" that only the admin owns.
struct World {
    server: TestServer,
    admin: String,
    owner: String,
    manager: String,
    full: String,
    restricted: String,
    outsider: String,
    ids: std::collections::BTreeMap<&'static str, String>,
    alpha: String,
    beta: String,
    assets: Vec<String>,
    beta_asset: String,
}

async fn user(server: &TestServer, name: &str, privileges: &[&str]) -> (String, String) {
    let token = server.token(name, privileges);
    let (status, me) = server.get(&token, "/user").await;
    assert_eq!(status, 200, "{me}");
    (token, me["userId"].as_str().unwrap().to_string())
}

async fn asset(server: &TestServer, token: &str, cid: &str, name: &str, stigs: Value) -> String {
    let body = json!({"name": name, "collectionId": cid, "description": null, "ip": null,
        "noncomputing": false, "metadata": {}, "stigs": stigs});
    let (status, created) = server.send("POST", token, "/assets", body).await;
    assert_eq!(status, 201, "{created}");
    created["assetId"].as_str().unwrap().to_string()
}

async fn world() -> World {
    let server = TestServer::start().await;
    let files: Vec<String> = [CHROME, VPN_R0, VPN_R1]
        .iter()
        .map(|f| shared(&format!("data/stigs/{f}")).display().to_string())
        .collect();
    server.import_cli(&files.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let (admin, admin_id) = user(&server, "admin", &["admin", "create_collection"]).await;
    let mut ids = std::collections::BTreeMap::new();
    ids.insert("admin", admin_id.clone());
    let mut tokens = Vec::new();
    for name in ["owner", "manager", "full", "restricted", "outsider"] {
        let (token, id) = user(&server, name, &[]).await;
        ids.insert(name, id);
        tokens.push(token);
    }
    let grants = json!([
        {"userId": ids["owner"], "roleId": 4},
        {"userId": ids["manager"], "roleId": 3},
        {"userId": ids["full"], "roleId": 2},
        {"userId": ids["restricted"], "roleId": 1},
    ]);
    let body = json!({"name": "Alpha", "description": "first", "grants": grants,
        "metadata": {"site": "north"}, "labels": [{"name": "web", "description": null, "color": "aa00ff"}]});
    let (status, alpha) = server.send("POST", &admin, "/collections", body).await;
    assert_eq!(status, 201, "{alpha}");
    let alpha = alpha["collectionId"].as_str().unwrap().to_string();
    let body = json!({"name": "Beta", "grants": [{"userId": admin_id, "roleId": 4}],
        "metadata": {"site": "south"}, "labels": [{"name": "db", "description": "x", "color": "00ff00"}]});
    let (status, beta) = server.send("POST", &admin, "/collections", body).await;
    assert_eq!(status, 201, "{beta}");
    let beta = beta["collectionId"].as_str().unwrap().to_string();
    let (chrome, _) = benchmark_of(CHROME);
    let (vpn, _) = benchmark_of(VPN_R1);
    let owner = tokens[0].clone();
    let mut assets = Vec::new();
    for (name, stigs) in [("a1", json!([chrome])), ("a2", json!([chrome, vpn])), ("a3", json!([]))]
    {
        assets.push(asset(&server, &owner, &alpha, name, stigs).await);
    }
    let beta_asset = asset(&server, &admin, &beta, "b1", json!([chrome])).await;
    World {
        admin,
        owner,
        manager: tokens[1].clone(),
        full: tokens[2].clone(),
        restricted: tokens[3].clone(),
        outsider: tokens[4].clone(),
        ids,
        alpha,
        beta,
        assets,
        beta_asset,
        server,
    }
}

fn names(list: &Value, key: &str) -> BTreeSet<String> {
    list.as_array().unwrap().iter().map(|v| v[key].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn collections_are_replaced_updated_and_soft_deleted() {
    let w = world().await;
    let s = &w.server;
    let path = format!("/collections/{}", w.alpha);

    // PUT merges settings over the defaults at the top level only
    let (_, before) = s.get(&w.owner, &format!("{path}?projection=grants")).await;
    let grants: Vec<Value> = before["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| json!({"userId": g["user"]["userId"], "roleId": g["roleId"]}))
        .collect();
    let history = json!({"maxReviews": 11});
    let body = json!({"name": "Alpha", "grants": grants, "settings": {"history": history}});
    let (status, put) = s.send("PUT", &w.owner, &path, body).await;
    assert_eq!(status, 200, "{put}");
    let defaults = stigward_domain::settings::default_settings();
    assert_eq!(put["settings"]["history"], history);
    assert_eq!(put["settings"]["fields"], defaults["fields"]);
    assert_eq!(put["description"], "first", "PUT keeps an omitted description");
    assert_eq!(put["metadata"], json!({}), "PUT without metadata empties it");

    // PATCH needs complete settings
    let (status, _) =
        s.send("PATCH", &w.owner, &path, json!({"settings": {"history": history}})).await;
    assert_eq!(status, 400);
    let (status, _) = s.send("PATCH", &w.owner, &path, json!({})).await;
    assert_eq!(status, 400);
    let mut complete = defaults.clone();
    complete["status"]["minAcceptGrant"] = json!(4);
    let body = json!({"settings": complete, "description": null, "metadata": {"k": "v"}});
    let (status, patched) = s.send("PATCH", &w.manager, &path, body).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["settings"], complete);
    assert_eq!(patched["description"], Value::Null);
    let bad =
        json!({"settings": {"fields": {"detail": {"enabled": "findings", "required": "always"}}}});
    let (status, _) = s.send("PATCH", &w.owner, &path, bad).await;
    assert_eq!(status, 400);

    // names are unique among live collections; full users may not change anything
    let (status, body) = s.send("PATCH", &w.owner, &path, json!({"name": "Beta"})).await;
    assert_eq!((status, body["detail"].clone()), (422, json!("Duplicate name exists.")));
    let (status, _) = s.send("PATCH", &w.full, &path, json!({"name": "Gamma"})).await;
    assert_eq!(status, 403);

    // only the owner deletes; the reply is the collection as it was
    let (status, _) = s.send("DELETE", &w.manager, &path, json!(null)).await;
    assert_eq!(status, 403);
    let (status, deleted) = s.send("DELETE", &w.owner, &path, json!(null)).await;
    assert_eq!((status, deleted["name"].clone()), (200, json!("Alpha")));
    let (status, _) = s.get(&w.owner, &path).await;
    assert_eq!(status, 403);
    let (status, body) = s.get(&w.admin, &format!("{path}?elevate=true")).await;
    assert_eq!((status, body["detail"].clone()), (404, json!("Collection not found")));
    let (_, listed) = s.get(&w.owner, "/collections").await;
    assert_eq!(listed, json!([]));
    // a deleted collection frees its name
    let body = json!({"name": "Alpha", "grants": []});
    let (status, _) = s.send("POST", &w.admin, "/collections?elevate=true", body).await;
    assert_eq!(status, 201);
    w.server.stop().await;
}

#[tokio::test]
async fn collection_reads_filter_and_project() {
    let w = world().await;
    let s = &w.server;
    let (_, all) = s.get(&w.admin, "/collections?elevate=true&metadata=site:south").await;
    assert_eq!(names(&all, "name"), BTreeSet::from(["Beta".to_string()]));
    let (_, mine) = s.get(&w.owner, "/collections?name=alp&name-match=startsWith").await;
    assert_eq!(names(&mine, "name"), BTreeSet::from(["Alpha".to_string()]));
    let (status, _) = s.get(&w.owner, "/collections?metadata=nocolon").await;
    assert_eq!(status, 400);
    let (_, none) = s.get(&w.outsider, "/collections").await;
    assert_eq!(none, json!([]));

    let path = format!("/collections/{}?projection=users&projection=owners&projection=statistics&projection=labels&projection=assets&projection=stigs", w.alpha);
    let (status, c) = s.get(&w.full, &path).await;
    assert_eq!(status, 200, "{c}");
    let users: BTreeSet<String> = c["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user"]["username"].as_str().unwrap().into())
        .collect();
    let expected: BTreeSet<String> =
        ["owner", "manager", "full", "restricted"].iter().map(|s| s.to_string()).collect();
    assert_eq!(users, expected);
    assert_eq!(c["statistics"]["userCount"], 4);
    assert_eq!(c["statistics"]["assetCount"], 3);
    assert_eq!(c["statistics"]["checklistCount"], 3);
    assert_eq!(names(&c["owners"], "username"), BTreeSet::from(["owner".to_string()]));
    let (chrome, chrome_rev) = benchmark_of(CHROME);
    let (vpn, vpn_rev) = benchmark_of(VPN_R1);
    assert_eq!(names(&c["stigs"], "benchmarkId"), BTreeSet::from([chrome.clone(), vpn.clone()]));
    let revs: BTreeSet<String> = c["stigs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["revisionStr"].as_str().unwrap().into())
        .collect();
    assert_eq!(revs, BTreeSet::from([chrome_rev, vpn_rev]));
    assert_eq!(c["labels"][0]["name"], "web");
    assert_eq!(c["labels"][0]["uses"], 0);

    // the restricted user, without ACL rules, sees no assets, STIGs or labels
    let (status, r) = s.get(&w.restricted, &path).await;
    assert_eq!(status, 200);
    assert_eq!((r["assets"].clone(), r["stigs"].clone()), (json!([]), json!([])));
    assert_eq!(r["statistics"]["checklistCount"], 0);
    w.server.stop().await;
}

#[tokio::test]
async fn metadata_needs_manage_and_merges_replaces_and_deletes() {
    let w = world().await;
    let s = &w.server;
    let base = format!("/collections/{}/metadata", w.alpha);
    let (status, _) = s.get(&w.full, &base).await;
    assert_eq!(status, 403, "metadata reads need Manage");
    let (status, _) = s.get(&w.admin, &format!("{base}?elevate=true")).await;
    assert_eq!(status, 400, "metadata operations take no elevate");
    let (_, got) = s.get(&w.manager, &base).await;
    assert_eq!(got, json!({"site": "north"}));
    let (_, merged) = s.send("PATCH", &w.manager, &base, json!({"room": "12"})).await;
    assert_eq!(merged, json!({"site": "north", "room": "12"}));
    let (status, _) = s.send("PATCH", &w.manager, &base, json!({"n": 1})).await;
    assert_eq!(status, 400);
    let (_, keys) = s.get(&w.manager, &format!("{base}/keys")).await;
    assert_eq!(keys.as_array().unwrap().len(), 2);
    let (status, _) = s.send("PUT", &w.manager, &format!("{base}/keys/rack"), json!("R7")).await;
    assert_eq!(status, 204);
    let (_, value) = s.get(&w.manager, &format!("{base}/keys/rack")).await;
    assert_eq!(value, json!("R7"));
    let (status, _) = s.send("DELETE", &w.manager, &format!("{base}/keys/rack"), json!(null)).await;
    assert_eq!(status, 204);
    let (status, body) = s.get(&w.manager, &format!("{base}/keys/rack")).await;
    assert_eq!((status, body["detail"].clone()), (404, json!("metadata key not found")));
    let (_, replaced) = s.send("PUT", &w.manager, &base, json!({"only": "this"})).await;
    assert_eq!(replaced, json!({"only": "this"}));
    let (_, read) = s.get(&w.owner, &format!("/collections/{}", w.alpha)).await;
    assert_eq!(read["metadata"], json!({"only": "this"}));
    w.server.stop().await;
}

#[tokio::test]
async fn labels_have_uuids_colours_and_asset_sets() {
    let w = world().await;
    let s = &w.server;
    let base = format!("/collections/{}/labels", w.alpha);
    let (status, _) = s
        .send("POST", &w.full, &base, json!({"name": "x", "description": null, "color": "000000"}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = s
        .send(
            "POST",
            &w.manager,
            &base,
            json!({"name": "x", "description": null, "color": "#00000"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = s
        .send(
            "POST",
            &w.manager,
            &base,
            json!({"name": "seventeen-chars-x", "description": null, "color": "000000"}),
        )
        .await;
    assert_eq!(status, 400);
    // LabelCreate requires description, though it may be null
    let (status, _) =
        s.send("POST", &w.manager, &base, json!({"name": "nodesc", "color": "000000"})).await;
    assert_eq!(status, 400);
    let batch = json!([{"name": "nodesc", "color": "000000"}]);
    let (status, _) = s.send("POST", &w.manager, &format!("{base}/batch"), batch).await;
    assert_eq!(status, 400);
    let (status, dup) = s
        .send(
            "POST",
            &w.manager,
            &base,
            json!({"name": "web", "description": null, "color": "000000"}),
        )
        .await;
    assert_eq!(status, 422, "{dup}");
    let batch = json!([{"name": "db", "description": "databases", "color": "112233"},
        {"name": "edge", "description": null, "color": "445566"}]);
    let (status, created) = s.send("POST", &w.manager, &format!("{base}/batch"), batch).await;
    assert_eq!(status, 201, "{created}");
    let db = created.as_array().unwrap().iter().find(|l| l["name"] == "db").unwrap().clone();
    let db_id = db["labelId"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&db_id).is_ok());
    assert_eq!(db["color"], "112233");

    let assets_path = format!("{base}/{db_id}/assets");
    let (status, body) = s.send("PUT", &w.manager, &assets_path, json!([w.beta_asset])).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (403, json!("One or more assetId is not a Collection member."))
    );
    let (status, tagged) =
        s.send("PUT", &w.manager, &assets_path, json!([w.assets[0], w.assets[2]])).await;
    assert_eq!(status, 200);
    assert_eq!(names(&tagged, "name"), BTreeSet::from(["a1".to_string(), "a3".to_string()]));
    let (_, label) = s.get(&w.full, &format!("{base}/{db_id}")).await;
    assert_eq!(label["uses"], 2);
    let (_, asset) = s.get(&w.full, &format!("/assets/{}", w.assets[0])).await;
    assert_eq!(asset["labelIds"], json!([db_id]));

    // a label of another collection is not found here
    let (_, beta_labels) = s.get(&w.admin, &format!("/collections/{}/labels", w.beta)).await;
    let beta_label = beta_labels[0]["labelId"].as_str().unwrap();
    let (status, _) = s.get(&w.owner, &format!("{base}/{beta_label}")).await;
    assert_eq!(status, 404);
    let (status, body) =
        s.send("PUT", &w.owner, &format!("{base}/{beta_label}/assets"), json!([])).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (403, json!("The labelId is not associated with this Collection."))
    );
    let (status, _) = s.get(&w.owner, &format!("{base}/not-a-uuid")).await;
    assert_eq!(status, 400);

    let (status, patched) =
        s.send("PATCH", &w.manager, &format!("{base}/{db_id}"), json!({"color": "ABCDEF"})).await;
    assert_eq!(
        (status, patched["color"].clone(), patched["name"].clone()),
        (200, json!("ABCDEF"), json!("db"))
    );
    let (status, _) = s.send("DELETE", &w.manager, &format!("{base}/{db_id}"), json!(null)).await;
    assert_eq!(status, 204);
    let (status, _) = s.send("DELETE", &w.manager, &format!("{base}/{db_id}"), json!(null)).await;
    assert_eq!(status, 404);
    let (_, asset) = s.get(&w.full, &format!("/assets/{}", w.assets[0])).await;
    assert_eq!(asset["labelIds"], json!([]));
    w.server.stop().await;
}

#[tokio::test]
async fn grants_follow_owner_and_manager_rules() {
    let w = world().await;
    let s = &w.server;
    let base = format!("/collections/{}/grants", w.alpha);
    let (status, _) = s.get(&w.full, &base).await;
    assert_eq!(status, 403);
    let (_, grants) = s.get(&w.manager, &base).await;
    assert_eq!(grants.as_array().unwrap().len(), 4);
    let owner_grant = grants.as_array().unwrap().iter().find(|g| g["roleId"] == 4).unwrap();
    let owner_grant_id = owner_grant["grantId"].as_str().unwrap().to_string();
    assert_eq!(owner_grant["user"]["username"], "owner");

    let (_, outsider) = s.get(&w.outsider, "/user").await;
    let outsider_id = outsider["userId"].as_str().unwrap();
    let (status, body) =
        s.send("POST", &w.manager, &base, json!([{"userId": outsider_id, "roleId": 4}])).await;
    assert_eq!((status, body["detail"].clone()), (403, json!("cannot create owner grants")));
    let (status, body) =
        s.send("POST", &w.manager, &base, json!([{"userId": w.ids["full"], "roleId": 2}])).await;
    assert_eq!((status, body["detail"].clone()), (422, json!("grantee has a conflicting grant")));
    let (status, body) =
        s.send("POST", &w.manager, &base, json!([{"userId": "999999", "roleId": 2}])).await;
    let missing = json!("One or more userIds are invalid.");
    assert_eq!((status, body["detail"].clone()), (422, missing), "a grant to a missing user");
    let (status, _) = s.send("POST", &w.manager, &base, json!([{"userId": 5, "roleId": 2}])).await;
    assert_eq!(status, 400, "ids travel as strings");
    let (status, created) =
        s.send("POST", &w.manager, &base, json!([{"userId": outsider_id, "roleId": 2}])).await;
    assert_eq!(status, 201, "{created}");
    let new_id = created[0]["grantId"].as_str().unwrap().to_string();
    assert_eq!(created[0]["user"]["username"], "outsider");
    let (status, _) = s.get(&w.outsider, &format!("/collections/{}", w.alpha)).await;
    assert_eq!(status, 200);

    let (status, body) =
        s.send("DELETE", &w.manager, &format!("{base}/{owner_grant_id}"), json!(null)).await;
    assert_eq!((status, body["detail"].clone()), (403, json!("cannot remove owner grants")));
    let (status, body) = s
        .send(
            "PUT",
            &w.manager,
            &format!("{base}/{new_id}"),
            json!({"userId": outsider_id, "roleId": 4}),
        )
        .await;
    assert_eq!((status, body["detail"].clone()), (403, json!("cannot create owner grants")));
    let (status, moved) = s
        .send(
            "PUT",
            &w.manager,
            &format!("{base}/{new_id}"),
            json!({"userId": outsider_id, "roleId": 1}),
        )
        .await;
    assert_eq!((status, moved["roleId"].clone()), (200, json!(1)));
    let (status, _) = s.get(&w.manager, &format!("{base}/99999")).await;
    assert_eq!(status, 404);
    let (status, deleted) =
        s.send("DELETE", &w.manager, &format!("{base}/{new_id}"), json!(null)).await;
    assert_eq!((status, deleted["grantId"].clone()), (200, json!(new_id)));
    let (status, _) = s.get(&w.outsider, &format!("/collections/{}", w.alpha)).await;
    assert_eq!(status, 403);

    // a manager must send back exactly the current owners on PUT/PATCH
    let path = format!("/collections/{}", w.alpha);
    let fewer = json!({"grants": [{"userId": w.ids["manager"], "roleId": 3}]});
    let (status, body) = s.send("PATCH", &w.manager, &path, fewer).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (403, json!("Cannot create or modify owner grants."))
    );
    let same = json!({"grants": [{"userId": w.ids["owner"], "roleId": 4}, {"userId": w.ids["manager"], "roleId": 3}]});
    let (status, _) = s.send("PATCH", &w.manager, &path, same).await;
    assert_eq!(status, 200);
    let (_, grants) = s.get(&w.owner, &base).await;
    assert_eq!(
        names(
            &grants.as_array().unwrap().iter().map(|g| g["user"].clone()).collect::<Value>(),
            "username"
        ),
        BTreeSet::from(["owner".to_string(), "manager".to_string()])
    );
    let (status, _) = s.get(&w.full, &path).await;
    assert_eq!(status, 403, "the dropped grant no longer reaches the collection");
    // the owner may delete even the last owner grant
    let (status, _) =
        s.send("DELETE", &w.owner, &format!("{base}/{owner_grant_id}"), json!(null)).await;
    assert_eq!(status, 200);
    w.server.stop().await;
}

#[tokio::test]
async fn acls_are_validated_and_drive_restricted_views() {
    let w = world().await;
    let s = &w.server;
    let (chrome, _) = benchmark_of(CHROME);
    let (vpn, _) = benchmark_of(VPN_R1);
    let (_, grants) = s.get(&w.owner, &format!("/collections/{}/grants", w.alpha)).await;
    let grant_of = |name: &str| {
        grants.as_array().unwrap().iter().find(|g| g["user"]["username"] == name).unwrap()
            ["grantId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let restricted_acl = format!("/collections/{}/grants/{}/acl", w.alpha, grant_of("restricted"));
    let full_acl = format!("/collections/{}/grants/{}/acl", w.alpha, grant_of("full"));

    let (_, acl) = s.get(&w.manager, &restricted_acl).await;
    assert_eq!(acl, json!({"defaultAccess": "none", "acl": []}));
    let (_, acl) = s.get(&w.manager, &full_acl).await;
    assert_eq!(acl["defaultAccess"], "rw");
    let (status, _) = s.get(&w.full, &full_acl).await;
    assert_eq!(status, 403);

    let bad = json!([
        {"assetId": w.beta_asset, "access": "r"},
        {"benchmarkId": "NO_SUCH_STIG", "access": "r"},
        {"benchmarkId": chrome, "access": "rw"},
        {"benchmarkId": chrome, "access": "r"},
    ]);
    let (status, body) = s.send("PUT", &w.manager, &restricted_acl, bad).await;
    assert_eq!(status, 422, "{body}");
    let detail = body["detail"].as_array().unwrap();
    assert_eq!(detail[0]["itemNum"], "1");
    assert_eq!(detail[0]["validity"], "asset not found in collection");
    assert_eq!(detail[1]["validity"], "stig not installed");
    assert_eq!(detail[2]["itemNum"], "3,4");
    assert!(detail[2]["validity"].as_str().unwrap().ends_with("duplicate resource definition"));
    let (status, body) = s.send("PUT", &w.manager, &full_acl, json!([{"access": "none"}])).await;
    assert_eq!(
        (status, body["detail"][0]["validity"].clone()),
        (422, json!("roleId prohibits access:none"))
    );
    let (status, _) = s.send("PUT", &w.manager, &restricted_acl, json!([{"assetId": w.assets[0], "labelId": uuid::Uuid::new_v4().to_string(), "access": "r"}])).await;
    assert_eq!(status, 400);

    // restricted: read a1 (chrome) through an asset rule; a2 only for vpn
    let rules = json!([
        {"assetId": w.assets[0], "access": "r"},
        {"assetId": w.assets[1], "benchmarkId": vpn, "access": "rw"},
    ]);
    let (status, acl) = s.send("PUT", &w.manager, &restricted_acl, rules).await;
    assert_eq!(status, 200, "{acl}");
    assert_eq!(acl["acl"][0]["asset"]["name"], "a1");
    assert_eq!(acl["acl"][1]["benchmarkId"], json!(vpn));
    let path = format!(
        "/collections/{}?projection=assets&projection=stigs&projection=statistics",
        w.alpha
    );
    let (_, view) = s.get(&w.restricted, &path).await;
    assert_eq!(
        names(&view["assets"], "name"),
        BTreeSet::from(["a1".to_string(), "a2".to_string()])
    );
    assert_eq!(names(&view["stigs"], "benchmarkId"), BTreeSet::from([chrome.clone(), vpn.clone()]));
    assert_eq!(view["statistics"]["checklistCount"], 2);
    let (_, stigs) = s.get(&w.restricted, &format!("/collections/{}/stigs", w.alpha)).await;
    let chrome_row =
        stigs.as_array().unwrap().iter().find(|r| r["benchmarkId"] == json!(chrome)).unwrap();
    assert_eq!(chrome_row["assetCount"], 1, "a2's chrome checklist is not readable");

    let (_, eff) = s
        .get(
            &w.manager,
            &format!("/collections/{}/users/{}/effective-acl", w.alpha, w.ids["restricted"]),
        )
        .await;
    let pairs: BTreeSet<(String, String, String)> = eff
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["asset"]["name"].as_str().unwrap().into(),
                e["benchmarkId"].as_str().unwrap().into(),
                e["access"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        BTreeSet::from([
            ("a1".into(), chrome.clone(), "r".into()),
            ("a2".into(), vpn.clone(), "rw".into())
        ])
    );
    assert_eq!(eff[0]["aclSources"][0]["grantee"]["username"], "restricted");
    let (status, body) = s
        .get(
            &w.manager,
            &format!("/collections/{}/users/{}/effective-acl", w.alpha, w.ids["outsider"]),
        )
        .await;
    assert_eq!(
        (status, body["detail"].clone()),
        (422, json!("user has no direct or group grant in collection"))
    );

    // a role change drops the grant's `none` rules
    let (status, _) = s
        .send("PUT", &w.manager, &restricted_acl, json!([{"benchmarkId": vpn, "access": "none"}]))
        .await;
    assert_eq!(status, 200);
    let grant_path = restricted_acl.trim_end_matches("/acl").to_string();
    let (status, _) = s
        .send("PUT", &w.manager, &grant_path, json!({"userId": w.ids["restricted"], "roleId": 2}))
        .await;
    assert_eq!(status, 200);
    let (_, acl) = s.get(&w.manager, &restricted_acl).await;
    assert_eq!(acl, json!({"defaultAccess": "rw", "acl": []}));
    w.server.stop().await;
}

#[tokio::test]
async fn collection_stigs_map_assets_and_pin_revisions() {
    let w = world().await;
    let s = &w.server;
    let (vpn, latest) = benchmark_of(VPN_R1);
    let (_, older) = benchmark_of(VPN_R0);
    let base = format!("/collections/{}/stigs/{vpn}", w.alpha);
    let (_, row) = s.get(&w.full, &base).await;
    assert_eq!(
        (row["revisionStr"].clone(), row["revisionPinned"].clone()),
        (json!(latest), json!(false))
    );
    assert_eq!(row["assetCount"], 1);

    let (status, pinned) =
        s.send("POST", &w.manager, &base, json!({"defaultRevisionStr": older})).await;
    assert_eq!(status, 200, "{pinned}");
    assert_eq!(
        (pinned["revisionStr"].clone(), pinned["revisionPinned"].clone()),
        (json!(older), json!(true))
    );
    let (_, asset) = s.get(&w.full, &format!("/assets/{}?projection=stigs", w.assets[1])).await;
    let vpn_row =
        asset["stigs"].as_array().unwrap().iter().find(|r| r["benchmarkId"] == json!(vpn)).unwrap();
    assert_eq!(vpn_row["revisionStr"], json!(older));
    let (status, body) =
        s.send("POST", &w.manager, &base, json!({"defaultRevisionStr": "V9R9"})).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (422, json!("The revisionStr is is not valid for the specified benchmarkId"))
    );
    let (status, _) = s.send("POST", &w.full, &base, json!({"defaultRevisionStr": "latest"})).await;
    assert_eq!(status, 403);

    let assets_path = format!("{base}/assets");
    let (status, body) = s.send("PUT", &w.manager, &assets_path, json!([w.beta_asset])).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (403, json!("One or more assetId is not a Collection member."))
    );
    let (status, mapped) =
        s.send("PUT", &w.manager, &assets_path, json!([w.assets[0], w.assets[2]])).await;
    assert_eq!(status, 200, "{mapped}");
    assert_eq!(names(&mapped, "name"), BTreeSet::from(["a1".to_string(), "a3".to_string()]));
    assert_eq!(mapped[0]["access"], "rw");
    let (_, row) = s.get(&w.full, &base).await;
    assert_eq!((row["assetCount"].clone(), row["revisionPinned"].clone()), (json!(2), json!(true)));

    // unmapping every asset drops the pin and the STIG
    let (status, _) = s.send("POST", &w.manager, &base, json!({"assetIds": []})).await;
    assert_eq!(status, 204);
    let (status, _) = s.get(&w.full, &base).await;
    assert_eq!(status, 204);
    let (status, body) =
        s.send("POST", &w.manager, &base, json!({"defaultRevisionStr": older})).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (422, json!("Cannot set the default revision of a benchmarkId that has no mapped Assets"))
    );
    let (status, again) =
        s.send("POST", &w.manager, &base, json!({"assetIds": [w.assets[1]]})).await;
    assert_eq!((status, again["revisionPinned"].clone()), (200, json!(false)));
    w.server.stop().await;
}

#[tokio::test]
async fn no_route_shows_another_collections_contents() {
    let w = world().await;
    let s = &w.server;
    let (_, beta_labels) = s.get(&w.admin, &format!("/collections/{}/labels", w.beta)).await;
    let label = beta_labels[0]["labelId"].as_str().unwrap();
    let (_, grants) = s.get(&w.admin, &format!("/collections/{}/grants", w.beta)).await;
    let grant = grants[0]["grantId"].as_str().unwrap();
    let (chrome, _) = benchmark_of(CHROME);
    let b = &w.beta;
    let reads = [
        format!("/collections/{b}"),
        format!("/collections/{b}?projection=assets&projection=grants&projection=labels"),
        format!("/collections/{b}/metadata"),
        format!("/collections/{b}/metadata/keys"),
        format!("/collections/{b}/metadata/keys/site"),
        format!("/collections/{b}/labels"),
        format!("/collections/{b}/labels/{label}"),
        format!("/collections/{b}/labels/{label}/assets"),
        format!("/collections/{b}/grants"),
        format!("/collections/{b}/grants/{grant}"),
        format!("/collections/{b}/grants/{grant}/acl"),
        format!("/collections/{b}/stigs"),
        format!("/collections/{b}/stigs/{chrome}"),
        format!("/collections/{b}/stigs/{chrome}/assets"),
        format!("/collections/{b}/users/{}/effective-acl", w.ids["admin"]),
        format!("/assets/{}", w.beta_asset),
        format!("/assets/{}/metadata", w.beta_asset),
        format!("/assets/{}/metadata/keys", w.beta_asset),
        format!("/assets/{}/stigs", w.beta_asset),
        format!("/assets?collectionId={b}"),
    ];
    for token in [&w.owner, &w.manager, &w.restricted, &w.outsider] {
        for path in &reads {
            let (status, body) = s.get(token, path).await;
            assert_eq!(status, 403, "{path}: {body}");
            assert_eq!(body["error"], "User has insufficient privilege to complete this request.");
        }
    }
    let (_, listed) = s.get(&w.owner, "/collections?projection=statistics").await;
    assert_eq!(names(&listed, "name"), BTreeSet::from(["Alpha".to_string()]));
    // cross-collection ids in writes on one's own collection are refused, not applied
    let own = format!("/collections/{}", w.alpha);
    let (status, _) =
        s.send("PUT", &w.owner, &format!("{own}/labels/{label}/assets"), json!([])).await;
    assert_eq!(status, 403);
    let (status, _) =
        s.send("DELETE", &w.owner, &format!("{own}/grants/{grant}"), json!(null)).await;
    assert_eq!(status, 404);
    let (status, _) = s.get(&w.owner, &format!("{own}/grants/{grant}/acl")).await;
    assert_eq!(status, 404);
    w.server.stop().await;
}

/// Everything the owner of Beta reads of it: the collection with every projection, its
/// metadata, labels and their assets, grants and their ACLs, STIG maps, review-aging rules,
/// and its asset with its STIGs and metadata.
async fn beta_as_its_owner(w: &World) -> Vec<(String, u16, Value)> {
    let (s, b, asset) = (&w.server, &w.beta, &w.beta_asset);
    let every = ["assets", "grants", "labels", "owners", "stigs", "statistics", "users"];
    let projections: Vec<String> = every.iter().map(|p| format!("projection={p}")).collect();
    let (_, labels) = s.get(&w.admin, &format!("/collections/{b}/labels")).await;
    let (_, grants) = s.get(&w.admin, &format!("/collections/{b}/grants")).await;
    let mut paths = vec![
        format!("/collections/{b}?{}", projections.join("&")),
        format!("/collections/{b}/metadata"),
        format!("/collections/{b}/labels"),
        format!("/collections/{b}/grants"),
        format!("/collections/{b}/stigs?projection=assets"),
        format!("/collections/{b}/tasks/review-aging/config"),
        format!("/assets?collectionId={b}&projection=stigs"),
        format!("/assets/{asset}?projection=stigs"),
        format!("/assets/{asset}/metadata"),
    ];
    for label in labels.as_array().unwrap() {
        let id = label["labelId"].as_str().unwrap();
        paths.push(format!("/collections/{b}/labels/{id}/assets"));
    }
    for grant in grants.as_array().unwrap() {
        let id = grant["grantId"].as_str().unwrap();
        paths.push(format!("/collections/{b}/grants/{id}/acl"));
    }
    let mut out = Vec::new();
    for path in paths {
        let (status, body) = s.get(&w.admin, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        out.push((path, status, body));
    }
    out
}

/// The owner and the manager of Alpha, who hold no grant in Beta, try every write that could
/// reach Beta's collection, metadata, labels, grants, ACLs, STIG maps, review-aging rules and
/// asset: on Beta's own paths, and on Alpha's paths with Beta's ids in the path or the body.
/// Each is refused with the status the contract gives it, and Beta reads back unchanged.
#[tokio::test]
async fn no_route_changes_another_collections_contents() {
    let w = world().await;
    let s = &w.server;
    let (a, b, b1) = (&w.alpha, &w.beta, &w.beta_asset);
    let (chrome, _) = benchmark_of(CHROME);
    let (vpn, _) = benchmark_of(VPN_R1);
    // Beta gets a tagged asset with metadata, a restricted grant with an ACL, an aging rule
    let (_, beta_labels) = s.get(&w.admin, &format!("/collections/{b}/labels")).await;
    let label = beta_labels[0]["labelId"].as_str().unwrap().to_string();
    let path = format!("/collections/{b}/labels/{label}/assets");
    assert_eq!(s.send("PUT", &w.admin, &path, json!([b1])).await.0, 200);
    let path = format!("/assets/{b1}/metadata");
    assert_eq!(s.send("PUT", &w.admin, &path, json!({"role": "db"})).await.0, 200);
    let (_, reader) = user(s, "beta-reader", &[]).await;
    let grant = json!([{"userId": reader, "roleId": 1}]);
    let (status, made) = s.send("POST", &w.admin, &format!("/collections/{b}/grants"), grant).await;
    assert_eq!(status, 201, "{made}");
    let grant = made[0]["grantId"].as_str().unwrap().to_string();
    let acl = json!([{"assetId": b1, "benchmarkId": chrome, "access": "r"}]);
    let path = format!("/collections/{b}/grants/{grant}/acl");
    assert_eq!(s.send("PUT", &w.admin, &path, acl).await.0, 200);
    let aging = json!([{"triggerField": "ts", "triggerInterval": 2147483647,
        "triggerAction": "delete", "enabled": false}]);
    let path = format!("/collections/{b}/tasks/review-aging/config");
    assert_eq!(s.send("PUT", &w.admin, &path, aging.clone()).await.0, 200);
    let (_, grants) = s.get(&w.admin, &format!("/collections/{b}/grants")).await;
    let owner_grant = grants.as_array().unwrap().iter().find(|g| g["roleId"] == 4).unwrap()
        ["grantId"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, alpha_labels) = s.get(&w.owner, &format!("/collections/{a}/labels")).await;
    let alpha_label = alpha_labels[0]["labelId"].as_str().unwrap().to_string();
    let before = beta_as_its_owner(&w).await;

    let asset_body = |collection: &str| {
        json!({"name": "b1", "collectionId": collection, "description": null, "ip": null,
            "noncomputing": false, "metadata": {}, "stigs": [chrome]})
    };
    let batch_asset = json!([{"name": "planted", "description": null, "ip": null,
        "noncomputing": false, "metadata": {}, "stigs": []}]);
    let new_label = json!({"name": "planted", "description": null, "color": "000000"});
    let aging_on_b1 = json!([{"triggerField": "ts", "triggerInterval": 2147483647,
        "triggerAction": "delete", "enabled": false, "target": {"assetId": b1}}]);
    let deletion = json!({"operation": "delete", "assetIds": [b1]});
    // review-aging rules are the owner's: the manager is refused before the target is checked
    for (actor, id, aging) in
        [(&w.owner, &w.ids["owner"], 422), (&w.manager, &w.ids["manager"], 403)]
    {
        let takeover = json!({"userId": id, "roleId": 4});
        let attempts: Vec<(&str, String, Value, u16)> = vec![
            // Beta's own paths: no grant there, so 403 before anything is looked up
            ("PATCH", format!("/collections/{b}"), json!({"description": "x"}), 403),
            (
                "PUT",
                format!("/collections/{b}"),
                json!({"name": "Beta", "grants": [takeover]}),
                403,
            ),
            ("DELETE", format!("/collections/{b}"), Value::Null, 403),
            ("PATCH", format!("/collections/{b}/metadata"), json!({"site": "x"}), 403),
            ("PUT", format!("/collections/{b}/metadata"), json!({}), 403),
            ("PUT", format!("/collections/{b}/metadata/keys/site"), json!("x"), 403),
            ("DELETE", format!("/collections/{b}/metadata/keys/site"), Value::Null, 403),
            ("POST", format!("/collections/{b}/labels"), new_label.clone(), 403),
            ("POST", format!("/collections/{b}/labels/batch"), json!([new_label]), 403),
            ("PATCH", format!("/collections/{b}/labels/{label}"), json!({"color": "000000"}), 403),
            ("DELETE", format!("/collections/{b}/labels/{label}"), Value::Null, 403),
            ("PUT", format!("/collections/{b}/labels/{label}/assets"), json!([]), 403),
            ("POST", format!("/collections/{b}/grants"), json!([takeover]), 403),
            ("PUT", format!("/collections/{b}/grants/{owner_grant}"), takeover.clone(), 403),
            ("DELETE", format!("/collections/{b}/grants/{grant}"), Value::Null, 403),
            ("PUT", format!("/collections/{b}/grants/{grant}/acl"), json!([]), 403),
            ("POST", format!("/collections/{b}/stigs/{chrome}"), json!({"assetIds": []}), 403),
            ("PUT", format!("/collections/{b}/stigs/{chrome}/assets"), json!([]), 403),
            ("PUT", format!("/collections/{b}/tasks/review-aging/config"), json!([]), 403),
            ("DELETE", format!("/collections/{b}/tasks/review-aging/config"), Value::Null, 403),
            ("POST", format!("/collections/{b}/assets"), batch_asset.clone(), 403),
            ("POST", "/assets".into(), asset_body(b), 403),
            ("PATCH", format!("/assets?collectionId={b}"), deletion.clone(), 403),
            ("PATCH", format!("/assets/{b1}"), json!({"description": "x"}), 403),
            ("PUT", format!("/assets/{b1}"), asset_body(b), 403),
            ("DELETE", format!("/assets/{b1}"), Value::Null, 403),
            ("PATCH", format!("/assets/{b1}/metadata"), json!({"role": "x"}), 403),
            ("PUT", format!("/assets/{b1}/metadata"), json!({}), 403),
            ("PUT", format!("/assets/{b1}/metadata/keys/role"), json!("x"), 403),
            ("DELETE", format!("/assets/{b1}/metadata/keys/role"), Value::Null, 403),
            ("PUT", format!("/assets/{b1}/stigs/{vpn}"), Value::Null, 403),
            ("DELETE", format!("/assets/{b1}/stigs/{chrome}"), Value::Null, 403),
            ("DELETE", format!("/assets/{b1}/stigs"), Value::Null, 403),
            // Beta's asset moved into Alpha, or Alpha's asset into Beta: the transfer needs
            // Manage in both collections
            ("PATCH", format!("/assets/{b1}"), json!({"collectionId": a}), 403),
            ("PUT", format!("/assets/{b1}"), asset_body(a), 403),
            ("PATCH", format!("/assets/{}", w.assets[0]), json!({"collectionId": b}), 403),
            ("PUT", format!("/assets/{}", w.assets[0]), asset_body(b), 403),
            // Alpha's paths naming Beta's label, grants and asset
            ("PATCH", format!("/collections/{a}/labels/{label}"), json!({"color": "000000"}), 404),
            ("DELETE", format!("/collections/{a}/labels/{label}"), Value::Null, 404),
            ("PUT", format!("/collections/{a}/labels/{label}/assets"), json!([b1]), 403),
            ("PUT", format!("/collections/{a}/labels/{alpha_label}/assets"), json!([b1]), 403),
            ("PUT", format!("/collections/{a}/grants/{grant}"), takeover.clone(), 404),
            ("PUT", format!("/collections/{a}/grants/{owner_grant}"), takeover.clone(), 404),
            ("DELETE", format!("/collections/{a}/grants/{grant}"), Value::Null, 404),
            ("DELETE", format!("/collections/{a}/grants/{owner_grant}"), Value::Null, 404),
            ("PUT", format!("/collections/{a}/grants/{grant}/acl"), json!([]), 404),
            ("PATCH", format!("/assets?collectionId={a}"), deletion.clone(), 403),
            ("POST", format!("/collections/{a}/stigs/{chrome}"), json!({"assetIds": [b1]}), 403),
            ("PUT", format!("/collections/{a}/stigs/{chrome}/assets"), json!([b1]), 403),
            (
                "PUT",
                format!("/collections/{a}/tasks/review-aging/config"),
                aging_on_b1.clone(),
                aging,
            ),
            (
                "POST",
                format!("/collections/{a}/export-to/{b}"),
                json!([{"assetId": w.assets[0]}]),
                403,
            ),
        ];
        for (method, path, body, expected) in attempts {
            let (status, reply) = s.send(method, actor, &path, body).await;
            assert_eq!(status, expected, "{method} {path}: {reply}");
            assert!(reply["error"].is_string(), "{method} {path}: {reply}");
        }
    }
    let after = beta_as_its_owner(&w).await;
    for ((path, status, body), (_, status_after, body_after)) in before.iter().zip(&after) {
        assert_eq!((status, body), (status_after, body_after), "{path} changed");
    }
    assert_eq!(before.len(), after.len());
    w.server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_the_error_body() {
    let w = world().await;
    let s = &w.server;
    let a = &w.alpha;
    let cases = [
        format!("/collections/{a}?bogus=1"),
        format!("/collections/{a}?projection=nothing"),
        "/collections?projection=assets".to_string(),
        "/collections/abc".to_string(),
        "/collections/12345678901".to_string(),
        format!("/collections/{a}/grants/x1"),
        format!("/collections/{a}/labels/123"),
        format!("/collections/{a}/metadata/keys/bad%20key"),
        format!("/collections/{a}/users/me/effective-acl"),
        format!("/collections/{a}/stigs?labelMatch=some"),
    ];
    for path in &cases {
        let (status, body) = s.get(&w.owner, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let path = format!("/collections/{a}");
    for body in [
        json!({"name": 5}),
        json!({"nope": 1}),
        json!({"description": "x".repeat(300)}),
        json!([1]),
    ] {
        let (status, reply) = s.send("PATCH", &w.owner, &path, body).await;
        assert_eq!(status, 400, "{reply}");
    }
    let grants =
        json!([{"userId": w.ids["owner"], "roleId": 4}, {"userId": w.ids["owner"], "roleId": 3}]);
    let (status, body) =
        s.send("PUT", &w.owner, &path, json!({"name": "Alpha", "grants": grants})).await;
    assert_eq!((status, body["detail"].clone()), (422, json!("Duplicate user in grant array")));
    let (status, body) =
        s.send("POST", &w.owner, "/collections", json!({"name": "X", "grants": []})).await;
    assert_eq!(status, 403, "{body}");
    let big = json!({"description": "x".repeat(40 * 1024 * 1024)});
    let (status, body) = s.send("PATCH", &w.owner, &path, big).await;
    assert_eq!(status, 413, "{body}");
    let (status, _) = s.send("PUT", &w.owner, &format!("{path}/metadata/keys/k"), json!(7)).await;
    assert_eq!(status, 400);
    w.server.stop().await;
}

fn asset_body(name: &str, stigs: Value, labels: Value) -> Value {
    json!({"name": name, "description": null, "ip": "10.0.0.1", "noncomputing": true,
        "metadata": {"os": name}, "stigs": stigs, "labelNames": labels})
}

#[tokio::test]
async fn asset_batches_are_checked_then_created_in_one_go() {
    let w = world().await;
    let s = &w.server;
    let (chrome, _) = benchmark_of(CHROME);
    let path = format!("/collections/{}/assets", w.alpha);
    let batch = json!([
        asset_body("a1", json!([]), json!([])),
        asset_body("n1", json!([chrome.to_lowercase(), "NOPE"]), json!(["web", "missing"])),
        asset_body("n2", json!([chrome]), json!(["web"])),
    ]);
    let (status, report) = s.send("POST", &w.manager, &path, batch).await;
    assert_eq!(status, 200, "validation failures answer 200: {report}");
    assert_eq!(report["error"], "Validation Error");
    assert_eq!(
        report["detail"],
        json!([
            {"failure": "name exists", "detail": {"assetIndex": 1, "name": "a1"}},
            {"failure": "unknown benchmarkId", "detail": {"assetIndex": 2, "name": "n1",
                "benchmarkIdIndex": 2, "benchmarkId": "NOPE"}},
            {"failure": "unknown labelName", "detail": {"assetIndex": 2, "name": "n1",
                "labelIndex": 2, "labelName": "missing"}},
        ])
    );
    let (_, before) = s.get(&w.manager, &format!("/assets?collectionId={}", w.alpha)).await;
    assert_eq!(before.as_array().unwrap().len(), 3, "nothing of a refused batch is written");

    let good = json!([
        asset_body("n1", json!([chrome.to_lowercase()]), json!(["web"])),
        asset_body("n2", json!([]), json!([]))
    ]);
    let (status, body) =
        s.send("POST", &w.manager, &format!("{path}?dryRun=true"), good.clone()).await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, _) = s.send("POST", &w.full, &path, good.clone()).await;
    assert_eq!(status, 403);
    let (status, created) =
        s.send("POST", &w.manager, &format!("{path}?projection=stigs"), good).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created[0]["stigs"][0]["benchmarkId"],
        json!(chrome),
        "benchmark ids match regardless of case"
    );
    assert_eq!(created[0]["labels"][0]["name"], "web");
    assert_eq!(created[0]["noncomputing"], true);
    assert_eq!(created[0]["collection"]["collectionId"], json!(w.alpha));
    let (status, _) = s
        .send(
            "POST",
            &w.manager,
            &path,
            json!([asset_body("d", json!([]), json!([])), asset_body("d", json!([]), json!([]))]),
        )
        .await;
    assert_eq!(status, 200, "a name repeated inside a batch is a validation failure");

    let single = json!({"name": "a2", "collectionId": w.alpha, "description": null, "ip": null,
        "noncomputing": false, "metadata": {}, "stigs": []});
    let (status, body) = s.send("POST", &w.manager, "/assets", single).await;
    assert_eq!((status, body["detail"][0]["failure"].clone()), (422, json!("name exists")));

    // description and ip are required, though they may be null
    for key in ["description", "ip"] {
        let mut single = json!({"name": "a9", "collectionId": w.alpha, "description": null,
            "ip": null, "noncomputing": false, "metadata": {}, "stigs": []});
        single.as_object_mut().unwrap().remove(key);
        let (status, body) = s.send("POST", &w.manager, "/assets", single.clone()).await;
        assert_eq!(status, 400, "POST without {key}: {body}");
        let replace = format!("/assets/{}", w.assets[0]);
        let (status, body) = s.send("PUT", &w.manager, &replace, single.clone()).await;
        assert_eq!(status, 400, "PUT without {key}: {body}");
        let mut item = asset_body("a9", json!([]), json!([]));
        item.as_object_mut().unwrap().remove(key);
        let (status, body) = s.send("POST", &w.manager, &path, json!([item])).await;
        assert_eq!(status, 400, "batch item without {key}: {body}");
    }
    w.server.stop().await;
}

#[tokio::test]
async fn assets_are_read_changed_transferred_and_deleted() {
    let w = world().await;
    let s = &w.server;
    let (chrome, _) = benchmark_of(CHROME);
    let (vpn, _) = benchmark_of(VPN_R1);
    let list = |q: &str| format!("/assets?collectionId={}{q}", w.alpha);
    let (_, labels) = s.get(&w.owner, &format!("/collections/{}/labels", w.alpha)).await;
    let web = labels[0]["labelId"].as_str().unwrap().to_string();
    let (status, _) = s
        .send(
            "PUT",
            &w.manager,
            &format!("/collections/{}/labels/{web}/assets", w.alpha),
            json!([w.assets[0]]),
        )
        .await;
    assert_eq!(status, 200);
    s.send("PUT", &w.manager, &format!("/assets/{}/metadata/keys/rack", w.assets[1]), json!("R1"))
        .await;

    let (_, all) = s.get(&w.full, &list("")).await;
    assert_eq!(names(&all, "name"), BTreeSet::from(["a1".into(), "a2".into(), "a3".into()]));
    let (_, by_stig) = s.get(&w.full, &list(&format!("&benchmarkId={vpn}&projection=stigs"))).await;
    assert_eq!(names(&by_stig, "name"), BTreeSet::from(["a2".to_string()]));
    assert_eq!(
        by_stig[0]["stigs"].as_array().unwrap().len(),
        1,
        "the filter narrows the projection"
    );
    let (_, by_label) = s.get(&w.full, &list("&labelName=web&labelMatch=null")).await;
    // label filters are OR-ed: a1 carries "web", a2 and a3 carry no label
    let expected: BTreeSet<String> = ["a1", "a2", "a3"].iter().map(|n| n.to_string()).collect();
    assert_eq!(names(&by_label, "name"), expected);
    let (_, by_label_id) = s.get(&w.full, &list(&format!("&labelId={web}"))).await;
    assert_eq!(names(&by_label_id, "name"), BTreeSet::from(["a1".to_string()]));
    let (_, by_meta) = s.get(&w.full, &list("&metadata=rack:R1")).await;
    assert_eq!(names(&by_meta, "name"), BTreeSet::from(["a2".to_string()]));
    let (_, by_name) = s.get(&w.full, &list("&name=3&name-match=endsWith")).await;
    assert_eq!(names(&by_name, "name"), BTreeSet::from(["a3".to_string()]));
    let (status, body) = s.get(&w.outsider, &list("")).await;
    assert_eq!((status, body["detail"].clone()), (403, json!("No Grant in Collection")));
    let (status, _) = s.get(&w.full, "/assets").await;
    assert_eq!(status, 400);

    // restricted: an asset/STIG rule on a2's VPN makes only a2 visible, with only that STIG
    let (_, grants) = s.get(&w.owner, &format!("/collections/{}/grants", w.alpha)).await;
    let restricted_grant = grants.as_array().unwrap().iter().find(|g| g["roleId"] == 1).unwrap()
        ["grantId"]
        .as_str()
        .unwrap()
        .to_string();
    let acl = format!("/collections/{}/grants/{restricted_grant}/acl", w.alpha);
    let (status, _) = s
        .send(
            "PUT",
            &w.manager,
            &acl,
            json!([{"assetId": w.assets[1], "benchmarkId": vpn, "access": "r"}]),
        )
        .await;
    assert_eq!(status, 200);
    let (_, seen) = s.get(&w.restricted, &list("")).await;
    assert_eq!(names(&seen, "name"), BTreeSet::from(["a2".to_string()]));
    let (status, _) = s.get(&w.restricted, &format!("/assets/{}", w.assets[0])).await;
    assert_eq!(status, 403);
    let (_, stigs) = s.get(&w.restricted, &format!("/assets/{}/stigs", w.assets[1])).await;
    assert_eq!(names(&stigs, "benchmarkId"), BTreeSet::from([vpn.clone()]));
    let (_, stigs) = s.get(&w.full, &format!("/assets/{}/stigs", w.assets[1])).await;
    assert_eq!(names(&stigs, "benchmarkId"), BTreeSet::from([vpn.clone(), chrome.clone()]));

    // update: PATCH merges fields, a duplicate name is 422, restricted and full may not write
    let a3 = format!("/assets/{}", w.assets[2]);
    let (status, body) = s.send("PATCH", &w.manager, &a3, json!({"name": "a1"})).await;
    assert_eq!((status, body["detail"].clone()), (422, json!("Duplicate name exists.")));
    let (status, _) = s.send("PATCH", &w.full, &a3, json!({"ip": null})).await;
    assert_eq!(status, 403);
    let (status, patched) = s
        .send(
            "PATCH",
            &w.manager,
            &a3,
            json!({"fqdn": "a3.example", "stigs": [vpn], "labelNames": ["web", "ghost"]}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (patched["fqdn"].clone(), patched["labels"][0]["name"].clone()),
        (json!("a3.example"), json!("web"))
    );
    assert_eq!(
        patched["labelIds"].as_array().unwrap().len(),
        1,
        "unknown label names are dropped on update"
    );
    let (status, _) = s.send("PATCH", &w.manager, &a3, json!({"stigs": ["NOPE"]})).await;
    assert_eq!(status, 422);

    // transfer needs Manage in the destination; labels follow by name, ACL rules are dropped
    let to_beta = json!({"collectionId": w.beta});
    let a2 = format!("/assets/{}", w.assets[1]);
    let (status, body) = s.send("PATCH", &w.owner, &a2, to_beta.clone()).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (
            403,
            json!(
                "User has insufficient privilege in destination collection to transfer this asset."
            )
        )
    );
    let admin_grant = json!([{"userId": w.ids["admin"], "roleId": 4}]);
    let (status, _) =
        s.send("POST", &w.owner, &format!("/collections/{}/grants", w.alpha), admin_grant).await;
    assert_eq!(status, 201);
    let a1 = format!("/assets/{}", w.assets[0]);
    let (status, moved) = s.send("PATCH", &w.admin, &a1, to_beta).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["collection"]["collectionId"], json!(w.beta));
    assert_eq!(moved["labels"][0]["name"], "web");
    let (_, beta_labels) = s.get(&w.admin, &format!("/collections/{}/labels", w.beta)).await;
    assert_eq!(names(&beta_labels, "name"), BTreeSet::from(["db".to_string(), "web".to_string()]));
    let (status, _) = s.get(&w.owner, &a1).await;
    assert_eq!(status, 403, "the asset left the owner's collection");

    // PUT replaces, and needs every field
    let (status, _) = s.send("PUT", &w.manager, &a3, json!({"name": "a3"})).await;
    assert_eq!(status, 400);
    let full_body = json!({"name": "a3b", "collectionId": w.alpha, "description": "d", "ip": null,
        "noncomputing": false, "metadata": {}, "stigs": []});
    let (status, replaced) =
        s.send("PUT", &w.manager, &format!("{a3}?projection=stigs"), full_body).await;
    assert_eq!(
        (status, replaced["name"].clone(), replaced["stigs"].clone()),
        (200, json!("a3b"), json!([]))
    );
    assert_eq!(replaced["fqdn"], Value::Null);

    // STIG attach, detach one and all; every answer is the AssetStigResponse list
    let (status, attached) =
        s.send("PUT", &w.manager, &format!("{a2}/stigs/{vpn}"), json!(null)).await;
    assert_eq!(status, 200, "{attached}");
    let (_, listed) = s.get(&w.manager, &format!("{a2}/stigs")).await;
    assert_eq!(attached, listed, "attach answers with the same shape as the STIG list");
    // the stigs projection is CollectionStig: benchmarkDate, not revisionDate
    let (_, projected) = s.get(&w.manager, &format!("{a2}?projection=stigs")).await;
    let keys: BTreeSet<&str> =
        projected["stigs"][0].as_object().unwrap().keys().map(String::as_str).collect();
    let expected = ["benchmarkId", "revisionStr", "benchmarkDate", "revisionPinned", "ruleCount"];
    assert_eq!(keys, BTreeSet::from(expected));
    let (_, left) = s.send("DELETE", &w.manager, &format!("{a2}/stigs/{vpn}"), json!(null)).await;
    assert_eq!(names(&left, "benchmarkId"), BTreeSet::from([chrome.clone()]));
    let (_, left) = s.send("DELETE", &w.manager, &format!("{a2}/stigs"), json!(null)).await;
    assert_eq!(left, json!([]));

    // deletes
    let (status, body) = s
        .send(
            "PATCH",
            &w.manager,
            &list(""),
            json!({"operation": "delete", "assetIds": [w.assets[1], w.beta_asset]}),
        )
        .await;
    assert_eq!(
        (status, body["detail"].clone()),
        (403, json!("One or more assetId is not a Collection member."))
    );
    let (status, _) =
        s.send("PATCH", &w.manager, &list(""), json!({"operation": "purge", "assetIds": []})).await;
    assert_eq!(status, 400);
    let (status, done) = s
        .send(
            "PATCH",
            &w.manager,
            &list(""),
            json!({"operation": "delete", "assetIds": [w.assets[1]]}),
        )
        .await;
    assert_eq!((status, done), (200, json!({"operation": "deleted", "assetIds": [w.assets[1]]})));
    let (status, before) = s.send("DELETE", &w.manager, &a3, json!(null)).await;
    assert_eq!((status, before["name"].clone()), (200, json!("a3b")));
    let (status, body) = s.get(&w.manager, &a3).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (403, json!("Insufficient access to this asset's collection."))
    );
    let (_, rest) = s.get(&w.manager, &list("")).await;
    assert_eq!(rest, json!([]));
    // a deleted asset frees its name
    let (status, _) = s
        .send(
            "POST",
            &w.manager,
            &format!("/collections/{}/assets", w.alpha),
            json!([asset_body("a3b", json!([]), json!([]))]),
        )
        .await;
    assert_eq!(status, 201);
    w.server.stop().await;
}

#[tokio::test]
async fn asset_metadata_reads_need_a_grant_and_writes_manage() {
    let w = world().await;
    let s = &w.server;
    let base = format!("/assets/{}/metadata", w.assets[0]);
    let (_, got) = s.get(&w.full, &base).await;
    assert_eq!(got, json!({}));
    let (status, _) = s.send("PATCH", &w.full, &base, json!({"a": "1"})).await;
    assert_eq!(status, 403);
    let (_, merged) = s.send("PATCH", &w.manager, &base, json!({"a": "1", "b": "2"})).await;
    assert_eq!(merged, json!({"a": "1", "b": "2"}));
    let (_, keys) = s.get(&w.full, &format!("{base}/keys")).await;
    assert_eq!(keys, json!(["a", "b"]));
    let (status, _) = s.send("PUT", &w.manager, &format!("{base}/keys/c"), json!("3")).await;
    assert_eq!(status, 204);
    let (_, value) = s.get(&w.full, &format!("{base}/keys/c")).await;
    assert_eq!(value, "3");
    let (status, _) = s.send("DELETE", &w.manager, &format!("{base}/keys/a"), json!(null)).await;
    assert_eq!(status, 204);
    let (status, _) = s.get(&w.full, &format!("{base}/keys/a")).await;
    assert_eq!(status, 404);
    let (_, replaced) = s.send("PUT", &w.manager, &base, json!({"z": "9"})).await;
    assert_eq!(replaced, json!({"z": "9"}));
    let (_, asset) = s.get(&w.full, &format!("/assets/{}", w.assets[0])).await;
    assert_eq!(asset["metadata"], json!({"z": "9"}));
    let (status, _) = s.get(&w.outsider, &base).await;
    assert_eq!(status, 403);
    let (status, _) = s.get(&w.owner, &format!("/assets/{}/metadata", w.beta_asset)).await;
    assert_eq!(status, 403);
    w.server.stop().await;
}

#[tokio::test]
async fn users_are_administered_with_elevation_and_status_rules() {
    let w = world().await;
    let s = &w.server;
    let (status, users) = s.get(&w.outsider, "/users").await;
    assert_eq!(status, 200);
    let expected: BTreeSet<String> = w.ids.keys().map(|k| k.to_string()).collect();
    assert_eq!(names(&users, "username"), expected);
    let (status, _) = s.get(&w.outsider, "/users?projection=collectionGrants").await;
    assert_eq!(status, 403, "projections need elevation");
    let (_, admins) = s.get(&w.outsider, "/users?privilege=admin").await;
    assert_eq!(names(&admins, "username"), BTreeSet::from(["admin".to_string()]));
    let (_, some) = s.get(&w.outsider, "/users?username=own&username-match=contains").await;
    assert_eq!(names(&some, "username"), BTreeSet::from(["owner".to_string()]));
    let (status, _) = s.get(&w.outsider, &format!("/users/{}", w.ids["owner"])).await;
    assert_eq!(status, 403);
    let (status, _) = s.get(&w.outsider, "/users?elevate=true").await;
    assert_eq!(status, 403, "a non-admin may not elevate");

    let grants = json!([{"collectionId": w.alpha, "roleId": 2}]);
    let body = json!({"username": "newbie", "collectionGrants": grants});
    let (status, _) = s.send("POST", &w.admin, "/users", body.clone()).await;
    assert_eq!(status, 403);
    let (status, created) = s
        .send("POST", &w.admin, "/users?elevate=true&projection=collectionGrants", body.clone())
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["lastAccess"].clone(), created["displayName"].clone()),
        (Value::Null, json!("newbie"))
    );
    assert_eq!(created["collectionGrants"][0]["collection"]["name"], "Alpha");
    let new_id = created["userId"].as_str().unwrap().to_string();
    let (status, body) = s.send("POST", &w.admin, "/users?elevate=true", body).await;
    assert_eq!((status, body["detail"].clone()), (422, json!("Duplicate name exists.")));
    let twice = json!({"username": "x", "collectionGrants": [
        {"collectionId": w.alpha, "roleId": 1}, {"collectionId": w.alpha, "roleId": 2}]});
    let (status, body) = s.send("POST", &w.admin, "/users?elevate=true", twice).await;
    let duplicate = json!("Duplicate collectionId in collectionGrants array");
    assert_eq!((status, body["detail"].clone()), (422, duplicate));
    let bad =
        json!({"username": "x", "collectionGrants": [{"collectionId": "999999", "roleId": 1}]});
    let (status, body) = s.send("POST", &w.admin, "/users?elevate=true", bad).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (422, json!("One or more collectionIds are invalid."))
    );
    let (status, _) = s
        .send(
            "POST",
            &w.admin,
            "/users?elevate=true",
            json!({"username": "x", "collectionGrants": [], "status": "available"}),
        )
        .await;
    assert_eq!(status, 400);

    // unavailable: grants must not be sent, and PATCH wipes them
    let path = format!("/users/{new_id}?elevate=true&projection=collectionGrants");
    let (status, body) = s
        .send(
            "PATCH",
            &w.admin,
            &path,
            json!({"status": "unavailable", "collectionGrants": grants}),
        )
        .await;
    assert_eq!((status, body["error"].clone()), (422, json!("Setting collectionGrants or userGroups is inconsistent with status \"unavailable\".")));
    let (status, body) = s.send("PATCH", &w.admin, &path, json!({})).await;
    assert_eq!(status, 400, "UserPatch has minProperties 1: {body}");
    let (status, patched) =
        s.send("PATCH", &w.admin, &path, json!({"status": "unavailable"})).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (patched["status"].clone(), patched["collectionGrants"].clone()),
        (json!("unavailable"), json!([]))
    );
    assert_eq!(patched["statusUser"], json!(w.ids["admin"]));
    let (status, _) = s
        .send(
            "POST",
            &w.owner,
            &format!("/collections/{}/grants", w.alpha),
            json!([{"userId": new_id, "roleId": 1}]),
        )
        .await;
    assert_eq!(status, 422, "an unavailable user cannot be granted");
    let (status, put) = s
        .send("PUT", &w.admin, &path, json!({"status": "available", "collectionGrants": grants}))
        .await;
    assert_eq!((status, put["collectionGrants"][0]["roleId"].clone()), (200, json!(2)));

    // deletion: only users who never logged in
    let (status, gone) =
        s.send("DELETE", &w.admin, &format!("/users/{new_id}?elevate=true"), json!(null)).await;
    assert_eq!((status, gone["username"].clone()), (200, json!("newbie")));
    let (status, _) = s.get(&w.admin, &format!("/users/{new_id}?elevate=true")).await;
    assert_eq!(status, 404);
    let (status, body) = s
        .send(
            "DELETE",
            &w.admin,
            &format!("/users/{}?elevate=true", w.ids["outsider"]),
            json!(null),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    // web preferences: merge of the two known keys
    let (_, prefs) = s.get(&w.outsider, "/user/web-preferences").await;
    assert_eq!(prefs, json!({"darkMode": true, "lastWhatsNew": "2000-01-01"}));
    let (status, prefs) =
        s.send("PATCH", &w.outsider, "/user/web-preferences", json!({"darkMode": false})).await;
    assert_eq!((status, prefs), (200, json!({"darkMode": false, "lastWhatsNew": "2000-01-01"})));
    for bad in [json!({}), json!({"theme": "x"}), json!({"lastWhatsNew": "yesterday"})] {
        let (status, _) = s.send("PATCH", &w.outsider, "/user/web-preferences", bad).await;
        assert_eq!(status, 400);
    }
    w.server.stop().await;
}

#[tokio::test]
async fn group_grants_reach_members_unless_a_direct_grant_overrides() {
    let w = world().await;
    let s = &w.server;
    let (_, member) = s.get(&w.outsider, "/user").await;
    let members = json!([member["userId"], w.ids["full"]]);
    let body = json!({"name": "Ops", "description": "operators", "userIds": members,
        "collectionGrants": [{"collectionId": w.alpha, "roleId": 3}]});
    let (status, _) = s.send("POST", &w.admin, "/user-groups", body.clone()).await;
    assert_eq!(status, 403);
    let (status, group) = s
        .send(
            "POST",
            &w.admin,
            "/user-groups?elevate=true&projection=users&projection=attributions",
            body.clone(),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    assert_eq!(
        names(&group["users"], "username"),
        BTreeSet::from(["full".to_string(), "outsider".to_string()])
    );
    assert_eq!(group["attributions"]["created"]["username"], "admin");
    let gid = group["userGroupId"].as_str().unwrap().to_string();
    let (status, body) = s.send("POST", &w.admin, "/user-groups?elevate=true", body).await;
    assert_eq!((status, body["detail"].clone()), (422, json!("Group name is already in use.")));

    // the outsider now manages Alpha through the group; "full" keeps its direct Full grant
    let (status, _) = s.get(&w.outsider, &format!("/collections/{}/grants", w.alpha)).await;
    assert_eq!(status, 200);
    let (status, _) = s.get(&w.full, &format!("/collections/{}/grants", w.alpha)).await;
    assert_eq!(status, 403, "a direct grant overrides a higher group grant");
    let (_, c) = s.get(&w.owner, &format!("/collections/{}?projection=users", w.alpha)).await;
    let outsider = c["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"]["username"] == "outsider")
        .unwrap();
    assert_eq!(
        (outsider["roleId"].clone(), outsider["grantees"][0]["name"].clone()),
        (json!(3), json!("Ops"))
    );

    let (status, _) = s.get(&w.outsider, "/user-groups?projection=collections").await;
    assert_eq!(status, 403);
    let (_, groups) = s.get(&w.outsider, "/user-groups?projection=collectionGrants").await;
    assert_eq!(groups[0]["collectionGrants"][0]["collection"]["name"], "Alpha");

    let path = format!("/user-groups/{gid}?elevate=true&projection=users");
    let (status, patched) = s.send("PUT", &w.admin, &path, json!({"description": "changed"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        (patched["name"].clone(), patched["users"].as_array().unwrap().len()),
        (json!("Ops"), 2),
        "PUT merges"
    );
    let (status, body) = s.send("PATCH", &w.admin, &path, json!({})).await;
    assert_eq!(status, 400, "UserGroupPatch has minProperties 1: {body}");
    let (status, patched) =
        s.send("PATCH", &w.admin, &path, json!({"userIds": [w.ids["full"]]})).await;
    assert_eq!((status, patched["users"].as_array().unwrap().len()), (200, 1));
    let (status, _) = s.get(&w.outsider, &format!("/collections/{}", w.alpha)).await;
    assert_eq!(status, 403, "leaving the group removes the access");
    let (status, _) =
        s.send("PATCH", &w.admin, "/user-groups/99999?elevate=true", json!({"name": "x"})).await;
    assert_eq!(status, 404);
    let (status, _) = s.send("PATCH", &w.admin, &path, json!({"userIds": ["999999"]})).await;
    assert_eq!(status, 422);
    let (status, gone) = s.send("DELETE", &w.admin, &path, json!(null)).await;
    assert_eq!((status, gone["name"].clone()), (200, json!("Ops")));
    let (status, _) = s.get(&w.admin, &format!("/user-groups/{gid}")).await;
    assert_eq!(status, 404);
    w.server.stop().await;
}

/// Every operationId of the reference contract, with its first tag.
fn contract_operations() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(shared("reference/stig-manager.openapi.yaml")).unwrap();
    let doc: Value = serde_norway::from_str(&text).unwrap();
    let mut out = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                let tag = op["tags"][0].as_str().unwrap_or_default().to_string();
                out.push((id.to_string(), tag));
            }
        }
    }
    out
}

/// A value of a path parameter's schema, for calling an operation without caring which
/// resource it names. Patterns are the contract's own; an unknown one fails the test, so a new
/// kind of parameter gets a value chosen for it.
fn dummy_path_value<'a>(doc: &'a Value, mut schema: &'a Value) -> String {
    while let Some(reference) = schema["$ref"].as_str() {
        schema = &doc["components"]["schemas"][reference.rsplit('/').next().unwrap()];
    }
    if let Some(first) = schema["enum"].get(0) {
        return first.as_str().unwrap().to_string();
    }
    let Some(pattern) = schema["pattern"].as_str() else {
        assert_eq!(schema["type"], "string", "{schema}");
        return "x".into();
    };
    match pattern {
        "^[0-9]{1,10}$" => "1".into(),
        "^[0-9]{6}$" => "000001".into(),
        "^([\\w\\.]+)$" => "k".into(),
        p if p.starts_with("^[0-9a-f]{8}-") => "00000000-0000-4000-8000-000000000000".into(),
        p if p.starts_with("^(V\\d") => "V1R1".into(),
        other => panic!("no value chosen for path parameters matching {other}"),
    }
}

/// Every operation of the contract as (operationId, method, path with each path parameter
/// filled with a value of its schema).
fn contract_requests() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(shared("reference/stig-manager.openapi.yaml")).unwrap();
    let doc: Value = serde_norway::from_str(&text).unwrap();
    let parameter = |p: &Value| match p["$ref"].as_str() {
        Some(reference) => {
            doc["components"]["parameters"][reference.rsplit('/').next().unwrap()].clone()
        }
        None => p.clone(),
    };
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let shared_params = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else { continue };
            let own = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut path = template.clone();
            for p in shared_params.iter().chain(&own).map(parameter).filter(|p| p["in"] == "path") {
                let name = p["name"].as_str().unwrap();
                path = path.replace(&format!("{{{name}}}"), &dummy_path_value(&doc, &p["schema"]));
            }
            assert!(!path.contains('{'), "{id}: {path} keeps a parameter");
            out.push((id.to_string(), method.to_uppercase(), path));
        }
    }
    out
}

/// The route table holds every contract operation and nothing else, and the running router
/// answers each operation's method and path: without a token, an operation the router serves
/// reaches its handler (401, or its answer when it needs no token), while a path the router
/// lacks gets the fallback's 404 and a method it lacks on a known path 405.
#[tokio::test]
async fn the_route_table_serves_every_contract_operation() {
    let served: BTreeSet<&str> = stigward::routes::OPERATIONS.iter().copied().collect();
    let contract = contract_operations();
    assert!(contract.len() > 150, "the contract was read: {}", contract.len());
    let missing: Vec<String> = contract
        .iter()
        .filter(|(id, _)| !served.contains(id.as_str()))
        .map(|(id, tag)| format!("{tag}/{id}"))
        .collect();
    assert!(missing.is_empty(), "contract operations not served: {missing:?}");
    let known: BTreeSet<&str> = contract.iter().map(|(id, _)| id.as_str()).collect();
    let extra: Vec<&&str> = served.iter().filter(|id| !known.contains(**id)).collect();
    assert!(extra.is_empty(), "served operations the contract does not name: {extra:?}");
    // every served operation is in Stigward's own document too
    let ours: Value = serde_norway::from_str(include_str!("../openapi.yaml")).unwrap();
    let documented: BTreeSet<String> = ours["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op.get("operationId").and_then(Value::as_str).map(str::to_string))
        .collect();
    for id in &served {
        assert!(documented.contains(*id), "{id} is served but not in openapi.yaml");
    }

    let server = TestServer::start().await;
    let fallback = server.client.get(server.url("/no/such/operation")).send().await.unwrap();
    assert_eq!(fallback.status().as_u16(), 404);
    let fallback = fallback.text().await.unwrap();
    assert!(fallback.contains("No such endpoint."), "{fallback}");
    let requests = contract_requests();
    assert_eq!(requests.len(), contract.len());
    let mut unrouted = Vec::new();
    for (id, method, path) in &requests {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = server.client.request(method.clone(), server.url(path)).send().await;
        let response = response.unwrap();
        // a stream (the state's SSE) is left unread: its status is all that is needed
        let status = response.status().as_u16();
        let body = match status {
            404 => response.text().await.unwrap(),
            _ => String::new(),
        };
        if status == 405 || (status == 404 && body == fallback) {
            unrouted.push(format!("{id}: {method} {path} answered {status} {body}"));
        }
    }
    assert!(unrouted.is_empty(), "the router does not serve:\n{}", unrouted.join("\n"));
    // each request reached its own operation's route, not another one whose path pattern
    // also matches (`/stigs/{benchmarkId}` would take `/stigs/scap-maps`): the request
    // statistics, kept per matched route, count every operation exactly once
    let counted = server.state.requests.snapshot().operation_ids;
    let miscounted: Vec<String> = requests
        .iter()
        .map(|(id, _, _)| (id, counted.get(id).map_or(0, |s| s.total_requests)))
        .filter(|(_, count)| *count != 1)
        .map(|(id, count)| format!("{id}: {count}"))
        .collect();
    assert!(miscounted.is_empty(), "requests per operation: {miscounted:?}");
    server.stop().await;
}

/// The rows of one table of appdata.jsonl as column → value maps.
fn appdata_rows(text: &str, table: &str) -> Vec<serde_json::Map<String, Value>> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let head: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        if head["table"] == table && head.get("columns").is_some() {
            let columns: Vec<String> = head["columns"]
                .as_str()
                .unwrap()
                .split(',')
                .map(|c| c.trim_matches('`').to_string())
                .collect();
            let count = head["rowCount"].as_u64().unwrap() as usize;
            return lines[i + 1..=i + count]
                .iter()
                .map(|row| {
                    let values: Vec<Value> = serde_json::from_str(row).unwrap();
                    columns.iter().cloned().zip(values).collect()
                })
                .collect();
        }
    }
    panic!("no table {table}");
}

async fn post_appdata(
    s: &TestServer,
    token: &str,
    query: &str,
    body: Vec<u8>,
    kind: &str,
) -> (u16, String) {
    let response = s
        .client
        .post(s.url(&format!("/op/appdata{query}")))
        .bearer_auth(token)
        .header("content-type", kind)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// What a user's effective role per enabled collection must be, from the file's rows: a direct
/// grant wins outright, otherwise the highest role among the user's groups.
fn expected_roles(text: &str, user_id: i64) -> std::collections::BTreeMap<i64, i64> {
    let enabled: BTreeSet<i64> = appdata_rows(text, "collection")
        .iter()
        .filter(|c| c["state"] == "enabled")
        .map(|c| c["collectionId"].as_i64().unwrap())
        .collect();
    let groups: BTreeSet<i64> = appdata_rows(text, "user_group_user_map")
        .iter()
        .filter(|m| m["userId"].as_i64() == Some(user_id))
        .map(|m| m["userGroupId"].as_i64().unwrap())
        .collect();
    let mut direct = std::collections::BTreeMap::new();
    let mut via_groups: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for g in appdata_rows(text, "collection_grant") {
        let collection = g["collectionId"].as_i64().unwrap();
        let role = g["roleId"].as_i64().unwrap();
        if !enabled.contains(&collection) {
            continue;
        }
        if g["userId"].as_i64() == Some(user_id) {
            direct.insert(collection, role);
        } else if g["userGroupId"].as_i64().is_some_and(|ug| groups.contains(&ug)) {
            let best = via_groups.entry(collection).or_insert(role);
            *best = (*best).max(role);
        }
    }
    for (collection, role) in direct {
        via_groups.insert(collection, role);
    }
    via_groups
}

#[tokio::test]
async fn appdata_loads_and_roles_follow_its_grants() {
    let s = TestServer::start_with(&["--experimental-appdata", "true"]).await;
    let text = std::fs::read_to_string(shared("data/appdata/appdata.jsonl")).unwrap();
    let admin = s.token("stigmanadmin", &["admin", "create_collection"]);
    let (status, _) =
        post_appdata(&s, &admin, "", text.clone().into_bytes(), "application/jsonl").await;
    assert_eq!(status, 403, "elevation is required");

    // gzip is accepted; the reply is JSONL ending in success
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    let (status, reply) =
        post_appdata(&s, &admin, "?elevate=true", gz.finish().unwrap(), "application/gzip").await;
    assert_eq!(status, 200, "{reply}");
    let last: Value = serde_json::from_str(reply.lines().last().unwrap()).unwrap();
    assert_eq!(last, json!({"status": "success"}), "{reply}");
    let listed: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(reply.lines().next().unwrap()).unwrap(), listed);

    // every table is written whole, except cci mappings whose rule the file lacks
    let rules: BTreeSet<i64> = appdata_rows(&text, "rev_group_rule_map")
        .iter()
        .map(|r| r["rgrId"].as_i64().unwrap())
        .collect();
    for step in reply.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()) {
        let (Some(table), Some(count)) = (step["table"].as_str(), step["valueCount"].as_u64())
        else {
            continue;
        };
        if count == 0 {
            continue;
        }
        let rows = appdata_rows(&text, table);
        let expected = match table {
            "rev_group_rule_cci_map" => {
                rows.iter().filter(|r| rules.contains(&r["rgrId"].as_i64().unwrap())).count()
            }
            _ => rows.len(),
        };
        assert_eq!(count as usize, expected, "{table}");
    }
    let (_, users) = s.get(&admin, "/users").await;
    let people = appdata_rows(&text, "user_data").iter().filter(|u| u["taskId"].is_null()).count();
    assert_eq!(users.as_array().unwrap().len(), people);

    // the admin's elevated view lists every enabled collection of the file
    let admin = s.token("stigmanadmin", &["admin", "create_collection"]);
    let (_, all) = s.get(&admin, "/collections?elevate=true").await;
    let expected: BTreeSet<String> = appdata_rows(&text, "collection")
        .iter()
        .filter(|c| c["state"] == "enabled")
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names(&all, "name"), expected);

    // every available user sees exactly the collections the file grants, at the granted role
    let all_ids: BTreeSet<i64> = appdata_rows(&text, "collection")
        .iter()
        .filter(|c| c["state"] == "enabled")
        .map(|c| c["collectionId"].as_i64().unwrap())
        .collect();
    let mut checked_roles = BTreeSet::new();
    for user in appdata_rows(&text, "user_data") {
        if !user["taskId"].is_null() {
            continue;
        }
        let username = user["username"].as_str().unwrap();
        let token = s.token(username, &[]);
        if user["status"] == "unavailable" {
            let (status, _) = s.get(&token, "/user").await;
            assert_eq!(status, 403, "{username} is unavailable");
            continue;
        }
        let roles = expected_roles(&text, user["userId"].as_i64().unwrap());
        let (status, listed) = s.get(&token, "/collections").await;
        assert_eq!(status, 200);
        let ids: BTreeSet<i64> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["collectionId"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ids, roles.keys().copied().collect(), "{username}");
        for collection in &all_ids {
            let role = roles.get(collection).copied();
            let (status, _) = s.get(&token, &format!("/collections/{collection}")).await;
            assert_eq!(
                status,
                if role.is_some() { 200 } else { 403 },
                "{username} in {collection}"
            );
            let (status, _) = s.get(&token, &format!("/collections/{collection}/grants")).await;
            let manage = role.is_some_and(|r| r >= 3);
            assert_eq!(status, if manage { 200 } else { 403 }, "{username} grants of {collection}");
            let (status, _) = s.get(&token, &format!("/assets?collectionId={collection}")).await;
            assert_eq!(
                status,
                if role.is_some() { 200 } else { 403 },
                "{username} assets of {collection}"
            );
            if let Some(role) = role {
                checked_roles.insert(role);
            }
        }
    }
    assert_eq!(checked_roles, BTreeSet::from([1, 2, 3, 4]), "every role is exercised");

    restricted_acl_holds(&s, &text).await;
    s.stop().await;
}

/// A restricted user with ACL rules in the file sees only assets those rules name or reach.
async fn restricted_acl_holds(s: &TestServer, text: &str) {
    let acl = appdata_rows(text, "collection_grant_acl");
    let grants = appdata_rows(text, "collection_grant");
    let users = appdata_rows(text, "user_data");
    for rule in &acl {
        let grant = grants.iter().find(|g| g["grantId"] == rule["grantId"]).unwrap();
        if grant["roleId"] != 1 || grant["userId"].is_null() {
            continue;
        }
        let user = users.iter().find(|u| u["userId"] == grant["userId"]).unwrap();
        let token = s.token(user["username"].as_str().unwrap(), &[]);
        let path = format!("/assets?collectionId={}", grant["collectionId"]);
        let (status, assets) = s.get(&token, &path).await;
        assert_eq!(status, 200);
        let named: BTreeSet<String> = acl
            .iter()
            .filter(|r| r["grantId"] == grant["grantId"] && r["assetId"].is_number())
            .map(|r| r["assetId"].to_string())
            .collect();
        let seen: BTreeSet<String> = assets
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["assetId"].as_str().unwrap().to_string())
            .collect();
        let only_asset_rules = acl
            .iter()
            .filter(|r| r["grantId"] == grant["grantId"])
            .all(|r| r["assetId"].is_number() && r["access"] != "none");
        if only_asset_rules {
            assert!(seen.is_subset(&named), "{seen:?} ⊄ {named:?}");
        }
    }
}

#[tokio::test]
async fn bad_appdata_leaves_the_previous_data_untouched() {
    let s = TestServer::start_with(&["--experimental-appdata", "true"]).await;
    let text = std::fs::read_to_string(shared("data/appdata/appdata.jsonl")).unwrap();
    let admin = s.token("admin", &["admin", "create_collection"]);
    let (status, _) = s
        .send("POST", &admin, "/collections?elevate=true", json!({"name": "Keep me", "grants": []}))
        .await;
    assert_eq!(status, 201);
    let truncated: String =
        text.lines().take(text.lines().count() - 3).collect::<Vec<_>>().join("\n");
    let broken_row = text.replacen("[29,21,", "[\"x\",21,", 1);
    let cases = [truncated.into_bytes(), b"{not json".to_vec(), broken_row.into_bytes()];
    for body in cases {
        let (status, reply) =
            post_appdata(&s, &admin, "?elevate=true", body, "application/jsonl").await;
        assert_eq!(status, 200);
        let last: Value = serde_json::from_str(reply.lines().last().unwrap()).unwrap();
        assert_eq!(last["status"], "fail", "{reply}");
        let (_, all) = s.get(&admin, "/collections?elevate=true").await;
        assert_eq!(names(&all, "name"), BTreeSet::from(["Keep me".to_string()]));
    }
    let (status, _) =
        post_appdata(&s, &admin, "?elevate=true", vec![0x1f, 0x8b, 1, 2], "application/gzip").await;
    assert_eq!(status, 400);
    s.stop().await;
    let off = TestServer::start().await;
    let admin = off.token("admin", &["admin"]);
    let (status, reply) =
        post_appdata(&off, &admin, "?elevate=true", text.into_bytes(), "application/jsonl").await;
    assert_eq!(status, 404, "{reply}");
    off.stop().await;
}

/// The column line of `table` in an application data file.
fn appdata_columns(text: &str, table: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|h| h["table"] == table && h.get("columns").is_some())
        .map(|h| h["columns"].as_str().unwrap().to_string())
}

/// A stig_asset_map row as the export must give it: upstream leaves a new mapping's counters
/// NULL until it recounts; Stigward counts at once.
fn counted(mut row: serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
    for (column, value) in row.iter_mut() {
        let time_or_users = matches!(column.as_str(), "minTs" | "maxTs" | "maxTouchTs" | "userIds");
        if value.is_null() && !time_or_users {
            *value = Value::from(0);
        }
    }
    row
}

/// Imports an application data file as the file's admin, elevated; it must succeed.
async fn import_appdata(s: &TestServer, text: &str) {
    let admin = s.token("stigmanadmin", &["admin"]);
    let body = text.as_bytes().to_vec();
    let (status, reply) = post_appdata(s, &admin, "?elevate=true", body, "application/jsonl").await;
    assert!(status == 200 && reply.ends_with("{\"status\":\"success\"}\n"), "{reply}");
}

/// The plain JSONL export, taken with an admin's token.
async fn export_appdata(s: &TestServer, admin: &str) -> String {
    let url = s.url("/op/appdata?elevate=true&format=jsonl");
    let response = s.client.get(url).bearer_auth(admin).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains(".jsonl\""), "{disposition}");
    response.text().await.unwrap()
}

/// Compares an export with the file it was imported from: from the second line on (the first
/// line names the exporting server and date), every table, its column line and its rows
/// (as a multiset: upstream defines no row order), value for value, except the rows of the
/// users whose tokens were used since the import, which signing in rightly changed.
fn assert_export_is_file(exported: &str, text: &str, signed_in: &[&str]) {
    // The file's rev_group_rule_cci_map holds rows whose rgrId names no rule of its
    // rev_group_rule_map (two in appdata.jsonl). Here rev_group_rule_cci_map.rgr_id is a
    // foreign key to rev_group_rule_map (rgr_id) ON DELETE CASCADE, enforced on both backends
    // (SQLite connections set PRAGMA foreign_keys = ON): it is what deletes a revision's CCI
    // mappings with its rules. A mapping naming no rule cannot be stored, so the import skips
    // those rows and the export lacks them. (DOMAIN-2 §5.2: upstream loads with foreign-key
    // checks off.)
    let rules: BTreeSet<i64> = appdata_rows(text, "rev_group_rule_map")
        .iter()
        .map(|r| r["rgrId"].as_i64().unwrap())
        .collect();
    let kept = |table: &str, r: &serde_json::Map<String, Value>| {
        table != "rev_group_rule_cci_map" || rules.contains(&r["rgrId"].as_i64().unwrap())
    };
    let dropped = appdata_rows(text, "rev_group_rule_cci_map")
        .iter()
        .filter(|r| !kept("rev_group_rule_cci_map", r))
        .count();
    assert_eq!(dropped, 2, "the rows left out are the file's two mappings of missing rules");
    // the table list (line 2): the file's tables in its order, with the rows kept of each
    let list = |t: &str| -> Vec<(String, u64)> {
        let line: Value = serde_json::from_str(t.lines().nth(1).unwrap()).unwrap();
        line["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["table"].as_str().unwrap().to_string(), e["rowCount"].as_u64().unwrap()))
            .collect()
    };
    let expected: Vec<(String, u64)> = list(text)
        .into_iter()
        .map(|(table, _)| {
            let count = appdata_rows(text, &table).iter().filter(|r| kept(&table, r)).count();
            (table, count as u64)
        })
        .collect();
    assert_eq!(list(exported), expected);

    for (table, _) in list(text) {
        let table = table.as_str();
        assert_eq!(appdata_columns(exported, table), appdata_columns(text, table), "{table}");
        let not_caller = |r: &serde_json::Map<String, Value>| {
            table != "user_data" || !signed_in.iter().any(|u| r["username"] == *u)
        };
        let shape = |t: &str| -> Vec<String> {
            let mut out: Vec<String> = appdata_rows(t, table)
                .into_iter()
                .filter(|r| kept(table, r) && not_caller(r))
                .map(|r| if table == "stig_asset_map" { counted(r) } else { r })
                .map(|r| Value::Array(r.into_values().collect()).to_string())
                .collect();
            out.sort();
            out
        };
        let (ours, theirs) = (shape(exported), shape(text));
        let only_ours: Vec<&String> = ours.iter().filter(|r| !theirs.contains(r)).collect();
        let only_theirs: Vec<&String> = theirs.iter().filter(|r| !ours.contains(r)).collect();
        assert!(
            only_ours.is_empty() && only_theirs.is_empty() && ours.len() == theirs.len(),
            "{table}: exported {only_ours:?}, file {only_theirs:?}"
        );
    }
}

#[tokio::test]
async fn appdata_exports_again_row_by_row() {
    let s = TestServer::start_with(&["--experimental-appdata", "true"]).await;
    let text = std::fs::read_to_string(shared("data/appdata/appdata.jsonl")).unwrap();
    import_appdata(&s, &text).await;
    let admin = s.token("stigmanadmin", &["admin"]);
    let exported = export_appdata(&s, &admin).await;
    let gz =
        s.client.get(s.url("/op/appdata?elevate=true")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(gz.headers()["content-type"], "application/gzip");
    let mut unzipped = String::new();
    let bytes = gz.bytes().await.unwrap();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut unzipped)
        .unwrap();
    let body_of = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body_of(&unzipped), body_of(&exported), "gzip and plain exports differ");
    assert_export_is_file(&exported, &text, &["stigmanadmin"]);
    s.stop().await;
}

/// Export and import are the admin's, and only elevated: a non-admin is refused with or
/// without `elevate=true`, an admin without it.
#[tokio::test]
async fn appdata_needs_an_elevated_admin() {
    let s = TestServer::start_with(&["--experimental-appdata", "true"]).await;
    let text = std::fs::read_to_string(shared("data/appdata/appdata.jsonl")).unwrap();
    import_appdata(&s, &text).await;
    let admin = s.token("stigmanadmin", &["admin"]);
    let user = s.token("lvl4", &["create_collection"]);
    let invalid = "Invalid use of parameter elevate=true.";
    for (who, token, query, detail) in [
        ("non-admin", &user, "", None),
        ("non-admin elevated", &user, "?elevate=true", Some(invalid)),
        ("admin without elevate", &admin, "", None),
        ("admin with elevate=false", &admin, "?elevate=false", None),
    ] {
        let (status, body) = s.get(token, &format!("/op/appdata{query}")).await;
        assert_eq!(status, 403, "GET as {who}: {body}");
        assert!(body["error"].is_string(), "GET as {who}: {body}");
        if let Some(text) = detail {
            assert_eq!(body["error"], text, "GET as {who}");
        }
        let bytes = text.as_bytes().to_vec();
        let (status, reply) = post_appdata(&s, token, query, bytes, "application/jsonl").await;
        assert_eq!(status, 403, "POST as {who}: {reply}");
    }
    // nothing was replaced: the data still exports as the file
    assert_export_is_file(&export_appdata(&s, &admin).await, &text, &["stigmanadmin", "lvl4"]);
    s.stop().await;
}

/// An import over an installation already loaded and then changed through the API replaces
/// everything: a collection, a user, a benchmark, a review, an asset deletion and metadata
/// added since are gone, and the data exports as the file again.
#[tokio::test]
async fn appdata_import_replaces_a_loaded_installation() {
    let s = TestServer::start_with(&["--experimental-appdata", "true"]).await;
    let text = std::fs::read_to_string(shared("data/appdata/appdata.jsonl")).unwrap();
    import_appdata(&s, &text).await;
    // a review of the file on an enabled asset of a collection a user owns directly
    let (assets, grants) = (appdata_rows(&text, "asset"), appdata_rows(&text, "collection_grant"));
    let owner_of = |c: &Value| {
        grants
            .iter()
            .find(|g| g["collectionId"] == *c && g["roleId"] == 4 && g["userId"].is_number())
    };
    let (review, asset_row, grant) = appdata_rows(&text, "review")
        .into_iter()
        .find_map(|r| {
            let a =
                assets.iter().find(|a| a["assetId"] == r["assetId"] && a["state"] == "enabled")?;
            Some((r.clone(), a.clone(), owner_of(&a["collectionId"])?.clone()))
        })
        .unwrap();
    let collection = asset_row["collectionId"].to_string();
    let (asset, rule) = (review["assetId"].to_string(), review["ruleId"].as_str().unwrap());
    let users = appdata_rows(&text, "user_data");
    let owner = users.iter().find(|u| u["userId"] == grant["userId"]).unwrap()["username"]
        .as_str()
        .unwrap()
        .to_string();
    let owner = s.token(&owner, &[]);
    let admin = s.token("stigmanadmin", &["admin"]);

    let extra = json!({"name": "Extra", "grants": []});
    assert_eq!(s.send("POST", &admin, "/collections?elevate=true", extra).await.0, 201);
    let newcomer = s.token("newcomer", &[]);
    let (_, me) = s.get(&newcomer, "/user").await;
    let newcomer_id = me["userId"].clone();
    let path = format!("/collections/{collection}/reviews/{asset}/{rule}");
    let put = json!({"result": "fail", "detail": "changed", "comment": "changed"});
    assert_eq!(s.send("PUT", &owner, &path, put).await.0, 200);
    let path = format!("/collections/{collection}/metadata");
    assert_eq!(s.send("PATCH", &owner, &path, json!({"added": "x"})).await.0, 200);
    assert_eq!(s.send("DELETE", &owner, &format!("/assets/{asset}"), json!(null)).await.0, 200);
    let chrome = std::fs::read(shared(&format!("data/stigs/{CHROME}"))).unwrap();
    assert_eq!(s.upload(&admin, "/stigs?elevate=true", CHROME, chrome).await.0, 200);
    let changed = export_appdata(&s, &admin).await;
    assert!(changed.contains("\"Extra\"") && changed.contains("newcomer"), "changes are in");

    import_appdata(&s, &text).await;
    assert_export_is_file(&export_appdata(&s, &admin).await, &text, &["stigmanadmin"]);
    let (_, all) = s.get(&admin, "/collections?elevate=true").await;
    assert!(!names(&all, "name").contains("Extra"));
    let (_, stigs) = s.get(&admin, "/stigs").await;
    let (chrome_id, _) = benchmark_of(CHROME);
    assert!(!names(&stigs, "benchmarkId").contains(&chrome_id));
    // the newcomer is unknown again: its next request provisions it afresh, without grants
    let (status, me) = s.get(&newcomer, "/user").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["collectionGrants"], json!([]));
    assert!(users.iter().all(|u| u["username"] != "newcomer" && u["userId"] != newcomer_id));
    s.stop().await;
}

#[tokio::test]
async fn elevated_writes_may_not_carry_settings_labels_or_metadata() {
    let w = world().await;
    let s = &w.server;
    let path = format!("/collections/{}?elevate=true", w.alpha);
    let grants = json!([{"userId": w.ids["owner"], "roleId": 4}]);
    let detail = json!("Elevated requests cannot set collection settings, labels, or metadata.");
    let with_settings =
        json!({"name": "Alpha", "grants": grants, "settings": {"history": {"maxReviews": 1}}});
    let (status, body) = s.send("PUT", &w.admin, &path, with_settings).await;
    assert_eq!((status, body["detail"].clone()), (403, detail.clone()));
    let with_labels = json!({"labels": []});
    let (status, body) = s.send("PATCH", &w.admin, &path, with_labels).await;
    assert_eq!((status, body["detail"].clone()), (403, detail));
    let (status, body) =
        s.send("PUT", &w.admin, &path, json!({"name": "Alpha2", "grants": grants})).await;
    assert_eq!((status, body["name"].clone()), (200, json!("Alpha2")), "{body}");
    let missing = "/collections/999999?elevate=true";
    let (status, body) = s.send("PATCH", &w.admin, missing, json!({"name": "x"})).await;
    assert_eq!((status, body["detail"].clone()), (404, json!("Collection not found")));
    let (status, _) = s.send("PATCH", &w.owner, "/collections/999999", json!({"name": "x"})).await;
    assert_eq!(status, 403);
    w.server.stop().await;
}

#[tokio::test]
async fn user_privileges_are_read_where_the_privileges_claim_says() {
    let s = TestServer::start_with(&["--jwt-privileges-claim", "app.access.roles"]).await;
    let signed = |user: &str, roles: Value| {
        s.sign(json!({
            "preferred_username": user,
            "scope": "stig-manager:user stig-manager:collection",
            "exp": 4_000_000_000u64,
            "app": {"access": {"roles": roles}},
            // the default path holds the opposite, so reading it would be caught
            "realm_access": {"roles": if user == "boss" { json!([]) } else { json!(["admin"]) }},
        }))
    };
    let boss = signed("boss", json!(["admin", "create_collection"]));
    let worker = signed("worker", json!(["create_collection"]));
    for token in [&boss, &worker] {
        let (status, _) = s.get(token, "/user").await;
        assert_eq!(status, 200);
    }
    let (_, me) = s.get(&boss, "/user").await;
    assert_eq!(me["privileges"], json!({"admin": true, "create_collection": true}));
    let (_, admins) = s.get(&worker, "/users?privilege=admin").await;
    assert_eq!(names(&admins, "username"), BTreeSet::from(["boss".to_string()]));
    let (_, creators) = s.get(&worker, "/users?privilege=create_collection").await;
    let both = BTreeSet::from(["boss".to_string(), "worker".to_string()]);
    assert_eq!(names(&creators, "username"), both);
    let (_, listed) = s.get(&boss, "/users?elevate=true&username=worker").await;
    assert_eq!(listed[0]["privileges"], json!({"admin": false, "create_collection": true}));
    s.stop().await;
}
