//! The web pages over HTTP: the state is in the first response, whatever the language; what
//! operators wrote is shown as text; a drill is never drawn as real; every page and asset
//! carries the security headers. (Browser behaviour: `browser.rs`.)

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::json;

use crate::support::{ADMIN, TestApp};

/// Status, headers and text of a GET with the given extra headers.
async fn page(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
    let mut request = app.client.get(format!("{}{path}", app.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

/// The opening tag of the shape of `id` on a map.
fn shape(html: &str, id: u32) -> &str {
    let at = html.find(&format!("<path data-region-id=\"{id}\"")).unwrap_or_else(|| panic!("no shape for {id}"));
    &html[at..at + html[at..].find('>').unwrap()]
}

fn assert_secured(headers: &HeaderMap, what: &str) {
    let csp = headers["content-security-policy"].to_str().unwrap();
    let script_src = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap_or_default();
    assert!(script_src.contains("'self'") && !script_src.contains("unsafe-inline"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert!(headers.contains_key("referrer-policy"), "{what}");
    // So that the page's event stream opens a connection of its own (the direct path).
    assert_eq!(headers["connection"], "close", "{what}");
}

#[tokio::test]
async fn the_first_response_already_shows_which_regions_are_under_alert() {
    let app = TestApp::spawn().await;
    // A page rendered before the declaration is not served after it (pages are shared per log
    // position).
    let (_, _, before) = page(&app, "/", &[]).await;
    assert!(shape(&before, 31).contains("data-state=\"clear\""));
    // Kyiv city, and a raion of Kyiv oblast (which makes the oblast partial).
    let declared = app.post("/api/v1/alerts", ADMIN, json!({ "region_ids": [31, 73], "kind": "air_raid" })).await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
    let (status, headers, html) = page(&app, "/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_secured(&headers, "/");
    assert!(shape(&html, 31).contains("data-state=\"alert\""), "{}", shape(&html, 31));
    assert!(shape(&html, 14).contains("data-state=\"partial\""), "{}", shape(&html, 14));
    assert!(shape(&html, 8).contains("data-state=\"clear\""), "{}", shape(&html, 8));
    let oblasts = html.matches("<path data-region-id=").count();
    assert_eq!(oblasts, 27, "every oblast-level region is drawn");
    // The text list says it in words, for screen readers and anyone who cannot tell shapes apart.
    let listed = &html[html.find("id=\"under-alert\"").unwrap()..];
    assert!(
        listed.contains("м. Київ</a> — Тривога") && listed.contains("Київська область</a> — Часткова тривога"),
        "{listed:.400}"
    );
    // The raion map draws the raion itself under alert.
    let (_, _, raions) = page(&app, "/?level=raion", &[]).await;
    assert!(shape(&raions, 73).contains("data-state=\"alert\""));
    assert!(raions.matches("<path data-region-id=").count() > 100);
    // Nothing is loaded from anywhere else.
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "no other host");
}

#[tokio::test]
async fn operator_text_is_shown_as_text_and_a_drill_is_never_drawn_as_real() {
    let app = TestApp::spawn().await;
    let attack = r#"<img src=x onerror="window.__xss=1">"#;
    let body = json!({ "region_id": 8, "kind": "air_raid", "status": "exercise",
        "message": { "uk": attack, "en": "</script><script>window.__xss=2</script>" } });
    assert_eq!(app.post("/api/v1/alerts", ADMIN, body).await.status, StatusCode::CREATED);
    for path in ["/", "/regions/8", "/?lang=en"] {
        let (_, _, html) = page(&app, path, &[]).await;
        assert!(!html.contains("<img src=x") && !html.contains("<script>window"), "{path} holds markup from outside");
        assert!(html.contains("&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;") || path.contains("en"), "{path}");
    }
    let (_, _, html) = page(&app, "/", &[]).await;
    let drawn = shape(&html, 8);
    assert!(drawn.contains("data-state=\"clear\"") && drawn.contains("drill"), "{drawn}");
    let item = &html[html.find("data-alert-id=").unwrap()..];
    let item = &item[..item.find("</li>").unwrap()];
    let marker = item.find("НАВЧАННЯ").expect("the drill says so");
    assert!(marker < item.find("class=\"kind\"").unwrap(), "before anything else: {item}");
}

#[tokio::test]
async fn the_language_comes_from_the_query_then_the_cookie_then_the_browser() {
    let app = TestApp::spawn().await;
    let (_, _, ukrainian) = page(&app, "/", &[]).await;
    assert!(ukrainian.contains("<html lang=\"uk\"") && ukrainian.contains("Активні тривоги"));
    let (_, headers, english) = page(&app, "/?lang=en", &[("accept-language", "uk")]).await;
    assert!(english.contains("<html lang=\"en\"") && english.contains("Active alerts"));
    assert!(headers["set-cookie"].to_str().unwrap().starts_with("lang=en;"), "the choice is remembered");
    let (_, _, remembered) = page(&app, "/shelters", &[("cookie", "lang=en"), ("accept-language", "uk")]).await;
    assert!(remembered.contains("<html lang=\"en\""));
    let (_, _, browser) = page(&app, "/console", &[("accept-language", "de-DE, en;q=0.5")]).await;
    assert!(browser.contains("<html lang=\"en\""));
}

#[tokio::test]
async fn a_region_page_shows_its_state_alerts_and_record_by_id_or_code() {
    let app = TestApp::spawn().await;
    let body = json!({ "region_id": 31, "kind": "air_raid", "instruction": { "uk": "Негайно пройдіть в укриття" } });
    assert_eq!(app.post("/api/v1/alerts", ADMIN, body).await.status, StatusCode::CREATED);
    let (status, headers, html) = page(&app, "/regions/UA80000000000093317", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_secured(&headers, "/regions");
    assert!(html.contains("data-region-id=\"31\" data-state=\"alert\""));
    assert!(html.contains("Негайно пройдіть в укриття"));
    let shelters = &html[html.find("id=\"shelter-list\"").expect("Kyiv's metro shelters are listed")..];
    assert_eq!(shelters[..shelters.find("</ol>").unwrap()].matches("<li class=\"shelter\">").count(), 5);
    assert!(html.matches("<figure class=\"chart\">").count() >= 4, "the record in charts");
    assert!(html.contains("/api/v1/history.csv?regions=31"), "each chart's data as CSV");
    let (missing, _, _) = page(&app, "/regions/99999", &[]).await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
    let (bad_level, _, text) = page(&app, "/?level=country", &[]).await;
    assert_eq!(bad_level, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("\"field\":\"level\""), "{text}");
}

#[tokio::test]
async fn the_shelter_finder_answers_a_point_without_a_script() {
    let app = TestApp::spawn().await;
    let (status, _, html) = page(&app, "/shelters?lat=50.4475&lon=30.5236&lang=en", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let list = &html[html.find("id=\"shelter-list\"").expect("a list")..];
    let first = &list[..list.find("</li>").unwrap()];
    assert!(first.contains("Khreschatyk"), "the station at the point comes first: {first}");
    assert!(first.contains("Walk:") && first.contains(" m "), "{first}");
    let (bad, _, text) = page(&app, "/shelters?lat=95&lon=30", &[]).await;
    assert_eq!(bad, StatusCode::BAD_REQUEST);
    assert!(text.contains("\"field\":\"lat\""), "{text}");
    let (half, _, text) = page(&app, "/shelters?lat=50.45", &[]).await;
    assert_eq!(half, StatusCode::BAD_REQUEST);
    assert!(text.contains("\"field\":\"lon\""), "a point needs both: {text}");
}

#[tokio::test]
async fn the_record_of_an_alert_and_the_region_page_show_public_incidents_only() {
    let app = TestApp::spawn().await;
    let admin = crate::support::ADMIN;
    let alert =
        app.post("/api/v1/alerts", admin, serde_json::json!({ "region_id": 31, "kind": "air_raid" })).await.body;
    let id = alert["id"].as_u64().unwrap();
    let incident = |public: bool, text: &str| {
        serde_json::json!({ "kind": "fire", "lat": 50.4501, "lon": 30.5234, "public": public, "severity": "severe",
                            "description": { "uk": text, "en": text } })
    };
    app.post("/api/v1/incidents", admin, incident(true, "Горить СТО на Подолі")).await;
    app.post("/api/v1/incidents", admin, incident(false, "secret-evacuation-route")).await;
    let (status, _, html) = page(&app, &format!("/alerts/{id}/report?lang=en"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("Record of alert #{id}")), "{html}");
    assert!(html.contains("Горить СТО на Подолі") && html.contains("<strong>Fire</strong> (severe)"), "{html}");
    assert!(!html.contains("secret-evacuation-route"), "a private incident is on no page");
    assert!(html.contains(&format!("/api/v1/alerts/{id}/report.csv")), "the record's CSV is linked");
    assert!(html.contains("declared"), "the timeline: {html}");
    let (_, _, region) = page(&app, "/regions/31", &[]).await;
    assert!(region.contains("Горить СТО на Подолі") && !region.contains("secret-evacuation-route"), "{region}");
    let (missing, _, _) = page(&app, "/alerts/999/report", &[]).await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
}

/// The names of the shelters a page lists, in its order.
fn listed(html: &str) -> Vec<String> {
    let list = &html[html.find("id=\"shelter-list\"").expect("a list")..];
    let list = &list[..list.find("</ol>").unwrap()];
    list.split("<strong>").skip(1).map(|item| item[..item.find("</strong>").unwrap()].to_owned()).collect()
}

#[tokio::test]
async fn the_shelter_pages_leave_out_a_closed_shelter_and_mark_a_full_one() {
    let app = TestApp::spawn().await;
    let all = app.get("/api/v1/shelters").await.body;
    let id_of = |name: &str| {
        let found = all["shelters"].as_array().unwrap().iter().find(|s| s["name_en"].as_str() == Some(name));
        found.expect("a listed shelter is in the registry")["id"].as_u64().unwrap()
    };
    for path in ["/shelters?lat=50.4475&lon=30.5236&lang=en", "/regions/31?lang=en"] {
        let before = listed(&page(&app, path, &[]).await.2);
        let (closed, full) = (before[0].clone(), before[1].clone());
        for (name, body) in [
            (&closed, serde_json::json!({ "status": "closed" })),
            (&full, serde_json::json!({ "status": "full", "occupancy": 1500 })),
        ] {
            let path = format!("/api/v1/shelters/{}/status", id_of(name));
            let answer = app.call(reqwest::Method::PATCH, &path, Some(crate::support::ADMIN), Some(body)).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        }
        let (status, _, html) = page(&app, path, &[]).await;
        assert_eq!(status, StatusCode::OK);
        let after = listed(&html);
        assert!(!after.contains(&closed), "{path}: the closed shelter is not offered: {after:?}");
        assert!(after.contains(&full), "{path}: the full one is still listed: {after:?}");
        let entry = &html[html.find(&format!("<strong>{full}</strong>")).unwrap()..];
        let entry = &entry[..entry.find("</li>").unwrap()];
        assert!(entry.contains("status-full\">full (1500)</span>, reported "), "{path}: {entry}");
        // Open again for the next page.
        for name in [&closed, &full] {
            let path = format!("/api/v1/shelters/{}/status", id_of(name));
            app.call(
                reqwest::Method::PATCH,
                &path,
                Some(crate::support::ADMIN),
                Some(serde_json::json!({ "status": "open" })),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn assets_are_cached_by_their_hashed_names() {
    let app = TestApp::spawn().await;
    let (_, _, html) = page(&app, "/", &[]).await;
    let at = html.find("/assets/live.").unwrap();
    let path = &html[at..at + html[at..].find('"').unwrap()];
    let (status, headers, script) = page(&app, path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_secured(&headers, path);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(headers["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(script.contains("EventSource"));
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (again, _, _) = page(&app, path, &[("if-none-match", &etag)]).await;
    assert_eq!(again, StatusCode::NOT_MODIFIED);
    let (missing, _, body) = page(&app, "/assets/live.0000000000.js", &[]).await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert!(body.contains("asset-not-found"));
    let compressed = app.client.get(format!("{}/", app.base)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "gzip", "pages are compressed");
}

#[tokio::test]
async fn a_token_can_read_what_it_may_do() {
    let app = TestApp::spawn().await;
    let operator = app.operator(&[14]).await;
    let own = app.call(reqwest::Method::GET, "/api/v1/tokens/self", Some(&operator), None).await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!((own.body["role"].as_str(), own.body["regions"].clone()), (Some("operator"), json!([14])));
    assert!(own.body.get("token").is_none() && own.body["id"].is_u64(), "{}", own.body);
    let anonymous = app.get("/api/v1/tokens/self").await;
    assert_eq!((anonymous.status, anonymous.body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token-missing")));
}

#[tokio::test]
async fn the_app_manifest_and_service_worker_are_served_at_the_root_and_revalidated() {
    let app = TestApp::spawn().await;
    let (_, _, html) = page(&app, "/", &[]).await;
    assert!(html.contains("<link rel=\"manifest\" href=\"/manifest.webmanifest\">"), "every page names the manifest");
    for (path, content_type, holds) in [
        ("/manifest.webmanifest", "application/manifest+json", "\"display\":\"standalone\""),
        ("/sw.js", "text/javascript", "showNotification"),
    ] {
        let (status, headers, body) = page(&app, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_secured(&headers, path);
        assert!(headers["content-type"].to_str().unwrap().starts_with(content_type), "{path}");
        assert_eq!(headers["cache-control"], "no-cache", "{path}: a fixed name is revalidated on every use");
        assert!(body.contains(holds), "{path}");
        let etag = headers["etag"].to_str().unwrap().to_owned();
        assert_eq!(page(&app, path, &[("if-none-match", &etag)]).await.0, StatusCode::NOT_MODIFIED, "{path}");
    }
    // The worker keeps this build's assets by the names the pages use.
    let (_, _, worker) = page(&app, "/sw.js", &[]).await;
    let at = html.find("/assets/live.").unwrap();
    assert!(worker.contains(&html[at..at + html[at..].find('"').unwrap()]), "the worker names the page's scripts");
}
