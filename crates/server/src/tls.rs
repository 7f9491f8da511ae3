//! Native HTTPS (`STIGMAN_API_TLS_CERT_FILE` and `STIGMAN_API_TLS_KEY_FILE`) on rustls with the
//! ring provider, and the same graceful shutdown as plain HTTP.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;

use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use tokio::net::TcpListener;

/// Reads the PEM certificate chain and private key; the error names the files.
// Known shortcoming: encrypted private keys (STIGMAN_API_TLS_KEY_PASSPHRASE) are not supported.
pub async fn load(cert: &Path, key: &Path) -> io::Result<RustlsConfig> {
    RustlsConfig::from_pem_file(cert, key).await.map_err(|err| {
        io::Error::new(
            err.kind(),
            format!("loading TLS certificate {} and key {}: {err}", cert.display(), key.display()),
        )
    })
}

/// Serves HTTPS on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    service: IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
    config: RustlsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let handle = Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(None);
    });
    axum_server::from_tcp_rustls(listener.into_std()?, config)?.handle(handle).serve(service).await
}
