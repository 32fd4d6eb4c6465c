//! `caliper`: parse the command line, set up logging, and call into the library.

use std::process::ExitCode;

use clap::Parser;
use server::config::{Cli, Command};
use server::storage::{self, PoolSettings};
use server::{AppState, app, seed};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt().with_env_filter(EnvFilter::new(&cli.log)).with_target(false).init();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "caliper stopped");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let settings = PoolSettings { max_connections: cli.db_max_connections, ..PoolSettings::default() };
    let store = storage::connect(&cli.database_url, &settings).await?;
    store.migrate().await?;
    tracing::info!(database = %cli.database_url, backend = store.backend(), "database ready");
    match cli.command {
        Command::Migrate => Ok(ExitCode::SUCCESS),
        Command::SeedDemo => {
            let report = seed::seed_demo(store.as_ref()).await?;
            tracing::info!(created = report.created, existing = report.existing, "demo data seeded");
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifyAudit => {
            let report = store.verify_audit().await?;
            if report.intact {
                println!(
                    "audit trail intact: {} entries, head {}",
                    report.entries,
                    report.head_hash.as_deref().unwrap_or("(empty)")
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "audit trail BROKEN at entry {}: {}",
                    report.first_broken_seq.unwrap_or_default(),
                    report.problem.as_deref().unwrap_or("unknown problem")
                );
                Ok(ExitCode::from(2))
            }
        }
        Command::Serve(args) => {
            if !args.static_dir.join("index.html").is_file() {
                tracing::warn!(static_dir = %args.static_dir.display(), "no built app there; serving the API only");
            }
            let state = AppState { store, static_dir: Some(args.static_dir) };
            let listener = tokio::net::TcpListener::bind(args.bind).await?;
            tracing::info!(url = %format!("http://{}", listener.local_addr()?), "caliper listening");
            let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, service).with_graceful_shutdown(shutdown()).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
