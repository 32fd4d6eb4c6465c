//! Building the app, split into chunks, and its size budget.
//!
//! The pipeline (no Trunk: Trunk 0.21 cannot split):
//! 1. `cargo build -p app --target wasm32-unknown-unknown` (`.cargo/config.toml` links with
//!    `--emit-relocs`, which the splitter needs);
//! 2. `wasm-split-cli` cuts the module at the split points the app's `area!` macro marks: one
//!    `split_<area>.wasm` per area, `chunk_*.wasm` for code several areas share, the main module,
//!    and `__wasm_split.js`, the loader;
//! 3. `wasm-bindgen --target web` turns the main module into `app.js` + `app_bg.wasm`;
//!    every wasm file then loses its custom sections (for tools; the browser ignores them) and is
//!    optimized for size by binaryen ([`optimize`]);
//! 4. each area's files go into one `area_<area>.bin`, which the loader fetches instead of each
//!    file ([`bundle_loader`]); a part of a page (`crate::part!`, chunk `page__part`) bundles only
//!    what its page has not loaded ([`bundled`]);
//! 5. the files go to `app/dist/pkg/<build>/`, where `<build>` is a hash of them all, so every
//!    file under it can be cached for ever; `index.html` (never cached) names the build and
//!    carries it in `<meta name="caliper-build">`, which the server also sends on every API
//!    answer so that an open app notices a new build;
//! 6. every file is precompressed (brotli and gzip) for the server to send as is.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::{Result, cargo, root, run, step, target_dir, tools};

/// The initial load (index.html, the JS, the CSS and the main wasm), brotli.
pub const INITIAL_BUDGET: u64 = 200 * 1024;
/// Any one area's code (its `area_<area>.bin`: its own and the shared chunks it needs), or what a
/// part of a page fetches on top of its page, brotli: the target, 120 KB.
pub const AREA_BUDGET: u64 = 120 * 1024;

/// Which cargo profile builds the wasm.
#[derive(Clone, Copy, PartialEq)]
pub enum Profile {
    /// `wasm-release`: opt-level z, LTO, abort on panic.
    Release,
    /// `dev`: fast to build, for `cargo xtask dev`.
    Dev,
}

/// One built file and its brotli size.
#[derive(Debug, Clone)]
pub struct Sized {
    pub name: String,
    pub br: u64,
}

/// What a build produced, by what loads it.
#[derive(Debug, Default)]
pub struct Report {
    pub build: String,
    /// The files of the first load.
    pub initial: Vec<Sized>,
    /// Per area (split point), the files that loading it fetches.
    pub areas: BTreeMap<String, Vec<Sized>>,
}

impl Report {
    pub fn initial_br(&self) -> u64 {
        self.initial.iter().map(|f| f.br).sum()
    }

    pub fn area_br(&self, area: &str) -> u64 {
        self.areas.get(area).map_or(0, |files| files.iter().map(|f| f.br).sum())
    }

    /// The table of files and sizes, and the budget's verdict on each line.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let verdict = |total: u64, budget: u64| if total <= budget { "ok" } else { "OVER BUDGET" };
        let _ = writeln!(
            out,
            "initial load: {:.1} KB brotli (budget {} KB) {}",
            kb(self.initial_br()),
            INITIAL_BUDGET / 1024,
            verdict(self.initial_br(), INITIAL_BUDGET)
        );
        for f in &self.initial {
            let _ = writeln!(out, "    {:<44} {:>8.1} KB", f.name, kb(f.br));
        }
        for (area, files) in &self.areas {
            let total = self.area_br(area);
            let what = match page_of(area) {
                Some(page) => format!("part {area} (of {page}, what it fetches on top of it)"),
                None => format!("area {area}"),
            };
            let _ = writeln!(
                out,
                "{what}: {:.1} KB brotli (budget {} KB) {}",
                kb(total),
                AREA_BUDGET / 1024,
                verdict(total, AREA_BUDGET)
            );
            for f in files {
                let _ = writeln!(out, "    {:<44} {:>8.1} KB", f.name, kb(f.br));
            }
        }
        out
    }

    /// Every line over budget, or nothing.
    pub fn over_budget(&self) -> Vec<String> {
        let mut over = Vec::new();
        if self.initial_br() > INITIAL_BUDGET {
            over.push(format!("the initial load ({:.1} KB > {} KB)", kb(self.initial_br()), INITIAL_BUDGET / 1024));
        }
        for area in self.areas.keys() {
            if self.area_br(area) > AREA_BUDGET {
                over.push(format!("area {area} ({:.1} KB > {} KB)", kb(self.area_br(area)), AREA_BUDGET / 1024));
            }
        }
        over
    }
}

/// The size budget: the table, then an error naming what is over.
pub fn check_budget(report: &Report) -> Result {
    step("app size budget (brotli): the initial load and each area's chunks");
    print!("{}", report.table());
    let over = report.over_budget();
    if !over.is_empty() {
        return Err(format!(
            "over the size budget: {}. Split the code further, or raise the budget in \
             xtask/src/app_build.rs with the reason in the commit message.",
            over.join("; ")
        ));
    }
    println!("within budget: initial load ≤ {} KB, every area ≤ {} KB", INITIAL_BUDGET / 1024, AREA_BUDGET / 1024);
    Ok(())
}

fn kb(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

fn io(what: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", what.display())
}

/// Builds the app into `app/dist` and reports its files' sizes.
pub fn build(profile: Profile) -> Result<Report> {
    let (profile_arg, profile_dir) = match profile {
        Profile::Release => ("wasm-release", "wasm-release"),
        Profile::Dev => ("dev", "debug"),
    };
    step(&format!("build the app ({profile_arg}, split into chunks per area)"));
    run(cargo().args(["build", "-p", "app", "--target", "wasm32-unknown-unknown", "--profile", profile_arg]))?;
    let wasm = target_dir().join("wasm32-unknown-unknown").join(profile_dir).join("app.wasm");

    let work = target_dir().join("app-build");
    let (split, pkg) = (work.join("split"), work.join("pkg"));
    for dir in [&split, &pkg] {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    run(tools::tool("wasm-split-cli").arg(&wasm).arg(&split).args(["--target", "web", "--out-name", "app"]))?;
    run(tools::tool("wasm-bindgen")
        .args(["--target", "web", "--keep-lld-exports", "--no-demangle", "--no-typescript", "--out-name", "app"])
        .arg("--out-dir")
        .arg(&pkg)
        .arg(split.join("app.wasm")))?;
    for entry in std::fs::read_dir(&split).map_err(io(&split))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if name != "app.wasm" {
            std::fs::copy(&path, pkg.join(&name)).map_err(io(&path))?;
        }
    }
    // Custom sections (names, producers, target features) are for tools, not for the browser;
    // every chunk carried ~230 bytes of them.
    if profile == Profile::Release {
        for entry in std::fs::read_dir(&pkg).map_err(io(&pkg))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().is_some_and(|e| e == "wasm") {
                let wasm = std::fs::read(&path).map_err(io(&path))?;
                let stripped = strip_custom_sections(&wasm).map_err(|e| format!("{}: {e}", path.display()))?;
                std::fs::write(&path, stripped).map_err(io(&path))?;
            }
        }
    }
    if profile == Profile::Release {
        let files: Vec<PathBuf> = std::fs::read_dir(&pkg)
            .map_err(io(&pkg))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            .collect();
        optimize(&files, &work)?;
    }
    // One response per area instead of one per file (an area needs 108-312 of them).
    let loader_path = pkg.join("__wasm_split.js");
    let loader = std::fs::read_to_string(&loader_path).map_err(io(&loader_path))?;
    let manifest = split_manifest(&loader);
    for (area, files) in &bundled(&manifest)? {
        let parts =
            files.iter().map(|f| std::fs::read(pkg.join(f)).map_err(io(&pkg.join(f)))).collect::<Result<Vec<_>>>()?;
        let bundle = pkg.join(format!("area_{area}.bin"));
        std::fs::write(&bundle, bundle_bytes(&parts)?).map_err(io(&bundle))?;
    }
    std::fs::write(&loader_path, bundle_loader(&loader, &manifest)?).map_err(io(&loader_path))?;
    // Each split file is in a bundle now, and fetched from there only: not shipped alone.
    for file in manifest.values().flatten() {
        let _ = std::fs::remove_file(pkg.join(file));
    }
    let css = root().join("style/main.css");
    std::fs::copy(&css, pkg.join("main.css")).map_err(io(&css))?;
    // The loader is a file, not an inline script: the Content-Security-Policy allows scripts
    // from Caliper itself only.
    let start =
        "import init from \"./app.js\";\ninit({ module_or_path: new URL(\"./app_bg.wasm\", import.meta.url) });\n";
    std::fs::write(pkg.join("start.js"), start).map_err(io(&pkg))?;

    let build = build_id(&pkg)?;
    let dist = root().join("app/dist");
    let next = root().join("app/dist.next");
    let _ = std::fs::remove_dir_all(&next);
    let files = next.join("pkg").join(&build);
    std::fs::create_dir_all(&files).map_err(io(&files))?;
    for entry in std::fs::read_dir(&pkg).map_err(io(&pkg))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        std::fs::copy(&path, files.join(path.file_name().unwrap_or_default())).map_err(io(&path))?;
    }
    let template_path = root().join("app/index.html");
    let template = std::fs::read_to_string(&template_path).map_err(io(&template_path))?;
    std::fs::write(next.join("index.html"), template.replace("%BUILD%", &build)).map_err(io(&next))?;
    let favicon = root().join("public/favicon.svg");
    std::fs::copy(&favicon, next.join("favicon.svg")).map_err(io(&favicon))?;
    // Precompressed for release; a dev build (a big wasm with debug info) is served as is.
    if profile == Profile::Release {
        tools::precompress(&next)?;
    }
    // Swap the new build in whole: a server serving `dist` goes from one build to the next.
    let old = root().join("app/dist.old");
    let _ = std::fs::remove_dir_all(&old);
    if dist.exists() {
        std::fs::rename(&dist, &old).map_err(io(&dist))?;
    }
    std::fs::rename(&next, &dist).map_err(io(&next))?;
    let _ = std::fs::remove_dir_all(&old);

    if profile == Profile::Dev {
        println!("app built: {} (build {build}, dev profile, not compressed)", dist.display());
        return Ok(Report { build, ..Report::default() });
    }
    let report = report(&dist)?;
    println!("app built: {} (build {build})\n{}", dist.display(), report.table());
    Ok(report)
}

/// binaryen's optimizer for size (`-Oz`: optimize level 2, shrink level 2), run on each wasm
/// file in place by binaryen.js in Node: 3-4 % off every area after brotli (the FMEA worksheet
/// 158.5 -> 152.2 KB), 0.6 % off the main module. Each file is a module of its own (its imports
/// and exports stay as they are, so the chunks still link to the main module). Two Node
/// processes, the files dealt out largest first; 20-30 s for the whole app on two cores.
fn optimize(files: &[PathBuf], work: &Path) -> Result {
    const SCRIPT: &str = r#"// Written by Caliper's build (xtask/src/app_build.rs, optimize).
import { pathToFileURL } from "node:url";
import { readFileSync, writeFileSync } from "node:fs";
const [binaryenPath, ...files] = process.argv.slice(2);
const { default: binaryen } = await import(pathToFileURL(binaryenPath).href);
const F = binaryen.Features;
// The features rustc 1.95 targets for wasm32-unknown-unknown.
const features = F.MVP | F.MutableGlobals | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt | F.SignExt
    | F.ReferenceTypes | F.Multivalue | F.CallIndirectOverlong;
binaryen.setOptimizeLevel(2);
binaryen.setShrinkLevel(2);
for (const file of files) {
    const module = binaryen.readBinary(readFileSync(file));
    module.setFeatures(features);
    module.optimize();
    if (!module.validate()) throw new Error(`${file}: not valid after optimizing`);
    writeFileSync(file, module.emitBinary());
    module.dispose();
}
"#;
    step(&format!("optimize {} wasm files for size (binaryen {})", files.len(), tools::BINARYEN_VERSION));
    let script = work.join("wasm-opt.mjs");
    std::fs::write(&script, SCRIPT).map_err(io(&script))?;
    let binaryen = tools::binaryen_dir().join("node_modules/binaryen/index.js");
    let mut by_size: Vec<(u64, &PathBuf)> =
        files.iter().map(|f| (std::fs::metadata(f).map_or(0, |m| m.len()), f)).collect();
    by_size.sort_by(|a, b| b.cmp(a));
    let mut children = Vec::new();
    for half in 0..2 {
        let mine = by_size.iter().skip(half).step_by(2).map(|(_, f)| *f);
        let child = std::process::Command::new("node")
            .arg(&script)
            .arg(&binaryen)
            .args(mine)
            .spawn()
            .map_err(|e| format!("node (binaryen.js): {e}"))?;
        children.push(child);
    }
    for mut child in children {
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("optimizing the wasm files failed ({status})"));
        }
    }
    Ok(())
}

/// Files as one area bundle: each file's length (u32, little-endian), then its bytes.
pub fn bundle_bytes(files: &[Vec<u8>]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(files.iter().map(|f| f.len() + 4).sum());
    for file in files {
        let len = u32::try_from(file.len()).map_err(|_| "a wasm file over 4 GB".to_string())?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(file);
    }
    Ok(out)
}

/// The loader wasm-split-cli writes, changed to fetch each area's files as one response,
/// `area_<name>.bin` ([`bundle_bytes`], the files in [`split_manifest`]'s order): an area needs
/// 108-312 wasm files, most of them under 2 KB, and a browser fetches six at a time from one
/// server; compressed as one stream they are also 25-33 % smaller than file by file (each file
/// repeats the module's type section, among others). A chunk that another area has already
/// loaded comes again in this area's bundle, but is not instantiated again. The split files are
/// not shipped alone.
///
/// The loader is part of the first load, so it is written compactly: wasm-split-cli's helpers
/// (`getSharedImports`, `wrapAsyncCb`, `makeLoad`) are kept as they are, and its one statement
/// per shared chunk (some 500 of them, each naming the areas that share it) and per area becomes
/// a table of the shared chunks' files and, per area, the ranges of that table it needs (the
/// loader went from 3.3 KB to 9.8 KB brotli when the areas went from 8 to 17). Errors when the
/// loader is not of the shape this rewrites (a new wasm-split-cli).
pub fn bundle_loader(loader: &str, manifest: &BTreeMap<String, Vec<String>>) -> Result<String> {
    const FETCH: &str = "const src = fetch(new URL(\"./";
    const INSTANTIATE: &str = "return async (imports) => (WebAssembly.instantiateStreaming(src, imports));";
    const HELPERS: &str = r#"
/* Added by Caliper's build (xtask/src/app_build.rs, bundle_loader): each area's wasm files come
   in one response, area_<name>.bin (each file's length, u32 little-endian, then its bytes). */
const bundled = new Map();
function fetchBundle(url, files) {
    const parts = fetch(new URL(url, import.meta.url)).then(async (res) => {
        if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
        const buf = await res.arrayBuffer();
        const view = new DataView(buf);
        const out = new Map();
        let at = 0;
        for (const file of files) {
            const len = view.getUint32(at, true);
            out.set(file, new Uint8Array(buf, at + 4, len));
            at += 4 + len;
        }
        if (at !== buf.byteLength) throw new Error(`${url}: not the files it should hold`);
        return out;
    });
    const mine = new Map(files.map((file) => [file, parts.then((out) => out.get(file))]));
    for (const [file, bytes] of mine) {
        bytes.catch(() => {});
        bundled.set(file, bytes);
    }
    return mine;
}
function inBundle(url, files, load) {
    let fetched = false;
    return () => {
        let mine;
        if (!fetched) {
            fetched = true;
            mine = fetchBundle(url, files);
        }
        const result = load();
        if (mine) {
            const done = () => {
                for (const [file, bytes] of mine) if (bundled.get(file) === bytes) bundled.delete(file);
            };
            result.then(done, () => { done(); fetched = false; });
        }
        return result;
    };
}
function wasmBytes(file) {
    const bytes = bundled.get(file);
    bundled.delete(file);
    return bytes ?? Promise.reject(new Error(`${file}: in no bundle being fetched`));
}
function fromBundle(file) {
    return () => {
        const src = wasmBytes(file);
        src.catch(() => {});
        return async (imports) => (WebAssembly.instantiate(await src, imports));
    };
}
/* "a-b,c": a, a+1, …, b, c; "": none */
function ranges(spec) {
    return spec === "" ? [] : spec.split(",").flatMap((r) => {
        const [a, b = a] = r.split("-").map(Number);
        return Array.from({ length: b - a + 1 }, (_, k) => a + k);
    });
}
const shared = SHARED_FILES.map((file) => makeLoad(fromBundle(file), []));
/* A part of a page (`page__part`) bundles only the chunks its page has not loaded already. */
function area(name, own, needs, bundled = needs) {
    const chunks = ranges(needs);
    const files = [own, ...ranges(bundled).map((i) => SHARED_FILES[i])];
    return wrapAsyncCb(inBundle(`./area_${name}.bin`, files, makeLoad(fromBundle(own), chunks.map((i) => shared[i]))));
}
"#;
    let shape = |what: &str| {
        format!(
            "__wasm_split.js: {what}; not the loader's known shape (a new wasm-split-cli?): update bundle_loader in xtask/src/app_build.rs"
        )
    };
    let (fetches, instantiations) = (loader.matches(FETCH).count(), loader.matches(INSTANTIATE).count());
    if fetches == 0 || fetches != instantiations {
        return Err(shape(&format!("{fetches} fetches, {instantiations} instantiations")));
    }
    // Everything before the first chunk or area: wasm-split-cli's helpers, kept as they are.
    let cut = ["\n/* ", "\nconst __chunk_", "\nexport const __wasm_split_load_"]
        .iter()
        .filter_map(|at| loader.find(at))
        .min()
        .ok_or_else(|| shape("no chunk or area"))?;
    let head = &loader[..=cut];
    for helper in ["function getSharedImports(", "function wrapAsyncCb(", "function makeLoad("] {
        if !head.contains(helper) {
            return Err(shape(&format!("no {helper}")));
        }
    }
    // Every shared chunk is a module of its own with no dependencies, as the table assumes.
    let (chunks, no_deps) = (loader.matches("\nconst __chunk_").count(), loader.matches("\n, []);").count());
    if chunks != no_deps {
        return Err(shape(&format!("{chunks} chunks, {no_deps} without dependencies")));
    }
    let areas: Vec<&str> = loader
        .split("export const __wasm_split_load_")
        .skip(1)
        .map(|part| part.split(' ').next().unwrap_or_default())
        .collect();
    if areas.len() != manifest.len() || areas.iter().any(|a| !manifest.contains_key(*a)) {
        return Err(shape(&format!("areas {areas:?}, the manifest has {:?}", manifest.keys().collect::<Vec<_>>())));
    }
    let shared_files: Vec<&String> = {
        let mut files: Vec<&String> = manifest.values().flat_map(|f| f.iter().skip(1)).collect();
        files.sort_by(|a, b| chunk_order(a, b));
        files.dedup();
        files
    };
    let index: BTreeMap<&String, usize> = shared_files.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    let mut out = String::with_capacity(head.len() + HELPERS.len() + 16 * 1024);
    let (import, rest) = head.split_once('\n').ok_or_else(|| shape("no import line"))?;
    if !import.starts_with("import ") {
        return Err(shape("no import line"));
    }
    out.push_str(import);
    out.push('\n');
    let list = shared_files.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(",");
    writeln!(out, "const SHARED_FILES = [{list}];").map_err(|e| e.to_string())?;
    out.push_str(rest);
    out.push_str(HELPERS);
    let bundles = bundled(manifest)?;
    for area in areas {
        let files = &manifest[area];
        let own = files.first().ok_or_else(|| shape(&format!("area {area} has no file")))?;
        // In the manifest's order, which is the table's (and the bundle's).
        let needs: Vec<usize> = files.iter().skip(1).map(|f| index[f]).collect();
        let bundled: Vec<usize> = bundles[area].iter().skip(1).map(|f| index[f]).collect();
        let part = if bundled == needs { String::new() } else { format!(", \"{}\"", range_spec(&bundled)) };
        writeln!(
            out,
            "export const __wasm_split_load_{area} = area(\"{area}\", \"{own}\", \"{}\"{part});",
            range_spec(&needs)
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Sorted numbers as ranges: `[1, 2, 3, 7]` is `"1-3,7"` (read by the loader's `ranges`).
fn range_spec(sorted: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { sorted[i].to_string() } else { format!("{}-{}", sorted[i], sorted[j]) });
        i = j + 1;
    }
    parts.join(",")
}

/// `wasm` without its custom sections (id 0: `name`, `producers`, `target_features`…), which
/// the browser ignores; every other section is kept byte for byte, in order.
pub fn strip_custom_sections(wasm: &[u8]) -> Result<Vec<u8>> {
    const HEADER: &[u8] = b"\0asm\x01\0\0\0";
    if !wasm.starts_with(HEADER) {
        return Err("not a WebAssembly module (version 1)".into());
    }
    let mut out = HEADER.to_vec();
    let mut at = HEADER.len();
    while at < wasm.len() {
        let id = wasm[at];
        let (len, body) = leb128_u32(wasm, at + 1).ok_or_else(|| format!("a malformed section size at byte {at}"))?;
        let end = body.checked_add(len as usize).filter(|&end| end <= wasm.len());
        let end = end.ok_or_else(|| format!("section {id} at byte {at} runs past the end"))?;
        if id != 0 {
            out.extend_from_slice(&wasm[at..end]);
        }
        at = end;
    }
    Ok(out)
}

/// An unsigned LEB128 of at most 5 bytes at `at`: its value and the offset after it.
fn leb128_u32(bytes: &[u8], at: usize) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    for i in 0..5 {
        let byte = *bytes.get(at + i)?;
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, at + i + 1));
        }
    }
    None
}

/// The build's name: 16 hex digits of a 64-bit FNV-1a hash of its files (names and contents).
fn build_id(pkg: &Path) -> Result<String> {
    let mut names: Vec<PathBuf> =
        std::fs::read_dir(pkg).map_err(io(pkg))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in names {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().as_bytes().to_vec();
        for byte in name.iter().chain(std::fs::read(&path).map_err(io(&path))?.iter()) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok(format!("{hash:016x}"))
}

/// The built app's files by what loads them, with their brotli sizes (the `.br` siblings).
pub fn report(dist: &Path) -> Result<Report> {
    let index = std::fs::read_to_string(dist.join("index.html")).map_err(io(dist))?;
    let build = index
        .split("name=\"caliper-build\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("index.html names no build (<meta name=\"caliper-build\">)")?
        .to_string();
    let pkg = dist.join("pkg").join(&build);
    let br = |dir: &Path, name: &str| -> Result<Sized> {
        let path = dir.join(format!("{name}.br"));
        let len = std::fs::metadata(&path).map_err(io(&path))?.len();
        Ok(Sized { name: name.to_string(), br: len })
    };
    let mut report = Report { build: build.clone(), ..Report::default() };
    report.initial.push(br(dist, "index.html")?);
    for name in ["start.js", "app.js", "__wasm_split.js", "main.css", "app_bg.wasm"] {
        report.initial.push(br(&pkg, name)?);
    }
    let loader_path = pkg.join("__wasm_split.js");
    let loader = std::fs::read_to_string(&loader_path).map_err(io(&loader_path))?;
    for (area, files) in area_bundles(&loader) {
        let sized = files.iter().map(|f| br(&pkg, f)).collect::<Result<Vec<_>>>()?;
        report.areas.insert(area, sized);
    }
    Ok(report)
}

/// From the loader as the build leaves it ([`bundle_loader`]), what each area fetches: its one
/// bundle.
pub fn area_bundles(loader: &str) -> BTreeMap<String, Vec<String>> {
    let mut areas = BTreeMap::new();
    for statement in loader.split("export const __wasm_split_load_").skip(1) {
        let Some((area, rest)) = statement.split_once(' ') else { continue };
        if rest.starts_with(&format!("= area(\"{area}\", ")) {
            areas.insert(area.to_string(), vec![format!("area_{area}.bin")]);
        }
    }
    areas
}

/// From the loader that wasm-split-cli writes, which wasm files each split point fetches: its
/// own `split_<name>.wasm` and the shared `chunk_*.wasm` it depends on.
pub fn split_manifest(loader: &str) -> BTreeMap<String, Vec<String>> {
    let wasm_file =
        |statement: &str| statement.split("\"./").nth(1).and_then(|rest| rest.split('"').next()).map(str::to_string);
    let mut chunks: BTreeMap<String, String> = BTreeMap::new();
    let mut areas = BTreeMap::new();
    for statement in loader.split("\nconst ").skip(1) {
        if let Some((var, _)) = statement.split_once(' ')
            && var.starts_with("__chunk_")
            && let Some(file) = wasm_file(statement)
        {
            chunks.insert(var.to_string(), file);
        }
    }
    for statement in loader.split("export const __wasm_split_load_").skip(1) {
        let Some((area, rest)) = statement.split_once(' ') else { continue };
        let mut files: Vec<String> = wasm_file(rest).into_iter().collect();
        let deps = rest.rsplit_once('[').map_or("", |(_, deps)| deps);
        for dep in deps.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if let Some(file) = chunks.get(dep) {
                files.push(file.clone());
            }
        }
        files[1..].sort_by(|a, b| chunk_order(a, b));
        areas.insert(area.to_string(), files);
    }
    areas
}

/// The page a part belongs to: a part's chunk is named `page__part` (`crate::part!`).
pub fn page_of(split: &str) -> Option<&str> {
    split.rsplit_once("__").map(|(page, _)| page)
}

/// What each split point's bundle holds: an area's, every file it needs; a part's
/// (`page__part`), its own file and the shared chunks that neither its page nor the page's own
/// page needs, since a part is only ever shown on its page, whose chunks are loaded by then.
pub fn bundled(manifest: &BTreeMap<String, Vec<String>>) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out = BTreeMap::new();
    for (split, files) in manifest {
        let mut loaded: Vec<&String> = Vec::new();
        let mut at = split.as_str();
        while let Some(page) = page_of(at) {
            let of_page = manifest
                .get(page)
                .ok_or_else(|| format!("the part {split} names the chunk {page}, which no area! or part! declares"))?;
            loaded.extend(of_page.iter().skip(1));
            at = page;
        }
        let mine = files.iter().enumerate().filter(|(i, f)| *i == 0 || !loaded.contains(f)).map(|(_, f)| f.clone());
        out.insert(split.clone(), mine.collect());
    }
    Ok(out)
}

/// The order of shared chunks in the loader's table and in each bundle: `chunk_9.wasm` before
/// `chunk_10.wasm`.
fn chunk_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a.len(), a).cmp(&(b.len(), b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_sections_are_dropped_and_the_rest_kept_in_order() {
        let header = b"\0asm\x01\0\0\0".to_vec();
        let custom = |name: &str, payload: &[u8]| {
            let mut body = vec![name.len() as u8];
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(payload);
            let mut s = vec![0, body.len() as u8];
            s.extend(body);
            s
        };
        // A type section (one `() -> ()`), a 200-byte section whose size takes two LEB128 bytes,
        // and custom sections before, between and after them.
        let types = vec![1, 4, 1, 0x60, 0, 0];
        let mut data = vec![11, 0xc8, 0x01];
        data.extend(std::iter::repeat_n(7u8, 200));
        let mut wasm = header.clone();
        wasm.extend(custom("name", &[1, 2, 3]));
        wasm.extend(&types);
        wasm.extend(custom("producers", &[9; 40]));
        wasm.extend(&data);
        wasm.extend(custom("target_features", &[]));
        let stripped = strip_custom_sections(&wasm).expect("a valid module");
        assert_eq!(stripped, [header, types, data].concat());
        // Nothing to strip: unchanged.
        assert_eq!(strip_custom_sections(&stripped).expect("valid"), stripped);
        // Not wasm, or a section that runs past the end: an error, not a truncated file.
        assert!(strip_custom_sections(b"<html>").is_err());
        assert!(strip_custom_sections(&wasm[..wasm.len() - 1]).is_err());
    }

    /// The loader's shape, as wasm-split-cli 0.2.4 writes it.
    const LOADER: &str = r#"import { initSync } from "./app.js";
function getSharedImports() {}
function wrapAsyncCb(callee) {}
function makeLoad(fetcher, deps) {}
/* fmea, risks */
const __chunk_0 = makeLoad(() => {
    const src = fetch(new URL("./chunk_0_fmea_risks.wasm", import.meta.url));
    src.catch(() => {});
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
export const __wasm_split_load_risks = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_risks.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_0]));
export const __wasm_split_load_fmea = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_fmea.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_0]));
export const __wasm_split_load_work = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_work.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []));
"#;

    #[test]
    fn each_area_fetches_its_files_in_one_bundle() {
        let manifest = split_manifest(LOADER);
        let loader = bundle_loader(LOADER, &manifest).unwrap();
        assert!(!loader.contains("instantiateStreaming") && !loader.contains("const src = fetch("));
        // wasm-split-cli's helpers kept, each once; one table of the shared chunks.
        assert!(loader.starts_with(
            "import { initSync } from \"./app.js\";\nconst SHARED_FILES = [\"chunk_0_fmea_risks.wasm\"];\n"
        ));
        for helper in ["function makeLoad(", "function wrapAsyncCb(", "function wasmBytes(", "function area("] {
            assert_eq!(loader.matches(helper).count(), 1, "{helper}");
        }
        assert!(!loader.contains("__chunk_"));
        assert!(
            loader.contains("export const __wasm_split_load_risks = area(\"risks\", \"split_risks.wasm\", \"0\");\n")
        );
        assert!(loader.contains("export const __wasm_split_load_fmea = area(\"fmea\", \"split_fmea.wasm\", \"0\");\n"));
        assert!(loader.ends_with("export const __wasm_split_load_work = area(\"work\", \"split_work.wasm\", \"\");\n"));
        // What the budget measures: each area's one bundle.
        let bundles = area_bundles(&loader);
        assert_eq!(bundles["risks"], ["area_risks.bin"]);
        assert_eq!(bundles["work"], ["area_work.bin"]);
        assert_eq!(bundles.len(), 3);
        // Rewritten once only; another shape is refused.
        assert!(bundle_loader(&loader, &manifest).is_err());
        assert!(bundle_loader("export const nothing = 1;", &manifest).is_err());
        assert_eq!(
            bundle_bytes(&[vec![1, 2, 3], vec![], vec![9]]).unwrap(),
            [3, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 1, 0, 0, 0, 9]
        );
    }

    #[test]
    fn shared_chunks_are_named_by_ranges_of_the_table() {
        assert_eq!(range_spec(&[]), "");
        assert_eq!(range_spec(&[4]), "4");
        assert_eq!(range_spec(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        let mut files = vec!["chunk_10.wasm", "chunk_9.wasm", "chunk_100.wasm", "chunk_11.wasm"];
        files.sort_by(|a, b| chunk_order(a, b));
        assert_eq!(files, ["chunk_9.wasm", "chunk_10.wasm", "chunk_11.wasm", "chunk_100.wasm"]);
    }

    #[test]
    fn each_area_fetches_its_own_chunk_and_the_shared_ones_it_needs() {
        let m = split_manifest(LOADER);
        assert_eq!(m["fmea"], ["split_fmea.wasm", "chunk_0_fmea_risks.wasm"]);
        assert_eq!(m["risks"], ["split_risks.wasm", "chunk_0_fmea_risks.wasm"]);
        assert_eq!(m["work"], ["split_work.wasm"]);
        assert_eq!(m.len(), 3);
    }

    /// An area `fmea` with a part `fmea__tools` shown on its page and a part of that part,
    /// `fmea__tools__more`, and an area `risks`.
    const LOADER_WITH_PART: &str = r#"import { initSync } from "./app.js";
function getSharedImports() {}
function wrapAsyncCb(callee) {}
function makeLoad(fetcher, deps) {}
/* fmea, fmea__tools, risks */
const __chunk_0 = makeLoad(() => {
    const src = fetch(new URL("./chunk_0.wasm", import.meta.url));
    src.catch(() => {});
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
/* fmea, fmea__tools */
const __chunk_1 = makeLoad(() => {
    const src = fetch(new URL("./chunk_1.wasm", import.meta.url));
    src.catch(() => {});
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
/* fmea__tools, risks */
const __chunk_2 = makeLoad(() => {
    const src = fetch(new URL("./chunk_2.wasm", import.meta.url));
    src.catch(() => {});
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
/* fmea__tools__more, risks */
const __chunk_3 = makeLoad(() => {
    const src = fetch(new URL("./chunk_3.wasm", import.meta.url));
    src.catch(() => {});
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
export const __wasm_split_load_fmea = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_fmea.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_0, __chunk_1]));
export const __wasm_split_load_fmea__tools = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_fmea__tools.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_0, __chunk_1, __chunk_2]));
export const __wasm_split_load_fmea__tools__more = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_fmea__tools__more.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_0, __chunk_1, __chunk_2, __chunk_3]));
export const __wasm_split_load_risks = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_risks.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_0, __chunk_2, __chunk_3]));
"#;

    #[test]
    fn a_part_bundles_only_what_its_page_has_not_loaded() {
        let manifest = split_manifest(LOADER_WITH_PART);
        assert_eq!(manifest["fmea__tools"], ["split_fmea__tools.wasm", "chunk_0.wasm", "chunk_1.wasm", "chunk_2.wasm"]);
        let bundles = bundled(&manifest).unwrap();
        // The page's chunks are loaded when the part is shown; the one it shares with risks is not.
        assert_eq!(bundles["fmea__tools"], ["split_fmea__tools.wasm", "chunk_2.wasm"]);
        // A part of a part: neither its page's chunks nor its page's page's come again.
        assert_eq!(bundles["fmea__tools__more"], ["split_fmea__tools__more.wasm", "chunk_3.wasm"]);
        assert_eq!(page_of("fmea__tools__more"), Some("fmea__tools"));
        assert_eq!(bundles["fmea"], manifest["fmea"]);
        assert_eq!(bundles["risks"], manifest["risks"]);
        assert_eq!(page_of("fmea__tools"), Some("fmea"));
        assert_eq!(page_of("risk_record"), None);
        // The loader waits for every chunk the part needs, and fetches only its bundle's.
        let loader = bundle_loader(LOADER_WITH_PART, &manifest).unwrap();
        assert!(loader.contains(
            "export const __wasm_split_load_fmea__tools = area(\"fmea__tools\", \"split_fmea__tools.wasm\", \"0-2\", \"2\");\n"
        ));
        assert!(
            loader.contains("export const __wasm_split_load_fmea = area(\"fmea\", \"split_fmea.wasm\", \"0-1\");\n")
        );
        // The budget measures a part by its bundle, and says what it is.
        let mut report = Report::default();
        report.areas.insert("fmea__tools".into(), vec![Sized { name: "area_fmea__tools.bin".into(), br: 2048 }]);
        assert!(report.table().contains("part fmea__tools (of fmea"), "{}", report.table());
        // A part named after no chunk is refused.
        let mut orphan = manifest.clone();
        orphan.insert("fmeas__tools".into(), vec!["split_fmeas__tools.wasm".into()]);
        assert!(bundled(&orphan).unwrap_err().contains("fmeas"));
    }

    #[test]
    fn the_budget_names_what_is_over() {
        let mut report = Report::default();
        report.initial.push(Sized { name: "app_bg.wasm".into(), br: INITIAL_BUDGET });
        report.areas.insert("fmea".into(), vec![Sized { name: "split_fmea.wasm".into(), br: AREA_BUDGET + 1 }]);
        report.areas.insert("risks".into(), vec![Sized { name: "split_risks.wasm".into(), br: AREA_BUDGET }]);
        let over = report.over_budget();
        assert_eq!(over.len(), 1, "{over:?}");
        assert!(over[0].starts_with("area fmea"), "{over:?}");
        assert!(report.table().contains("OVER BUDGET"));
        report.initial.push(Sized { name: "index.html".into(), br: 1 });
        assert_eq!(report.over_budget().len(), 2);
    }
}
