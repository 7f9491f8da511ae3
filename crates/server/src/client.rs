//! Serving STIG Manager's web client: its static files from `STIGMAN_CLIENT_DIRECTORY` at `/`
//! and a generated `/js/Env.js` (ahead of any file of that name) that tells the client where
//! the API and the OIDC provider are, from the `STIGMAN_CLIENT_*` settings; and the built
//! documentation from `STIGMAN_DOCS_DIRECTORY` at `/docs`.

use std::path::PathBuf;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use clap::Args;
use serde::Serialize;
use tower_http::services::ServeDir;

use crate::config::ServeConfig;
use crate::state::AppState;

/// The web client's settings.
#[derive(Args, Clone, Debug)]
pub struct ClientConfig {
    /// Directory holding the built web client.
    #[arg(long, env = "STIGMAN_CLIENT_DIRECTORY", default_value = "./clients")]
    pub client_directory: PathBuf,
    /// Do not serve the web client.
    #[arg(long, env = "STIGMAN_CLIENT_DISABLED", default_value_t = false,
        action = clap::ArgAction::Set)]
    pub client_disabled: bool,
    /// `development` turns on the client's console logging.
    #[arg(long, env = "STIGMAN_CLIENT_CONSOLE_MODE", default_value = "production")]
    pub client_console_mode: String,
    /// The API's URL relative to the client's page.
    #[arg(long, env = "STIGMAN_CLIENT_API_BASE", default_value = "api")]
    pub client_api_base: String,
    /// Show the application managers on the client's home page.
    #[arg(long, env = "STIGMAN_CLIENT_DISPLAY_APPMANAGERS", default_value_t = true,
        action = clap::ArgAction::Set)]
    pub client_display_appmanagers: bool,
    /// Let the client follow `/op/state/sse` (turn off only while fixing a buffering proxy).
    #[arg(long, env = "STIGMAN_CLIENT_STATE_EVENTS", default_value_t = true,
        action = clap::ArgAction::Set)]
    pub client_state_events: bool,
    /// Image URL for the home page's welcome widget.
    #[arg(long, env = "STIGMAN_CLIENT_WELCOME_IMAGE", default_value = "")]
    pub client_welcome_image: String,
    /// Title of the welcome widget.
    #[arg(long, env = "STIGMAN_CLIENT_WELCOME_TITLE", default_value = "Support")]
    pub client_welcome_title: String,
    /// Text of the welcome widget.
    #[arg(long, env = "STIGMAN_CLIENT_WELCOME_MESSAGE", default_value = "")]
    pub client_welcome_message: String,
    /// Link shown after the welcome text.
    #[arg(long, env = "STIGMAN_CLIENT_WELCOME_LINK", default_value = "")]
    pub client_welcome_link: String,
    /// The client's OIDC provider, when it differs from STIGMAN_OIDC_PROVIDER.
    #[arg(long, env = "STIGMAN_CLIENT_OIDC_PROVIDER")]
    pub client_oidc_provider: Option<String>,
    /// The client's OIDC client id.
    #[arg(long, env = "STIGMAN_CLIENT_ID", default_value = "stig-manager")]
    pub client_id: String,
    /// Extra scopes the client requests (space separated).
    #[arg(long, env = "STIGMAN_CLIENT_EXTRA_SCOPES", default_value = "")]
    pub client_extra_scopes: String,
    /// Prefix of every scope the client requests (e.g. `api://id/`).
    #[arg(long, env = "STIGMAN_CLIENT_SCOPE_PREFIX", default_value = "")]
    pub client_scope_prefix: String,
    /// `query` or `fragment`.
    #[arg(long, env = "STIGMAN_CLIENT_RESPONSE_MODE", default_value = "query")]
    pub client_response_mode: String,
    /// `popup`, `iframe`, `tab` or `reload`.
    #[arg(long, env = "STIGMAN_CLIENT_REAUTH_ACTION", default_value = "popup")]
    pub client_reauth_action: String,
    /// Require the provider to advertise PKCE S256.
    #[arg(long, env = "STIGMAN_CLIENT_STRICT_PKCE", default_value_t = true,
        action = clap::ArgAction::Set)]
    pub client_strict_pkce: bool,
    /// Idle minutes before a user's session is dropped (0: never).
    #[arg(long, env = "STIGMAN_CLIENT_USER_TIMEOUT", default_value = "0")]
    pub client_user_timeout: String,
    /// Idle minutes before an administrator's session is dropped (0: never).
    #[arg(long, env = "STIGMAN_CLIENT_ADMIN_TIMEOUT", default_value = "0")]
    pub client_admin_timeout: String,
    /// Directory holding the built documentation, served at `/docs`.
    #[arg(long, env = "STIGMAN_DOCS_DIRECTORY", default_value = "./docs")]
    pub docs_directory: PathBuf,
    /// Do not serve the documentation.
    #[arg(long, env = "STIGMAN_DOCS_DISABLED", default_value_t = false,
        action = clap::ArgAction::Set)]
    pub docs_disabled: bool,
    /// Show the log stream interface.
    #[arg(long, env = "STIGMAN_EXPERIMENTAL_LOGSTREAM", default_value_t = true,
        action = clap::ArgAction::Set)]
    pub experimental_logstream: bool,
}

/// Adds the routes of the documentation and of the web client to the root router, each unless
/// it is disabled.
pub fn routes(mut router: Router<AppState>, config: &ClientConfig) -> Router<AppState> {
    if !config.docs_disabled {
        router = router.nest_service("/docs", ServeDir::new(&config.docs_directory));
    }
    if config.client_disabled {
        return router;
    }
    router
        .route("/js/Env.js", get(env_js))
        .fallback_service(ServeDir::new(&config.client_directory))
}

async fn env_js(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "application/javascript"), (CACHE_CONTROL, "no-cache")],
        env_script(&state.config),
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Env {
    version: &'static str,
    console_mode: String,
    api_base: String,
    display_app_managers: bool,
    state_events: bool,
    welcome: Welcome,
    commit: Commit,
    oauth: OAuth,
    experimental: Experimental,
}

#[derive(Serialize)]
struct Welcome {
    image: String,
    title: String,
    message: String,
    link: String,
}

#[derive(Serialize)]
struct Commit {
    branch: String,
    sha: String,
    tag: String,
    describe: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OAuth {
    authority: String,
    client_id: String,
    extra_scopes: String,
    scope_prefix: String,
    response_mode: String,
    reauth_action: String,
    strict_pkce: bool,
    audience_value: String,
    idle_timeout_user: u64,
    idle_timeout_admin: u64,
    claims: Claims,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    scope: String,
    username: String,
    servicename: String,
    name: String,
    /// The privileges path in the three spellings the client uses.
    privileges: String,
    privileges_chain: String,
    privileges_raw: String,
    email: String,
    assertion: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Experimental {
    /// Strings, not booleans: the client compares them with "true".
    app_data: &'static str,
    log_stream: &'static str,
}

/// The text of `/js/Env.js`: one `STIGMAN` global whose members are JSON literals, so every
/// string is quoted and escaped and booleans and numbers are bare.
pub fn env_script(config: &ServeConfig) -> String {
    let client = &config.client;
    let claims = &config.claims;
    let commit = |name: &str| std::env::var(name).unwrap_or_else(|_| "na".into());
    let authority = client
        .client_oidc_provider
        .clone()
        .or_else(|| config.external_provider().map(str::to_string))
        .unwrap_or_else(|| config.local_issuer_url());
    let env = Env {
        version: env!("CARGO_PKG_VERSION"),
        console_mode: client.client_console_mode.clone(),
        api_base: client.client_api_base.clone(),
        display_app_managers: client.client_display_appmanagers,
        state_events: client.client_state_events,
        welcome: Welcome {
            image: client.client_welcome_image.clone(),
            title: client.client_welcome_title.clone(),
            message: client.client_welcome_message.clone(),
            link: client.client_welcome_link.clone(),
        },
        commit: Commit {
            branch: commit("COMMIT_BRANCH"),
            sha: commit("COMMIT_SHA"),
            tag: commit("COMMIT_TAG"),
            describe: commit("COMMIT_DESCRIBE"),
        },
        oauth: OAuth {
            authority,
            client_id: client.client_id.clone(),
            extra_scopes: client.client_extra_scopes.clone(),
            scope_prefix: client.client_scope_prefix.clone(),
            response_mode: client.client_response_mode.clone(),
            reauth_action: client.client_reauth_action.clone(),
            strict_pkce: client.client_strict_pkce,
            audience_value: config.jwt_aud_value.clone().unwrap_or_default(),
            idle_timeout_user: minutes(&client.client_user_timeout),
            idle_timeout_admin: minutes(&client.client_admin_timeout),
            claims: Claims {
                scope: claims.jwt_scope_claim.clone(),
                username: claims.jwt_username_claim.clone(),
                servicename: claims.jwt_servicename_claim.clone(),
                name: claims.jwt_name_claim.clone(),
                privileges: path_quoted(&claims.jwt_privileges_claim),
                privileges_chain: path_chained(&claims.jwt_privileges_claim),
                privileges_raw: claims.jwt_privileges_claim.clone(),
                email: claims.jwt_email_claim.clone(),
                assertion: claims.jwt_assertion_claim.clone(),
            },
        },
        experimental: Experimental {
            app_data: if config.experimental_appdata { "true" } else { "false" },
            log_stream: if config.client.experimental_logstream { "true" } else { "false" },
        },
    };
    let json = serde_json::to_string_pretty(&env).unwrap_or_else(|_| "{}".into());
    format!("const STIGMAN = {{\n  Env: {json}\n}};\n")
}

/// Idle timeouts: whole minutes; unset or invalid values mean none (0).
fn minutes(text: &str) -> u64 {
    text.trim().parse().unwrap_or(0)
}

/// `realm_access.roles` → `"realm_access"."roles"`.
fn path_quoted(path: &str) -> String {
    let parts: Vec<String> = path.split('.').map(|p| format!("\"{p}\"")).collect();
    parts.join(".")
}

/// `realm_access.roles` → `['realm_access']?.['roles']`.
fn path_chained(path: &str) -> String {
    let parts: Vec<String> = path.split('.').map(|p| format!("['{p}']")).collect();
    parts.join("?.")
}
