//! The typed API client: the only module that speaks HTTP. Every call returns the shared types
//! or an [`ApiError`] carrying the server's envelope.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::audit::{AuditPage, ChainReport};
use shared::org::{Department, DepartmentInput, Process, ProcessId, ProcessInput, RetireInput, Site, SiteInput};
use shared::{ErrorBody, List};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with an error status and our envelope.
    Status(u16, ErrorBody),
    /// The server could not be reached, or answered with something unreadable.
    Network(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Status(_, body) => f.write_str(&body.message),
            ApiError::Network(e) => {
                write!(f, "The server could not be reached ({e}). Check your connection and retry.")
            }
        }
    }
}

impl std::error::Error for ApiError {}

type ApiResult<T> = Result<T, ApiError>;

async fn read<T: DeserializeOwned>(res: Response) -> ApiResult<T> {
    if res.ok() {
        res.json::<T>().await.map_err(|e| ApiError::Network(e.to_string()))
    } else {
        let status = res.status();
        let body = res
            .json::<ErrorBody>()
            .await
            .unwrap_or_else(|_| ErrorBody::new(format!("The server answered {status} {}.", res.status_text())));
        Err(ApiError::Status(status, body))
    }
}

async fn send<T: DeserializeOwned>(req: RequestBuilder) -> ApiResult<T> {
    let res = req.send().await.map_err(|e| ApiError::Network(e.to_string()))?;
    read(res).await
}

async fn send_json<T: DeserializeOwned>(req: RequestBuilder, body: &impl Serialize) -> ApiResult<T> {
    let req = req.json(body).map_err(|e| ApiError::Network(e.to_string()))?;
    let res = req.send().await.map_err(|e| ApiError::Network(e.to_string()))?;
    read(res).await
}

/// `GET /api/v1/processes`
pub async fn list_processes(include_retired: bool) -> ApiResult<Vec<Process>> {
    let list: List<Process> =
        send(Request::get(&format!("/api/v1/processes?include_retired={include_retired}"))).await?;
    Ok(list.items)
}

/// `GET /api/v1/processes/{id}`
pub async fn get_process(id: ProcessId) -> ApiResult<Process> {
    send(Request::get(&format!("/api/v1/processes/{id}"))).await
}

/// `POST /api/v1/processes`
pub async fn create_process(input: &ProcessInput) -> ApiResult<Process> {
    send_json(Request::post("/api/v1/processes"), input).await
}

/// `PUT /api/v1/processes/{id}` (the input carries the version the edit is based on)
pub async fn update_process(id: ProcessId, input: &ProcessInput) -> ApiResult<Process> {
    send_json(Request::put(&format!("/api/v1/processes/{id}")), input).await
}

/// `POST /api/v1/processes/{id}/retire`
pub async fn retire_process(id: ProcessId, input: &RetireInput) -> ApiResult<Process> {
    send_json(Request::post(&format!("/api/v1/processes/{id}/retire")), input).await
}

/// `GET /api/v1/departments`
pub async fn list_departments(include_retired: bool) -> ApiResult<Vec<Department>> {
    let list: List<Department> =
        send(Request::get(&format!("/api/v1/departments?include_retired={include_retired}"))).await?;
    Ok(list.items)
}

/// `POST /api/v1/departments`
pub async fn create_department(input: &DepartmentInput) -> ApiResult<Department> {
    send_json(Request::post("/api/v1/departments"), input).await
}

/// `POST /api/v1/sites`
pub async fn create_site(input: &SiteInput) -> ApiResult<Site> {
    send_json(Request::post("/api/v1/sites"), input).await
}

/// `GET /api/v1/sites`
pub async fn list_sites(include_retired: bool) -> ApiResult<Vec<Site>> {
    let list: List<Site> = send(Request::get(&format!("/api/v1/sites?include_retired={include_retired}"))).await?;
    Ok(list.items)
}

/// `GET /api/v1/audit?{query}` (query already encoded, see [`audit_query`])
pub async fn list_audit(query: &str) -> ApiResult<AuditPage> {
    send(Request::get(&format!("/api/v1/audit?{query}"))).await
}

/// `GET /api/v1/audit/verify`
pub async fn verify_audit() -> ApiResult<ChainReport> {
    send(Request::get("/api/v1/audit/verify")).await
}

/// Encodes audit filters as a query string, leaving out empty ones.
pub fn audit_query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", encode_component(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode_component(s: &str) -> String {
    // encodeURIComponent's set: keep A-Z a-z 0-9 - _ . ! ~ * ' ( ), escape the rest as UTF-8.
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
