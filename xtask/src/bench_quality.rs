//! `cargo xtask bench quality`: nonconformance, complaints and CAPA at scale (issue 14's targets),
//! on SQLite and PostgreSQL: `caliper seed-quality --ncs 100000 --capas 10000`, then a filtered
//! page of the NC register, the Pareto over a year, the CAPA metrics, the root-cause model's
//! training on every closed record and its suggestions for new texts.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use crate::bench::{caliper_binary, percentile, timed_seed, write_figures};
use crate::http::{Conn, sign_in};
use crate::{Result, Server, free_port, pg, run, step};

const NCS: usize = 100_000;
const CAPAS: usize = 10_000;
const PASSWORD: &str = "Caliper-Demo-2026";

pub fn bench() -> Result {
    let caliper = caliper_binary()?;
    let mut figures: BTreeMap<String, f64> = BTreeMap::new();
    let data = std::env::temp_dir().join(format!("caliper-bench-quality-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let sqlite = format!("sqlite://{}/bench.db", data.display());
    measure(&caliper, "sqlite", &sqlite, &mut figures)?;
    {
        let pg = pg::Postgres::start()?;
        measure(&caliper, "postgres", &pg.url, &mut figures)?;
    }
    let _ = std::fs::remove_dir_all(&data);
    write_figures("caliper-bench-quality.json", &figures)?;
    println!(
        "targets: nc_register_filtered_page_*_p99_ms <= 20; nc_pareto_year_*_p50_ms <= 30; \
         capa_metrics_*_p50_ms <= 50 (after_a_change: read again); suggestion_*_p99_ms <= 50; model_training_*_ms <= 10000"
    );
    Ok(())
}

fn get(conn: &mut Conn, method: &str, path: &str, body: Option<&str>) -> Result<(f64, serde_json::Value)> {
    let started = Instant::now();
    let (status, _, bytes) = conn.request(method, path, body).map_err(|e| e.to_string())?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !(200..300).contains(&status) {
        return Err(format!(
            "{method} {path} answered {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        ));
    }
    Ok((ms, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
}

fn timed(conn: &mut Conn, paths: &[String], runs: usize) -> Result<Vec<f64>> {
    let mut lat = Vec::with_capacity(runs);
    for i in 0..runs {
        lat.push(get(conn, "GET", &paths[i % paths.len()], None)?.0);
    }
    lat.sort_by(f64::total_cmp);
    Ok(lat)
}

/// Adds the bench's 100,000 closed NCs and 10,000 closed CAPAs of history, timed.
pub(crate) fn seed_quality(
    caliper: &std::path::Path,
    url: &str,
    backend: &str,
    figures: &mut BTreeMap<String, f64>,
) -> Result {
    let (ncs, capas) = (NCS.to_string(), CAPAS.to_string());
    let args = ["seed-quality", "--ncs", &ncs, "--capas", &capas];
    timed_seed(caliper, url, &args, &format!("seed_quality_{backend}_s"), figures)
}

fn measure(caliper: &std::path::Path, backend: &str, url: &str, figures: &mut BTreeMap<String, f64>) -> Result {
    step(&format!("seed the demo, {NCS} NCs and {CAPAS} CAPAs on {backend}"));
    run(Command::new(caliper).arg("seed-demo").env("DATABASE_URL", url).env("CALIPER_LOG", "warn"))?;
    seed_quality(caliper, url, backend, figures)?;

    let port = free_port()?;
    let (server, _) = Server::start(caliper, url, port, true)?;
    let addr = format!("127.0.0.1:{port}");
    let qm = sign_in(&addr, "priya.natarajan", PASSWORD).map_err(|e| e.to_string())?;
    let mut conn = Conn::open(&addr).map_err(|e| e.to_string())?.with_session(&qm);

    step(&format!("the NC register on {backend}: filtered first pages, 200 runs"));
    let (_, cats) = get(&mut conn, "GET", "/api/v1/nc-categories", None)?;
    let cats: Vec<i64> = cats["items"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_i64()).collect();
    let (_, procs) = get(&mut conn, "GET", "/api/v1/processes", None)?;
    let procs: Vec<i64> = procs["items"].as_array().into_iter().flatten().filter_map(|p| p["id"].as_i64()).collect();
    let mut paths: Vec<String> = Vec::new();
    for (i, c) in cats.iter().enumerate() {
        paths.push(format!("/api/v1/ncs?category_id={c}&limit=50"));
        paths.push(format!("/api/v1/ncs?state=closed&process_id={}&limit=50", procs[i % procs.len().max(1)]));
        paths.push(format!("/api/v1/ncs?source=supplier&category_id={c}&limit=50"));
    }
    paths.push("/api/v1/ncs?state=open&limit=50".into());
    let lat = timed(&mut conn, &paths, 200)?;
    figures.insert(format!("nc_register_filtered_page_{backend}_p50_ms"), percentile(&lat, 50.0));
    figures.insert(format!("nc_register_filtered_page_{backend}_p99_ms"), percentile(&lat, 99.0));

    step(&format!("the Pareto over a year on {backend}, 20 runs"));
    let lat = timed(&mut conn, &["/api/v1/ncs/pareto?by=category".into(), "/api/v1/ncs/pareto?by=process".into()], 20)?;
    figures.insert(format!("nc_pareto_year_{backend}_p50_ms"), percentile(&lat, 50.0));
    figures.insert(format!("nc_pareto_year_{backend}_max_ms"), percentile(&lat, 100.0));

    step(&format!("the CAPA metrics over every CAPA on {backend}, 20 runs"));
    let lat = timed(&mut conn, &["/api/v1/capas/metrics".into()], 20)?;
    figures.insert(format!("capa_metrics_{backend}_p50_ms"), percentile(&lat, 50.0));
    figures.insert(format!("capa_metrics_{backend}_max_ms"), percentile(&lat, 100.0));
    // After a change (a measurement recorded), the CAPAs are read again.
    let mut lat = Vec::new();
    for i in 0..10 {
        let m =
            serde_json::json!({"series": "units_produced", "period": "2020-01", "value": 1000 + i, "source": "bench"});
        get(&mut conn, "POST", "/api/v1/measurements", Some(&m.to_string()))?;
        lat.push(get(&mut conn, "GET", "/api/v1/capas/metrics", None)?.0);
    }
    lat.sort_by(f64::total_cmp);
    figures.insert(format!("capa_metrics_after_a_change_{backend}_p50_ms"), percentile(&lat, 50.0));

    step(&format!("the root-cause model on {backend}: training on every closed record, 200 suggestions"));
    let (_, report) = get(&mut conn, "POST", "/api/v1/quality/model", None)?;
    figures.insert(format!("model_training_{backend}_ms"), report["training_ms"].as_f64().unwrap_or(f64::NAN));
    figures.insert(format!("model_trained_on_{backend}"), report["trained_on"].as_f64().unwrap_or(f64::NAN));
    let texts = [
        "Bore gauge read high after the night shift; master ring not used",
        "Castings from the supplier show porosity at the flange",
        "Operator skipped the torque check on three gearboxes",
        "Spindle vibration on the lathe left chatter marks on shafts",
        "Humidity in the store corroded the bearings",
        "Work instruction missing the deburr step for cover C-31",
    ];
    let mut lat = Vec::new();
    for i in 0..200 {
        let body = serde_json::json!({"text": format!("{} (case {i})", texts[i % texts.len()])}).to_string();
        lat.push(get(&mut conn, "POST", "/api/v1/quality/suggestions", Some(&body))?.0);
    }
    lat.sort_by(f64::total_cmp);
    figures.insert(format!("suggestion_{backend}_p50_ms"), percentile(&lat, 50.0));
    figures.insert(format!("suggestion_{backend}_p99_ms"), percentile(&lat, 99.0));
    drop(server);
    Ok(())
}
