//! A minimal HTTP/1.1 client over a kept-alive TCP connection: enough for health checks and
//! the load generator, without pulling an async runtime into xtask.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One kept-alive connection, optionally signed in (cookie and CSRF token sent with every
/// request).
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
    auth: String,
}

/// A signed-in session: the headers that carry it.
#[derive(Debug, Clone)]
pub struct Session(String);

/// Signs in on a new connection; the session's headers, for [`Conn::with_session`].
pub fn sign_in(addr: &str, username: &str, password: &str) -> std::io::Result<Session> {
    let mut conn = Conn::open(addr)?;
    let body = format!(r#"{{"username":"{username}","password":"{password}"}}"#);
    let (status, headers, body) = conn.request("POST", "/api/v1/session", Some(&body))?;
    if status != 200 {
        return Err(bad(&format!("sign-in as {username} answered {status}")));
    }
    let cookie = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .and_then(|(_, v)| v.split(';').next())
        .ok_or_else(|| bad("no session cookie"))?
        .to_string();
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| bad(&e.to_string()))?;
    let csrf = v["csrf_token"].as_str().ok_or_else(|| bad("no csrf token"))?;
    Ok(Session(format!("Cookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n")))
}

impl Session {
    /// The header lines that carry it (`Cookie: …\r\nX-CSRF-Token: …\r\n`).
    pub fn headers(&self) -> &str {
        &self.0
    }
}

impl Conn {
    /// Connects to `addr` (`127.0.0.1:PORT`).
    pub fn open(addr: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            host: addr.to_string(),
            auth: String::new(),
        })
    }

    /// This connection's requests carry `session`.
    pub fn with_session(mut self, session: &Session) -> Conn {
        self.auth = session.0.clone();
        self
    }

    /// Sends a request and reads the whole response: (status, headers, body).
    #[allow(clippy::type_complexity)]
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        json: Option<&str>,
    ) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
        let body = json.unwrap_or_default();
        write!(
            self.writer,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            self.auth,
            body.len()
        )?;
        self.read_full()
    }

    /// Sends `GET path` and reads the whole response: (status, body length).
    pub fn get(&mut self, path: &str) -> std::io::Result<(u16, usize)> {
        write!(
            self.writer,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\n{}\r\n",
            self.host, self.auth
        )?;
        self.read_response()
    }

    /// Sends `GET path` accepting `encoding` (`identity`, `gzip`, `br`, `zstd`) and reads the
    /// whole response: (status, its `Content-Encoding`, the bytes as sent).
    pub fn get_encoded(&mut self, path: &str, encoding: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
        write!(
            self.writer,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nAccept-Encoding: {encoding}\r\n{}\r\n",
            self.host, self.auth
        )?;
        let (status, headers, body) = self.read_full()?;
        let used = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-encoding"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "identity".into());
        Ok((status, used, body))
    }

    /// Sends `POST path` with a JSON body and reads the whole response: (status, body length).
    pub fn post_json(&mut self, path: &str, body: &str) -> std::io::Result<(u16, usize)> {
        write!(
            self.writer,
            "POST {path} HTTP/1.1\r\nHost: {}\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            self.auth,
            body.len()
        )?;
        self.read_response()
    }

    fn read_response(&mut self) -> std::io::Result<(u16, usize)> {
        let (status, _, body) = self.read_full()?;
        Ok((status, body.len()))
    }

    #[allow(clippy::type_complexity)]
    fn read_full(&mut self) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
        self.writer.flush()?;
        let mut headers = Vec::new();
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad(&line))?;
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.to_string(), value.trim().to_string()));
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.trim().eq_ignore_ascii_case("chunked");
                }
            }
        }
        if chunked {
            // A compressed answer is streamed: chunks of hex length, then an empty one.
            let mut body = Vec::new();
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| bad(&format!("bad chunk size {line:?}")))?;
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..])?;
                line.clear();
                self.reader.read_line(&mut line)?;
                if size == 0 {
                    break;
                }
            }
            return Ok((status, headers, body));
        }
        let length = length.ok_or_else(|| bad("no content-length"))?;
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, headers, body))
    }
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.trim().to_string())
}

/// One request on a new connection.
pub fn get(addr: &str, path: &str) -> std::io::Result<(u16, usize)> {
    Conn::open(addr)?.get(path)
}
