//! A minimal HTTP/1.1 client over a kept-alive TCP connection: enough for health checks and
//! the load generator, without pulling an async runtime into xtask.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One kept-alive connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
}

impl Conn {
    /// Connects to `addr` (`127.0.0.1:PORT`).
    pub fn open(addr: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn { reader: BufReader::new(stream.try_clone()?), writer: stream, host: addr.to_string() })
    }

    /// Sends `GET path` and reads the whole response: (status, body length).
    pub fn get(&mut self, path: &str) -> std::io::Result<(u16, usize)> {
        write!(self.writer, "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\n\r\n", self.host)?;
        self.read_response()
    }

    /// Sends `POST path` with a JSON body and reads the whole response: (status, body length).
    pub fn post_json(&mut self, path: &str, body: &str) -> std::io::Result<(u16, usize)> {
        write!(
            self.writer,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        )?;
        self.read_response()
    }

    fn read_response(&mut self) -> std::io::Result<(u16, usize)> {
        self.writer.flush()?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad(&line))?;
        let mut length = None;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(bad("chunked responses are not supported by the bench client"));
                }
            }
        }
        let length = length.ok_or_else(|| bad("no content-length"))?;
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, length))
    }
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.trim().to_string())
}

/// One request on a new connection.
pub fn get(addr: &str, path: &str) -> std::io::Result<(u16, usize)> {
    Conn::open(addr)?.get(path)
}
