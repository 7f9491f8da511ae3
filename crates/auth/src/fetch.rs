//! HTTP to the OIDC provider: the discovery document and the key set it points at.

use std::path::Path;
use std::time::Duration;

use reqwest::{Certificate, Client};
use serde_json::Value;

use crate::keys::{parse_jwks, PublicKey};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A failed request to the provider. Worth retrying: the provider may simply not be up yet.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("request to {url} failed")]
    Request {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} answered with status {status}")]
    Status { url: String, status: u16 },
    #[error("{url} did not answer with a JSON key set")]
    NotKeySet { url: String },
}

/// Why the HTTP client for the provider could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read the CA bundle {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot use the CA bundle {path}")]
    Certificates {
        path: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot build the HTTP client")]
    Build(#[source] reqwest::Error),
}

/// A client with the request timeout and, if given, extra trusted CAs from a PEM bundle.
pub(crate) fn client(ca_certs: Option<&Path>) -> Result<Client, ClientError> {
    let mut builder = Client::builder().timeout(REQUEST_TIMEOUT);
    if let Some(path) = ca_certs {
        for certificate in read_certificates(path)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(ClientError::Build)
}

fn read_certificates(path: &Path) -> Result<Vec<Certificate>, ClientError> {
    let shown = path.display().to_string();
    let pem =
        std::fs::read(path).map_err(|source| ClientError::Read { path: shown.clone(), source })?;
    Certificate::from_pem_bundle(&pem)
        .map_err(|source| ClientError::Certificates { path: shown, source })
}

/// GETs `url` and parses the body as JSON.
pub(crate) async fn get_json(client: &Client, url: &str) -> Result<Value, FetchError> {
    let failed = |source| FetchError::Request { url: url.to_owned(), source };
    let response = client.get(url).send().await.map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status { url: url.to_owned(), status: status.as_u16() });
    }
    response.json().await.map_err(failed)
}

/// Fetches and parses the key set at `jwks_uri`.
pub(crate) async fn fetch_keys(
    client: &Client,
    jwks_uri: &str,
) -> Result<Vec<(String, PublicKey)>, FetchError> {
    let document = get_json(client, jwks_uri).await?;
    parse_jwks(&document).ok_or_else(|| FetchError::NotKeySet { url: jwks_uri.to_owned() })
}
