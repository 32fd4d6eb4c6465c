//! `cargo xtask bench`: the figures, printed as a table and written as a flat JSON object
//! (figure → number, unit in the name) to `<target>/bench/caliper-bench.json`.
//!
//! Latency is measured open-loop: requests are sent on a fixed schedule and each latency runs
//! from the *scheduled* send time, so a slow server cannot hide its queueing (no coordinated
//! omission). Load goes only to 127.0.0.1 and every loop is bounded in time.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::http::{Conn, Session, sign_in};
use crate::{Result, Server, build_app, cargo, free_port, pg, root, run, step, target_dir, tools};

const LIST_PATH: &str = "/api/v1/processes";

/// A demo user who may create processes (server/src/seed.rs: DEMO_USERS, DEMO_PASSWORD).
pub const DEMO_QUALITY_MANAGER: (&str, &str) = ("priya.natarajan", "Caliper-Demo-2026");

pub fn bench() -> Result {
    let mut figures: BTreeMap<String, f64> = BTreeMap::new();
    tools::ensure_app_tools()?;
    build_app()?;
    app_sizes(&mut figures)?;

    step("build the server (release)");
    run(cargo().args(["build", "--release", "-p", "server", "--bin", "caliper"]))?;
    let caliper = target_dir().join("release/caliper");

    let data = std::env::temp_dir().join(format!("caliper-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let sqlite_url = format!("sqlite://{}/bench.db", data.display());
    seed(&caliper, &sqlite_url)?;

    step("server start to first /healthz 200 (SQLite, 7 runs, median)");
    let mut starts = Vec::new();
    for _ in 0..7 {
        let (server, took) = Server::start(&caliper, &sqlite_url, free_port()?, true)?;
        starts.push(took.as_secs_f64() * 1000.0);
        drop(server);
    }
    starts.sort_by(f64::total_cmp);
    figures.insert("server_start_to_healthz_ms".into(), starts[starts.len() / 2]);

    load("sqlite", &caliper, &sqlite_url, &mut figures)?;
    let million_db = data.join("audit-1m.db");
    verify_million(&caliper, "sqlite", &format!("sqlite://{}", million_db.display()), &mut figures)?;
    {
        let pg = pg::Postgres::start()?;
        seed(&caliper, &pg.url)?;
        load("postgres", &caliper, &pg.url, &mut figures)?;
        run(Command::new("psql").args([pg.url.as_str(), "-q", "-c", "create database caliper_audit_1m"]))?;
        let (base, _) = pg.url.rsplit_once('/').ok_or("a postgres URL ends in /DBNAME")?;
        verify_million(&caliper, "postgres", &format!("{base}/caliper_audit_1m"), &mut figures)?;
    }
    let _ = std::fs::remove_dir_all(&data);

    let out = target_dir().join("bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let path = out.join("caliper-bench.json");
    let json = serde_json::to_string_pretty(&figures).map_err(|e| e.to_string())?;
    std::fs::write(&path, json + "\n").map_err(|e| e.to_string())?;

    println!("\n{:<40} {:>14}", "figure", "value");
    println!("{}", "-".repeat(55));
    for (name, value) in &figures {
        println!("{name:<40} {value:>14.2}");
    }
    println!("\nwritten to {}", path.display());
    println!(
        "targets: app_wasm_js_css_br_bytes <= 256000; api_list_sqlite_p99_ms <= 10 at 1000 req/s; \
         api_audited_writes_sqlite_*_per_s >= 2000; audit_verify_*_entries_per_s >= 200000; \
         sign_in_*_p50_ms 100..250; risk_heatmap_*_p99_ms <= 20; risk_register_page_*_p99_ms <= 30"
    );
    Ok(())
}

/// `caliper verify-audit` on a fresh database holding a valid chain of a million entries.
fn verify_million(caliper: &std::path::Path, backend: &str, url: &str, figures: &mut BTreeMap<String, f64>) -> Result {
    const N: u64 = 1_000_000;
    let client = if url.starts_with("sqlite") { "sqlite3" } else { "psql" };
    if Command::new(client).arg("--version").output().is_err() {
        tools::apt_install(&[if client == "psql" { "postgresql-client" } else { "sqlite3" }])?;
    }
    step(&format!("caliper verify-audit on {backend}: {N} entries (written straight into the table first)"));
    run(Command::new(caliper).arg("migrate").env("DATABASE_URL", url).env("CALIPER_LOG", "warn"))?;
    let filled = Instant::now();
    match url.strip_prefix("sqlite://") {
        Some(path) => crate::audit_fill::sqlite(path, N)?,
        None => crate::audit_fill::postgres(url, N)?,
    }
    println!("   {N} entries written in {:.1?}", filled.elapsed());
    let started = Instant::now();
    let out = Command::new(caliper)
        .arg("verify-audit")
        .env("DATABASE_URL", url)
        .env("CALIPER_LOG", "warn")
        .output()
        .map_err(|e| e.to_string())?;
    let took = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !stdout.contains(&format!("intact: {N} entries")) {
        return Err(format!("verify-audit on {backend} did not find the chain intact: {stdout}"));
    }
    figures.insert(format!("audit_verify_cli_{backend}_1m_seconds"), took);
    figures.insert(format!("audit_verify_cli_{backend}_1m_entries_per_s"), N as f64 / took);
    Ok(())
}

/// The demo data, and a risk register of [`RISKS`] generated risks on top.
fn seed(caliper: &std::path::Path, url: &str) -> Result {
    run(Command::new(caliper)
        .arg("seed-demo")
        .env("DATABASE_URL", url)
        .env("CALIPER_LOG", "warn")
        .current_dir(root()))?;
    let started = Instant::now();
    run(Command::new(caliper)
        .args(["seed-risks", "--count", &RISKS.to_string()])
        .env("DATABASE_URL", url)
        .env("CALIPER_LOG", "warn"))?;
    println!("   {RISKS} risks generated in {:.1?}", started.elapsed());
    Ok(())
}

/// Generated risks in the bench's register (besides the ~60 demo ones).
const RISKS: usize = 10_000;

/// The risk register with [`RISKS`] risks: the heatmap's aggregation and filtered register pages,
/// sequential requests (one at a time, so the figure is the server's time plus a local round
/// trip).
fn risk_queries(addr: &str, session: &Session, backend: &str, figures: &mut BTreeMap<String, f64>) -> Result {
    let mut conn = Conn::open(addr).map_err(|e| e.to_string())?.with_session(session);
    let mut timed = |path: &str, runs: usize| -> Result<Vec<f64>> {
        let mut lat = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let (status, _) = conn.get(path).map_err(|e| e.to_string())?;
            if status != 200 {
                return Err(format!("GET {path} answered {status}"));
            }
            lat.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(lat)
    };
    step(&format!("GET /api/v1/risks/heatmap on {backend}: {RISKS} risks, 100 runs"));
    timed("/api/v1/risks/heatmap", 10)?;
    let mut heat = timed("/api/v1/risks/heatmap", 100)?;
    heat.sort_by(f64::total_cmp);
    figures.insert(format!("risk_heatmap_{backend}_p50_ms"), percentile(&heat, 50.0));
    figures.insert(format!("risk_heatmap_{backend}_p99_ms"), percentile(&heat, 99.0));

    step(&format!("GET /api/v1/risks (filtered pages) on {backend}: {RISKS} risks, 8 filters × 40 runs"));
    let filters = [
        "",
        "?zone=unacceptable",
        "?q=calibration",
        "?owner_id=3&sort=review_date",
        "?overdue=true&sort=residual_score",
        "?likelihood=4&severity=5&basis=inherent",
        "?status=treated&offset=2000&sort=title",
        "?process_id=2&zone=reduce_as_far_as_possible&q=generated",
    ];
    let mut pages = Vec::new();
    for f in filters {
        pages.extend(timed(&format!("/api/v1/risks{f}"), 40)?);
    }
    pages.sort_by(f64::total_cmp);
    figures.insert(format!("risk_register_page_{backend}_p50_ms"), percentile(&pages, 50.0));
    figures.insert(format!("risk_register_page_{backend}_p99_ms"), percentile(&pages, 99.0));
    Ok(())
}

fn app_sizes(figures: &mut BTreeMap<String, f64>) -> Result {
    let dist = root().join("app/dist");
    let (gz, br) = tools::precompress(&dist)?;
    let mut wasm_raw = 0;
    for entry in std::fs::read_dir(&dist).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            wasm_raw += std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
        }
    }
    figures.insert("app_wasm_raw_bytes".into(), wasm_raw as f64);
    figures.insert("app_wasm_js_css_gzip_bytes".into(), gz as f64);
    figures.insert("app_wasm_js_css_br_bytes".into(), br as f64);
    Ok(())
}

fn load(backend: &str, caliper: &std::path::Path, url: &str, figures: &mut BTreeMap<String, f64>) -> Result {
    let port = free_port()?;
    let (server, _) = Server::start(caliper, url, port, true)?;
    let addr = format!("127.0.0.1:{port}");
    let (user, password) = DEMO_QUALITY_MANAGER;

    step(&format!(
        "POST /api/v1/session on {backend}: sign-in latency with the production argon2id parameters (20 runs)"
    ));
    let mut sign_ins = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        sign_in(&addr, user, password).map_err(|e| e.to_string())?;
        sign_ins.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    sign_ins.sort_by(f64::total_cmp);
    figures.insert(format!("sign_in_{backend}_p50_ms"), percentile(&sign_ins, 50.0));
    figures.insert(format!("sign_in_{backend}_max_ms"), percentile(&sign_ins, 100.0));
    let session = sign_in(&addr, user, password).map_err(|e| e.to_string())?;
    risk_queries(&addr, &session, backend, figures)?;

    step(&format!("GET {LIST_PATH} on {backend}: 200 req/s for 5 s while 2 clients sign in back to back"));
    let stop = Arc::new(AtomicBool::new(false));
    let hashing: Vec<_> = (0..2)
        .map(|_| {
            let (addr, stop) = (addr.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = sign_in(&addr, user, password);
                }
            })
        })
        .collect();
    let (lat, _, _) = open_loop(&addr, &session, 200.0, 8, Duration::from_secs(5))?;
    stop.store(true, Ordering::Relaxed);
    for h in hashing {
        let _ = h.join();
    }
    figures.insert(format!("api_list_{backend}_p99_ms_during_sign_ins"), percentile(&lat, 99.0));

    step(&format!("GET {LIST_PATH} on {backend}: warm-up, then 1000 req/s for 10 s (32 connections)"));
    open_loop(&addr, &session, 500.0, 32, Duration::from_secs(2))?;
    let (lat, errors, achieved) = open_loop(&addr, &session, 1000.0, 32, Duration::from_secs(10))?;
    figures.insert(format!("api_list_{backend}_p50_ms"), percentile(&lat, 50.0));
    figures.insert(format!("api_list_{backend}_p99_ms"), percentile(&lat, 99.0));
    figures.insert(format!("api_list_{backend}_max_ms"), percentile(&lat, 100.0));
    figures.insert(format!("api_list_{backend}_at_1000rps_achieved_rps"), achieved);
    figures.insert(format!("api_list_{backend}_errors"), errors as f64);

    step(&format!("GET {LIST_PATH} on {backend}: most requests/s (closed loop, 16 connections, 5 s)"));
    let rps = closed_loop(&addr, &session, 16, Duration::from_secs(5), |conn, _| conn.get(LIST_PATH))?;
    figures.insert(format!("api_list_{backend}_max_rps"), rps);

    // Audited writes: each POST creates a process and appends its audit entry in one
    // transaction (chain append serialised).
    for clients in [1, 8] {
        step(&format!("POST /api/v1/processes on {backend}: audited writes/s, {clients} client(s), 5 s"));
        let tag = format!("{backend}{clients}");
        let wps = closed_loop(&addr, &session, clients, Duration::from_secs(5), move |conn, n| {
            let body = format!(
                r#"{{"name":"Bench {tag}-{}-{n}","owner_id":1,"department_id":1}}"#,
                std::thread::current().name().unwrap_or("t")
            );
            conn.post_json("/api/v1/processes", &body).map(|(s, len)| (if s == 201 { 200 } else { s }, len))
        })?;
        figures.insert(format!("api_audited_writes_{backend}_{clients}_clients_per_s"), wps);
    }

    step(&format!("GET /api/v1/audit/verify on {backend}: recompute the whole chain"));
    let started = Instant::now();
    let (status, _, body) = Conn::open(&addr)
        .and_then(|c| c.with_session(&session).request("GET", "/api/v1/audit/verify", None))
        .map_err(|e| e.to_string())?;
    let took = started.elapsed().as_secs_f64();
    if status != 200 {
        return Err(format!("audit verify answered {status}"));
    }
    let entries = audit_entries(&body)?;
    figures.insert(format!("audit_verify_{backend}_entries"), entries as f64);
    figures.insert(format!("audit_verify_{backend}_entries_per_s"), entries as f64 / took);
    drop(server);
    Ok(())
}

/// How many entries the chain holds (from the verify report).
fn audit_entries(body: &[u8]) -> Result<u64> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if v["intact"] != true {
        return Err(format!("the audit chain is not intact after the bench: {v}"));
    }
    v["entries"].as_u64().ok_or_else(|| "no entry count".into())
}

/// Sends `rate` requests/s spread over `conns` connections for `duration`; returns latencies
/// (ms, from the scheduled time), the error count, and the achieved rate.
fn open_loop(
    addr: &str,
    session: &Session,
    rate: f64,
    conns: usize,
    duration: Duration,
) -> Result<(Vec<f64>, usize, f64)> {
    let start = Instant::now() + Duration::from_millis(50);
    let end = start + duration;
    let handles: Vec<_> = (0..conns)
        .map(|i| {
            let (addr, session) = (addr.to_string(), session.clone());
            std::thread::spawn(move || -> std::io::Result<(Vec<f64>, usize)> {
                let mut conn = Conn::open(&addr)?.with_session(&session);
                let (mut lat, mut errors) = (Vec::new(), 0);
                for k in 0u64.. {
                    let at = start + Duration::from_secs_f64((k as f64 * conns as f64 + i as f64) / rate);
                    if at >= end {
                        break;
                    }
                    if let Some(wait) = at.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    match conn.get(LIST_PATH) {
                        Ok((200, _)) => lat.push(at.elapsed().as_secs_f64() * 1000.0),
                        _ => {
                            errors += 1;
                            conn = Conn::open(&addr)?.with_session(&session);
                        }
                    }
                }
                Ok((lat, errors))
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for h in handles {
        let (lat, e) = h.join().map_err(|_| "load thread panicked")?.map_err(|e| e.to_string())?;
        all.extend(lat);
        errors += e;
    }
    let achieved = all.len() as f64 / duration.as_secs_f64();
    all.sort_by(f64::total_cmp);
    Ok((all, errors, achieved))
}

/// As many requests as `conns` connections can complete in `duration`, each made by
/// `request(connection, n)`; returns successful (200) requests/s.
fn closed_loop<F>(addr: &str, session: &Session, conns: usize, duration: Duration, request: F) -> Result<f64>
where
    F: Fn(&mut Conn, u64) -> std::io::Result<(u16, usize)> + Clone + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..conns)
        .map(|i| {
            let (addr, stop, request, session) = (addr.to_string(), stop.clone(), request.clone(), session.clone());
            std::thread::Builder::new()
                .name(format!("c{i}"))
                .spawn(move || -> std::io::Result<u64> {
                    let mut conn = Conn::open(&addr)?.with_session(&session);
                    let (mut n, mut ok) = (0, 0);
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        if let Ok((200, _)) = request(&mut conn, n) {
                            ok += 1;
                        }
                    }
                    Ok(ok)
                })
                .expect("spawn a load thread")
        })
        .collect();
    let started = Instant::now();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for h in handles {
        total += h.join().map_err(|_| "load thread panicked")?.map_err(|e| e.to_string())?;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
