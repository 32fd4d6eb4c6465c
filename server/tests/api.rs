//! The HTTP contract, driven through the real router (`app()`), on both databases: envelopes
//! for every kind of bad request, version conflicts, the OpenAPI document, panics, and the
//! static app with its SPA fallback.

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use common::{Client, TestDb};
use serde_json::{Value, json};
use server::storage::Store;

/// The signed-in user's id.
async fn me(client: &Client) -> i64 {
    client.get("/api/v1/session").await.body["user"]["id"].as_i64().unwrap()
}

async fn department(client: &Client) -> i64 {
    let r = client.json("POST", "/api/v1/departments", &json!({"name": "Quality Assurance"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

fn assert_envelope(r: &common::Reply, status: StatusCode) {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()), "no envelope: {}", r.text);
    assert!(r.body["field_errors"].is_object(), "no field_errors: {}", r.text);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
}

async fn process_lifecycle_over_http(store: Arc<dyn Store>, _db: TestDb) {
    let other = common::create_user(&store, "someone.else", &[shared::auth::Role::ProcessOwner]).await.0;
    let client = Client::admin(store).await;
    let owner = me(&client).await;
    let dept = department(&client).await;

    // An empty name is refused with a field error, and nothing is saved.
    let r = client
        .json("POST", "/api/v1/processes", &json!({"name": "  ", "owner_id": owner, "department_id": dept}))
        .await;
    assert_envelope(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field_errors"]["name"], json!(["required"]));
    assert_eq!(client.get("/api/v1/processes").await.body["items"], json!([]));

    // Fixed, it is created: 201, Location, ETag.
    let r = client
        .json(
            "POST",
            "/api/v1/processes",
            &json!({"name": "Document control", "owner_id": owner, "department_id": dept}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.headers[header::LOCATION], format!("/api/v1/processes/{id}").as_str());
    assert_eq!(r.headers[header::ETAG], "\"1\"");
    assert_eq!(r.body["department_name"], "Quality Assurance");

    let r = client.get(&format!("/api/v1/processes/{id}")).await;
    assert_eq!((r.status, r.body["name"].clone()), (StatusCode::OK, json!("Document control")));

    // A change needs a reason (a process is a controlled record).
    let mut body = json!({"name": "Document control", "description": "ISO 9001 7.5", "owner_id": owner,
                          "department_id": dept, "version": 1});
    let r = client.json("PUT", &format!("/api/v1/processes/{id}"), &body).await;
    assert_envelope(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field_errors"]["reason"], json!(["required"]));
    body["reason"] = json!("Scope per ISO 9001 7.5");

    // Update with the version in the body.
    let r = client.json("PUT", &format!("/api/v1/processes/{id}"), &body).await;
    assert_eq!((r.status, r.body["version"].clone()), (StatusCode::OK, json!(2)), "{}", r.text);

    // A second save based on version 1 conflicts and carries the current record.
    let mut late = body.clone();
    late["owner_id"] = json!(other);
    let r = client.json("PUT", &format!("/api/v1/processes/{id}"), &late).await;
    assert_envelope(&r, StatusCode::CONFLICT);
    assert_eq!(r.body["current"]["version"], 2);
    assert_eq!(r.body["current"]["owner_name"], "Ada Admin");
    assert!(r.body["message"].as_str().unwrap().contains("changed by someone else"));

    // If-Match works as well as the body's version; without either the server asks for one.
    let mut no_version = late.clone();
    no_version.as_object_mut().unwrap().remove("version");
    let req = Request::put(format!("/api/v1/processes/{id}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::IF_MATCH, "\"2\"")
        .body(Body::from(no_version.to_string()))
        .unwrap();
    let r = client.send(req).await;
    assert_eq!((r.status, r.body["owner_name"].clone()), (StatusCode::OK, json!("Someone Else")), "{}", r.text);
    let r = client.json("PUT", &format!("/api/v1/processes/{id}"), &no_version).await;
    assert_envelope(&r, StatusCode::PRECONDITION_REQUIRED);

    // Retire needs a reason; then the process is read-only.
    let r = client.json("POST", &format!("/api/v1/processes/{id}/retire"), &json!({"reason": "", "version": 3})).await;
    assert_eq!(r.body["field_errors"]["reason"], json!(["required"]));
    let r = client
        .json("POST", &format!("/api/v1/processes/{id}/retire"), &json!({"reason": "Merged", "version": 3}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["retired_reason"], "Merged");
    assert_eq!(client.get("/api/v1/processes").await.body["items"], json!([]));
    assert_eq!(client.get("/api/v1/processes?include_retired=true").await.body["items"].as_array().unwrap().len(), 1);
    let r = client
        .json(
            "PUT",
            &format!("/api/v1/processes/{id}"),
            &json!({"name": "x", "owner_id": owner, "department_id": dept, "version": 4, "reason": "late"}),
        )
        .await;
    assert_envelope(&r, StatusCode::CONFLICT);
    assert!(r.body["message"].as_str().unwrap().contains("retired"));
}

async fn bad_requests_get_the_envelope(store: Arc<dyn Store>, _db: TestDb) {
    let client = Client::admin(store).await;
    let dept = department(&client).await;

    let r = client.raw("POST", "/api/v1/processes", "application/json", "{\"name\": ").await;
    assert_envelope(&r, StatusCode::BAD_REQUEST);

    let r = client.json("POST", "/api/v1/processes", &json!({"name": 42, "owner_id": 1, "department_id": dept})).await;
    assert_envelope(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field_errors"]["name"], json!(["invalid"]));

    let r =
        client.json("POST", "/api/v1/processes", &json!({"name": "a", "owner_id": 1, "department_id": "seven"})).await;
    assert_eq!(r.body["field_errors"]["department_id"], json!(["invalid"]));

    let r = client
        .json("POST", "/api/v1/processes", &json!({"name": "a", "owner_id": 1, "department_id": dept, "colour": "red"}))
        .await;
    assert_envelope(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field_errors"]["colour"], json!(["unknown_field"]));

    let r =
        client.json("POST", "/api/v1/processes", &json!({"name": "a", "owner_id": 1, "department_id": 99999})).await;
    assert_eq!(r.body["field_errors"]["department_id"], json!(["not_found"]));

    // A NUL byte (which PostgreSQL cannot store) is a field error, not a 500.
    let r = client
        .json("POST", "/api/v1/processes", &json!({"name": "a\u{0}b", "owner_id": 1, "department_id": dept}))
        .await;
    assert_envelope(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field_errors"]["name"], json!(["control_characters"]));
    let r = client.json("POST", "/api/v1/processes/1/retire", &json!({"reason": "\u{0}", "version": 1})).await;
    assert_eq!(r.body["field_errors"]["reason"], json!(["control_characters"]));

    let r = client.raw("POST", "/api/v1/processes", "text/plain", "{}").await;
    assert_envelope(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(server::BODY_LIMIT_BYTES + 10));
    let r = client.raw("POST", "/api/v1/processes", "application/json", huge).await;
    assert_envelope(&r, StatusCode::PAYLOAD_TOO_LARGE);

    let r = client.get("/api/v1/processes/not-a-number").await;
    assert_envelope(&r, StatusCode::BAD_REQUEST);
    let r = client.get("/api/v1/processes/99999").await;
    assert_envelope(&r, StatusCode::NOT_FOUND);
    let r = client.get("/api/v1/no-such-thing").await;
    assert_envelope(&r, StatusCode::NOT_FOUND);
    let r = client.send(Request::delete("/api/v1/processes/1").body(Body::empty()).unwrap()).await;
    assert_envelope(&r, StatusCode::METHOD_NOT_ALLOWED);
    let r = client.get("/api/v1/processes?include_retired=maybe").await;
    assert_envelope(&r, StatusCode::BAD_REQUEST);

    // Nothing of the above was saved.
    assert_eq!(client.get("/api/v1/processes").await.body["items"], json!([]));
}

async fn a_panicking_handler_becomes_a_500_envelope_with_the_request_id(store: Arc<dyn Store>, _db: TestDb) {
    async fn boom() -> &'static str {
        panic!("secret internal detail")
    }
    let client = Client::with(store, None, Router::new().route("/boom", get(boom)));
    let r = client.get("/api/v1/boom").await;
    assert_envelope(&r, StatusCode::INTERNAL_SERVER_ERROR);
    let id = r.headers["x-request-id"].to_str().unwrap();
    assert!(!id.is_empty());
    assert_eq!(r.body["request_id"], id);
    assert!(!r.text.contains("secret internal detail"));

    // The server is still serving.
    assert_eq!(client.get("/healthz").await.status, StatusCode::OK);
}

async fn health_and_openapi_are_true(store: Arc<dyn Store>, _db: TestDb) {
    let backend = store.backend();
    let client = Client::admin(store).await;
    let r = client.get("/healthz").await;
    assert_eq!((r.status, r.body["database"].clone()), (StatusCode::OK, json!(backend)));
    // The protections a security scanner expects, on API answers, errors and the app alike.
    for uri in ["/healthz", "/api/v1/departments", "/api/v1/nothing-here", "/"] {
        let r = client.get(uri).await;
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(r.headers[header::REFERRER_POLICY], "same-origin", "{uri}");
        assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY", "{uri}");
        let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{uri}: {csp}");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval';") && !csp.contains("unsafe-inline"),
            "{uri}: {csp}"
        );
    }

    let doc = client.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let paths = doc.body["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "{paths:?}");
    // Every documented operation exists on the router: none falls through to the 404/405
    // answers for unknown endpoints.
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let uri = path.replace("{id}", "1");
            let r = client.raw(&method.to_uppercase(), &uri, "application/json", "{}").await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !r.body["message"].as_str().unwrap_or_default().starts_with("No such API endpoint"),
                "{method} {path} is documented but not routed"
            );
        }
    }
    assert!(doc.body["components"]["schemas"]["ErrorBody"].is_object());
    // The session cookie and CSRF header are declared; sign-in and health need neither.
    assert_eq!(doc.body["components"]["securitySchemes"]["session"]["in"], "cookie");
    assert_eq!(doc.body["components"]["securitySchemes"]["session"]["name"], "caliper_session");
    assert_eq!(doc.body["paths"]["/api/v1/session"]["post"]["security"], json!([{}]));
}

async fn the_app_is_served_with_spa_fallback_and_cache_headers(store: Arc<dyn Store>, _db: TestDb) {
    let dir = std::env::temp_dir().join(format!("caliper-static-{}", uuid::Uuid::new_v4().simple()));
    let build = dir.join("pkg/0123456789abcdef");
    std::fs::create_dir_all(&build).unwrap();
    let index =
        |name: &str| format!(r#"<!doctype html><meta name="caliper-build" content="{name}" /><title>Caliper</title>"#);
    std::fs::write(dir.join("index.html"), index("0123456789abcdef")).unwrap();
    std::fs::write(build.join("app.js"), "console.log(1)").unwrap();
    std::fs::write(build.join("app.js.br"), b"\x0b\x06\x80console.log(1)\x03").unwrap();
    let client = Client::with(store, Some(dir.clone()), Router::new());

    // A deep link gets index.html so the app's router can take over; it is never cached.
    let r = client.get("/admin/processes/12").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("<title>Caliper</title>"));
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-cache");

    // A build's file is cached for a year and served precompressed when accepted.
    let req = Request::get("/pkg/0123456789abcdef/app.js")
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .body(Body::empty())
        .unwrap();
    let r = client.send(req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_ENCODING], "br");
    assert_eq!(r.headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    let r = client.get("/pkg/0123456789abcdef/app.js").await;
    assert_eq!(r.text, "console.log(1)");

    // A chunk of a build that is not there is a 404, never index.html (the app shows its
    // "could not be loaded" message instead of feeding HTML to WebAssembly).
    let r = client.get("/pkg/fedcba9876543210/split_fmea.wasm").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.text.contains("<title>Caliper</title>"));

    // The API never falls back to the app, and every answer names the build being served.
    let r = client.get("/api/v1/nothing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["message"].as_str().map(|m| m.starts_with("No such")), Some(true));
    assert_eq!(r.headers["x-caliper-build"], "0123456789abcdef");

    // A new build deployed in place is named within a second.
    std::fs::write(dir.join("index.html"), index("00000000000000ff")).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let r = client.get("/api/v1/nothing").await;
    assert_eq!(r.headers["x-caliper-build"], "00000000000000ff");
    std::fs::remove_dir_all(dir).ok();
}

async fn the_audit_trail_is_readable_and_verifiable_over_http(store: Arc<dyn Store>, _db: TestDb) {
    let client = Client::admin(store).await;
    let owner = me(&client).await;
    let dept = department(&client).await;
    let req = Request::post("/api/v1/processes")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "audit-test/1.0")
        .body(Body::from(json!({"name": "Calibration", "owner_id": owner, "department_id": dept}).to_string()))
        .unwrap();
    let created = client.send(req).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_i64().unwrap();

    let r = client.get(&format!("/api/v1/audit?record_type=process&record_id={id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let entry = &r.body["items"][0];
    assert_eq!(entry["action"], "create");
    assert_eq!(entry["changes"]["name"]["new"], "Calibration");
    assert_eq!(entry["source"]["user_agent"], "audit-test/1.0");
    assert_eq!(entry["source"]["request_id"], created.headers["x-request-id"].to_str().unwrap());
    // Attributed to the signed-in user and their session (11.10(e), 11.10(h)).
    assert_eq!((entry["actor_name"].clone(), entry["actor_id"].clone()), (json!("Ada Admin"), json!(owner)));
    assert!(entry["source"]["session_id"].as_str().is_some_and(|s| !s.is_empty()), "{entry}");

    let page = client.get("/api/v1/audit?limit=1").await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    // user created, signed in, department, process: four entries.
    assert_eq!(page.body["next_before"], 4);
    let r = client.get("/api/v1/audit?limit=0").await;
    assert_envelope(&r, StatusCode::BAD_REQUEST);
    let r = client.get("/api/v1/audit?actor=a%00b").await;
    assert_envelope(&r, StatusCode::BAD_REQUEST);

    let csv = client.get("/api/v1/audit/export.csv?record_type=process").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{}", csv.text);
    assert!(lines[0].starts_with("\u{feff}seq,occurred_at_utc,"), "a BOM for Excel, then the header");
    assert!(lines[1].contains("name: — → Calibration"), "{}", lines[1]);

    let v = client.get("/api/v1/audit/verify").await;
    assert_eq!((v.body["intact"].clone(), v.body["entries"].clone()), (json!(true), json!(4)));
}

/// The raw bytes and headers of `uri` fetched by `client` with `Accept-Encoding: accept`.
async fn fetch(client: &Client, uri: &str, accept: Option<&str>) -> (axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let mut req = Request::get(uri);
    if let Some(a) = accept {
        req = req.header(header::ACCEPT_ENCODING, a);
    }
    if let Some((cookie, _)) = &client.session {
        req = req.header(header::COOKIE, cookie.as_str());
    }
    let res = client.router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let headers = res.headers().clone();
    if headers.get(header::CONTENT_TYPE).is_some_and(|t| t == "text/event-stream") {
        return (headers, Vec::new());
    }
    (headers, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn responses_are_compressed_when_accepted(store: Arc<dyn Store>, _db: TestDb) {
    let client = Client::admin(store).await;
    // A large JSON answer: brotli or gzip as accepted, smaller, and the same document once
    // decompressed; `Vary` tells caches it depends on the request.
    let (plain_headers, plain) = fetch(&client, "/api/v1/openapi.json", None).await;
    assert!(plain_headers.get(header::CONTENT_ENCODING).is_none());
    // Big enough to be compressed off the async workers, by the API's own middleware.
    assert!(plain.len() >= server::conditional::BIG_BYTES, "{} bytes", plain.len());
    let (headers, br) = fetch(&client, "/api/v1/openapi.json", Some("gzip, deflate, br")).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert!(headers[header::VARY].to_str().unwrap().to_lowercase().contains("accept-encoding"));
    assert!(br.len() * 5 < plain.len(), "{} compressed of {}", br.len(), plain.len());
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut br.as_slice(), &mut decoded).unwrap();
    assert_eq!(decoded, plain);
    let (headers, gz) = fetch(&client, "/api/v1/openapi.json", Some("gzip")).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut decoded).unwrap();
    assert_eq!(decoded, plain);
    // Chromium's list: zstd is preferred (cheaper on the server's CPU than brotli).
    let (headers, zst) = fetch(&client, "/api/v1/openapi.json", Some("gzip, deflate, br, zstd")).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "zstd");
    assert!(zst.len() * 4 < plain.len(), "{} compressed of {}", zst.len(), plain.len());
    assert_eq!(zstd::decode_all(zst.as_slice()).unwrap(), plain);
    // Small answers are not worth it; the live-update stream must never wait in a compressor.
    let (headers, _) = fetch(&client, "/healthz", Some("br")).await;
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    // A small list goes through the compression layer: the same encodings, decoded the same.
    for name in ["Assembly", "Machining", "Quality assurance", "Receiving", "Shipping", "Maintenance"] {
        let r = client
            .json(
                "POST",
                "/api/v1/departments",
                &json!({"name": format!("{name} department, with a long name to fill the list")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let (_, small) = fetch(&client, "/api/v1/departments", None).await;
    assert!((1024..server::conditional::BIG_BYTES).contains(&small.len()), "{} bytes", small.len());
    let (headers, zst) = fetch(&client, "/api/v1/departments", Some("gzip, br, zstd")).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "zstd");
    assert_eq!(zstd::decode_all(zst.as_slice()).unwrap(), small);
    let (headers, _) = fetch(&client, "/api/v1/events", Some("br")).await;
    assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
}

/// The status, headers and raw bytes of `GET uri` with these request headers.
async fn get_with(
    client: &Client,
    uri: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let mut req = Request::get(uri);
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    if let Some((cookie, _)) = &client.session {
        req = req.header(header::COOKIE, cookie.as_str());
    }
    let res = client.router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn an_unchanged_list_answers_304(store: Arc<dyn Store>, _db: TestDb) {
    let client = Client::admin(store).await;
    department(&client).await;
    // A list carries a weak tag of its bytes and asks to be revalidated.
    let (status, headers, body) = get_with(&client, "/api/v1/departments", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let tag = headers[header::ETAG].to_str().unwrap().to_string();
    assert!(tag.starts_with("W/\""), "{tag}");
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-cache");
    assert!(!body.is_empty());
    // Asked again with it: 304, no body, the same tag; also when compression is accepted, and
    // with the tag in a list.
    for accept in ["identity", "br, gzip"] {
        let (status, headers, body) = get_with(
            &client,
            "/api/v1/departments",
            &[(header::IF_NONE_MATCH, &tag), (header::ACCEPT_ENCODING, accept)],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{accept}");
        assert!(body.is_empty());
        assert_eq!(headers[header::ETAG].to_str().unwrap(), tag);
        assert!(headers.get(header::CONTENT_ENCODING).is_none());
    }
    let listed = format!("W/\"0-0\", {tag}");
    let (status, ..) = get_with(&client, "/api/v1/departments", &[(header::IF_NONE_MATCH, &listed)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    // A change: the same request gets the new list and a new tag.
    let r = client.json("POST", "/api/v1/departments", &json!({"name": "Maintenance"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let (status, headers, body) = get_with(&client, "/api/v1/departments", &[(header::IF_NONE_MATCH, &tag)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(headers[header::ETAG].to_str().unwrap(), tag);
    assert!(String::from_utf8(body).unwrap().contains("Maintenance"));
    // A record keeps its version as its strong tag (for If-Match on writes) and is not answered 304.
    let id = r.body["id"].as_i64().unwrap();
    let (status, headers, _) =
        get_with(&client, &format!("/api/v1/departments/{id}"), &[(header::IF_NONE_MATCH, "\"1\"")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::ETAG], "\"1\"");
    // An error is never tagged.
    let (status, headers, _) = get_with(&client, "/api/v1/departments/999999", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers.get(header::ETAG).is_none());
}

/// Liveness and readiness: `/readyz` answers 200 only while the database holds every migration
/// of this build; `/healthz` stays 200 (the server is alive, not ready).
async fn readiness_needs_every_migration(store: Arc<dyn Store>, db: TestDb) {
    let client = Client::new(store);
    let r = client.get("/readyz").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    db.execute("delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)")
        .await
        .unwrap();
    let r = client.get("/readyz").await;
    assert_envelope(&r, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body["message"].as_str().unwrap().contains("lacks 1 of this build's migrations"), "{}", r.text);
    assert_eq!(client.get("/healthz").await.status, StatusCode::OK);
}

/// Security review, finding 10: the audit export is streamed a page at a time, never built
/// whole in memory: a trail of more than a page arrives in several pieces, every entry in it.
async fn the_audit_export_is_streamed(store: Arc<dyn Store>, _db: TestDb) {
    let client = Client::admin(store.clone()).await;
    let ctx = server::storage::AuditContext::tool("test");
    for i in 0..1100 {
        let input = shared::org::DepartmentInput { name: format!("Dept {i}"), ..Default::default() };
        store.create_department(&ctx, &input).await.unwrap();
    }
    let entries = client.get("/api/v1/audit/verify").await.body["entries"].as_u64().unwrap();
    assert!(entries > 1100);
    let (status, mut body) = client.stream("/api/v1/audit/export.csv").await;
    assert_eq!(status, StatusCode::OK);
    let (mut pieces, mut text) = (0, String::new());
    while let Some(piece) = Client::next_text(&mut body, std::time::Duration::from_secs(10)).await {
        pieces += 1;
        text.push_str(&piece);
    }
    assert!(pieces >= 3, "the header and two pages of 1,000, as they are read: {pieces} piece(s)");
    let lines = text.split("\r\n").filter(|l| !l.is_empty()).count() as u64;
    assert_eq!(lines, entries + 1, "a header and every entry");
    // Compressed as a browser or a script asks for it, to its end (the fuzzer found a stream
    // polled after its end by the compression layer, which panicked).
    for encoding in ["gzip", "br", "zstd"] {
        let (headers, bytes) = fetch(&client, "/api/v1/audit/export.csv", Some(encoding)).await;
        assert_eq!(headers[header::CONTENT_ENCODING], encoding);
        let plain = decode(encoding, &bytes);
        let lines = plain.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64;
        assert_eq!(lines, entries + 1, "{encoding}");
    }
}

/// Security review, finding 10, the same for every large export: the risk register and an FMEA
/// worksheet are listed by id, then read and written 500 records at a time, in order, every
/// record once; the worksheet's file is byte for byte what encoding it whole gives.
async fn every_large_export_is_streamed(store: Arc<dyn Store>, _db: TestDb) {
    server::seed::seed_demo(store.as_ref(), &server::auth::AuthConfig::for_tests()).await.unwrap();
    let ctx = server::storage::AuditContext::tool("test");
    assert_eq!(server::demo_risks::generate_risks(store.as_ref(), &ctx, 1100).await.unwrap(), 1100);
    let fmea = server::demo_fmea::generate_fmea(store.as_ref(), &ctx, 1100).await.unwrap().unwrap();
    let mut client = Client::new(store.clone());
    assert_eq!(client.sign_in("priya.natarajan", "Caliper-Demo-2026").await.status, StatusCode::OK);
    let read_all = |uri: String| {
        let client = client.clone();
        async move {
            let (status, mut body) = client.stream(&uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            let (mut pieces, mut text) = (0, String::new());
            while let Some(piece) = Client::next_text(&mut body, std::time::Duration::from_secs(10)).await {
                pieces += 1;
                text.push_str(&piece);
            }
            (pieces, text)
        }
    };

    let total = client.get("/api/v1/risks?limit=1").await.body["total"].as_u64().unwrap();
    assert!(total > 1100, "{total}");
    let (pieces, text) = read_all("/api/v1/risks/export.csv".into()).await;
    assert!(pieces >= 4, "the header and three chunks of at most 500 risks, as they are read: {pieces} piece(s)");
    let records = shared::csv::read(&text).unwrap();
    let references: Vec<String> = records[1..].iter().map(|r| r.cells[0].clone()).collect();
    assert_eq!(references.len() as u64, total, "every risk once");
    let distinct: std::collections::HashSet<_> = references.iter().collect();
    assert_eq!(distinct.len(), references.len());
    // In the register's order (highest residual score first by default), across the chunks.
    let header = &records[0].cells;
    let column = header.iter().position(|c| c == "Residual score").expect("a residual score column");
    let scores: Vec<i64> = records[1..].iter().map(|r| r.cells[column].parse().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "ordered by residual score, highest first");

    let (pieces, text) = read_all(format!("/api/v1/fmeas/{fmea}/export.csv")).await;
    assert!(pieces >= 4, "the header and three chunks of at most 500 rows: {pieces} piece(s)");
    let sheet = store.worksheet(fmea, None).await.unwrap().unwrap();
    assert_eq!(sheet.rows.len(), 1100);
    let users = store.list_users(true).await.unwrap();
    let cells: Vec<_> = sheet.rows.into_iter().map(|r| r.cells).collect();
    let whole = shared::worksheet::to_csv(sheet.fmea.kind, &cells, |id| {
        users.iter().find(|u| u.id == id).map(|u| u.username.clone()).unwrap_or_default()
    });
    assert!(text == whole, "the streamed file is the whole file ({} vs {} bytes)", text.len(), whole.len());
}

/// A worksheet asked again unchanged is sent as kept, compressed (issue 20: the CPU of a big
/// answer); any change to what it shows (a row, the name of a person it names) gives a new one;
/// each coding decodes to the plain JSON, and its tag answers 304.
async fn an_unchanged_worksheet_is_sent_as_kept(store: Arc<dyn Store>, _db: TestDb) {
    server::seed::seed_demo(store.as_ref(), &server::auth::AuthConfig::for_tests()).await.unwrap();
    let state = server::AppState::new(store.clone(), None, server::auth::AuthConfig::for_tests());
    let mut client = Client::with_state(state.clone());
    assert_eq!(client.sign_in("alex.morgan", "Caliper-Demo-2026").await.status, StatusCode::OK);
    let fmea = &client.get("/api/v1/fmeas").await.body["items"][0];
    let (id, responsible) = (fmea["id"].as_i64().unwrap(), fmea["responsible_id"].as_i64().unwrap());
    let uri = format!("/api/v1/fmeas/{id}/worksheet");
    let json = |encoding: &str, bytes: &[u8]| -> Value { serde_json::from_slice(&decode(encoding, bytes)).unwrap() };

    let (_, plain) = fetch(&client, &uri, None).await;
    let plain: Value = serde_json::from_slice(&plain).unwrap();
    assert!(state.answers.is_empty(), "a plain answer is not kept");
    let (headers, first) = fetch(&client, &uri, Some("zstd")).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "zstd");
    assert_eq!(json("zstd", &first), plain);
    assert_eq!(state.answers.len(), 1);
    let (again_headers, again) = fetch(&client, &uri, Some("zstd")).await;
    assert_eq!((again, state.answers.len()), (first.clone(), 1), "sent as kept");
    assert_eq!(again_headers[header::ETAG], headers[header::ETAG]);
    for encoding in ["br", "gzip"] {
        let (h, bytes) = fetch(&client, &uri, Some(encoding)).await;
        assert_eq!((h[header::CONTENT_ENCODING].to_str().unwrap(), json(encoding, &bytes)), (encoding, plain.clone()));
        assert_eq!(h[header::ETAG], headers[header::ETAG], "one tag whatever the coding");
    }
    // Its tag: 304, no body.
    use tower::ServiceExt as _;
    let req = Request::get(&uri)
        .header(header::ACCEPT_ENCODING, "zstd")
        .header(header::IF_NONE_MATCH, headers[header::ETAG].clone())
        .header(header::COOKIE, client.cookie().unwrap())
        .body(Body::empty())
        .unwrap();
    assert_eq!(client.router.clone().oneshot(req).await.unwrap().status(), StatusCode::NOT_MODIFIED);

    // The person responsible renamed: the worksheet shows the new name at once.
    let user = client.get(&format!("/api/v1/users/{responsible}")).await.body;
    let renamed = json!({"username": user["username"], "full_name": "Renamed Person", "email": user["email"],
                         "roles": user["roles"], "department_id": user["department_id"], "version": user["version"]});
    let r = client.json("PUT", &format!("/api/v1/users/{responsible}"), &renamed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (_, bytes) = fetch(&client, &uri, Some("zstd")).await;
    assert_eq!(json("zstd", &bytes)["fmea"]["responsible_name"], "Renamed Person");
    // A row changed: the new row at once.
    let at = 0;
    let row = &plain["rows"][at];
    let mut cells: shared::worksheet::RowCells = serde_json::from_value(row.clone()).unwrap();
    cells.remarks = "Checked again after the audit".into();
    let mut edit = serde_json::to_value(&cells).unwrap().as_object().unwrap().clone();
    edit.insert("version".into(), row["version"].clone());
    let mut qm = Client::with_state(state.clone());
    assert_eq!(qm.sign_in("priya.natarajan", "Caliper-Demo-2026").await.status, StatusCode::OK);
    let r = qm.json("PUT", &format!("/api/v1/fmea-rows/{}", row["id"]), &Value::Object(edit)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (_, bytes) = fetch(&client, &uri, Some("zstd")).await;
    assert_eq!(json("zstd", &bytes)["rows"][at]["remarks"], "Checked again after the audit");
}

on_both_backends!(
    the_audit_export_is_streamed,
    an_unchanged_worksheet_is_sent_as_kept,
    every_large_export_is_streamed,
    readiness_needs_every_migration,
    an_unchanged_list_answers_304,
    responses_are_compressed_when_accepted,
    the_audit_trail_is_readable_and_verifiable_over_http,
    process_lifecycle_over_http,
    bad_requests_get_the_envelope,
    a_panicking_handler_becomes_a_500_envelope_with_the_request_id,
    health_and_openapi_are_true,
    the_app_is_served_with_spa_fallback_and_cache_headers,
);

/// `bytes` decompressed from `encoding` (`gzip`, `br`, `zstd`).
fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::new();
    match encoding {
        "gzip" => {
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut decoded).unwrap();
        }
        "br" => {
            brotli::BrotliDecompress(&mut &bytes[..], &mut decoded).unwrap();
        }
        _ => decoded = zstd::decode_all(bytes).unwrap(),
    }
    decoded
}
