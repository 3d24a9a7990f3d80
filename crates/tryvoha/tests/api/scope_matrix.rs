//! Every write route against every kind of caller: no token, a bad one, a revoked one, a
//! reader's, an operator's scoped elsewhere, an operator's in scope, a responder's in scope and
//! an admin's. Each gets exactly the status expected, and every refusal leaves the log, the
//! tokens, the shelters, the webhooks and the incidents as they were.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN, TestApp};

/// Kyiv city (31), where the resources live; the operator "elsewhere" holds Lviv oblast (27).
const KYIV: (f64, f64) = (50.4501, 30.5234);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    None,
    Bad,
    Revoked,
    Reader,
    OperatorElsewhere,
    Operator,
    Responder,
    Admin,
}

const CALLERS: [Caller; 8] = [
    Caller::None,
    Caller::Bad,
    Caller::Revoked,
    Caller::Reader,
    Caller::OperatorElsewhere,
    Caller::Operator,
    Caller::Responder,
    Caller::Admin,
];

/// Who may use a route: admins only; alert writers (operators in scope, admins); or incident
/// writers (responders and operators in scope, admins).
#[derive(Clone, Copy)]
enum Allowed {
    Admins,
    Writers,
    Responders,
}

struct Route {
    name: &'static str,
    method: Method,
    allowed: Allowed,
    /// The path and body, made against fresh resources each time (a success may use them up).
    request: fn(&Fixture) -> (String, Value),
    success: StatusCode,
}

/// The resources a route acts on.
struct Fixture {
    alert: u64,
    cancelled: u64,
    incident: u64,
    token: u64,
    webhook: u64,
    shelter: u64,
    seq: u64,
    /// A kind for a drill no earlier fixture declared with the same (region, kind, status).
    drill: &'static str,
}

async fn fixture(app: &TestApp, n: u32) -> Fixture {
    let kinds = ["air_raid", "artillery_shelling", "urban_fights", "chemical", "nuclear"];
    let kind = kinds[(n % 5) as usize];
    let alert = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": kind })).await.body["id"].as_u64();
    let gone =
        app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": kinds[((n + 1) % 5) as usize] })).await;
    let cancelled = gone.body["id"].as_u64().unwrap_or_default();
    app.post(&format!("/api/v1/alerts/{cancelled}/cancel"), ADMIN, json!({})).await;
    let incident = app.post("/api/v1/incidents", ADMIN, fire()).await.body["id"].as_u64();
    let token =
        app.post("/api/v1/tokens", ADMIN, json!({ "name": "victim", "role": "reader" })).await.body["id"].as_u64();
    let hook = json!({ "url": format!("http://127.0.0.1:9/hook-{n}"), "regions": [31] });
    let webhook = app.post("/api/v1/webhooks", ADMIN, hook).await.body["id"].as_u64();
    let shelter = json!({ "lat": 50.45, "lon": 30.52, "name_uk": format!("Укриття {n}"), "kind": "basement" });
    let shelter = app.post("/api/v1/shelters", ADMIN, shelter).await.body["id"].as_u64();
    Fixture {
        alert: alert.unwrap_or_default(),
        cancelled,
        incident: incident.expect("an incident"),
        token: token.expect("a token"),
        webhook: webhook.expect("a webhook"),
        shelter: shelter.expect("a shelter"),
        seq: app.last_seq().await,
        drill: ["test", "exercise"][(n % 2) as usize],
    }
}

fn fire() -> Value {
    json!({ "kind": "fire", "lat": KYIV.0, "lon": KYIV.1, "public": true, "description": { "en": "fire" } })
}

fn routes() -> Vec<Route> {
    use Allowed::*;
    let route = |name, method, allowed, request, success| Route { name, method, allowed, request, success };
    vec![
        route(
            "declare",
            Method::POST,
            Writers,
            |f| ("/api/v1/alerts".into(), json!({ "region_id": 31, "kind": "nuclear", "status": f.drill })),
            StatusCode::CREATED,
        ),
        route(
            "update",
            Method::PATCH,
            Writers,
            |f| (format!("/api/v1/alerts/{}", f.alert), json!({ "level": "yellow" })),
            StatusCode::OK,
        ),
        route(
            "cancel",
            Method::POST,
            Writers,
            |f| (format!("/api/v1/alerts/{}/cancel", f.alert), json!({})),
            StatusCode::OK,
        ),
        route(
            "reinstate",
            Method::POST,
            Writers,
            |f| (format!("/api/v1/alerts/{}/reinstate", f.cancelled), json!({})),
            StatusCode::CREATED,
        ),
        route(
            "report incident",
            Method::POST,
            Responders,
            |_| ("/api/v1/incidents".into(), fire()),
            StatusCode::CREATED,
        ),
        route(
            "change incident",
            Method::PATCH,
            Responders,
            |f| (format!("/api/v1/incidents/{}", f.incident), json!({ "status": "contained" })),
            StatusCode::OK,
        ),
        route(
            "shelter status",
            Method::PATCH,
            Responders,
            |f| (format!("/api/v1/shelters/{}/status", f.shelter), json!({ "status": "full" })),
            StatusCode::OK,
        ),
        route(
            "create token",
            Method::POST,
            Admins,
            |_| ("/api/v1/tokens".into(), json!({ "name": "new", "role": "reader" })),
            StatusCode::CREATED,
        ),
        route(
            "revoke token",
            Method::DELETE,
            Admins,
            |f| (format!("/api/v1/tokens/{}", f.token), Value::Null),
            StatusCode::OK,
        ),
        route(
            "create webhook",
            Method::POST,
            Admins,
            |_| ("/api/v1/webhooks".into(), json!({ "url": "http://127.0.0.1:9/other" })),
            StatusCode::CREATED,
        ),
        route(
            "change webhook",
            Method::PATCH,
            Admins,
            |f| (format!("/api/v1/webhooks/{}", f.webhook), json!({ "paused": true })),
            StatusCode::OK,
        ),
        route(
            "remove webhook",
            Method::DELETE,
            Admins,
            |f| (format!("/api/v1/webhooks/{}", f.webhook), Value::Null),
            StatusCode::NO_CONTENT,
        ),
        route(
            "add shelter",
            Method::POST,
            Admins,
            |_| ("/api/v1/shelters".into(), json!({ "lat": 50.4, "lon": 30.5, "name_uk": "Нове", "kind": "basement" })),
            StatusCode::CREATED,
        ),
        route(
            "replace shelter",
            Method::PUT,
            Admins,
            |f| {
                (
                    format!("/api/v1/shelters/{}", f.shelter),
                    json!({ "lat": 50.4, "lon": 30.5, "name_uk": "Інше", "kind": "basement" }),
                )
            },
            StatusCode::OK,
        ),
        route(
            "remove shelter",
            Method::DELETE,
            Admins,
            |f| (format!("/api/v1/shelters/{}", f.shelter), Value::Null),
            StatusCode::NO_CONTENT,
        ),
        route(
            "time to shelter",
            Method::PATCH,
            Admins,
            |_| ("/api/v1/regions/31".into(), json!({ "shelter_within_s": 60 })),
            StatusCode::OK,
        ),
    ]
}

/// What a caller gets from a route: the success, or the refusal expected.
fn expected(route: &Route, caller: Caller) -> StatusCode {
    match caller {
        Caller::None | Caller::Bad | Caller::Revoked => StatusCode::UNAUTHORIZED,
        Caller::Admin => route.success,
        Caller::Reader => StatusCode::FORBIDDEN,
        Caller::OperatorElsewhere => StatusCode::FORBIDDEN,
        Caller::Operator => match route.allowed {
            Allowed::Admins => StatusCode::FORBIDDEN,
            Allowed::Writers | Allowed::Responders => route.success,
        },
        Caller::Responder => match route.allowed {
            Allowed::Responders => route.success,
            Allowed::Admins | Allowed::Writers => StatusCode::FORBIDDEN,
        },
    }
}

/// Everything a refused write must leave as it was.
async fn state(app: &TestApp) -> Value {
    let mut parts = vec![json!(app.last_seq().await)];
    for path in ["/api/v1/tokens", "/api/v1/shelters", "/api/v1/webhooks", "/api/v1/incidents", "/api/v1/regions/31"] {
        parts.push(app.call(Method::GET, path, Some(ADMIN), None).await.body);
    }
    Value::Array(parts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_route_refuses_exactly_who_it_should_and_a_refusal_changes_nothing() {
    let app = TestApp::spawn_with(tempfile::tempdir().unwrap(), crate::webhooks::loopback_allowed()).await;
    let revoked = app.token("reader", &[]).await;
    let own = app.call(Method::GET, "/api/v1/tokens/self", Some(&revoked), None).await.body["id"].as_u64().unwrap();
    app.call(Method::DELETE, &format!("/api/v1/tokens/{own}"), Some(ADMIN), None).await;
    let tokens = [
        (Caller::Reader, app.token("reader", &[]).await),
        (Caller::OperatorElsewhere, app.token("operator", &[27]).await),
        (Caller::Operator, app.token("operator", &[31]).await),
        (Caller::Responder, app.token("responder", &[31]).await),
    ];
    let token_of = |caller: Caller| -> Option<String> {
        match caller {
            Caller::None => None,
            Caller::Bad => Some("tv_not_a_token".into()),
            Caller::Revoked => Some(revoked.clone()),
            Caller::Admin => Some(ADMIN.into()),
            other => tokens.iter().find(|(c, _)| *c == other).map(|(_, t)| t.clone()),
        }
    };
    let mut n = 0;
    let mut misses = Vec::new();
    for route in routes() {
        let mut resources = fixture(&app, n).await;
        n += 1;
        for caller in CALLERS {
            let before = state(&app).await;
            let (path, body) = (route.request)(&resources);
            let body = (!body.is_null()).then_some(body);
            let answer = app.call(route.method.clone(), &path, token_of(caller).as_deref(), body).await;
            let want = expected(&route, caller);
            if answer.status != want {
                misses.push(format!(
                    "{} as {caller:?}: {} (expected {want}): {}",
                    route.name, answer.status, answer.body
                ));
            }
            if answer.status.is_success() {
                // It used up what it acted on: the next caller gets fresh resources.
                resources = fixture(&app, n).await;
                n += 1;
            } else if state(&app).await != before {
                misses.push(format!(
                    "{} as {caller:?} was refused ({}) but changed something",
                    route.name, answer.status
                ));
            }
        }
        assert!(resources.seq > 0);
    }
    assert!(misses.is_empty(), "{} cells differ:\n{}", misses.len(), misses.join("\n"));
}
