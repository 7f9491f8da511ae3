//! Configuration, read once at start-up from the command line and the `STIGMAN_*` environment
//! variables (same names and defaults as STIG Manager), plus Stigward's own `STIGWARD_*` ones.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;

/// Settings shared by every subcommand that opens the database or signs tokens.
#[derive(Args, Clone)]
pub struct StoreConfig {
    /// Directory for the embedded database and the built-in issuer's signing key.
    #[arg(long, env = "STIGWARD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite:PATH` or `postgres://user:pass@host/db`.
    /// Default: SQLite at DATA_DIR/stigward.db.
    #[arg(long, env = "STIGWARD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Maximum size of the database connection pool.
    #[arg(long, env = "STIGMAN_DB_MAX_CONNECTIONS", default_value_t = 25)]
    pub db_max_connections: u32,
}

impl StoreConfig {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => {
                let path = self.data_dir.join("stigward.db");
                format!("sqlite:{}?mode=rwc", path.display())
            }
        }
    }

    pub fn issuer_key_path(&self) -> PathBuf {
        self.data_dir.join("issuer-key.pem")
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(mask_password))
            .field("db_max_connections", &self.db_max_connections)
            .finish()
    }
}

/// Hides the password of a URL such as `postgres://user:secret@host/db`.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:****@{host}"),
        None => url.to_string(),
    }
}

/// Which claims of a token carry what.
#[derive(Args, Clone, Debug)]
pub struct ClaimConfig {
    /// Claim holding the scopes (a space-separated string or an array).
    #[arg(long, env = "STIGMAN_JWT_SCOPE_CLAIM", default_value = "scope")]
    pub jwt_scope_claim: String,
    /// Claim holding the username.
    #[arg(long, env = "STIGMAN_JWT_USERNAME_CLAIM", default_value = "preferred_username")]
    pub jwt_username_claim: String,
    /// Claim holding a service account's client id.
    #[arg(long, env = "STIGMAN_JWT_SERVICENAME_CLAIM", default_value = "clientId")]
    pub jwt_servicename_claim: String,
    /// Claim holding the user's full name.
    #[arg(long, env = "STIGMAN_JWT_NAME_CLAIM", default_value = "name")]
    pub jwt_name_claim: String,
    /// Claim holding the user's email address.
    #[arg(long, env = "STIGMAN_JWT_EMAIL_CLAIM", default_value = "email")]
    pub jwt_email_claim: String,
    /// Dotted path of the claim holding the privileges (`admin`, `create_collection`).
    #[arg(long, env = "STIGMAN_JWT_PRIVILEGES_CLAIM", default_value = "realm_access.roles")]
    pub jwt_privileges_claim: String,
    /// Claim holding the assertion id; a new value refreshes the stored claims.
    #[arg(long, env = "STIGMAN_JWT_ASSERTION_CLAIM", default_value = "jti")]
    pub jwt_assertion_claim: String,
}

impl ClaimConfig {
    pub fn paths(&self) -> stigward_auth::ClaimPaths {
        stigward_auth::ClaimPaths {
            username: self.jwt_username_claim.clone(),
            servicename: Some(self.jwt_servicename_claim.clone()),
            scope: self.jwt_scope_claim.clone(),
            privileges: self.jwt_privileges_claim.clone(),
            name: self.jwt_name_claim.clone(),
            email: self.jwt_email_claim.clone(),
            assertion: self.jwt_assertion_claim.clone(),
        }
    }
}

/// Everything `stigward serve` reads.
#[derive(Args, Clone)]
pub struct ServeConfig {
    #[command(flatten)]
    pub store: StoreConfig,
    #[command(flatten)]
    pub claims: ClaimConfig,
    #[command(flatten)]
    pub client: crate::client::ClientConfig,

    /// The API URL `GET /op/definition` names as its server (default: the URL clients reached,
    /// after the forwarding headers).
    #[arg(long, env = "STIGMAN_SWAGGER_SERVER")]
    pub swagger_server: Option<String>,
    /// Address the API listens on.
    #[arg(long, env = "STIGMAN_API_ADDRESS", default_value = "0.0.0.0")]
    pub address: IpAddr,
    /// TCP port the API listens on.
    #[arg(long, env = "STIGMAN_API_PORT", default_value_t = 54000)]
    pub port: u16,
    /// PEM certificate chain for serving HTTPS (with STIGMAN_API_TLS_KEY_FILE).
    #[arg(long, env = "STIGMAN_API_TLS_CERT_FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key for serving HTTPS (with STIGMAN_API_TLS_CERT_FILE).
    #[arg(long, env = "STIGMAN_API_TLS_KEY_FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,
    /// Passphrase of an encrypted (PKCS#8) STIGMAN_API_TLS_KEY_FILE.
    #[arg(
        long,
        env = "STIGMAN_API_TLS_KEY_PASSPHRASE",
        requires = "tls_key_file",
        hide_env_values = true
    )]
    pub tls_key_passphrase: Option<String>,
    /// Largest JSON request body, in bytes.
    #[arg(long, env = "STIGMAN_API_MAX_JSON_BODY", default_value_t = 5_242_880)]
    pub max_json_body: usize,
    /// Largest uploaded file (multipart/form-data), in bytes.
    #[arg(long, env = "STIGMAN_API_MAX_UPLOAD", default_value_t = 1_073_741_824)]
    pub max_upload: usize,
    /// Enables `GET`/`POST /op/appdata` (export and replace all application data).
    #[arg(long, env = "STIGMAN_EXPERIMENTAL_APPDATA", default_value_t = false,
        action = clap::ArgAction::Set)]
    pub experimental_appdata: bool,
    /// Classification shown in exports and the configuration (NONE, U, CUI, C, S, TS, SCI).
    #[arg(long, env = "STIGMAN_CLASSIFICATION", default_value = "U")]
    pub classification: String,

    /// Base URL of an external OIDC provider. Unset: Stigward issues its own tokens.
    #[arg(long, env = "STIGMAN_OIDC_PROVIDER")]
    pub oidc_provider: Option<String>,
    /// Older name of STIGMAN_OIDC_PROVIDER, read when that is unset.
    #[arg(long, env = "STIGMAN_API_AUTHORITY")]
    pub api_authority: Option<String>,
    /// PEM file of CA certificates for the TLS connection to the OIDC provider.
    #[arg(long, env = "STIGMAN_OIDC_CA_CERTS")]
    pub oidc_ca_certs: Option<PathBuf>,
    /// Minutes after which cached signing keys go stale (1 to 35791).
    #[arg(long, env = "STIGMAN_JWKS_CACHE_MAX_AGE", default_value_t = 10)]
    pub jwks_cache_max_age: u64,
    /// A value that the token's `aud` claim must contain.
    #[arg(long, env = "STIGMAN_JWT_AUD_VALUE")]
    pub jwt_aud_value: Option<String>,
    /// Accept tokens signed with the publicly known test key (development only).
    #[arg(long, env = "STIGMAN_DEV_ALLOW_INSECURE_TOKENS", default_value_t = false,
        action = clap::ArgAction::Set)]
    pub dev_allow_insecure_tokens: bool,
    /// Attempts, 5 seconds apart, to reach the database and the OIDC provider at start-up.
    #[arg(long, env = "STIGMAN_DEPENDENCY_RETRIES", default_value_t = 24)]
    pub dependency_retries: u32,
    /// Log detail from 1 (errors) to 4 (debug).
    #[arg(long, env = "STIGMAN_LOG_LEVEL", default_value_t = 3)]
    pub log_level: u8,
    /// `combined`: one line per request; `split`: also a line when the request arrives.
    #[arg(long, env = "STIGMAN_LOG_MODE", default_value = "combined",
        value_parser = ["combined", "split"])]
    pub log_mode: String,

    /// Milliseconds between the keep-alive `state-report` events of `GET /op/state/sse`.
    #[arg(long, env = "STIGWARD_SSE_KEEPALIVE_MS", default_value_t = 30_000,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub sse_keepalive_ms: u64,
    /// Milliseconds between database health probes, which drive the `db` dependency flag.
    #[arg(long, env = "STIGWARD_DB_PROBE_MS", default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub db_probe_ms: u64,
    /// Milliseconds between checks of the job schedules.
    #[arg(long, env = "STIGWARD_SCHEDULER_TICK_MS", default_value_t = 60_000,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub scheduler_tick_ms: u64,
    /// Milliseconds a client may take to send a request's headers (and, on a new connection,
    /// its first request) before the connection is closed, so slow senders cannot hold
    /// connections open.
    #[arg(long, env = "STIGWARD_HEADER_READ_TIMEOUT_MS", default_value_t = 30_000,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_ms: u64,
    /// Checklists that metrics reads keep in memory between requests, over all collections
    /// (about 1-3 KB each); the least recently read collections are dropped past it.
    #[arg(long, env = "STIGWARD_METRICS_CACHE_CHECKLISTS",
        default_value_t = stigward_storage::metrics::CACHE_DEFAULT_CHECKLISTS)]
    pub metrics_cache_checklists: usize,
    /// Milliseconds a client may leave between the parts of a request body it sends before the
    /// request is refused (400) and the connection closed.
    #[arg(long, env = "STIGWARD_BODY_READ_TIMEOUT_MS", default_value_t = 30_000,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub body_read_timeout_ms: u64,
    /// Milliseconds a log-socket session may stay unauthorized before it is closed.
    #[arg(long, env = "STIGWARD_LOG_SOCKET_AUTHORIZE_MS", default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub log_socket_authorize_ms: u64,
}

impl ServeConfig {
    /// The external provider, if one is configured.
    pub fn external_provider(&self) -> Option<&str> {
        self.oidc_provider.as_deref().or(self.api_authority.as_deref())
    }

    /// The URL at which the built-in issuer publishes its discovery document.
    pub fn local_issuer_url(&self) -> String {
        let host = match self.address {
            IpAddr::V4(a) if a.is_unspecified() => "localhost".to_string(),
            IpAddr::V6(a) if a.is_unspecified() => "localhost".to_string(),
            IpAddr::V6(a) => format!("[{a}]"),
            other => other.to_string(),
        };
        let scheme = if self.tls_cert_file.is_some() { "https" } else { "http" };
        format!("{scheme}://{host}:{}/oidc", self.port)
    }
}

impl fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeConfig")
            .field("store", &self.store)
            .field("address", &self.address)
            .field("port", &self.port)
            .field("tls_cert_file", &self.tls_cert_file)
            .field("max_json_body", &self.max_json_body)
            .field("max_upload", &self.max_upload)
            .field("classification", &self.classification)
            .field("experimental_appdata", &self.experimental_appdata)
            .field("oidc_provider", &self.external_provider())
            .field("jwt_aud_value", &self.jwt_aud_value)
            .field("dev_allow_insecure_tokens", &self.dev_allow_insecure_tokens)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_database_password() {
        let config = StoreConfig {
            data_dir: "./data".into(),
            database_url: Some("postgres://sa:hunter2@db/stig".into()),
            db_max_connections: 5,
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://sa:****@db/stig"));
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(mask_password("postgres://sa:hunter2@db/stig"), "postgres://sa:****@db/stig");
        assert_eq!(mask_password("postgres://db/stig"), "postgres://db/stig");
        assert_eq!(mask_password("sqlite:./x.db"), "sqlite:./x.db");
    }
}
