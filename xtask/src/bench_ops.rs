//! `cargo xtask bench ops`: the operations figures (issue 19), on the release server.
//! - SIGTERM to exit with 1,000 open event streams, and how many got the `retry:` hint;
//! - `caliper backup` of a SQLite database of about 1 GB while a client keeps writing (and the
//!   restore of that backup onto a fresh file);
//! - the server's memory (RSS) over 100,000 records across the areas;
//! - the crash test (`server/tests/ops.rs`) with 20 kills per database;
//! - two instances on one PostgreSQL behind HAProxy (Debian's package) under mixed load (70 %
//!   list reads, 25 % audited writes, 5 % sign-ins), one of them stopped mid-run: latency,
//!   errors (and whether the client's one retry succeeded), every acknowledged write present,
//!   the chain intact, open streams moved to the other instance.
//!
//! Writes `<target>/bench/caliper-bench-ops.json`.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::bench::{DEMO_QUALITY_MANAGER, caliper_binary, timed_seed, write_figures};
use crate::http::{Conn, sign_in};
use crate::{Result, Server, audit_fill, cargo, free_port, pg, run, step};

/// Audit entries that make the backup's SQLite database about 1 GB.
const FILL_FOR_1GB: u64 = 1_600_000;
/// Kills per database in the full crash run.
const CRASH_KILLS: &str = "20";

/// The parts, in the order they run; `only` (e.g. `["memory", "balancer"]`) runs those alone.
pub fn bench(only: &[String]) -> Result {
    let part = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let caliper = caliper_binary()?;
    let mut figures: BTreeMap<String, f64> = BTreeMap::new();
    let data = std::env::temp_dir().join(format!("caliper-bench-ops-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    if part("stop") {
        stop_with_streams(&caliper, &format!("sqlite://{}/stop.db", data.display()), &mut figures)?;
    }
    if part("backup") {
        backup_while_writing(&caliper, &data, &mut figures)?;
    }
    if part("memory") {
        memory(&caliper, &format!("sqlite://{}/memory.db", data.display()), &mut figures)?;
    }
    if part("crash") {
        crash_runs(&mut figures)?;
    }
    if part("balancer") {
        balancer(&caliper, &data, &mut figures)?;
    }
    let _ = std::fs::remove_dir_all(&data);
    write_figures("caliper-bench-ops.json", &figures)?;
    println!(
        "targets: stop_with_1000_streams_s <= 10 (aim 2); backup_1gb_sqlite_s <= 30 with writes succeeding; \
         crash_*_lost_writes = 0 and crash_*_chain_breaks = 0 over >= 20 kills; server_rss_100k_records_mb <= 150; \
         balancer_mixed_p99_ms <= 100 at 1000 req/s, balancer_errors_after_retry = 0, balancer_lost_writes = 0"
    );
    Ok(())
}

/// Opens `GET /api/v1/events` on a new connection and reads the answer's head.
fn open_stream(addr: &str, headers: &str) -> Result<TcpStream> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    s.write_all(format!("GET /api/v1/events HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).map_err(|e| e.to_string())? == 0 {
            return Err("the event stream closed before its head".into());
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(format!("the event stream answered {}", String::from_utf8_lossy(&head)));
    }
    Ok(s)
}

fn stop_with_streams(caliper: &std::path::Path, url: &str, figures: &mut BTreeMap<String, f64>) -> Result {
    run(Command::new(caliper).arg("seed-demo").env("DATABASE_URL", url).env("CALIPER_LOG", "warn"))?;
    let port = free_port()?;
    let (mut server, _) = Server::start(caliper, url, port, true)?;
    let addr = format!("127.0.0.1:{port}");
    let session = sign_in(&addr, DEMO_QUALITY_MANAGER.0, DEMO_QUALITY_MANAGER.1).map_err(|e| e.to_string())?;
    step("SIGTERM with 1,000 open event streams: time to exit");
    let streams = (0..1000).map(|_| open_stream(&addr, session.headers())).collect::<Result<Vec<_>>>()?;
    let (took, clean) = server.terminate()?;
    let mut hinted = 0;
    for mut s in streams {
        s.set_read_timeout(Some(Duration::from_secs(1))).map_err(|e| e.to_string())?;
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        if String::from_utf8_lossy(&rest).contains("retry: ") {
            hinted += 1;
        }
    }
    figures.insert("stop_with_1000_streams_s".into(), took.as_secs_f64());
    figures.insert("stop_with_1000_streams_clean_exit".into(), f64::from(u8::from(clean)));
    figures.insert("stop_streams_given_retry_hint".into(), f64::from(hinted));
    Ok(())
}

fn file_mb(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6)
}

fn backup_while_writing(
    caliper: &std::path::Path,
    data: &std::path::Path,
    figures: &mut BTreeMap<String, f64>,
) -> Result {
    let db = data.join("big.db");
    let url = format!("sqlite://{}", db.display());
    step(&format!("a SQLite database of about 1 GB: {FILL_FOR_1GB} audit entries, then an administrator"));
    run(Command::new(caliper).arg("migrate").env("DATABASE_URL", &url).env("CALIPER_LOG", "warn"))?;
    audit_fill::sqlite(&db.to_string_lossy(), FILL_FOR_1GB)?;
    let mut create = Command::new(caliper)
        .args(["create-user", "--username", "ops.admin", "--full-name", "Ops Admin", "--email", "ops@example.com"])
        .args(["--role", "admin"])
        .env("DATABASE_URL", &url)
        .env("CALIPER_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    create.stdin.take().ok_or("no stdin")?.write_all(b"Bench-Operations-2026\n").map_err(|e| e.to_string())?;
    if !create.wait().map_err(|e| e.to_string())?.success() {
        return Err("create-user failed".into());
    }
    figures.insert("backup_source_sqlite_mb".into(), file_mb(&db));

    let port = free_port()?;
    let (server, _) = Server::start(caliper, &url, port, true)?;
    let addr = format!("127.0.0.1:{port}");
    let session = sign_in(&addr, "ops.admin", "Bench-Operations-2026").map_err(|e| e.to_string())?;
    step("caliper backup of that database while a client keeps writing");
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let writer = {
        let (addr, session, stop, ok, failed) =
            (addr.clone(), session.clone(), stop.clone(), ok.clone(), failed.clone());
        std::thread::spawn(move || {
            let Ok(conn) = Conn::open(&addr) else { return };
            let mut conn = conn.with_session(&session);
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let body = format!(r#"{{"name":"During backup {n}"}}"#);
                match conn.post_json("/api/v1/departments", &body) {
                    Ok((201, _)) => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let before = ok.load(Ordering::Relaxed);
    let file = data.join("big.backup");
    let started = Instant::now();
    run(Command::new(caliper)
        .args(["backup", "--to"])
        .arg(&file)
        .env("DATABASE_URL", &url)
        .env("CALIPER_LOG", "warn")
        .stdout(Stdio::null()))?;
    let took = started.elapsed().as_secs_f64();
    let during = ok.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    drop(server);
    figures.insert("backup_1gb_sqlite_s".into(), took);
    figures.insert("backup_1gb_writes_acknowledged_during".into(), during as f64);
    figures.insert("backup_1gb_writes_failed".into(), failed.load(Ordering::Relaxed) as f64);
    figures.insert("backup_1gb_file_mb".into(), file_mb(&file));

    step("caliper restore of that backup onto a fresh file (verified against its manifest)");
    let restored = format!("sqlite://{}", data.join("restored.db").display());
    let started = Instant::now();
    run(Command::new(caliper)
        .args(["restore", "--from"])
        .arg(&file)
        .env("DATABASE_URL", &restored)
        .env("CALIPER_LOG", "warn")
        .stdout(Stdio::null()))?;
    figures.insert("restore_1gb_sqlite_s".into(), started.elapsed().as_secs_f64());
    Ok(())
}

/// The demo administrator (server/src/seed.rs).
const DEMO_ADMIN: (&str, &str) = ("alex.morgan", "Caliper-Demo-2026");

/// Resident and peak memory of `pid`, in MB (from /proc).
fn rss_mb(pid: u32) -> Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok((kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0))
}

fn memory(caliper: &std::path::Path, url: &str, figures: &mut BTreeMap<String, f64>) -> Result {
    step("server memory over 100,000 records: demo, 20,000 risks, an FMEA of 20,000 rows, 50,000 NCs, 10,000 CAPAs");
    run(Command::new(caliper).arg("seed-demo").env("DATABASE_URL", url).env("CALIPER_LOG", "warn"))?;
    timed_seed(caliper, url, &["seed-risks", "--count", "20000"], "seed_ops_risks_s", figures)?;
    let out = Command::new(caliper)
        .args(["seed-fmea", "--rows", "20000"])
        .env("DATABASE_URL", url)
        .env("CALIPER_LOG", "warn")
        .output()
        .map_err(|e| e.to_string())?;
    let fmea = String::from_utf8_lossy(&out.stdout).trim().to_string();
    timed_seed(caliper, url, &["seed-quality", "--ncs", "50000", "--capas", "10000"], "seed_ops_quality_s", figures)?;
    let pages = [
        format!("/api/v1/fmeas/{fmea}/worksheet"),
        "/api/v1/risks?limit=50".into(),
        "/api/v1/risks/heatmap".into(),
        "/api/v1/ncs?limit=50".into(),
        "/api/v1/capas?limit=50".into(),
        "/api/v1/dashboard".into(),
        "/api/v1/training/matrix".into(),
        "/api/v1/documents".into(),
        "/api/v1/audit?limit=200".into(),
    ];
    // As shipped (the server tunes glibc's malloc itself: two arenas, a fixed mmap threshold so
    // that a big answer's buffers go back to the system when freed), and with glibc's defaults
    // (eight arenas per core, which also keeps the server from tuning itself).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let defaults = (8 * cores).to_string();
    let glibc_defaults = [("MALLOC_ARENA_MAX", defaults.as_str())];
    for (name, env) in [("", &[][..]), ("_glibc_defaults", &glibc_defaults[..])] {
        let port = free_port()?;
        let (server, _) = Server::start_env(caliper, url, port, true, env)?;
        let addr = format!("127.0.0.1:{port}");
        let (idle, _) = rss_mb(server.pid())?;
        let session = sign_in(&addr, DEMO_QUALITY_MANAGER.0, DEMO_QUALITY_MANAGER.1).map_err(|e| e.to_string())?;
        let streams = (0..100).map(|_| open_stream(&addr, session.headers())).collect::<Result<Vec<_>>>()?;
        let mut conn = Conn::open(&addr).map_err(|e| e.to_string())?.with_session(&session);
        for _ in 0..3 {
            for page in &pages {
                match conn.get(page) {
                    Ok((200, _)) => {}
                    Ok((status, _)) => return Err(format!("{page} answered {status}")),
                    Err(e) => return Err(format!("{page}: {e}")),
                }
            }
        }
        let (rss, peak) = rss_mb(server.pid())?;
        drop(streams);
        drop(server);
        figures.insert(format!("server_rss_idle_100k_records{name}_mb"), idle);
        figures.insert(format!("server_rss_100k_records{name}_mb"), rss);
        figures.insert(format!("server_rss_peak_100k_records{name}_mb"), peak);
    }
    Ok(())
}

/// The crash test of `server/tests/ops.rs` with [`CRASH_KILLS`] kills per database.
fn crash_runs(figures: &mut BTreeMap<String, f64>) -> Result {
    step(&format!("crash test: {CRASH_KILLS} SIGKILLs under 8 writing clients, per database"));
    let pg = pg::Postgres::start()?;
    let out = cargo()
        .args(["test", "-p", "server", "--test", "ops", "acknowledged_writes_survive_kills", "--", "--nocapture"])
        .env("CALIPER_CRASH_KILLS", CRASH_KILLS)
        .env("CALIPER_TEST_DATABASE_URL", &pg.url)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    if !out.status.success() {
        return Err("the crash test failed: an acknowledged write was lost or the chain broke".into());
    }
    // "crash test on sqlite: 20 kills, 1234 acknowledged writes, all present; …"
    for line in text.lines().filter_map(|l| l.strip_prefix("crash test on ")) {
        let (backend, rest) = line.split_once(": ").ok_or("an unexpected crash test line")?;
        let numbers: Vec<f64> = rest.split([' ', ',', ';']).filter_map(|w| w.parse().ok()).collect();
        if let [kills, acknowledged, unanswered, ..] = numbers[..] {
            figures.insert(format!("crash_{backend}_kills"), kills);
            figures.insert(format!("crash_{backend}_acknowledged_writes"), acknowledged);
            figures.insert(format!("crash_{backend}_committed_unanswered"), unanswered);
            // The test fails on any loss or break; it passed.
            figures.insert(format!("crash_{backend}_lost_writes"), 0.0);
            figures.insert(format!("crash_{backend}_chain_breaks"), 0.0);
        }
    }
    Ok(())
}

/// The mixed load's request rates (the target's, and one this 2-core machine can carry with
/// its sign-ins: each hashes a password with the production argon2id parameters), its length,
/// and when one instance is stopped.
/// `true`: with the sign-ins; `false`: those 5 % are reads too (what the instances carry when
/// the password hashing is not competing for the cores).
const MIXED_RATES: [(f64, bool); 3] = [(1000.0, false), (1000.0, true), (200.0, true)];
const MIXED_SECONDS: u64 = 20;
const STOP_AFTER: Duration = Duration::from_secs(8);

fn balancer(caliper: &std::path::Path, data: &std::path::Path, figures: &mut BTreeMap<String, f64>) -> Result {
    let haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].into_iter().find(|p| std::path::Path::new(p).is_file());
    let haproxy = match haproxy {
        Some(p) => p,
        None => {
            crate::tools::apt_install(&["haproxy"])?;
            "/usr/sbin/haproxy"
        }
    };
    let pg = pg::Postgres::start()?;
    run(Command::new(caliper).arg("seed-demo").env("DATABASE_URL", &pg.url).env("CALIPER_LOG", "warn"))?;
    let (port_a, port_b, port_lb) = (free_port()?, free_port()?, free_port()?);
    let (mut a, _) = Server::start(caliper, &pg.url, port_a, true)?;
    let (b, _) = Server::start(caliper, &pg.url, port_b, true)?;
    let config = data.join("haproxy.cfg");
    std::fs::write(
        &config,
        format!(
            "global\n  maxconn 4096\n\
             defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  \
             timeout tunnel 1h\n  timeout check 2s\n  option redispatch\n  retries 3\n  retry-on conn-failure empty-response 503\n\
             frontend caliper\n  bind 127.0.0.1:{port_lb}\n  default_backend instances\n\
             backend instances\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n  \
             default-server inter 500ms fall 3 rise 2\n  \
             server a 127.0.0.1:{port_a} check\n  server b 127.0.0.1:{port_b} check\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut lb = Command::new(haproxy)
        .arg("-db")
        .arg("-f")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("haproxy: {e}"))?;
    let addr = format!("127.0.0.1:{port_lb}");
    let ready = Instant::now();
    while crate::http::get(&addr, "/readyz").map(|(s, _)| s).unwrap_or(0) != 200 {
        if ready.elapsed() > Duration::from_secs(20) {
            let _ = lb.kill();
            return Err("haproxy did not pass /readyz within 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut measured = Ok(());
    for (rate, sign_ins) in MIXED_RATES {
        if a.exited() {
            let (again, _) = Server::start(caliper, &pg.url, port_a, true)?;
            a = again;
            std::thread::sleep(Duration::from_secs(1));
        }
        measured = mixed_load(&addr, &mut a, rate, sign_ins, figures);
        if measured.is_err() {
            break;
        }
    }
    let _ = lb.kill();
    let _ = lb.wait();
    drop(b);
    measured?;
    step("after the run: every acknowledged write present, and the chain intact");
    let verify = Command::new(caliper)
        .arg("verify-audit")
        .env("DATABASE_URL", &pg.url)
        .env("CALIPER_LOG", "warn")
        .output()
        .map_err(|e| e.to_string())?;
    figures.insert("balancer_chain_intact".into(), f64::from(u8::from(verify.status.success())));
    Ok(())
}

/// What one load thread saw.
#[derive(Default)]
struct Mixed {
    latencies: Vec<f64>,
    /// The same, by kind: reads, writes, sign-ins.
    by_kind: [Vec<f64>; 3],
    first_try_errors: u64,
    errors_after_retry: u64,
    /// First-try failures by kind: the status, or `io` for a connection error.
    kinds: BTreeMap<String, u64>,
    acknowledged: Vec<String>,
}

fn mixed_load(addr: &str, a: &mut Server, rate: f64, sign_ins: bool, figures: &mut BTreeMap<String, f64>) -> Result {
    let tag = format!("balancer_{rate:.0}rps{}", if sign_ins { "" } else { "_no_sign_ins" });
    // The administrator: writes create departments, so that the list the reads fetch (the
    // processes) keeps its size while the writes go on.
    let (user, password) = DEMO_ADMIN;
    let session = sign_in(addr, user, password).map_err(|e| e.to_string())?;
    let streams = (0..20).map(|_| open_stream(addr, session.headers())).collect::<Result<Vec<_>>>()?;
    step(&format!(
        "two instances behind HAProxy: {rate} req/s for {MIXED_SECONDS} s (70 % reads, 25 % audited writes, \
         5 % {}); instance A stopped (SIGTERM) after {STOP_AFTER:?}",
        if sign_ins { "sign-ins" } else { "more reads" }
    ));
    // Request `n` is due at `n / rate`. The sign-ins have threads of their own (as people
    // signing in are not the people already at work): a sign-in that waits for a hashing
    // thread does not hold back the reads and writes due after it.
    let total = (rate * MIXED_SECONDS as f64) as u64;
    let is_sign_in = move |n: u64| sign_ins && n.is_multiple_of(20);
    let (workers, signers) = (48, 16);
    let mut schedules: Vec<Vec<u64>> = vec![Vec::new(); workers + signers];
    let (mut w, mut s) = (0, 0);
    for n in 0..total {
        if is_sign_in(n) {
            schedules[workers + s % signers].push(n);
            s += 1;
        } else {
            schedules[w % workers].push(n);
            w += 1;
        }
    }
    let start = Instant::now() + Duration::from_millis(50);
    let handles: Vec<_> = schedules
        .into_iter()
        .map(|schedule| {
            let (addr, session) = (addr.to_string(), session.clone());
            std::thread::spawn(move || -> Mixed {
                let mut seen = Mixed::default();
                let open = || Conn::open(&addr).map(|c| c.with_session(&session));
                let mut conn = open().ok();
                for n in schedule {
                    let at = start + Duration::from_secs_f64(n as f64 / rate);
                    if let Some(wait) = at.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let name = format!("Balanced {rate} {n}");
                    let attempt = |conn: &mut Option<Conn>, kinds: &mut BTreeMap<String, u64>| -> bool {
                        if conn.is_none() {
                            *conn = open().ok();
                        }
                        let Some(c) = conn.as_mut() else { return false };
                        let answer = match n % 20 {
                            _ if is_sign_in(n) => {
                                let body = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
                                Conn::open(&addr)
                                    .and_then(|mut s| s.request("POST", "/api/v1/session", Some(&body)))
                                    .map(|(s, ..)| s)
                            }
                            1..=5 => {
                                let body = format!(r#"{{"name":"{name}"}}"#);
                                c.post_json("/api/v1/departments", &body).map(|(s, _)| s)
                            }
                            _ => c.get("/api/v1/processes").map(|(s, _)| s),
                        };
                        match answer {
                            Ok(200 | 201) => true,
                            // A retried write whose first try was committed: its name is taken.
                            Ok(422) if (1..=5).contains(&(n % 20)) => true,
                            Ok(status) => {
                                *kinds.entry(status.to_string()).or_default() += 1;
                                false
                            }
                            Err(_) => {
                                *kinds.entry("io".into()).or_default() += 1;
                                *conn = None;
                                false
                            }
                        }
                    };
                    let mut ok = attempt(&mut conn, &mut seen.kinds);
                    if !ok {
                        seen.first_try_errors += 1;
                        std::thread::sleep(Duration::from_millis(100));
                        ok = attempt(&mut conn, &mut BTreeMap::new());
                        if !ok {
                            seen.errors_after_retry += 1;
                        }
                    }
                    if ok {
                        let ms = at.elapsed().as_secs_f64() * 1000.0;
                        seen.latencies.push(ms);
                        seen.by_kind[match n % 20 {
                            _ if is_sign_in(n) => 2,
                            1..=5 => 1,
                            _ => 0,
                        }]
                        .push(ms);
                        if (1..=5).contains(&(n % 20)) {
                            seen.acknowledged.push(name);
                        }
                    }
                }
                seen
            })
        })
        .collect();
    std::thread::sleep((start + STOP_AFTER).saturating_duration_since(Instant::now()));
    let (stop_took, _) = a.terminate()?;
    // The streams A held got their retry hint and ended; each reconnects through the balancer.
    let (mut ended_by_stop, mut moved) = (0, 0);
    for mut s in streams {
        // A stream A held got the `retry:` hint (the balancer may keep the client's connection
        // open after the answer ends); events keep arriving on the others: read until the
        // hint, the end, or a deadline.
        s.set_read_timeout(Some(Duration::from_millis(100))).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_millis(500);
        let mut buf = [0u8; 16384];
        let mut seen = Vec::new();
        let ended = loop {
            match s.read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => {
                    seen.extend_from_slice(&buf[..n]);
                    if String::from_utf8_lossy(&seen).contains("retry: ") {
                        break true;
                    }
                }
                Err(_) if Instant::now() < deadline => {}
                Err(_) => break false,
            }
            if Instant::now() >= deadline {
                break false;
            }
        };
        if ended {
            ended_by_stop += 1;
            if open_stream(addr, session.headers()).is_ok() {
                moved += 1;
            }
        }
    }
    let mut all = Mixed::default();
    for h in handles {
        let seen = h.join().map_err(|_| "a load thread panicked")?;
        all.latencies.extend(seen.latencies);
        for (all, seen) in all.by_kind.iter_mut().zip(seen.by_kind) {
            all.extend(seen);
        }
        all.first_try_errors += seen.first_try_errors;
        all.errors_after_retry += seen.errors_after_retry;
        all.acknowledged.extend(seen.acknowledged);
        for (kind, n) in seen.kinds {
            *all.kinds.entry(kind).or_default() += n;
        }
    }
    all.latencies.sort_by(f64::total_cmp);
    let mut conn = Conn::open(addr).map_err(|e| e.to_string())?.with_session(&session);
    let (status, _, body) = conn.request("GET", "/api/v1/departments", None).map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("the department list answered {status}"));
    }
    let listed: std::collections::HashSet<String> = serde_json::from_slice::<serde_json::Value>(&body)
        .map_err(|e| e.to_string())?["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["name"].as_str().map(str::to_string)).collect())
        .ok_or("the department list has no items")?;
    let lost = all.acknowledged.iter().filter(|n| !listed.contains(*n)).count();
    figures.insert(format!("{tag}_mixed_requests"), all.latencies.len() as f64);
    figures.insert(format!("{tag}_mixed_p50_ms"), crate::bench::percentile(&all.latencies, 50.0));
    figures.insert(format!("{tag}_mixed_p99_ms"), crate::bench::percentile(&all.latencies, 99.0));
    for (kind, mut lat) in ["reads", "writes", "sign_ins"].into_iter().zip(all.by_kind) {
        lat.sort_by(f64::total_cmp);
        figures.insert(format!("{tag}_{kind}_p99_ms"), crate::bench::percentile(&lat, 99.0));
    }
    figures.insert(format!("{tag}_mixed_achieved_rps"), all.latencies.len() as f64 / MIXED_SECONDS as f64);
    figures.insert(format!("{tag}_errors_first_try"), all.first_try_errors as f64);
    figures.insert(format!("{tag}_errors_after_retry"), all.errors_after_retry as f64);
    figures.insert(format!("{tag}_acknowledged_writes"), all.acknowledged.len() as f64);
    figures.insert(format!("{tag}_lost_writes"), lost as f64);
    for (kind, n) in &all.kinds {
        figures.insert(format!("{tag}_first_try_errors_{kind}"), *n as f64);
    }
    figures.insert(format!("{tag}_stop_s"), stop_took.as_secs_f64());
    figures.insert(format!("{tag}_streams_ended_by_the_stop_of_20"), f64::from(ended_by_stop));
    figures.insert(format!("{tag}_streams_reconnected"), f64::from(moved));
    Ok(())
}
