//! `cargo xtask bench documents`: document control at scale, on SQLite and PostgreSQL:
//! `caliper seed-documents --count 10000` (each with a revision in force of about 2,000 words),
//! then the register's filtered first pages (by type, by owner) and full-text search over the
//! 10,000 revisions in force, of single common-ish words and of two-word queries.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::Command;
use std::time::Instant;

use crate::bench::{caliper_binary, percentile, timed_seed, write_figures};
use crate::http::{Conn, sign_in};
use crate::{Result, Server, free_port, pg, run, step};

const COUNT: usize = 10_000;
const PASSWORD: &str = "Caliper-Demo-2026";
/// Documents whose text is read to choose the search words.
const SAMPLE: usize = 40;

pub fn bench() -> Result {
    let caliper = caliper_binary()?;
    let mut figures: BTreeMap<String, f64> = BTreeMap::new();
    let data = std::env::temp_dir().join(format!("caliper-bench-documents-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let sqlite = format!("sqlite://{}/bench.db", data.display());
    measure(&caliper, "sqlite", &sqlite, &mut figures)?;
    {
        let pg = pg::Postgres::start()?;
        measure(&caliper, "postgres", &pg.url, &mut figures)?;
    }
    let _ = std::fs::remove_dir_all(&data);
    write_figures("caliper-bench-documents.json", &figures)?;
    println!(
        "targets: document_list_type_page_*_p99_ms <= 20; document_list_owner_page_*_p99_ms <= 20; \
         document_search_word_*_p99_ms <= 50; document_search_two_words_*_p99_ms <= 50; \
         document_diff_5000_lines_*_p99_ms <= 100; \
         seed_documents_*_s (10,000 documents, reported)"
    );
    Ok(())
}

fn get(conn: &mut Conn, path: &str) -> Result<(f64, serde_json::Value)> {
    let started = Instant::now();
    let (status, _, bytes) = conn.request("GET", path, None).map_err(|e| e.to_string())?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !(200..300).contains(&status) {
        return Err(format!(
            "GET {path} answered {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        ));
    }
    Ok((ms, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
}

/// `runs` requests over `paths` in turn, latencies sorted.
fn timed(conn: &mut Conn, paths: &[String], runs: usize) -> Result<Vec<f64>> {
    let mut lat = Vec::with_capacity(runs);
    for i in 0..runs {
        lat.push(get(conn, &paths[i % paths.len()])?.0);
    }
    lat.sort_by(f64::total_cmp);
    Ok(lat)
}

fn record(figures: &mut BTreeMap<String, f64>, name: &str, backend: &str, lat: &[f64]) {
    figures.insert(format!("{name}_{backend}_p50_ms"), percentile(lat, 50.0));
    figures.insert(format!("{name}_{backend}_p99_ms"), percentile(lat, 99.0));
}

fn measure(caliper: &std::path::Path, backend: &str, url: &str, figures: &mut BTreeMap<String, f64>) -> Result {
    step(&format!("seed the demo and {COUNT} documents of about 2,000 words on {backend}"));
    run(Command::new(caliper).arg("seed-demo").env("DATABASE_URL", url).env("CALIPER_LOG", "warn"))?;
    let count = COUNT.to_string();
    timed_seed(caliper, url, &["seed-documents", "--count", &count], &format!("seed_documents_{backend}_s"), figures)?;

    let port = free_port()?;
    let (server, _) = Server::start(caliper, url, port, true)?;
    let addr = format!("127.0.0.1:{port}");
    let qm = sign_in(&addr, "priya.natarajan", PASSWORD).map_err(|e| e.to_string())?;
    let mut conn = Conn::open(&addr).map_err(|e| e.to_string())?.with_session(&qm);

    step(&format!("the document register on {backend}: filtered first pages of 50, 200 runs each"));
    let (_, all) = get(&mut conn, "/api/v1/documents?limit=500")?;
    let total = all["total"].as_f64().unwrap_or(f64::NAN);
    figures.insert(format!("documents_{backend}"), total);
    let owners: Vec<i64> = all["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["owner_id"].as_i64())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let types = ["sop", "work_instruction", "form", "specification", "policy", "external"];
    let paths: Vec<String> = types.iter().map(|t| format!("/api/v1/documents?type={t}&limit=50")).collect();
    let lat = timed(&mut conn, &paths, 200)?;
    record(figures, "document_list_type_page", backend, &lat);
    let paths: Vec<String> = owners.iter().map(|o| format!("/api/v1/documents?owner_id={o}&limit=50")).collect();
    let lat = timed(&mut conn, &paths, 200)?;
    record(figures, "document_list_owner_page", backend, &lat);
    let paths: Vec<String> = vec![
        "/api/v1/documents?status=in_force&type=sop&sort=title&limit=50".into(),
        "/api/v1/documents?review_overdue=true&limit=50".into(),
        "/api/v1/documents?q=control&limit=50".into(),
    ];
    let lat = timed(&mut conn, &paths, 200)?;
    record(figures, "document_list_other_filters_page", backend, &lat);

    // The search words: read the texts in force of a sample of documents and take words by how
    // many of the sampled documents hold them (common-ish: in a quarter to two thirds of them;
    // rarer: in a tenth).
    step(&format!("full-text search over the revisions in force on {backend}: 200 runs each"));
    let ids: Vec<i64> = all["items"]
        .as_array()
        .into_iter()
        .flatten()
        .step_by(500 / SAMPLE)
        .filter_map(|d| d["id"].as_i64())
        .take(SAMPLE)
        .collect();
    let mut share: HashMap<String, usize> = HashMap::new();
    for id in &ids {
        let (_, revisions) = get(&mut conn, &format!("/api/v1/documents/{id}/revisions"))?;
        let body = revisions["items"][0]["body"].as_str().unwrap_or_default().to_lowercase();
        let words: HashSet<&str> = body.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 4).collect();
        for w in words {
            *share.entry(w.to_string()).or_default() += 1;
        }
    }
    let sampled = ids.len().max(1) as f64;
    let mut by_share: Vec<(String, f64)> = share.into_iter().map(|(w, n)| (w, n as f64 / sampled)).collect();
    by_share.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let pick = |lo: f64, hi: f64, n: usize| -> Vec<(String, f64)> {
        by_share.iter().filter(|(_, s)| (lo..=hi).contains(s)).take(n).cloned().collect()
    };
    let common = pick(0.25, 0.67, 8);
    let rarer = pick(0.08, 0.12, 4);
    let singles: Vec<(String, f64)> = common.iter().chain(rarer.iter()).cloned().collect();
    if singles.is_empty() {
        return Err("no search words found in the sampled documents".into());
    }
    let mean = singles.iter().map(|(_, s)| s).sum::<f64>() / singles.len() as f64;
    figures.insert(format!("document_search_word_{backend}_mean_share_pct"), mean * 100.0);
    println!(
        "  single words: {}",
        singles.iter().map(|(w, s)| format!("{w} ({:.0}%)", s * 100.0)).collect::<Vec<_>>().join(", ")
    );
    let paths: Vec<String> = singles.iter().map(|(w, _)| format!("/api/v1/documents/search?q={w}")).collect();
    let lat = timed(&mut conn, &paths, 200)?;
    record(figures, "document_search_word", backend, &lat);
    let pairs: Vec<String> =
        (0..common.len()).map(|i| format!("{}%20{}", common[i].0, singles[(i + 3) % singles.len()].0)).collect();
    println!("  two-word queries: {}", pairs.join(", ").replace("%20", " "));
    let paths: Vec<String> = pairs.iter().map(|q| format!("/api/v1/documents/search?q={q}")).collect();
    let lat = timed(&mut conn, &paths, 200)?;
    record(figures, "document_search_two_words", backend, &lat);

    step(&format!("the comparison of two revisions of {DIFF_LINES} lines on {backend}: 50 runs"));
    let lat = diff_latencies(&addr, &mut conn)?;
    record(figures, "document_diff_5000_lines", backend, &lat);
    drop(server);
    Ok(())
}

/// Lines of each revision compared.
const DIFF_LINES: usize = 5_000;

/// A request that must succeed; its JSON answer.
fn send(conn: &mut Conn, method: &str, path: &str, body: &serde_json::Value) -> Result<serde_json::Value> {
    let (status, _, bytes) = conn.request(method, path, Some(&body.to_string())).map_err(|e| e.to_string())?;
    if !(200..300).contains(&status) {
        return Err(format!("{method} {path} answered {status}: {}", String::from_utf8_lossy(&bytes)));
    }
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

/// Revision A of 5,000 lines put in force (the quality manager owns it, the admin approves it),
/// revision B drafting every tenth line changed and a line added every fifty; then the timed
/// `GET …/diff` between them.
fn diff_latencies(addr: &str, qm: &mut Conn) -> Result<Vec<f64>> {
    let admin = sign_in(addr, "alex.morgan", PASSWORD).map_err(|e| e.to_string())?;
    let mut admin = Conn::open(addr).map_err(|e| e.to_string())?.with_session(&admin);
    let me = |conn: &mut Conn| -> Result<i64> {
        get(conn, "/api/v1/session")?.1["user"]["id"].as_i64().ok_or_else(|| "no session user".to_string())
    };
    let (owner, approver) = (me(qm)?, me(&mut admin)?);
    let doc = send(
        qm,
        "POST",
        "/api/v1/documents",
        &serde_json::json!({
            "doc_type": "work_instruction", "title": "Assembly of the gearbox, every step", "owner_id": owner,
            "approvers": [approver], "review_interval_months": 24, "retention_years": 10,
        }),
    )?;
    let doc = doc["id"].as_i64().ok_or("no document id")?;
    let line = |i: usize| format!("{i}. Check the torque of joint {} and record it on the traveller.", i * 7 % 97);
    let a: Vec<String> = (1..=DIFF_LINES).map(line).collect();
    let mut b = Vec::with_capacity(DIFF_LINES + DIFF_LINES / 50);
    for (i, l) in a.iter().enumerate() {
        if i % 10 == 0 {
            b.push(format!("{l} Sign it."))
        } else {
            b.push(l.clone())
        }
        if i % 50 == 0 {
            b.push(format!("{i}a. Photograph joint {i}."))
        }
    }
    let first =
        send(qm, "POST", &format!("/api/v1/documents/{doc}/revisions"), &serde_json::json!({"body": a.join("\n")}))?;
    let id = first["id"].as_i64().ok_or("no revision id")?;
    send(
        qm,
        "POST",
        &format!("/api/v1/document-revisions/{id}/move"),
        &serde_json::json!({"action": "submit", "version": first["version"]}),
    )?;
    send(
        &mut admin,
        "POST",
        "/api/v1/signatures",
        &serde_json::json!({
            "record_type": "document_revision", "record_id": id, "record_version": first["content_version"],
            "meaning": "approved", "password": PASSWORD, "accept_agreement": true, "username": "alex.morgan",
        }),
    )?;
    let second = send(
        qm,
        "POST",
        &format!("/api/v1/documents/{doc}/revisions"),
        &serde_json::json!({
            "body": b.join("\n"), "reason_for_change": "Bench", "change_summary": "Every tenth step signed",
        }),
    )?;
    let path = format!("/api/v1/document-revisions/{}/diff?against={id}", second["id"]);
    timed(qm, &[path], 50)
}
