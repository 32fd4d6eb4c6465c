//! The API fuzzer in the test command: schemathesis (from PyPI, pinned, in a virtual environment
//! under the cache directory) over the whole OpenAPI document against the real server on a demo
//! database, once with an API token of a user holding every role and once signed out. It fails
//! on any 5xx, any answer whose status the document does not list for its operation, and any
//! body or content type that does not match the document. Bounded: a few examples per
//! operation, a fixed seed and a time limit per run.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::http::{Conn, sign_in};
use crate::tools::{apt_install, cache_dir};
use crate::{Result, Server, free_port, run, step};

/// The schemathesis release the test command installs.
pub const SCHEMATHESIS: &str = "4.32.5";
/// Seconds of fuzzing with the token, and signed out.
const SIGNED_IN_SECS: u32 = 180;
const SIGNED_OUT_SECS: u32 = 60;

/// `st` from the pinned schemathesis, installed on first use.
pub fn ensure_schemathesis() -> Result<PathBuf> {
    let venv = cache_dir().join("tools/schemathesis-venv");
    let st = venv.join("bin/st");
    let stamp = venv.join("schemathesis.version");
    if st.exists() && std::fs::read_to_string(&stamp).is_ok_and(|v| v.trim() == SCHEMATHESIS) {
        return Ok(st);
    }
    step(&format!("install schemathesis {SCHEMATHESIS} (pip, into {})", venv.display()));
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success());
    if !made {
        // Debian splits venv out of python3.
        apt_install(&["python3-venv"])?;
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    run(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("schemathesis=={SCHEMATHESIS}"),
    ]))?;
    std::fs::write(&stamp, SCHEMATHESIS).map_err(|e| e.to_string())?;
    Ok(st)
}

/// Runs the fuzzer against `caliper` (the server binary) on a fresh demo database.
pub fn fuzz(caliper: &Path) -> Result {
    let st = ensure_schemathesis()?;
    let data = std::env::temp_dir().join(format!("caliper-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let database_url = format!("sqlite://{}/caliper.db", data.display());
    run(Command::new(caliper).arg("seed-demo").env("DATABASE_URL", &database_url).env("CALIPER_LOG", "warn"))?;
    let port = free_port()?;
    let (server, _) = Server::start(caliper, &database_url, port, true)?;
    let result = fuzz_server(&st, &server.url, &format!("127.0.0.1:{port}"));
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    result
}

fn fuzz_server(st: &Path, url: &str, addr: &str) -> Result {
    // A user holding every role (so that no operation is only ever refused), with an API token.
    // 300 tokens are issued first: the fuzzer revokes tokens and ends sessions by the small ids
    // it tries, and must not end its own access.
    let admin = sign_in(addr, "alex.morgan", crate::bench::DEMO_QUALITY_MANAGER.1).map_err(|e| e.to_string())?;
    let mut conn = Conn::open(addr).map_err(|e| e.to_string())?.with_session(&admin);
    let mut post = |path: &str, body: &str| -> Result<serde_json::Value> {
        let (status, _, body) = conn.request("POST", path, Some(body)).map_err(|e| e.to_string())?;
        if !(200..300).contains(&status) {
            return Err(format!("POST {path} answered {status}: {}", String::from_utf8_lossy(&body)));
        }
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    };
    let user = post(
        "/api/v1/users",
        r#"{"username":"fuzz.every.role","full_name":"Fuzz Every Role","email":"fuzz@example.com",
            "password":"Fuzz-Every-Role-2026!","roles":["admin","quality_manager","process_owner","auditor","staff","executive"]}"#,
    )?;
    let id = user["id"].as_i64().ok_or("no user id")?;
    for _ in 0..300 {
        post("/api/v1/users/1/tokens", r#"{"name":"spent"}"#)?;
    }
    let token = post(&format!("/api/v1/users/{id}/tokens"), r#"{"name":"schemathesis"}"#)?;
    let secret = token["secret"].as_str().ok_or("no token secret")?.to_string();

    for (label, auth, secs) in [
        ("with an API token of a user holding every role", Some(secret), SIGNED_IN_SECS),
        ("signed out", None, SIGNED_OUT_SECS),
    ] {
        step(&format!("API fuzzer (schemathesis {SCHEMATHESIS}), {label}, at most {secs} s"));
        let mut cmd = Command::new(st);
        cmd.arg("run").arg(format!("{url}/api/v1/openapi.json")).args(["--url", url]);
        if let Some(secret) = auth {
            cmd.args(["-H", &format!("Authorization: Bearer {secret}")]);
        }
        cmd.args([
            "--generation-with-security-parameters",
            "false",
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--max-examples",
            "5",
            "--workers",
            "2",
            "--request-timeout",
            "10",
            "--max-time",
            &secs.to_string(),
            // A live-update stream never ends: nothing to check in a time limit.
            "--exclude-path",
            "/api/v1/events",
            "--seed",
            "1",
            "--no-color",
        ]);
        run(&mut cmd)?;
    }
    Ok(())
}
