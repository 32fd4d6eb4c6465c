//! `cargo xtask`: Caliper's project commands. Plain std plus two compressors, so that it builds
//! in seconds on a fresh machine.
//!
//! - `demo`:  install what is missing, build the app and the server in release mode, seed the
//!   demo data and serve Caliper at http://127.0.0.1:8080.
//! - `test`:  every check: fmt, clippy (native and wasm32), unit and API tests on SQLite and on
//!   a throwaway PostgreSQL, the wasm release build, and the Playwright suite in Chromium.
//! - `bench`: the figures (app size, start time, API latency and throughput) into
//!   `target/bench/caliper-bench.json`.

mod app_build;
mod audit_fill;
mod bench;
mod bench_documents;
mod bench_ops;
mod bench_quality;
mod bench_training;
mod fuzz;
mod http;
mod pg;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const HELP: &str = "\
cargo xtask <command>

Commands:
  demo     Install missing tools, build in release mode, seed demo data, serve at
           http://127.0.0.1:8080 (DATABASE_URL and CALIPER_BIND are honoured).
  test     Run every test: fmt, clippy, unit + API tests on SQLite and PostgreSQL,
           the API fuzzer (schemathesis over the OpenAPI document), wasm release
           build, Playwright end-to-end suite in Debian's Chromium.
           CALIPER_TEST_DATABASE_URL=postgres://... uses that server instead of
           starting a throwaway one.
  bench    Measure app size, server start time and API latency/throughput on SQLite
           and PostgreSQL; writes <target>/bench/caliper-bench.json.
           `bench api` measures the server only (no app build, no browser);
           `bench browser` the app's sizes, loading and the worksheet in Chromium
           (caliper-bench-browser.json);
           `bench writes` only the audited writes/s; `bench verify` only `caliper
           verify-audit` over 1,000,000 entries on each database; `bench ops` the stop with 1,000
           open streams, a backup of 1 GB while writing, memory over 100,000 records
           and 20 crash kills per database, two instances behind HAProxy (caliper-bench-ops.json;
           `bench ops memory balancer` runs only those parts); `bench training` the training
           matrix, the auditor's question, the dashboard and an approval assigning
           2,000 people (caliper-bench-training.json); `bench quality` the NC
           register, Pareto, CAPA metrics and root-cause model over 100,000 NCs and
           10,000 CAPAs (caliper-bench-quality.json); `bench documents` the document
           register's filtered pages and full-text search over 10,000 documents of
           about 2,000 words each (caliper-bench-documents.json).
  fuzz     Only the API fuzzer of `test` (schemathesis, installed into the cache on first
           use), against the debug server on a fresh demo database.
  build-app  Build the app (release, split into a chunk per area) into app/dist with
           .gz/.br siblings, and print each file's brotli size.
  dev      Development: build the app (dev profile) and the server, seed the demo data,
           serve at http://127.0.0.1:8080 and rebuild the app whenever app/, shared/ or
           style/ change (reload the browser to see it). Stop with Ctrl-C.
  budget   Check the built app against the size budget (run by `test`).

Environment:
  CARGO_TARGET_DIR  shared target directory (CI uses ~/.cache/caliper/target)
  CALIPER_CACHE     where tools are installed (default ~/.cache/caliper)
";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("test") => test(),
        Some("bench") => match args.get(1).map(String::as_str) {
            Some("writes") => bench::writes_only(),
            Some("verify") => bench::verify_only(),
            Some("training") => bench_training::bench(),
            Some("ops") => bench_ops::bench(&args[2..]),
            Some("quality") => bench_quality::bench(),
            Some("documents") => bench_documents::bench(),
            Some("browser") => bench::browser_only(),
            other => bench::bench(other == Some("api")),
        },
        Some("build-app") => tools::ensure_app_tools().and_then(|()| build_app()),
        Some("fuzz") => run(cargo().args(["build", "-p", "server", "--bin", "caliper"]))
            .and_then(|()| fuzz::fuzz(&target_dir().join("debug/caliper"))),
        Some("dev") => dev(),
        Some("budget") => app_build::report(&root().join("app/dist")).and_then(|r| app_build::check_budget(&r)),
        Some("-h" | "--help" | "help") | None => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask failed after {:.0?}: {e}", started.elapsed());
            ExitCode::FAILURE
        }
    }
}

/// The workspace root, found at run time: `cargo run` tells xtask its manifest directory, and
/// otherwise the nearest folder above the current one whose Cargo.toml has `[workspace]`.
/// (Not `env!`: with a target directory shared between checkouts, a compiled-in path could
/// name another checkout.)
pub fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from)
        && let Some(parent) = dir.parent()
        && parent.join("xtask").is_dir()
    {
        return parent.to_path_buf();
    }
    let cwd = std::env::current_dir().expect("a current directory");
    cwd.ancestors()
        .find(|d| std::fs::read_to_string(d.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]")))
        .unwrap_or(&cwd)
        .to_path_buf()
}

/// Cargo's target directory, as cargo will use it.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// Prints a step header.
pub fn step(name: &str) {
    println!("\n==> {name}");
}

/// Runs a command to completion, failing on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}");
    let status = cmd.status().map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{shown} failed ({status})")) }
}

/// `cargo` with the workspace as its directory.
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Builds the app (release) into app/dist.
fn build_app() -> Result {
    app_build::build(app_build::Profile::Release).map(drop)
}

/// A running `caliper serve`, stopped on drop.
pub struct Server {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True once the process has exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().is_ok_and(|s| s.is_some())
    }

    /// Sends SIGTERM and waits (up to 60 s) for the process to exit: how long it took, and
    /// whether it exited successfully.
    pub fn terminate(&mut self) -> Result<(Duration, bool)> {
        let started = Instant::now();
        run(Command::new("kill").args(["-TERM", &self.child.id().to_string()]))?;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok((started.elapsed(), status.success()));
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err("still running 60 s after SIGTERM".into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Starts `binary serve` on `port` against `database_url` and waits for `/healthz`.
    pub fn start(binary: &Path, database_url: &str, port: u16, quiet: bool) -> Result<(Server, Duration)> {
        Self::start_env(binary, database_url, port, quiet, &[])
    }

    /// [`Server::start`] with more environment variables.
    pub fn start_env(
        binary: &Path,
        database_url: &str,
        port: u16,
        quiet: bool,
        env: &[(&str, &str)],
    ) -> Result<(Server, Duration)> {
        let started = Instant::now();
        let mut cmd = Command::new(binary);
        // The journeys and the benches sign in from one address hundreds of times a minute:
        // the sign-in rate limits (tested by the API tests) would refuse them. A burst of failed
        // sign-ins is written after 2 s instead of a minute, for the journey that reads it.
        cmd.env("CALIPER_SIGN_INS_PER_ADDRESS", "100000")
            .env("CALIPER_SIGN_INS_PER_USERNAME", "100000")
            .env("CALIPER_SIGN_IN_BURST_SECONDS", "2");
        cmd.envs(env.iter().copied());
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .arg("--static-dir")
            .arg(root().join("app/dist"))
            .env("DATABASE_URL", database_url)
            .env("CALIPER_LOG", if quiet { "warn" } else { "info" });
        if quiet {
            cmd.stdout(Stdio::null());
        }
        let child = cmd.spawn().map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let mut server = Server { child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = http::get(&format!("127.0.0.1:{port}"), "/healthz") {
                return Ok((server, started.elapsed()));
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("the server exited during start ({status})"));
            }
            if Instant::now() > deadline {
                return Err("the server did not answer /healthz within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// One demo user per role (server/src/seed.rs, DEMO_USERS).
const DEMO_SIGN_INS: &[(&str, &str)] = &[
    ("admin", "alex.morgan"),
    ("quality manager", "priya.natarajan"),
    ("process owner", "tom.okafor"),
    ("auditor", "sam.reid"),
    ("staff", "lee.chen"),
    ("executive", "eva.lindqvist"),
];

fn demo() -> Result {
    let started = Instant::now();
    tools::ensure_app_tools()?;
    build_app()?;
    step("build the server (release)");
    run(cargo().args(["build", "--release", "-p", "server", "--bin", "caliper"]))?;
    let caliper = target_dir().join("release/caliper");
    let database_url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/caliper.db".into());
    step("migrate and seed the demo data (idempotent)");
    run(Command::new(&caliper).arg("seed-demo").env("DATABASE_URL", &database_url).current_dir(root()))?;
    let bind = std::env::var("CALIPER_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    println!(
        "\nCaliper is starting at http://{bind}  (database: {})\n\
         Ready in {:.0?} (a second run reuses every build and starts in seconds).\n\
         Demo sign-ins (one per role; every demo password is {password}):\n{users}\n\
         Demo data only: create real users with `caliper create-user` and never expose demo accounts.\n\
         Try: http://{bind}/admin/processes  ·  API: http://{bind}/api/v1/openapi.json\n\
         Stop with Ctrl-C.\n",
        if database_url.starts_with("postgres") { "PostgreSQL" } else { &database_url },
        started.elapsed(),
        password = bench::DEMO_QUALITY_MANAGER.1,
        users = DEMO_SIGN_INS.iter().map(|(role, user)| format!("  {role:<17} {user}")).collect::<Vec<_>>().join("\n"),
    );
    run(Command::new(&caliper)
        .args(["serve", "--bind", &bind])
        .arg("--static-dir")
        .arg(root().join("app/dist"))
        .env("DATABASE_URL", &database_url)
        .current_dir(root()))
}

/// `cargo xtask dev`: the server and a dev build of the app, rebuilt on every change.
fn dev() -> Result {
    tools::ensure_app_tools()?;
    app_build::build(app_build::Profile::Dev)?;
    step("build the server (debug)");
    run(cargo().args(["build", "-p", "server", "--bin", "caliper"]))?;
    let caliper = target_dir().join("debug/caliper");
    let database_url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/caliper.db".into());
    run(Command::new(&caliper).arg("seed-demo").env("DATABASE_URL", &database_url).current_dir(root()))?;
    let bind = std::env::var("CALIPER_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let mut server = Command::new(&caliper)
        .args(["serve", "--bind", &bind])
        .arg("--static-dir")
        .arg(root().join("app/dist"))
        .env("DATABASE_URL", &database_url)
        .current_dir(root())
        .spawn()
        .map_err(|e| format!("could not start the server: {e}"))?;
    println!(
        "\nCaliper (development) at http://{bind}; watching app/, shared/ and style/: the app is rebuilt on \
         every change (reload the browser). Server changes need a restart. Stop with Ctrl-C."
    );
    let watched = ["app/src", "app/index.html", "shared/src", "style"].map(|p| root().join(p));
    let mut last = newest_change(&watched);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!("the server stopped ({status})"));
        }
        let now = newest_change(&watched);
        if now > last {
            last = now;
            if let Err(e) = app_build::build(app_build::Profile::Dev) {
                eprintln!("the app did not build: {e}");
            }
        }
    }
}

/// The latest modification time of any file under `paths`.
fn newest_change(paths: &[PathBuf]) -> std::time::SystemTime {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&path).into_iter().flatten().flatten().map(|e| e.path()));
        } else if let Ok(modified) = meta.modified() {
            newest = newest.max(modified);
        }
    }
    newest
}

fn test() -> Result {
    let started = Instant::now();
    let mut passed: Vec<&str> = Vec::new();

    step("cargo fmt --check");
    run(cargo().args(["fmt", "--all", "--check"]))?;
    passed.push("fmt");

    step("clippy, native crates (-D warnings)");
    run(cargo().args(["clippy", "--workspace", "--exclude", "app", "--all-targets", "--", "-D", "warnings"]))?;
    passed.push("clippy native");

    tools::ensure_app_tools()?;
    step("clippy, app on wasm32 (-D warnings)");
    run(cargo().args(["clippy", "-p", "app", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]))?;
    passed.push("clippy wasm32");

    step("unit and API tests on SQLite and PostgreSQL");
    let own_pg;
    let pg_url = match std::env::var("CALIPER_TEST_DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            own_pg = pg::Postgres::start()?;
            own_pg.url.clone()
        }
    };
    run(cargo()
        .args(["test", "--workspace", "--exclude", "app", "--no-fail-fast"])
        .env("CALIPER_TEST_DATABASE_URL", &pg_url))?;
    passed.push("unit + API tests (SQLite, PostgreSQL)");

    run(cargo().args(["build", "-p", "server", "--bin", "caliper"]))?;
    fuzz::fuzz(&target_dir().join("debug/caliper"))?;
    passed.push("API fuzzer (schemathesis)");

    let report = app_build::build(app_build::Profile::Release)?;
    passed.push("wasm release build");
    app_build::check_budget(&report)?;
    passed.push("app size budget");

    step("end-to-end: Playwright in Chromium against the real server");
    run(cargo().args(["build", "-p", "server", "--bin", "caliper"]))?;
    tools::ensure_browser_tools()?;
    let caliper = target_dir().join("debug/caliper");
    let data = std::env::temp_dir().join(format!("caliper-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let database_url = format!("sqlite://{}/caliper.db", data.display());
    run(Command::new(&caliper).arg("seed-demo").env("DATABASE_URL", &database_url).env("CALIPER_LOG", "warn"))?;
    let port = free_port()?;
    let (server, _) = Server::start(&caliper, &database_url, port, true)?;
    let e2e = root().join("end2end");
    let result = run(Command::new(e2e.join("node_modules/.bin/playwright"))
        .arg("test")
        .current_dir(&e2e)
        .env("CALIPER_BASE_URL", &server.url)
        .env("CALIPER_STATIC_DIR", root().join("app/dist"))
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"));
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    result?;
    passed.push("end-to-end (Chromium)");

    println!("\ncaliper test: {} steps passed in {:.0?}: {}", passed.len(), started.elapsed(), passed.join(", "));
    Ok(())
}
