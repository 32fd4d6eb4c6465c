//! One error type for the whole API, rendered as the shared envelope
//! (`shared::ErrorBody`), and extractors that turn every malformed request into that envelope
//! instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use shared::validation::{INVALID, REQUIRED, UNKNOWN_FIELD};
use shared::{ErrorBody, FieldErrors};

use crate::middleware::current_request_id;
use crate::storage::StoreError;

/// An API error: a status and the envelope. Internal errors keep their source for the log and
/// send only a generic message and the request id.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Box<ErrorBody>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// `Retry-After` in seconds (503 when busy).
    retry_after: Option<u32>,
}

/// The result of every handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, body: Box::new(ErrorBody::new(message)), source: None, retry_after: None }
    }

    /// 503 with `Retry-After`: the server cannot take this now, and says when to try again.
    pub fn busy(message: impl Into<String>, retry_after_secs: u32) -> Self {
        Self { retry_after: Some(retry_after_secs), ..Self::new(StatusCode::SERVICE_UNAVAILABLE, message) }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: no such record or route.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409 with the record as it is now, so the client can show both versions.
    pub fn conflict(message: impl Into<String>, current: &impl serde::Serialize) -> Self {
        let mut e = Self::new(StatusCode::CONFLICT, message);
        e.body.current = serde_json::to_value(current).ok();
        e
    }

    /// 422 with the field errors.
    pub fn invalid(field_errors: FieldErrors) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Not saved: some fields are not valid.");
        e.body.field_errors = field_errors;
        e
    }

    /// 422 for one field, with the decoder's message (without its line/column noise).
    /// 422 for one field, with `message` as the envelope's message.
    pub fn invalid_field(field: String, code: &str, message: &str) -> Self {
        let mut fields = FieldErrors::new();
        fields.add(field.clone(), code);
        let mut e = ApiError::invalid(fields);
        e.body.message = format!("`{field}`: {}", strip_position(message));
        e
    }

    /// 500; `source` goes to the log, never to the client.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: Box::new(ErrorBody::new(
                "Something went wrong on our side. Quote the request id when you report it.",
            )),
            source: Some(source.into()),
            retry_after: None,
        }
    }

    /// The same error with another message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.body.message = message.into();
        self
    }

    /// The same error naming fields too.
    pub fn with_field_errors(mut self, field_errors: FieldErrors) -> Self {
        self.body.field_errors = field_errors;
        self
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(message) => ApiError::new(StatusCode::NOT_FOUND, message),
            StoreError::Forbidden(message) => ApiError::new(StatusCode::FORBIDDEN, message),
            StoreError::Stale(message)
            | StoreError::Retired(message)
            | StoreError::InUse(message)
            | StoreError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, message),
            StoreError::Invalid(fields) => ApiError::invalid(fields),
            StoreError::Refused(message, fields) => ApiError::invalid(fields).with_message(message),
            e @ StoreError::Internal(_) => ApiError::internal(e),
            StoreError::Database(sqlx::Error::PoolTimedOut) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "The database is busy; try again in a moment.")
            }
            StoreError::Database(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.body;
        if self.status.is_server_error() {
            // Logged once, here, inside the request's span (which carries the request id).
            match &self.source {
                Some(source) => tracing::error!(error = %source, "request failed"),
                None => tracing::error!(message = %body.message, "request failed"),
            }
            body.request_id = current_request_id();
        }
        let mut res = (self.status, axum::Json(*body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        res
    }
}

/// A JSON body extractor whose every failure is our envelope: 415 without a JSON content
/// type, 413 over the body limit, 400 for malformed JSON, 422 naming the field for wrong
/// types, unknown fields and missing fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        let ApiBytes(bytes) = ApiBytes::from_request(req, state).await?;
        decode_json(&bytes).map(ApiJson)
    }
}

/// The raw body, whose failures are our envelope too: 413 over the route's body limit, 400
/// when it cannot be read.
#[derive(Debug, Clone, Default)]
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(ApiBytes).map_err(|rejection: BytesRejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.")
            } else {
                ApiError::bad_request(format!("The request body could not be read: {rejection}"))
            }
        })
    }
}

/// Decodes `bytes` as `T`, mapping each failure to the envelope (see [`ApiJson`]).
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(&mut *de) {
        Ok(value) => value,
        // serde_json reports a number, array or object where an enum's name belongs as a syntax
        // error ("expected value"), though the body is valid JSON: it is that field's value that
        // is wrong (422 naming it), not the body (400).
        Err(e)
            if e.inner().classify() == Category::Syntax
                && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() =>
        {
            let path = e.path().to_string();
            let field = if path == "." || path.starts_with('[') { "body".to_string() } else { path };
            return Err(ApiError::invalid_field(field, INVALID, "not one of the allowed values"));
        }
        Err(e) => return Err(decode_error(e)),
    };
    de.end().map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Decodes an already parsed JSON value as `T`, with the same field-naming errors as
/// [`decode_json`] (for bodies read in two steps, e.g. around a `#[serde(flatten)]`, whose
/// inner errors serde would otherwise report without their field).
pub fn decode_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(decode_error)
}

fn decode_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            Category::Data => {
                let message = inner.to_string();
                // serde_path_to_error's path already ends at the offending field (also for an
                // unknown one); a sequence index at the top means the body is not an object.
                let field = if path == "." || path.starts_with('[') { "body".to_string() } else { path };
                let code = if message.starts_with("unknown field") {
                    UNKNOWN_FIELD
                } else if let Some(name) = quoted_after(&message, "missing field `") {
                    return ApiError::invalid_field(join_path(&field, name), REQUIRED, &message);
                } else {
                    INVALID
                };
                ApiError::invalid_field(field, code, &message)
            }
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request(format!("The request body is not valid JSON: {inner}"))
            }
        }
    }
}

fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    rest.split('`').next()
}

fn join_path(path: &str, name: &str) -> String {
    if path == "body" { name.to_string() } else { format!("{path}.{name}") }
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// Path parameters; a malformed one (e.g. a non-numeric id) is a 400 envelope naming it.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                Err(ApiError::bad_request(format!("Bad path parameter: {}", e.body_text())))
            }
            Err(e) => Err(ApiError::internal(e.body_text())),
        }
    }
}

/// Query parameters; a malformed one is a 400 envelope naming it.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| ApiError::bad_request(format!("Bad query parameter: {}", e.body_text())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::org::ProcessInput;

    #[test]
    fn every_store_error_answers_with_its_own_status() {
        use crate::storage::StoreError;
        let mut fields = shared::FieldErrors::new();
        fields.add("name", shared::validation::TAKEN);
        let cases = [
            (StoreError::NotFound("No risk 7.".into()), StatusCode::NOT_FOUND),
            (StoreError::Forbidden("not yours".into()), StatusCode::FORBIDDEN),
            (StoreError::Stale("changed".into()), StatusCode::CONFLICT),
            (StoreError::Retired("retired".into()), StatusCode::CONFLICT),
            (StoreError::InUse("in use".into()), StatusCode::CONFLICT),
            (StoreError::Conflict("raced".into()), StatusCode::CONFLICT),
            (StoreError::Invalid(fields), StatusCode::UNPROCESSABLE_ENTITY),
            (StoreError::unreadable("site", 3), StatusCode::INTERNAL_SERVER_ERROR),
            (StoreError::Database(sqlx::Error::PoolTimedOut), StatusCode::SERVICE_UNAVAILABLE),
            (StoreError::Database(sqlx::Error::RowNotFound), StatusCode::INTERNAL_SERVER_ERROR),
        ];
        for (error, status) in cases {
            let shown = error.to_string();
            let api = ApiError::from(error);
            assert_eq!(api.status(), status, "{shown}");
            if [StatusCode::CONFLICT, StatusCode::NOT_FOUND, StatusCode::FORBIDDEN].contains(&status) {
                // The domain message reaches the user as it is.
                assert_eq!(api.body.message, shown);
            }
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                // Internal details are logged, never sent.
                assert!(!api.body.message.contains("site 3"), "{}", api.body.message);
            }
        }
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = decode_json::<ProcessInput>(br#"{"name": 5}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.body.field_errors.get("name"), Some(&["invalid".to_string()][..]));
        // A number, an object or an array where an enum's name belongs (found by the fuzzer:
        // serde_json calls it a syntax error, and it was a 400 "not valid JSON").
        for body in [&br#"{"kind": 5}"#[..], br#"{"kind": {}}"#, br#"{"kind": []}"#, br#"{"kind": "nope"}"#] {
            let e = decode_json::<shared::worksheet::FmeaInput>(body).unwrap_err();
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", String::from_utf8_lossy(body));
            assert_eq!(e.body.field_errors.get("kind"), Some(&["invalid".to_string()][..]));
        }
    }

    #[test]
    fn unknown_fields_name_the_field() {
        let e = decode_json::<ProcessInput>(br#"{"name": "x", "colour": "red"}"#).unwrap_err();
        assert_eq!(e.body.field_errors.get("colour"), Some(&["unknown_field".to_string()][..]));
    }

    #[test]
    fn syntax_errors_and_trailing_garbage_are_400() {
        assert_eq!(decode_json::<ProcessInput>(br#"{"name": "#).unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(decode_json::<ProcessInput>(br#"{} {}"#).unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(decode_json::<ProcessInput>(b"").unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_non_object_body_is_422_on_body() {
        let e = decode_json::<ProcessInput>(b"[1,2]").unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.body.field_errors.get("body").is_some());
    }
}
