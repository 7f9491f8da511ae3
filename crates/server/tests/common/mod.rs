//! A real Stigward server for tests: its own SQLite file (or PostgreSQL database when
//! `STIGWARD_TEST_BACKEND=postgres`), bound to port 0, with tokens from its built-in issuer.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use serde_json::{json, Map, Value};
use stigward::config::ServeConfig;

pub mod appdata;
pub mod xccdf;

pub fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(path)
}

#[derive(Parser)]
struct TestArgs {
    #[command(flatten)]
    serve: ServeConfig,
}

pub struct TestServer {
    pub base: String,
    /// The server's root URL, without `/api`.
    pub root: String,
    /// The running server's state, for tests that flip dependencies or reach the store.
    pub state: stigward::state::AppState,
    pub client: reqwest::Client,
    pub database_url: String,
    pub data_dir: tempfile::TempDir,
    issuer: stigward_auth::Issuer,
    pg_database: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn backend_is_postgres() -> bool {
    std::env::var("STIGWARD_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

async fn fresh_database(dir: &Path) -> (String, Option<String>) {
    if !backend_is_postgres() {
        let path = dir.join("stigward.db");
        return (format!("sqlite:{}?mode=rwc", path.display()), None);
    }
    let name = format!("stigward_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(PG_ADMIN).await.expect("PostgreSQL on 127.0.0.1:5432");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    admin.close().await;
    (format!("postgres://postgres@127.0.0.1:5432/{name}"), Some(name))
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    /// Starts a server; `args` are extra command-line options of `stigward serve`.
    pub async fn start_with(args: &[&str]) -> TestServer {
        let data_dir = tempfile::tempdir().unwrap();
        let (database_url, pg_database) = fresh_database(data_dir.path()).await;
        let mut argv = vec![
            "stigward".to_string(),
            "--data-dir".into(),
            data_dir.path().display().to_string(),
            "--database-url".into(),
            database_url.clone(),
            "--address".into(),
            "127.0.0.1".into(),
        ];
        argv.extend(args.iter().map(|a| a.to_string()));
        let config = TestArgs::try_parse_from(argv).unwrap().serve;
        let state = stigward::startup::build_state(config).await.unwrap();
        let issuer = stigward::startup::local_issuer(
            &stigward::config::StoreConfig {
                data_dir: data_dir.path().to_path_buf(),
                database_url: None,
                db_max_connections: 1,
            },
            "http://localhost/oidc".into(),
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = match args.contains(&"--tls-cert-file") {
            true => "https",
            false => "http",
        };
        let root = format!("{scheme}://localhost:{}", listener.local_addr().unwrap().port());
        let base = format!("{root}/api");
        let app_state = state.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            stigward::app::serve(listener, state, shutdown).await.unwrap();
        });
        TestServer {
            base,
            root,
            state: app_state,
            client: reqwest::Client::new(),
            database_url,
            data_dir,
            issuer,
            pg_database,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// A token for `user` with every scope and the given privileges.
    pub fn token(&self, user: &str, privileges: &[&str]) -> String {
        let mut claims = Map::new();
        claims.insert("preferred_username".into(), json!(user));
        claims.insert(
            "scope".into(),
            json!("stig-manager:stig stig-manager:collection stig-manager:user stig-manager:op"),
        );
        claims.insert("realm_access".into(), json!({ "roles": privileges }));
        self.issuer.issue(claims, std::time::Duration::from_secs(3600)).unwrap()
    }

    /// A token printed by `stigward token`, as the README tells a newcomer to get one.
    pub async fn token_cli(&self, user: &str, privileges: &str) -> String {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stigward"));
        command
            .args(["token", "--user", user, "--privileges", privileges])
            .env("STIGWARD_DATA_DIR", self.data_dir.path());
        let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    }

    /// Gives `username` a grant with `role` in a collection, written straight to the store;
    /// returns the user's token and the grant id.
    pub async fn grant_in(&self, collection_id: i64, username: &str, role: i64) -> (String, i64) {
        let token = self.token(username, &[]);
        let (_, me) = self.get(&token, "/user").await;
        let user_id: i64 = me["userId"].as_str().unwrap().parse().unwrap();
        let store = stigward_storage::Store::connect(&self.database_url, 1).await.unwrap();
        let role = stigward_domain::Role::try_from(role).unwrap();
        let grant_id = store.insert_grant(collection_id, user_id, role).await.unwrap();
        store.close().await;
        (token, grant_id)
    }

    /// Adds an asset+STIG ACL rule (`access` is `r`, `rw` or `none`) to a grant.
    pub async fn acl_on(&self, grant_id: i64, asset_id: i64, benchmark_id: &str, access: &str) {
        let store = stigward_storage::Store::connect(&self.database_url, 1).await.unwrap();
        let access = stigward_storage::access::Access::parse(access).unwrap();
        store
            .insert_acl_rule(grant_id, Some(asset_id), Some(benchmark_id), None, access)
            .await
            .unwrap();
        store.close().await;
    }

    /// Signs arbitrary claims with the server's key (for expired and odd tokens).
    pub fn sign(&self, claims: Value) -> String {
        let pem = std::fs::read(self.data_dir.path().join("issuer-key.pem")).unwrap();
        let key = jsonwebtoken::EncodingKey::from_ec_pem(&pem).unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.issuer.kid().to_string());
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        status_json(response).await
    }

    pub async fn send(&self, method: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        status_json(response).await
    }

    pub async fn upload(
        &self,
        token: &str,
        path: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().part("importFile", part);
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        status_json(response).await
    }

    /// Runs `stigward import` against this server's database (or, given `--server`, its API)
    /// while the server keeps serving; returns stdout.
    pub async fn import_cli(&self, args: &[&str]) -> String {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stigward"));
        command
            .arg("import")
            .args(args)
            .env("STIGWARD_DATA_DIR", self.data_dir.path())
            .env("STIGWARD_DATABASE_URL", &self.database_url);
        let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "stigward import {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    }

    /// Asks the server to shut down gracefully and waits until it has.
    pub async fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Stops the server and drops its PostgreSQL database.
    pub async fn stop(mut self) {
        self.shut_down().await;
        if let Some(name) = self.pg_database.take() {
            let admin = sqlx::PgPool::connect(PG_ADMIN).await.unwrap();
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            sqlx::query(&drop).execute(&admin).await.unwrap();
            admin.close().await;
        }
    }
}

async fn status_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}
