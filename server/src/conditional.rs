//! Conditional reads (RFC 9110 §13): every successful `GET` of the API whose answer is already
//! in memory (JSON, CSV, a workbook: the body's size is known) carries a weak `ETag`, a hash of
//! its bytes, with `Cache-Control: private, no-cache`, so that a browser (or a script) asks
//! again with `If-None-Match` and gets `304 Not Modified`, no body, when nothing changed. The
//! app's reload after a live event often refetches what it already has; this saves the bytes.
//!
//! The answer is always computed for the person asking, so a 304 never hands one person's data
//! to another: it only says "what you have is what I would send". Records that carry their
//! version as a strong `ETag` (for `If-Match` on writes) are left as they are, and so are
//! streamed answers (the live-update stream, streamed exports): their size is not known.
//!
//! A big answer (a 10,000-row worksheet is 11 MB of JSON) is hashed and compressed here, on the
//! blocking pool, not by the compression layer on an async worker: a worker held for the tens
//! of milliseconds that takes would hold up every small request queued behind it (a list's p99
//! at 1,000 req/s on PostgreSQL rose to 46 ms while worksheets were fetched back to back).
//!
//! The biggest answers that many people ask for again unchanged (a worksheet) are kept
//! compressed in an [`AnswerCache`], by a key that names the version of everything in them:
//! asked again, they cost two small queries instead of reading, writing and compressing
//! megabytes (about 67 ms of CPU for a 10,000-row worksheet).

use std::future::Future;
use std::hash::{Hash as _, Hasher as _};

use axum::body::{Body, HttpBody as _};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Answers above this size are passed on without a tag (they are not held twice in memory).
const MAX_TAGGED_BYTES: u64 = 64 * 1024 * 1024;
/// Answers from this size on are hashed and compressed on the blocking pool.
pub const BIG_BYTES: usize = 256 * 1024;

/// The middleware (on the API router).
pub async fn conditional_get(req: Request, next: Next) -> Response {
    let readable = req.method() == Method::GET || req.method() == Method::HEAD;
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let encoding = preferred_encoding(req.headers().get(header::ACCEPT_ENCODING));
    let res = next.run(req).await;
    if !readable
        || res.status() != StatusCode::OK
        || res.headers().contains_key(header::ETAG)
        || res.headers().get(header::CACHE_CONTROL).is_some_and(|v| v.as_bytes().windows(8).any(|w| w == b"no-store"))
    {
        return res;
    }
    let Some(size) = res.body().size_hint().exact().filter(|n| *n <= MAX_TAGGED_BYTES) else {
        return res;
    };
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, size as usize).await else {
        return crate::error::ApiError::internal("The answer could not be read.").into_response();
    };
    let big = bytes.len() >= BIG_BYTES;
    let (tag, bytes) = if big {
        match tokio::task::spawn_blocking(move || (etag_of(&bytes), bytes)).await {
            Ok(tagged) => tagged,
            Err(_) => return crate::error::ApiError::internal("The answer could not be read.").into_response(),
        }
    } else {
        (etag_of(&bytes), bytes)
    };
    let Ok(value) = HeaderValue::from_str(&tag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.insert(header::ETAG, value.clone());
    parts.headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("private, no-cache"));
    if if_none_match.as_ref().and_then(|v| v.to_str().ok()).is_some_and(|v| matches(v, &tag)) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
            if let Some(v) = parts.headers.get(&name) {
                not_modified.headers_mut().insert(name, v.clone());
            }
        }
        return not_modified;
    }
    let text = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/"));
    if let Some(encoding) = encoding.filter(|_| big && text && !parts.headers.contains_key(header::CONTENT_ENCODING)) {
        let compressed = tokio::task::spawn_blocking(move || encoding.compress(&bytes)).await;
        let Ok(Ok(compressed)) = compressed else {
            return crate::error::ApiError::internal("The answer could not be compressed.").into_response();
        };
        parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding.name()));
        parts.headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(compressed));
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `value` as a JSON answer, written on the blocking pool (for the big ones: a 10,000-row
/// worksheet is 11 MB of JSON, tens of milliseconds an async worker would not serve anyone else).
pub async fn json_off_thread<T: serde::Serialize + Send + 'static>(value: T) -> Response {
    match tokio::task::spawn_blocking(move || serde_json::to_vec(&value)).await {
        Ok(Ok(bytes)) => {
            ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], Body::from(bytes)).into_response()
        }
        _ => crate::error::ApiError::internal("The answer could not be written.").into_response(),
    }
}

/// Big answers kept compressed (by key and coding), so that one asked again unchanged is sent
/// as it is: at most [`AnswerCache::BYTES`] in all, the least recently used given up first.
/// A key must name the version of everything the answer holds (e.g. the audit trail's newest
/// entry of each record type it shows): an answer is never checked against the database again.
#[derive(Debug, Default)]
pub struct AnswerCache {
    kept: std::sync::Mutex<std::collections::VecDeque<(String, Encoding, std::sync::Arc<Kept>)>>,
}

/// A kept answer: its tag (that of its JSON, as [`conditional_get`] would give it) and its
/// compressed bytes.
#[derive(Debug)]
pub struct Kept {
    tag: String,
    body: axum::body::Bytes,
}

impl AnswerCache {
    /// The most compressed bytes kept (a 10,000-row worksheet is about 150 KB in zstd, 1.1 MB in
    /// gzip).
    pub const BYTES: usize = 16 * 1024 * 1024;

    fn get(&self, key: &str, encoding: Encoding) -> Option<std::sync::Arc<Kept>> {
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = kept.iter().position(|(k, e, _)| k == key && *e == encoding)?;
        let entry = kept.remove(at)?;
        let answer = entry.2.clone();
        kept.push_back(entry);
        Some(answer)
    }

    fn put(&self, key: String, encoding: Encoding, answer: std::sync::Arc<Kept>) {
        if answer.body.len() > Self::BYTES / 4 {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.retain(|(k, e, _)| !(*k == key && *e == encoding));
        kept.push_back((key, encoding, answer));
        while kept.iter().map(|(_, _, a)| a.body.len()).sum::<usize>() > Self::BYTES {
            kept.pop_front();
        }
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A big JSON answer through `cache`: sent as kept when `key` (which names the version of
/// everything in it) was answered before in the coding the client prefers, otherwise built by
/// `build`, written, tagged and compressed on the blocking pool, kept and sent. It carries its
/// tag, and `If-None-Match` on it answers 304. A client that accepts no compression gets the
/// plain JSON, not kept (the middleware tags it).
pub async fn cached_json<T, F>(
    cache: &AnswerCache,
    key: String,
    headers: &axum::http::HeaderMap,
    build: F,
) -> Result<Response, crate::error::ApiError>
where
    T: serde::Serialize + Send + 'static,
    F: Future<Output = Result<T, crate::error::ApiError>>,
{
    let Some(encoding) = preferred_encoding(headers.get(header::ACCEPT_ENCODING)) else {
        return Ok(json_off_thread(build.await?).await);
    };
    let answer = match cache.get(&key, encoding) {
        Some(answer) => answer,
        None => {
            let value = build.await?;
            let written = tokio::task::spawn_blocking(move || -> std::io::Result<Kept> {
                let json = serde_json::to_vec(&value)?;
                Ok(Kept { tag: etag_of(&json), body: encoding.compress(&json)?.into() })
            })
            .await;
            let Ok(Ok(answer)) = written else {
                return Err(crate::error::ApiError::internal("The answer could not be written."));
            };
            let answer = std::sync::Arc::new(answer);
            cache.put(key, encoding, answer.clone());
            answer
        }
    };
    let tag = HeaderValue::from_str(&answer.tag).map_err(crate::error::ApiError::internal)?;
    let common = [
        (header::ETAG, tag),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    let unchanged =
        headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| matches(v, &answer.tag));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok((
        StatusCode::OK,
        common,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CONTENT_ENCODING, HeaderValue::from_static(encoding.name())),
        ],
        Body::from(answer.body.clone()),
    )
        .into_response())
}

/// A content coding, as the compression layer chooses them (zstd, brotli, gzip: the cheapest
/// on the server's CPU first; level 4 of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Zstandard.
    Zstd,
    /// Brotli.
    Br,
    /// Gzip.
    Gzip,
}

impl Encoding {
    /// Its name in `Content-Encoding`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Zstd => "zstd",
            Encoding::Br => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// `bytes` in this coding.
    pub fn compress(self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        use std::io::Write as _;
        match self {
            Encoding::Zstd => zstd::encode_all(bytes, 4),
            Encoding::Br => {
                let mut out = Vec::with_capacity(bytes.len() / 8);
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 4, 22);
                    w.write_all(bytes)?;
                }
                Ok(out)
            }
            Encoding::Gzip => {
                let mut w =
                    flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 8), flate2::Compression::new(4));
                w.write_all(bytes)?;
                w.finish()
            }
        }
    }
}

/// The coding to answer in, from `Accept-Encoding`: zstd, then brotli, then gzip, among those
/// accepted with a weight above 0.
pub fn preferred_encoding(accept: Option<&HeaderValue>) -> Option<Encoding> {
    let accept = accept?.to_str().ok()?;
    let accepted = |name: &str| {
        accept.split(',').any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let q =
                parts.find_map(|p| p.trim().strip_prefix("q=")).map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
            coding.eq_ignore_ascii_case(name) && q > 0.0
        })
    };
    [Encoding::Zstd, Encoding::Br, Encoding::Gzip].into_iter().find(|e| accepted(e.name()))
}

/// A weak tag of the bytes: their length and a 64-bit hash (SipHash; an accidental collision
/// for the same URL and length is out of reach, and a tag is no secret).
pub fn etag_of(bytes: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("W/\"{:x}-{:016x}\"", bytes.len(), h.finish())
}

/// Whether an `If-None-Match` list names `tag` (weak comparison: `W/` is ignored), or is `*`.
pub fn matches(if_none_match: &str, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let tag = bare(tag);
    if_none_match.split(',').any(|t| t.trim() == "*" || bare(t) == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coding_is_the_cheapest_accepted() {
        let pick = |v: &'static str| preferred_encoding(Some(&HeaderValue::from_static(v)));
        assert_eq!(pick("gzip, deflate, br, zstd"), Some(Encoding::Zstd));
        assert_eq!(pick("gzip, br"), Some(Encoding::Br));
        assert_eq!(pick("zstd;q=0, br;q=0, gzip;q=0.5"), Some(Encoding::Gzip));
        assert_eq!(pick("identity"), None);
        assert_eq!(preferred_encoding(None), None);
    }

    #[test]
    fn tags_compare_weakly_and_in_lists() {
        let tag = etag_of(b"{\"items\":[]}");
        assert!(tag.starts_with("W/\"c-"));
        assert!(matches(&tag, &tag));
        assert!(matches(&format!("\"x\", {}", tag.trim_start_matches("W/")), &tag));
        assert!(matches("*", &tag));
        assert!(!matches("W/\"c-0000000000000000\"", &tag));
        assert_ne!(etag_of(b"a"), etag_of(b"b"));
    }
}
