//! A throwaway PostgreSQL server from Debian's packages: initdb into a temporary directory,
//! a free port on 127.0.0.1, run as the `postgres` user when we are root (PostgreSQL refuses
//! to run as root), stopped and removed on drop.

use std::path::PathBuf;
use std::process::Command;

use crate::{Result, free_port, run, step, tools};

/// A running throwaway server.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// `postgres://caliper@127.0.0.1:PORT/postgres` (trust auth, loopback only).
    pub url: String,
}

fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

impl Postgres {
    /// Starts one (installing Debian's `postgresql` first if no server binaries are found).
    pub fn start() -> Result<Postgres> {
        let bin = match find_bin() {
            Some(bin) => bin,
            None => {
                tools::apt_install(&["postgresql"])?;
                find_bin().ok_or("postgresql installed but no initdb found under /usr/lib/postgresql")?
            }
        };
        step("start a throwaway PostgreSQL");
        let as_postgres = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let dir = std::env::temp_dir().join(format!("caliper-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        if as_postgres {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
        }
        let port = free_port()?;
        let pg = Postgres { url: format!("postgres://caliper@127.0.0.1:{port}/postgres"), dir, bin, as_postgres };
        let data = pg.dir.join("data");
        run(pg
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "caliper", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
            .stdout(std::process::Stdio::null()))?;
        // fsync off: a throwaway test server, never for data that matters.
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300",
            pg.dir.display()
        );
        run(pg
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(pg.dir.join("log"))
            .args(["-o", &options, "-w", "start"]))?;
        println!("PostgreSQL ready at {}", pg.url);
        Ok(pg)
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
