//! `caliper`: parse the command line, set up logging, and call into the library.

use std::process::ExitCode;

use axum::serve::{Listener as _, ListenerExt as _};
use clap::Parser;
use server::config::{Cli, Command, LogFormat};
use server::storage::{self, PoolSettings};
use server::{AppState, app, seed};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    tune_malloc();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(start()),
        Err(e) => {
            eprintln!("error: the async runtime could not start: {e}");
            ExitCode::FAILURE
        }
    }
}

/// glibc's malloc, tuned unless the environment already tunes it: two arenas instead of eight
/// per core, and blocks of 256 KiB or more (a big answer's buffers) from their own mappings,
/// given back to the system when freed. By default glibc raises that threshold as big blocks are
/// freed, so the buffers of large answers stay in the heap afterwards: measured over 100,000
/// records (`cargo xtask bench ops memory`), RSS about 90 MB instead of 175 MB.
///
/// glibc reads these settings from the environment when the process starts, before `main`, so
/// the server starts itself again (the same process: `exec`) with them set. Setting either
/// variable, even to glibc's default, keeps the environment's choice.
const MALLOC_TUNING: [(&str, &str); 2] = [("MALLOC_ARENA_MAX", "2"), ("MALLOC_MMAP_THRESHOLD_", "262144")];

fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if MALLOC_TUNING.iter().any(|(name, _)| std::env::var_os(name).is_some()) {
            return;
        }
        let Ok(exe) = std::env::current_exe() else { return };
        let error = std::process::Command::new(exe).args(std::env::args_os().skip(1)).envs(MALLOC_TUNING).exec();
        // Only returns when the exec failed: run untuned.
        eprintln!("warning: could not restart with a tuned allocator ({error}); running with glibc's defaults");
    }
}

async fn start() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt().with_env_filter(EnvFilter::new(&cli.log)).with_target(false);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
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
    // A backup reads the database as it is, and a restore replaces it: neither migrates.
    match &cli.command {
        Command::Backup(args) => {
            let m = server::backup::backup(&cli.database_url, &args.to, args.pg_bin.as_deref()).await?;
            println!(
                "backup written to {} ({} bytes, SHA-256 {}): schema {}, {} audit entries, head {}",
                args.to.display(),
                m.bytes,
                m.sha256,
                m.schema_version,
                m.audit_entries,
                m.audit_head_hash.as_deref().unwrap_or("(empty)")
            );
            return Ok(ExitCode::SUCCESS);
        }
        Command::Restore(args) => {
            let m = server::backup::restore(&cli.database_url, &args.from, args.force, args.pg_bin.as_deref()).await?;
            println!(
                "restored {} (taken {}): {} audit entries verified, head {}",
                args.from.display(),
                m.taken_at.to_rfc3339(),
                m.audit_entries,
                m.audit_head_hash.as_deref().unwrap_or("(empty)")
            );
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let settings = PoolSettings { max_connections: cli.db_max_connections, ..PoolSettings::default() };
    let store = storage::connect(&cli.database_url, &settings).await?;
    store.migrate().await?;
    tracing::info!(database = %cli.database_url, backend = store.backend(), "database ready");
    match cli.command {
        Command::Migrate => Ok(ExitCode::SUCCESS),
        Command::SeedDemo => {
            let report = seed::seed_demo(store.as_ref(), &server::auth::AuthConfig::default()).await?;
            store.analyze().await?;
            tracing::info!(created = report.created, existing = report.existing, "demo data seeded");
            Ok(ExitCode::SUCCESS)
        }
        Command::SeedRisks(args) => {
            let ctx = storage::AuditContext::tool("caliper seed-risks");
            let added = server::demo_risks::generate_risks(store.as_ref(), &ctx, args.count).await?;
            store.analyze().await?;
            if added == 0 && args.count > 0 {
                return Err("no effective risk matrix or no owned process: run `caliper seed-demo` first".into());
            }
            println!("added {added} generated risks");
            Ok(ExitCode::SUCCESS)
        }
        Command::SeedFmea(args) => {
            let ctx = storage::AuditContext::tool("caliper seed-fmea");
            let made = server::demo_fmea::generate_fmea(store.as_ref(), &ctx, args.rows).await?;
            store.analyze().await?;
            match made {
                Some(id) => {
                    println!("{id}");
                    Ok(ExitCode::SUCCESS)
                }
                None => Err("no process with an owner: run `caliper seed-demo` first".into()),
            }
        }
        Command::SeedTraining(args) => {
            let ctx = storage::AuditContext::tool("caliper seed-training");
            let auth = server::auth::AuthConfig::default();
            let (people, requirements, cells) =
                server::demo_training::generate_training(store.as_ref(), &ctx, &auth, args.people, args.requirements)
                    .await?;
            store.analyze().await?;
            println!("added {people} people and {requirements} requirements ({cells} required cells)");
            Ok(ExitCode::SUCCESS)
        }
        Command::SeedQuality(args) => {
            let ctx = storage::AuditContext::tool("caliper seed-quality");
            let (ncs, capas) =
                server::demo_quality::generate_history(store.as_ref(), &ctx, args.ncs, args.capas).await?;
            println!("added {ncs} closed nonconformances and {capas} closed CAPAs");
            Ok(ExitCode::SUCCESS)
        }
        Command::SeedDocuments(args) => {
            let ctx = storage::AuditContext::tool("caliper seed-documents");
            let added = server::demo_documents::generate_documents(store.as_ref(), &ctx, args.count).await?;
            if added == 0 && args.count > 0 {
                return Err("fewer than two active users: run `caliper seed-demo` first".into());
            }
            println!("added {added} generated documents in force");
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifyAudit(args) => {
            let report = store.verify_audit().await?;
            if !report.intact {
                println!(
                    "audit trail BROKEN at entry {}: {}",
                    report.first_broken_seq.unwrap_or_default(),
                    report.problem.as_deref().unwrap_or("unknown problem")
                );
                return Ok(ExitCode::from(2));
            }
            let mut checkpoints = args.expect_head;
            if let Some(file) = &args.checkpoints {
                checkpoints.extend(server::checkpoint::read_file(file)?);
            }
            if let Some(why) = server::checkpoint::first_missing(store.as_ref(), &checkpoints).await? {
                println!("audit trail BROKEN: {why}");
                return Ok(ExitCode::from(2));
            }
            println!(
                "audit trail intact: {} entries, head {}{}",
                report.entries,
                report.head_hash.as_deref().unwrap_or("(empty)"),
                if checkpoints.is_empty() {
                    String::new()
                } else {
                    format!("; {} checkpoints found in it", checkpoints.len())
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifySignatures => {
            use shared::signature::SignatureStatus;
            let checks = store.verify_signatures(None).await?;
            let count = |status| checks.iter().filter(|c| c.status == status).count();
            for c in
                checks.iter().filter(|c| matches!(c.status, SignatureStatus::Broken | SignatureStatus::Unverifiable))
            {
                let s = &c.signature;
                println!(
                    "signature {} ({} {} version {}, {} by {}): {:?}: {}",
                    s.id,
                    s.record_type,
                    s.record_id,
                    s.record_version,
                    s.meaning.as_str(),
                    s.signer_name,
                    c.status,
                    c.problems.join("; ")
                );
            }
            let broken = count(SignatureStatus::Broken);
            println!(
                "{} signatures: {} valid, {} superseded, {} unverifiable (hash scheme 1), {} broken",
                checks.len(),
                count(SignatureStatus::Valid),
                count(SignatureStatus::Superseded),
                count(SignatureStatus::Unverifiable),
                broken
            );
            Ok(if broken == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) })
        }
        Command::Checkpoint(args) => {
            let file = args.file.or_else(|| server::checkpoint::default_file(&cli.database_url));
            match server::checkpoint::take(store.as_ref(), file.as_deref()).await? {
                Some(c) => println!("{c}"),
                None => println!("the audit trail is empty: no checkpoint"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup(_) | Command::Restore(_) => unreachable!("handled before the database is opened"),
        Command::CreateUser(args) => {
            let password = read_password()?;
            let input = shared::auth::UserInput {
                username: args.username,
                full_name: args.full_name,
                email: args.email,
                department_id: None,
                roles: args.roles,
                password: Some(password),
                version: None,
            }
            .normalized();
            if let Err(e) = input.validate(true) {
                return Err(field_errors(&e).into());
            }
            if store.credentials(&input.username).await?.is_some() {
                return Err(format!("username `{}` is taken (usernames are never reused)", input.username).into());
            }
            let hash = server::auth::hash_now(&args.hashing.config(), input.password.as_deref().unwrap_or_default())?;
            let ctx = storage::AuditContext::tool("caliper create-user");
            let user = store.create_user(&ctx, &input, &hash, args.must_change_password).await?;
            println!("created user {} ({}), id {}", user.username, user.full_name, user.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::ResetPassword(args) => {
            let username = args.username.trim().to_lowercase();
            let Some(found) = store.credentials(&username).await? else {
                return Err(format!("no user `{username}`").into());
            };
            let password = read_password()?;
            if let Err(code) = shared::auth::check_password(&username, &password) {
                return Err(format!("password: {}", shared::validation::describe(code)).into());
            }
            let hash = server::auth::hash_now(&args.hashing.config(), &password)?;
            let ctx = storage::AuditContext::tool("caliper reset-password");
            store
                .set_password(
                    &ctx,
                    found.user.id,
                    &hash,
                    args.must_change_password,
                    shared::audit::AuditAction::ResetPassword,
                )
                .await?;
            println!("password of {username} set; the account is unlocked");
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            if !args.static_dir.join("index.html").is_file() {
                tracing::warn!(static_dir = %args.static_dir.display(), "no built app there; serving the API only");
            }
            let mut state = AppState::new(store.clone(), Some(args.static_dir.clone()), args.auth.config());
            state.metrics_access = std::sync::Arc::new(args.metrics_access());
            state.trusted_proxies = server::middleware::TrustedProxies(args.trusted_proxy.clone().into());
            if state.metrics_access.enabled() {
                server::telemetry::install();
            }
            let checkpoints =
                args.checkpoint_file.clone().or_else(|| server::checkpoint::default_file(&cli.database_url));
            tokio::spawn(effective_dates(store, state.kpis.clone(), checkpoints));
            // TCP_NODELAY: a small answer leaves at once instead of waiting for the client's
            // delayed ACK (up to 40 ms per request on Linux), which the app's many small
            // chunk and API requests would otherwise pay.
            let listener = tokio::net::TcpListener::bind(args.bind).await?.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "could not set TCP_NODELAY");
                }
            });
            tracing::info!(url = %format!("http://{}", listener.local_addr()?), "caliper listening");
            let events = state.events.clone();
            let (sign_ins, store) = (state.sign_ins.clone(), state.store.clone());
            let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
            // On SIGTERM or Ctrl-C: stop accepting, end every event stream at once (with a
            // `retry:` hint, so the app reconnects to whichever instance answers), let requests
            // in flight finish; whatever still runs after STOP_DEADLINE is cut off.
            let stopping = async move {
                shutdown().await;
                events.stop();
                tokio::spawn(async {
                    tokio::time::sleep(STOP_DEADLINE).await;
                    tracing::warn!(deadline = ?STOP_DEADLINE, "requests still running at the stop deadline; exiting");
                    std::process::exit(0);
                });
            };
            axum::serve(listener, service).with_graceful_shutdown(stopping).await?;
            // The failed sign-ins still being counted go to the audit trail.
            sign_ins.flush_all(store.as_ref()).await;
            tracing::info!("stopped");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The server's clock, at start (what passed while the server was down is caught up) and then
/// every minute (UTC dates): puts approved document revisions in force on their effective date,
/// assigns training refreshers before a lapse, and keeps this month's values of the KPIs
/// computed from live records; and every hour, an audit checkpoint.
async fn effective_dates(
    store: std::sync::Arc<dyn storage::Store>,
    kpis: std::sync::Arc<server::routes::dashboard::KpiCache>,
    checkpoints: Option<std::path::PathBuf>,
) {
    let ctx = storage::AuditContext::tool("caliper effective dates");
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    for minute in 0u64.. {
        tick.tick().await;
        // An audit checkpoint at start and every hour (see `server::checkpoint`).
        if minute % 60 == 0
            && let Err(e) = server::checkpoint::take(store.as_ref(), checkpoints.as_deref()).await
        {
            tracing::warn!(error = %e, "audit checkpoint not written");
        }
        match store.take_effect_due(&ctx, chrono::Utc::now().date_naive()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(revisions = n, "document revisions put in force on their effective date"),
            Err(e) => tracing::warn!(error = %e, "effective dates not checked this minute"),
        }
        match store.assign_refreshers(&ctx, chrono::Utc::now().date_naive()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(assignments = n, "training refreshers assigned before their lapse"),
            Err(e) => tracing::warn!(error = %e, "training refreshers not checked this minute"),
        }
        if let Err(e) =
            server::routes::dashboard::keep_month_end(store.as_ref(), chrono::Utc::now().date_naive(), &kpis).await
        {
            tracing::warn!(error = %e, "this month's KPI values not kept this minute");
        }
    }
}

/// How long a stop waits for requests in flight (a service manager should allow more before it
/// kills: systemd's default `TimeoutStopSec=90s` does).
const STOP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(8);

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

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String, Box<dyn std::error::Error>> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err("give the password on standard input, e.g. `read -rs PW; echo \"$PW\" | caliper ...`".into());
    }
    Ok(password)
}

/// Field errors as one line per field.
fn field_errors(e: &shared::FieldErrors) -> String {
    e.0.iter()
        .map(|(field, codes)| {
            let text: Vec<_> = codes.iter().map(|c| shared::validation::describe(c)).collect();
            format!("{field}: {}", text.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
