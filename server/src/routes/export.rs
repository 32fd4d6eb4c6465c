//! CSV downloads, streamed: the response starts at once and the file is written a chunk of
//! [`CHUNK`] records at a time, each read or encoded when the client has taken the one before.
//! Memory stays bounded by one chunk whatever the size of the register, trail or worksheet.
//!
//! Records that live in the database are listed by id first, in the export's order (a few
//! bytes each), then read by id chunk by chunk ([`by_ids`]): the file holds exactly the records
//! that matched when it started, in that order, even while others are added or moved. Records a
//! route has already computed whole (the training matrix) are encoded chunk by chunk
//! ([`in_chunks`]). A chunk that cannot be read ends the download with an error, logged: the
//! client's connection is reset, so a partial file never looks complete.

use std::future::Future;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt, stream};

use crate::storage::{StoreError, StoreResult};

/// Records read and written per chunk.
pub const CHUNK: usize = 500;

/// A CSV attachment named `filename`: `header`, then every chunk of `lines`.
pub fn csv_download<S>(filename: &str, header: String, lines: S) -> Response
where
    S: Stream<Item = Result<String, StoreError>> + Send + 'static,
{
    let head = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(header)) });
    let name = filename.to_string();
    let lines = lines.map(move |chunk| {
        chunk.map(Bytes::from).map_err(|e| {
            tracing::error!(error = %e, file = %name, "a CSV export stopped: its records could not be read");
            std::io::Error::other(e.to_string())
        })
    });
    // Fused: the compression layer polls once more after the end, which some streams answer
    // with a panic (found by the API fuzzer on the audit export).
    let body = Body::from_stream(head.chain(lines).fuse());
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}

/// The lines of the records `ids`, read [`CHUNK`] at a time by `fetch` (which returns them in
/// the order asked, leaving out any gone since) and written by `line`.
pub fn by_ids<T, F, Fut, L>(ids: Vec<i64>, fetch: F, line: L) -> impl Stream<Item = Result<String, StoreError>> + Send
where
    T: Send,
    F: Fn(Vec<i64>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = StoreResult<Vec<T>>> + Send,
    L: Fn(&T) -> String + Send + Sync + 'static,
{
    let chunks: Vec<Vec<i64>> = ids.chunks(CHUNK).map(<[i64]>::to_vec).collect();
    let (fetch, line) = (Arc::new(fetch), Arc::new(line));
    stream::iter(chunks).then(move |chunk| {
        let (fetch, line) = (fetch.clone(), line.clone());
        async move { Ok(fetch(chunk).await?.iter().map(|t| line(t)).collect()) }
    })
}

/// The lines of records already in memory, written [`CHUNK`] at a time.
pub fn in_chunks<T, L>(items: Vec<T>, line: L) -> impl Stream<Item = Result<String, StoreError>> + Send
where
    T: Send + 'static,
    L: Fn(&T) -> String + Send + 'static,
{
    let mut items = items.into_iter();
    stream::iter(std::iter::from_fn(move || {
        let chunk: String = items.by_ref().take(CHUNK).map(|t| line(&t)).collect();
        (!chunk.is_empty()).then_some(Ok(chunk))
    }))
}
