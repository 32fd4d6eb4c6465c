//! Installing what the build needs, from the registries only: the wasm32 target (rustup),
//! wasm-split-cli and wasm-bindgen-cli (`cargo install`), binaryen's wasm-opt (npm: binaryen.js,
//! WebAssembly run by Node, no native binary), Chromium and PostgreSQL (apt), Playwright (npm,
//! browser downloads disabled).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, cargo, root, run, step};

/// The splitter, matching the `wasm_split_helpers` that Leptos 0.8 marks split points with.
const WASM_SPLIT_VERSION: &str = "0.2.4";

/// binaryen.js, whose optimizer the build runs on every wasm file (`app_build::optimize`).
pub const BINARYEN_VERSION: &str = "132.0.0";

/// Tool cache (`$CALIPER_CACHE` or `~/.cache/caliper`), outside the clone so CI can reuse it.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CALIPER_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    home.join(".cache/caliper")
}

fn tools_bin() -> PathBuf {
    cache_dir().join("tools/bin")
}

/// A tool from the tool cache (`wasm-split-cli`, `wasm-bindgen`).
pub fn tool(name: &str) -> Command {
    Command::new(tools_bin().join(name))
}

fn version_of(binary: &Path) -> Option<String> {
    let out = Command::new(binary).arg("--version").output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The wasm-bindgen version pinned in Cargo.lock (the CLI must match it exactly).
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            let version = lines.next().unwrap_or_default();
            return version
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_string)
                .ok_or_else(|| "Cargo.lock: wasm-bindgen has no version".into());
        }
    }
    Err("Cargo.lock has no wasm-bindgen".into())
}

fn cargo_install(krate: &str, version: &str, features: &[&str]) -> Result {
    let root_dir = cache_dir().join("tools");
    let attempt = |locked: bool| {
        let mut c = cargo();
        c.args(["install", krate, "--version", version, "--root"]).arg(&root_dir);
        if !features.is_empty() {
            c.args(["--features", &features.join(",")]);
        }
        if locked {
            c.arg("--locked");
        }
        run(&mut c)
    };
    // --locked first (reproducible); when the registry no longer has a pinned dependency of
    // the tool's own lock file, resolve afresh within the tool's semver ranges.
    attempt(true).or_else(|e| {
        println!("`cargo install --locked {krate}` failed ({e}); retrying without --locked");
        attempt(false)
    })
}

/// The wasm32 target, wasm-split-cli, wasm-bindgen-cli and binaryen.js.
pub fn ensure_app_tools() -> Result {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    let has_target = installed.map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"));
    if !has_target.unwrap_or(false) {
        step("install the wasm32-unknown-unknown target");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    // wasm-split-cli has no --version: the install marker names the version.
    let marker = cache_dir().join("tools/wasm-split-cli.version");
    let split_ok = tools_bin().join("wasm-split-cli").is_file()
        && std::fs::read_to_string(&marker).is_ok_and(|v| v.trim() == WASM_SPLIT_VERSION);
    if !split_ok {
        step(&format!("install wasm-split-cli {WASM_SPLIT_VERSION} (cargo install, once)"));
        cargo_install("wasm_split_cli_support", WASM_SPLIT_VERSION, &["build-binary"])?;
        std::fs::write(&marker, WASM_SPLIT_VERSION).map_err(|e| format!("{}: {e}", marker.display()))?;
    }
    let binaryen = binaryen_dir();
    let installed = std::fs::read_to_string(binaryen.join("node_modules/binaryen/package.json"));
    if !installed.is_ok_and(|p| p.contains(&format!("\"version\": \"{BINARYEN_VERSION}\""))) {
        step(&format!("install binaryen.js {BINARYEN_VERSION} (npm, once)"));
        std::fs::create_dir_all(&binaryen).map_err(|e| format!("{}: {e}", binaryen.display()))?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--no-save", "--prefix"])
            .arg(&binaryen)
            .arg(format!("binaryen@{BINARYEN_VERSION}")))?;
    }
    let wanted = locked_wasm_bindgen()?;
    if !version_of(&tools_bin().join("wasm-bindgen")).is_some_and(|v| v.ends_with(&wanted)) {
        step(&format!("install wasm-bindgen-cli {wanted} (cargo install, once)"));
        cargo_install("wasm-bindgen-cli", &wanted, &[])?;
    }
    Ok(())
}

/// Where binaryen.js is installed (`node_modules/binaryen` under it).
pub fn binaryen_dir() -> PathBuf {
    cache_dir().join("tools/binaryen")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// `apt-get install -y packages` (through sudo when not root).
pub fn apt_install(packages: &[&str]) -> Result {
    step(&format!("install {} (apt-get)", packages.join(", ")));
    let sudo = |args: &[&str]| {
        let mut c = if is_root() { Command::new(args[0]) } else { Command::new("sudo") };
        if is_root() {
            c.args(&args[1..]);
        } else {
            c.args(args);
        }
        c.env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut sudo(&["apt-get", "update", "-qq"]))?;
    let mut args = vec!["apt-get", "install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    run(&mut sudo(&args))
}

/// Debian's Chromium and the end-to-end suite's npm packages (no browser download).
pub fn ensure_browser_tools() -> Result {
    if !Path::new("/usr/bin/chromium").exists() {
        apt_install(&["chromium"])?;
    }
    let e2e = root().join("end2end");
    let stamp = e2e.join("node_modules/.package-lock.json");
    let lock = e2e.join("package-lock.json");
    let fresh = match (std::fs::metadata(&stamp), std::fs::metadata(&lock)) {
        (Ok(s), Ok(l)) => s.modified().ok() >= l.modified().ok(),
        _ => false,
    };
    if !fresh {
        step("install the end-to-end suite's npm packages (npm ci)");
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&e2e)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))?;
    }
    Ok(())
}

/// Writes `.gz` and `.br` beside every wasm/js/css/html/svg file under `dist` (served
/// precompressed), returning the gzip and brotli totals of wasm + js + css.
pub fn precompress(dist: &Path) -> Result<(u64, u64)> {
    let (mut gz_total, mut br_total) = (0, 0);
    for entry in std::fs::read_dir(dist).map_err(|e| format!("{}: {e}", dist.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            let (gz, br) = precompress(&path)?;
            gz_total += gz;
            br_total += br;
            continue;
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_string();
        if !["wasm", "bin", "js", "css", "html", "svg"].contains(&ext.as_str()) {
            continue;
        }
        let data = std::fs::read(&path).map_err(|e| e.to_string())?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&data).map_err(|e| e.to_string())?;
        let gz = gz.finish().map_err(|e| e.to_string())?;
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 64 * 1024, 11, 22);
            w.write_all(&data).map_err(|e| e.to_string())?;
        }
        if ["wasm", "bin", "js", "css"].contains(&ext.as_str()) {
            gz_total += gz.len() as u64;
            br_total += br.len() as u64;
        }
        std::fs::write(format!("{}.gz", path.display()), gz).map_err(|e| e.to_string())?;
        std::fs::write(format!("{}.br", path.display()), br).map_err(|e| e.to_string())?;
    }
    Ok((gz_total, br_total))
}
