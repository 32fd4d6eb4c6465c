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

use std::hash::{Hash as _, Hasher as _};

use axum::body::{Body, HttpBody as _};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Answers above this size are passed on without a tag (they are not held twice in memory).
const MAX_TAGGED_BYTES: u64 = 64 * 1024 * 1024;

/// The middleware (on the API router).
pub async fn conditional_get(req: Request, next: Next) -> Response {
    let readable = req.method() == Method::GET || req.method() == Method::HEAD;
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
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
    let tag = etag_of(&bytes);
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
    Response::from_parts(parts, Body::from(bytes))
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
