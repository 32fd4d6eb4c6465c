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

/// The browser figures alone (`bench browser`): the app's sizes, the worksheet, loading.
pub fn browser_only() -> Result {
    let mut figures: BTreeMap<String, f64> = BTreeMap::new();
    tools::ensure_app_tools()?;
    build_app()?;
    app_sizes(&mut figures)?;
    let caliper = caliper_binary()?;
    let data = std::env::temp_dir().join(format!("caliper-bench-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let sqlite_url = format!("sqlite://{}/bench.db", data.display());
    seed(&caliper, &sqlite_url)?;
    browser_figures(&caliper, &sqlite_url, &data, &mut figures)?;
    let _ = std::fs::remove_dir_all(&data);
    write_figures("caliper-bench-browser.json", &figures)
}

/// Every figure; with `api_only`, those of the server alone (no app build, no browser).
pub fn bench(api_only: bool) -> Result {
    let mut figures: BTreeMap<String, f64> = BTreeMap::new();
    if !api_only {
        tools::ensure_app_tools()?;
        build_app()?;
        app_sizes(&mut figures)?;
    }

    let caliper = caliper_binary()?;

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
    if !api_only {
        browser_figures(&caliper, &sqlite_url, &data, &mut figures)?;
    }
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

    write_figures("caliper-bench.json", &figures)?;
    println!(
        "targets: api_list_sqlite_p99_ms <= 10 at 1000 req/s; \
         api_audited_writes_sqlite_*_per_s >= 2000; audit_verify_*_entries_per_s >= 200000; \
         app_initial_load_br_bytes <= 204800; app_area_*_br_bytes <= 122880; app_cold_load_sign_in_p50_ms <= 400; \
         app_navigate_unloaded_area_p50_ms <= 200; document_open_to_text_p50_ms <= 300; \
         dashboard_cold_load_all_tiles_p50_ms <= 800; dashboard_change_to_tile_p99_ms <= 1000; sign_in_*_p50_ms 100..250; risk_heatmap_*_p99_ms <= 20; risk_register_page_*_p99_ms <= 30; \
         fmea_worksheet_load_*_p50_ms <= 1000; fmea_row_save_*_p99_ms <= 50; fmea_csv_import_*_ms <= 2000"
    );
    Ok(())
}

/// Writes `figures` to `<target>/bench/<file>` and prints them as a table.
pub(crate) fn write_figures(file: &str, figures: &BTreeMap<String, f64>) -> Result {
    let out = target_dir().join("bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let path = out.join(file);
    let json = serde_json::to_string_pretty(figures).map_err(|e| e.to_string())?;
    std::fs::write(&path, json + "\n").map_err(|e| e.to_string())?;
    println!("\n{:<48} {:>14}", "figure", "value");
    println!("{}", "-".repeat(63));
    for (name, value) in figures {
        println!("{name:<48} {value:>14.2}");
    }
    println!("\nwritten to {}", path.display());
    Ok(())
}

/// Runs `caliper ARGS` on the database at `url` (a seed command) and records how long it took as
/// `seed_<name>_<backend>_s`.
pub(crate) fn timed_seed(
    caliper: &std::path::Path,
    url: &str,
    args: &[&str],
    figure: &str,
    figures: &mut BTreeMap<String, f64>,
) -> Result {
    let started = Instant::now();
    run(Command::new(caliper).args(args).env("DATABASE_URL", url).env("CALIPER_LOG", "warn"))?;
    figures.insert(figure.to_string(), started.elapsed().as_secs_f64());
    Ok(())
}

/// The server binary to measure: `CALIPER_BENCH_BINARY` (another build, e.g. the previous
/// commit's, under the same loads) or this tree's release build.
pub(crate) fn caliper_binary() -> Result<std::path::PathBuf> {
    if let Some(binary) = std::env::var_os("CALIPER_BENCH_BINARY") {
        return Ok(binary.into());
    }
    step("build the server (release)");
    run(cargo().args(["build", "--release", "-p", "server", "--bin", "caliper"]))?;
    Ok(target_dir().join("release/caliper"))
}

/// The browser figures (end2end/bench): the worksheet's first rows of the 10,000-row FMEA, edit
/// to saved in the grid, the live update on a second page; the cold load to the sign-in form and
/// a navigation to an area whose code is not loaded yet; the dashboard's cold load and a change
/// elsewhere to its tile redrawn; the training matrix of 2,000 people ×
/// 200 requirements, opened and scrolled; and the figures of a user on a site VPN (Chromium's
/// network emulation) beside loopback, with the bytes on the wire.
fn browser_figures(
    caliper: &std::path::Path,
    url: &str,
    data: &std::path::Path,
    figures: &mut BTreeMap<String, f64>,
) -> Result {
    step("FMEA worksheet in Chromium: first rows of 10,000, edit to saved, live update to a second page");
    tools::ensure_browser_tools()?;
    let (server, _) = Server::start(caliper, url, free_port()?, true)?;
    let out = data.join("browser-figures.json");
    let e2e = root().join("end2end");
    let playwright = |files: &[&str]| {
        run(Command::new(e2e.join("node_modules/.bin/playwright"))
            .args(["test", "-c", "bench.config.ts"])
            .args(files)
            .current_dir(&e2e)
            .env("CALIPER_BASE_URL", &server.url)
            .env("BENCH_OUT", &out)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))
    };
    playwright(&["fmea.bench.ts", "loading.bench.ts", "network.bench.ts", "dashboard.bench.ts"])?;
    // The training matrix's figures need 2,000 people × 200 requirements, added after the other
    // figures so that those are taken on the same data as before.
    step("training matrix in Chromium: 2,000 people × 200 requirements, open and scroll");
    let started = Instant::now();
    run(Command::new(caliper)
        .args(["seed-training", "--people", "2000", "--requirements", "200"])
        .env("DATABASE_URL", url)
        .env("CALIPER_LOG", "warn"))?;
    println!("   2,000 people × 200 requirements of training generated in {:.1?}", started.elapsed());
    playwright(&["training.bench.ts"])?;
    drop(server);
    let parts = [
        "json.loading.json",
        "json.training.json",
        "json.network.json",
        "json.network-training.json",
        "json.dashboard.json",
    ];
    for file in std::iter::once(out.clone()).chain(parts.into_iter().map(|p| out.with_extension(p))) {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let parsed: BTreeMap<String, f64> = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        figures.extend(parsed);
    }
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
    let started = Instant::now();
    run(Command::new(caliper)
        .args(["seed-fmea", "--rows", &FMEA_ROWS.to_string()])
        .env("DATABASE_URL", url)
        .env("CALIPER_LOG", "warn"))?;
    println!("   a PFMEA of {FMEA_ROWS} rows generated in {:.1?}", started.elapsed());
    Ok(())
}

/// Rows of the bench's large FMEA worksheet.
const FMEA_ROWS: usize = 10_000;

/// The FMEA worksheet of [`FMEA_ROWS`] rows: loading it, saving one row (edit to saved, one at a
/// time), exporting it as CSV and importing that CSV into a new FMEA.
/// The worksheet figures; returns the path of the large worksheet.
fn fmea_queries(
    addr: &str,
    session: &Session,
    backend: &str,
    pid: u32,
    figures: &mut BTreeMap<String, f64>,
) -> Result<String> {
    let mut conn = Conn::open(addr).map_err(|e| e.to_string())?.with_session(session);
    let mut call = |method: &str, path: &str, body: Option<&str>| -> Result<(f64, serde_json::Value, Vec<u8>)> {
        let started = Instant::now();
        let (status, _, bytes) = conn.request(method, path, body).map_err(|e| e.to_string())?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if !(200..300).contains(&status) {
            return Err(format!(
                "{method} {path} answered {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            ));
        }
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Ok((ms, json, bytes))
    };
    let (_, list, _) = call("GET", "/api/v1/fmeas", None)?;
    let big = list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|f| f["fmea_number"].as_str().is_some_and(|n| n.starts_with("PF-LARGE-"))))
        .cloned()
        .ok_or("the bench's large FMEA is missing")?;
    let id = big["id"].as_i64().ok_or("no FMEA id")?;

    step(&format!("GET /api/v1/fmeas/{{id}}/worksheet on {backend}: {FMEA_ROWS} rows, 20 runs"));
    let mut loads = Vec::new();
    let mut first_row = serde_json::Value::Null;
    for _ in 0..20 {
        let (ms, sheet, _) = call("GET", &format!("/api/v1/fmeas/{id}/worksheet"), None)?;
        loads.push(ms);
        first_row = sheet["rows"][0].clone();
    }
    loads.sort_by(f64::total_cmp);
    figures.insert(format!("fmea_worksheet_load_{backend}_p50_ms"), percentile(&loads, 50.0));
    figures.insert(format!("fmea_worksheet_load_{backend}_max_ms"), percentile(&loads, 100.0));
    let sheet_path = format!("/api/v1/fmeas/{id}/worksheet");
    compressed_worksheet(addr, session, backend, pid, &sheet_path, figures)?;

    step(&format!("PUT /api/v1/fmea-rows/{{id}} on {backend}: one cell edited and saved, 200 times"));
    let row_id = first_row["id"].as_i64().ok_or("no row")?;
    let mut version = first_row["version"].as_i64().ok_or("no version")?;
    let mut saves = Vec::new();
    for i in 0..200 {
        let mut body = first_row.clone();
        body["occurrence"] = serde_json::json!(i % 10 + 1);
        body["version"] = serde_json::json!(version);
        let (ms, saved, _) = call("PUT", &format!("/api/v1/fmea-rows/{row_id}"), Some(&body.to_string()))?;
        version = saved["version"].as_i64().ok_or("no version in the saved row")?;
        saves.push(ms);
    }
    saves.sort_by(f64::total_cmp);
    figures.insert(format!("fmea_row_save_{backend}_p50_ms"), percentile(&saves, 50.0));
    figures.insert(format!("fmea_row_save_{backend}_p99_ms"), percentile(&saves, 99.0));

    step(&format!("CSV export and import on {backend}: {FMEA_ROWS} rows"));
    let (export_ms, _, csv) = call("GET", &format!("/api/v1/fmeas/{id}/export.csv"), None)?;
    figures.insert(format!("fmea_csv_export_{backend}_ms"), export_ms);
    let header = serde_json::json!({"kind": "pfmea", "fmea_number": format!("PF-BENCH-IMPORT-{backend}"), "subject": "Bench import",
        "start_date": big["start_date"], "revision_date": big["revision_date"], "process_id": big["process_id"], "responsible_id": big["responsible_id"]});
    let (_, copy, _) = call("POST", "/api/v1/fmeas", Some(&header.to_string()))?;
    let copy = copy["id"].as_i64().ok_or("no id of the new FMEA")?;
    let text = String::from_utf8(csv).map_err(|e| e.to_string())?;
    let (import_ms, report, _) = call("POST", &format!("/api/v1/fmeas/{copy}/import"), Some(&text))?;
    if report["imported"].as_u64() != Some(FMEA_ROWS as u64) {
        return Err(format!("the import took {} rows, not {FMEA_ROWS}", report["imported"]));
    }
    figures.insert(format!("fmea_csv_import_{backend}_ms"), import_ms);
    Ok(sheet_path)
}

/// The server's CPU time so far (user + system), from `/proc/PID/stat`, in milliseconds.
fn cpu_ms(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // The fields after the command name (which may hold spaces, in parentheses).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or("unreadable /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    let hz = 100.0;
    Ok((ticks(11) + ticks(12)) * 1000.0 / hz)
}

/// The large worksheet in each encoding: bytes on the wire, latency, and the server's CPU time
/// per response (from /proc): the first (built), and the mean of the next nine (identity: built
/// each time; compressed: the kept answer).
fn compressed_worksheet(
    addr: &str,
    session: &Session,
    backend: &str,
    pid: u32,
    path: &str,
    figures: &mut BTreeMap<String, f64>,
) -> Result {
    step(&format!("GET {path} on {backend}: identity, gzip, br, zstd; bytes, time and server CPU, 10 runs each"));
    let mut conn = Conn::open(addr).map_err(|e| e.to_string())?.with_session(session);
    for encoding in ["identity", "gzip", "br", "zstd"] {
        let mut times = Vec::new();
        let mut bytes = 0;
        // The first answer in a coding is built (read, written, compressed); the next ones are
        // the kept answer (the worksheet has not changed).
        let mut cpu = Vec::new();
        for _ in 0..10 {
            let before = cpu_ms(pid)?;
            let started = Instant::now();
            let (status, used, body) = conn.get_encoded(path, encoding).map_err(|e| e.to_string())?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            cpu.push(cpu_ms(pid)? - before);
            if status != 200 || used != encoding {
                return Err(format!("{path} with {encoding}: {status}, encoded {used}"));
            }
            bytes = body.len();
        }
        let kept = cpu[1..].iter().sum::<f64>() / (cpu.len() - 1) as f64;
        figures.insert(format!("fmea_worksheet_{encoding}_{backend}_first_ms"), times[0]);
        times.sort_by(f64::total_cmp);
        figures.insert(format!("fmea_worksheet_{encoding}_{backend}_bytes"), bytes as f64);
        figures.insert(format!("fmea_worksheet_{encoding}_{backend}_p50_ms"), percentile(&times, 50.0));
        figures.insert(format!("fmea_worksheet_{encoding}_{backend}_first_server_cpu_ms"), cpu[0]);
        figures.insert(format!("fmea_worksheet_{encoding}_{backend}_server_cpu_ms"), kept);
    }
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

    // The deep page (rows 2,001–2,050 of the treated risks by title), asked for by offset and by
    // keyset cursor (the cursor of row 2,000 comes from a one-row page).
    step(&format!("GET /api/v1/risks deep page on {backend}: offset 2000 and its keyset cursor, 100 runs each"));
    let deep = "/api/v1/risks?status=treated&sort=title";
    let mut by_offset = timed(&format!("{deep}&offset=2000"), 100)?;
    by_offset.sort_by(f64::total_cmp);
    figures.insert(format!("risk_register_deep_offset_{backend}_p99_ms"), percentile(&by_offset, 99.0));
    let (status, _, body) = Conn::open(addr)
        .and_then(|c| c.with_session(session).request("GET", &format!("{deep}&offset=1999&limit=1"), None))
        .map_err(|e| e.to_string())?;
    let page: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    match page["next_after"].as_str() {
        Some(cursor) if status == 200 => {
            let cursor: String = cursor
                .bytes()
                .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
                .collect();
            let mut by_cursor = timed(&format!("{deep}&after={cursor}"), 100)?;
            by_cursor.sort_by(f64::total_cmp);
            figures.insert(format!("risk_register_deep_keyset_{backend}_p50_ms"), percentile(&by_cursor, 50.0));
            figures.insert(format!("risk_register_deep_keyset_{backend}_p99_ms"), percentile(&by_cursor, 99.0));
        }
        _ => println!("   (this server pages by offset only: no keyset figure)"),
    }
    Ok(())
}

fn app_sizes(figures: &mut BTreeMap<String, f64>) -> Result {
    let dist = root().join("app/dist");
    let report = crate::app_build::report(&dist)?;
    let pkg = dist.join("pkg").join(&report.build);
    let mut wasm_raw = 0;
    for entry in std::fs::read_dir(&pkg).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            wasm_raw += std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
        }
    }
    figures.insert("app_wasm_raw_bytes".into(), wasm_raw as f64);
    figures.insert("app_initial_load_br_bytes".into(), report.initial_br() as f64);
    // Every file once (a shared chunk serves several areas).
    let files: BTreeMap<&str, u64> = report.areas.values().flatten().map(|f| (f.name.as_str(), f.br)).collect();
    let all: u64 = report.initial_br() + files.values().sum::<u64>();
    figures.insert("app_all_files_br_bytes".into(), all as f64);
    for area in report.areas.keys() {
        figures.insert(format!("app_area_{area}_br_bytes"), report.area_br(area) as f64);
    }
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
    let sheet = fmea_queries(&addr, &session, backend, server.pid(), figures)?;

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

    step(&format!(
        "GET {LIST_PATH} on {backend}: 1000 req/s for 10 s while a client fetches the worksheet zstd-compressed back to back"
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let compressing = {
        let (addr, session, stop, sheet) = (addr.clone(), session.clone(), stop.clone(), sheet.clone());
        std::thread::spawn(move || -> usize {
            let mut n = 0;
            let Ok(conn) = Conn::open(&addr) else { return 0 };
            let mut conn = conn.with_session(&session);
            while !stop.load(Ordering::Relaxed) {
                if conn.get_encoded(&sheet, "zstd").is_err() {
                    break;
                }
                n += 1;
            }
            n
        })
    };
    let (lat, errors, _) = open_loop(&addr, &session, 1000.0, 32, Duration::from_secs(10))?;
    stop.store(true, Ordering::Relaxed);
    let sheets = compressing.join().unwrap_or(0);
    figures.insert(format!("api_list_{backend}_p99_ms_while_compressing"), percentile(&lat, 99.0));
    figures.insert(format!("api_list_{backend}_errors_while_compressing"), errors as f64);
    figures.insert(format!("fmea_worksheet_zstd_{backend}_sent_during_list_load"), sheets as f64);

    step(&format!("GET {LIST_PATH} on {backend}: most requests/s (closed loop, 16 connections, 5 s)"));
    let rps = closed_loop(&addr, &session, 16, Duration::from_secs(5), |conn, _| conn.get(LIST_PATH))?;
    figures.insert(format!("api_list_{backend}_max_rps"), rps);

    audited_writes(&addr, &session, backend, figures)?;

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

/// Audited writes: each POST creates a process and appends its audit entry in one transaction
/// (the chain's append serialised), by 1 and by 8 clients.
fn audited_writes(addr: &str, session: &Session, backend: &str, figures: &mut BTreeMap<String, f64>) -> Result {
    for clients in [1, 8] {
        step(&format!("POST /api/v1/processes on {backend}: audited writes/s, {clients} client(s), 5 s"));
        let tag = format!("{backend}{clients}");
        let wps = closed_loop(addr, session, clients, Duration::from_secs(5), move |conn, n| {
            let body = format!(
                r#"{{"name":"Bench {tag}-{}-{n}","owner_id":1,"department_id":1}}"#,
                std::thread::current().name().unwrap_or("t")
            );
            conn.post_json("/api/v1/processes", &body).map(|(s, len)| (if s == 201 { 200 } else { s }, len))
        })?;
        figures.insert(format!("api_audited_writes_{backend}_{clients}_clients_per_s"), wps);
    }
    Ok(())
}

/// `cargo xtask bench writes`: the audited-writes figures alone, on a demo database of each
/// backend (a quick loop while working on the write path).
pub fn writes_only() -> Result {
    let mut figures = BTreeMap::new();
    let caliper = caliper_binary()?;
    let data = std::env::temp_dir().join(format!("caliper-bench-writes-{}", std::process::id()));
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let sqlite_url = format!("sqlite://{}/writes.db", data.display());
    let pg = pg::Postgres::start()?;
    for (backend, url) in [("sqlite", sqlite_url.as_str()), ("postgres", pg.url.as_str())] {
        run(Command::new(&caliper).arg("seed-demo").env("DATABASE_URL", url).env("CALIPER_LOG", "warn"))?;
        let port = free_port()?;
        let (server, _) = Server::start(&caliper, url, port, true)?;
        let addr = format!("127.0.0.1:{port}");
        let session = sign_in(&addr, DEMO_QUALITY_MANAGER.0, DEMO_QUALITY_MANAGER.1).map_err(|e| e.to_string())?;
        audited_writes(&addr, &session, backend, &mut figures)?;
        drop(server);
    }
    let _ = std::fs::remove_dir_all(&data);
    print_figures(&figures);
    Ok(())
}

/// `cargo xtask bench verify`: `caliper verify-audit` over a million entries on each backend
/// alone (a quick loop while working on the chain check).
pub fn verify_only() -> Result {
    let mut figures = BTreeMap::new();
    let caliper = caliper_binary()?;
    let data = std::env::temp_dir().join(format!("caliper-bench-verify-{}", std::process::id()));
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    verify_million(&caliper, "sqlite", &format!("sqlite://{}", data.join("audit-1m.db").display()), &mut figures)?;
    let pg = pg::Postgres::start()?;
    verify_million(&caliper, "postgres", &pg.url, &mut figures)?;
    let _ = std::fs::remove_dir_all(&data);
    print_figures(&figures);
    Ok(())
}

/// The figures of a quick bench, a line each.
fn print_figures(figures: &BTreeMap<String, f64>) {
    for (name, value) in figures {
        println!("{name:<48} {value:>12.2}");
    }
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

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
