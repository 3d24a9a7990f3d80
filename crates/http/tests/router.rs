//! Handler-level tests: the router answers requests directly (`oneshot`), without a socket.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use tryvoha_core::RegionRegistry;
use tryvoha_engine::{AdminCredential, Engine, SystemClock};
use tryvoha_http::{AppState, DEFAULT_HEARTBEAT, DEFAULT_WRITE_TIMEOUT, Live, router};
use tryvoha_live::{Hub, Metrics, Signer};
use tryvoha_places::Places;
use tryvoha_sqlite::SqliteStore;

const REGIONS: &str =
    "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,UA1,Область,Oblast\n2,1,raion,,Район,Raion\n";
const ADMIN: &str = "router-test-admin-secret";

fn app(dir: &tempfile::TempDir) -> axum::Router {
    let store: Arc<dyn tryvoha_store::Store> = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    let registry = Arc::new(RegionRegistry::from_csv(REGIONS).unwrap());
    let engine =
        Engine::start(store.clone(), registry.clone(), Arc::new(SystemClock), Some(AdminCredential::new(ADMIN)))
            .unwrap();
    let signer = Arc::new(Signer::from_seed([1; 32]));
    let hub = Hub::new(registry, Arc::new(Metrics::default()), 16);
    tokio::spawn(hub.clone().run(engine.event_source(), signer.clone()));
    let places = Arc::new(Places::without_boundaries(store).unwrap());
    let live = Live { hub, signer, heartbeat: DEFAULT_HEARTBEAT, write_timeout: DEFAULT_WRITE_TIMEOUT };
    router(AppState { request_timeout: Duration::from_millis(300), ..AppState::for_tests(engine, live, places) })
}

async fn send(app: &axum::Router, method: &str, path: &str, body: &str) -> (StatusCode, serde_json::Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn every_operation_in_the_openapi_document_is_routed() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir);
    let (status, document) = send(&app, "GET", "/api/openapi.json", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for method in
            item.as_object().unwrap().keys().filter(|m| ["get", "post", "patch", "delete", "put"].contains(&m.as_str()))
        {
            let concrete = path.replace("{id}", "1").replace("{code}", "internal");
            if concrete.ends_with("/stream") || concrete.ends_with("/ws") {
                // Endless or upgrade-only: a bad parameter shows the route exists.
                let (status, body) = send(&app, "GET", &format!("{concrete}?kinds=zombies"), "").await;
                assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("kinds")), "{path}");
                operations += 1;
                continue;
            }
            let (status, body) = send(&app, &method.to_uppercase(), &concrete, "{}").await;
            let code = body["code"].as_str().unwrap_or_default();
            assert!(
                code != "not-found" && code != "method-not-allowed",
                "{method} {path} is documented but not routed ({status})"
            );
            operations += 1;
        }
    }
    assert!(operations >= 17, "the document describes every operation ({operations})");
}

/// The paths the router has registered. axum has no API to walk its route table, but its `Debug`
/// form lists it (`RouteId(3): "/api/v1/alerts"`), nested routers already flattened into full
/// paths. Should the form change, the assertion below says so rather than the test passing.
fn routed_paths(app: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{app:?}");
    // The routes proper, not the fallback router that follows them.
    let table = &debug[..debug.find("fallback_router:").unwrap_or(debug.len())];
    let paths: BTreeSet<String> = table
        .match_indices("RouteId(")
        .filter_map(|(at, _)| {
            let rest = &table[at..];
            let quoted = rest[..rest.find(')')? + 1].len();
            let path = rest[quoted..].strip_prefix(": \"")?;
            Some(path[..path.find('"')?].to_owned())
        })
        .collect();
    assert!(paths.contains("/api/v1/alerts"), "the route table was read: {paths:?}");
    paths
}

/// Every documented (method, path), `{name}` parameters as axum writes them too.
fn documented_operations(document: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let operations = item.as_object().unwrap().keys().filter(|m| methods.contains(&m.as_str()));
            (path.clone(), operations.map(|m| m.to_uppercase()).collect())
        })
        .collect()
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_the_router_has() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir);
    let (_, document) = send(&app, "GET", "/api/openapi.json", "").await;
    let documented = documented_operations(&document);
    let routed = routed_paths(&app);
    let undocumented: Vec<_> = routed.iter().filter(|path| !documented.contains_key(*path)).collect();
    let unrouted: Vec<_> = documented.keys().filter(|path| !routed.contains(*path)).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed only: {undocumented:?}; documented only: {unrouted:?}"
    );
    // The methods of each path: a method the path does not take is answered 405 with `Allow`
    // listing the ones it does (HEAD comes with GET).
    for (path, methods) in &documented {
        let concrete = path.split('/').map(|s| if s.starts_with('{') { "1" } else { s }).collect::<Vec<_>>().join("/");
        let request = Request::builder().method("TRACE").uri(&concrete).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "TRACE {concrete}");
        let allow = response.headers()["allow"].to_str().unwrap();
        let allowed: BTreeSet<String> = allow.split(',').map(|m| m.trim().to_owned()).filter(|m| m != "HEAD").collect();
        assert_eq!(&allowed, methods, "{path}: routed methods (Allow: {allow}) against documented ones");
    }
    assert!(documented.len() >= 40, "{} paths", documented.len());
}

#[tokio::test]
async fn no_operation_refuses_a_parameter_it_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir);
    let (_, document) = send(&app, "GET", "/api/openapi.json", "").await;
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        if item.get("get").is_none() || path.ends_with("/stream") || path.ends_with("/ws") {
            continue; // streams never end; their parameters are the stream tests' business
        }
        let concrete = path.replace("{id}", "1").replace("{code}", "internal");
        let (status, body) = send(&app, "GET", &format!("{concrete}?_=1700000000&utm_source=x"), "").await;
        assert!(
            !(status == StatusCode::BAD_REQUEST
                && body["code"] == "invalid-query"
                && body["field"] != "lat"
                && body["field"] != "query"),
            "GET {path} refused a cache-buster: {body}"
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
    let (status, body) = send(&app, "GET", "/api/v1/events?_=1&limit=0", "").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("limit")),
        "known ones are still checked"
    );
}

#[tokio::test]
async fn a_problem_type_leads_to_the_documentation_of_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir);
    let (status, problem) = send(&app, "GET", "/api/v1/regions/424242", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["type"], "/problems/region-not-found");
    let request = Request::builder().uri(problem["type"].as_str().unwrap()).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/markdown; charset=utf-8");
    let text = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let text = std::str::from_utf8(&text).unwrap();
    assert!(text.starts_with("# region-not-found\n\nStatus 404."), "{text}");
    assert!(text.contains("KATOTTG code"), "the section's text is there: {text}");
    let (status, body) = send(&app, "GET", "/problems/no-such-code", "").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not-found")));
}

#[tokio::test]
async fn the_router_answers_with_problem_documents_for_unknown_routes() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir);
    let (status, body) = send(&app, "GET", "/api/v1/unknown", "").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not-found")));
    let (status, body) = send(&app, "PUT", "/api/v1/alerts/active", "").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("method-not-allowed")));
}

#[tokio::test]
async fn a_role_error_comes_before_a_body_error() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir);
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/alerts")
        .header("authorization", "Bearer not-a-token")
        .header("content-type", "application/json")
        .body(Body::from("{broken"))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_request_whose_body_never_arrives_is_answered_408_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir);
    // A body that sends one byte and then nothing, as a slow or stuck client would.
    let (sender, body) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(1);
    sender.try_send(Ok(axum::body::Bytes::from_static(b"{"))).unwrap();
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/alerts")
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json")
        .body(Body::from_stream(tokio_stream_from(body)))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    let problem: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(problem["code"], "request-timeout");
    let (_, events) = send(&app, "GET", "/api/v1/events", "").await;
    assert_eq!(events["events"], serde_json::json!([]), "nothing was written");
    drop(sender);
}

/// The receiving half of a channel as a stream of body chunks.
fn tokio_stream_from(
    mut receiver: tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

#[tokio::test]
async fn an_event_stream_through_the_router_is_never_compressed_while_json_is() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir);
    let ask =
        |path: &str| Request::builder().uri(path).header("accept-encoding", "gzip, br").body(Body::empty()).unwrap();
    let stream = app.clone().oneshot(ask("/api/v1/stream")).await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert!(stream.headers().get("content-encoding").is_none(), "an event stream goes out as it is written");
    let regions = app.clone().oneshot(ask("/api/v1/regions")).await.unwrap();
    assert_eq!(regions.headers()["content-encoding"], "br", "JSON is compressed when asked");
}
