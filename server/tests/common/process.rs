//! The real `caliper` binary as a process (serving, or run as a tool), and a tiny blocking
//! HTTP/1.1 client for it: one connection per request, so a request cut off by a kill is an
//! error rather than a half-read answer.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_caliper");

/// A `caliper serve` on a free loopback port; killed when dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Server {
    /// Starts `caliper serve` on the database at `url` and waits until `/readyz` answers 200.
    pub fn start(url: &str) -> Server {
        Self::start_with(url, &[])
    }

    /// [`Server::start`] with more `serve` options.
    pub fn start_with(url: &str, options: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(BIN)
            .args(["serve", "--bind", &addr, "--static-dir", "/nonexistent"])
            .args(options)
            .env("DATABASE_URL", url)
            .env("CALIPER_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start caliper serve");
        let mut server = Server { child, addr };
        let started = Instant::now();
        loop {
            if let Ok(answer) = request(&server.addr, "GET", "/readyz", None, None)
                && answer.status == 200
            {
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("caliper serve exited before it was ready: {status}");
            }
            assert!(started.elapsed() < Duration::from_secs(30), "caliper serve not ready after 30 s");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An answer: status, head (status line and headers) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A signed-in session: its cookie (`name=value`) and the CSRF token writes must send.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// One request on a new connection. An answer cut short (no status line, or fewer body bytes
/// than its `Content-Length`) is an error.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    session: Option<&Session>,
    body: Option<&str>,
) -> std::io::Result<Answer> {
    request_with(addr, method, path, session, body, &[])
}

/// [`request`] with more headers (`Name: value`).
pub fn request_with(
    addr: &str,
    method: &str,
    path: &str,
    session: Option<&Session>,
    body: Option<&str>,
    headers: &[&str],
) -> std::io::Result<Answer> {
    let mut conn = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(5))?;
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(session) = session {
        head += &format!("Cookie: {}\r\nX-CSRF-Token: {}\r\n", session.cookie, session.csrf);
    }
    if let Some(body) = body {
        head += &format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    }
    for h in headers {
        head += &format!("{h}\r\n");
    }
    head += "\r\n";
    conn.write_all(head.as_bytes())?;
    conn.write_all(body.unwrap_or_default().as_bytes())?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let cut = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "answer cut short");
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(cut)?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(cut)?;
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_string))
        .and_then(|n| n.trim().parse::<usize>().ok());
    if length.is_some_and(|n| n != body.len()) {
        return Err(cut());
    }
    Ok(Answer { status, head: head.to_string(), body: body.to_string() })
}

/// Signs in.
pub fn sign_in(addr: &str, username: &str, password: &str) -> Session {
    let body = serde_json::json!({"username": username, "password": password}).to_string();
    let answer = request(addr, "POST", "/api/v1/session", None, Some(&body)).unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");
    let cookie = answer
        .head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().starts_with("set-cookie: ").then(|| l["set-cookie: ".len()..].to_string()))
        .and_then(|c| c.split(';').next().map(str::to_string))
        .expect("a session cookie");
    Session { cookie, csrf: answer.json()["csrf_token"].as_str().expect("a CSRF token").to_string() }
}

/// Runs `caliper ARGS` as a tool on the database at `url`.
pub fn caliper(url: &str, args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("DATABASE_URL", url).env("CALIPER_LOG", "off").output().expect("run caliper")
}
