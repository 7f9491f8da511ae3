//! The `stigward` binary.

use clap::Parser;
use stigward::cli::{self, Cli, Command};
use stigward::config::ServeConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(config)) => serve(*config).await,
        Some(Command::Import(args)) => {
            init_logging(2);
            cli::import(args).await
        }
        Some(Command::Token(args)) => cli::token(args),
        Some(Command::Generate(args)) => {
            init_logging(2);
            stigward::generate::generate(args).await
        }
        Some(Command::RepairMetrics(args)) => {
            init_logging(2);
            if cli::repair_metrics(args).await? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    init_logging(config.log_level);
    let address = std::net::SocketAddr::new(config.address, config.port);
    let external = config.external_provider().is_some();
    let tls = config.tls_cert_file.is_some();
    let state = stigward::startup::build_state(config).await?;
    let store = state.store.clone();
    let listener = tokio::net::TcpListener::bind(address).await?;
    let local = listener.local_addr()?;
    tracing::info!(%local, "listening");
    let scheme = if tls { "https" } else { "http" };
    println!("Stigward is listening on {scheme}://{local}/api");
    if !external {
        println!(
            "Get a token with: stigward token --user admin --privileges admin,create_collection"
        );
    }
    stigward::app::serve(listener, state, shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

fn init_logging(level: u8) {
    let filter = match level {
        0 | 1 => "error",
        2 => "warn",
        3 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let stdout_log = tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr);
    tracing_subscriber::registry()
        .with(filter)
        .with(stdout_log)
        .with(stigward::log_socket::LogStreamLayer)
        .init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
