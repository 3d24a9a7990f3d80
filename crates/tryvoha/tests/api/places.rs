//! Location lookup, map layers with live state, shelters, and streams by location.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::sse::{FrameExt, SseStream};
use crate::support::{ADMIN, TestApp};

/// A point inside the Lviv hromada (data/boundaries/checkpoints.csv).
const LVIV: (f64, f64) = (49.88005, 23.976289);
/// Maidan Nezalezhnosti metro station (OSM node, data/shelters/kyiv-metro.geojson).
const MAIDAN: (f64, f64) = (50.4501, 30.5241);

#[tokio::test]
async fn a_point_locates_to_its_hromada_raion_and_oblast_with_their_state() {
    let app = TestApp::spawn().await;
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 27, "kind": "air_raid" })).await;
    let found = app.get(&format!("/api/v1/locate?lat={}&lon={}", LVIV.0, LVIV.1)).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let names: Vec<&str> =
        ["hromada", "raion", "oblast"].iter().map(|l| found.body[l]["name_en"].as_str().unwrap()).collect();
    assert_eq!(names, ["Lvivska hromada", "Lvivskyi raion", "Lvivska oblast"]);
    assert_eq!(found.body["hromada"]["katottg"].as_str().map(|c| c.starts_with("UA46")), Some(true));
    assert_eq!(found.body["hromada"]["state"], "alert", "the oblast's alert covers the hromada");
    let kyiv = app.get(&format!("/api/v1/locate?lat={}&lon={}", MAIDAN.0, MAIDAN.1)).await;
    assert_eq!((kyiv.body["oblast"]["id"].as_u64(), kyiv.body["hromada"].is_null()), (Some(31), true));
}

#[tokio::test]
async fn points_outside_and_bad_coordinates_are_clear_errors() {
    let app = TestApp::spawn().await;
    let sea = app.get("/api/v1/locate?lat=43.0&lon=34.0").await;
    assert_eq!((sea.status, sea.body["code"].as_str()), (StatusCode::NOT_FOUND, Some("outside-regions")));
    for (query, field) in [
        ("lat=91&lon=30", "lat"),
        ("lat=50&lon=-181", "lon"),
        ("lat=abc&lon=30", "lat"),
        ("lat=50", "lon"),
        ("lat=NaN&lon=30", "lat"),
    ] {
        let answer = app.get(&format!("/api/v1/locate?{query}")).await;
        assert_eq!(
            (answer.status, answer.body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{query}: {}",
            answer.body
        );
        assert_eq!(answer.content_type, "application/problem+json");
    }
}

#[tokio::test]
async fn map_layers_carry_live_state_and_an_etag_that_changes_with_it() {
    let app = TestApp::spawn().await;
    let get = |query: &'static str, etag: Option<String>| {
        let mut request = app.client.get(format!("{}/api/v1/regions.geojson{query}", app.base));
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send()
    };
    let first = get("?level=oblast", None).await.unwrap();
    assert_eq!(first.headers()["content-type"], "application/geo+json");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let layer: Value = first.json().await.unwrap();
    assert_eq!(layer["features"].as_array().unwrap().len(), 27);
    assert!(layer["attribution"].as_str().unwrap().contains("CC BY 4.0"));
    assert_eq!(get("?level=oblast", Some(etag.clone())).await.unwrap().status(), StatusCode::NOT_MODIFIED);

    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let changed = get("?level=oblast", Some(etag.clone())).await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK, "a new event makes the old ETag stale");
    let layer: Value = changed.json().await.unwrap();
    let kyiv_oblast = layer["features"].as_array().unwrap().iter().find(|f| f["id"] == 14).unwrap();
    assert_eq!(kyiv_oblast["properties"]["state"], "alert");
    assert_eq!(kyiv_oblast["geometry"]["type"], "MultiPolygon");

    let hromadas: Value = get("?level=hromada", None).await.unwrap().json().await.unwrap();
    let levels = |layer: &Value, level: &str| {
        layer["features"].as_array().unwrap().iter().filter(|f| f["properties"]["level"] == level).count()
    };
    assert_eq!(levels(&hromadas, "hromada"), 1469);
    assert_eq!(levels(&hromadas, "raion"), 10, "Crimea's raions, which have no hromadas, fill their part");
    for query in ["?level=raion", "?level=hromada", "?level=hromada&detail=full"] {
        let layer: Value = get(query, None).await.unwrap().json().await.unwrap();
        let ids: Vec<u64> = layer["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["properties"]["level"] == "oblast")
            .map(|f| f["id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, [30, 31], "{query}: Sevastopol and Kyiv city, which have no subdivisions, are drawn");
    }
    let kyiv = app.get("/api/v1/locate?lat=50.4501&lon=30.5241").await.body;
    assert_eq!(
        (kyiv["oblast"]["id"].as_u64(), kyiv["raion"].is_null(), kyiv["hromada"].is_null()),
        (Some(31), true, true)
    );
    let full = get("?level=raion&detail=full", None).await.unwrap().bytes().await.unwrap().len();
    let simplified = get("?level=raion", None).await.unwrap().bytes().await.unwrap().len();
    assert!(simplified < full, "simplified by default ({simplified} < {full} bytes)");
    let bad = app.get("/api/v1/regions.geojson?level=country").await;
    assert_eq!((bad.status, bad.body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("level")));
}

#[tokio::test]
async fn the_bundled_metro_stations_are_the_nearest_shelters_with_distance_and_walking_time() {
    let app = TestApp::spawn().await;
    let nearest = app.get(&format!("/api/v1/shelters/nearest?lat={}&lon={}&limit=3", MAIDAN.0, MAIDAN.1)).await;
    assert_eq!(nearest.status, StatusCode::OK);
    let shelters = nearest.body["shelters"].as_array().unwrap();
    assert_eq!(shelters.len(), 3);
    assert_eq!(shelters[0]["name_en"], "Independence Square");
    assert_eq!(shelters[0]["kind"], "metro_station");
    let distances: Vec<f64> = shelters.iter().map(|s| s["distance_m"].as_f64().unwrap()).collect();
    assert!(distances[0] < 50.0 && distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(shelters.iter().all(|s| s["walking_minutes"].as_u64().is_some()));
    let in_box = app.get("/api/v1/shelters?bbox=30.51,50.44,30.53,50.46").await;
    let names: Vec<&str> =
        in_box.body["shelters"].as_array().unwrap().iter().map(|s| s["name_en"].as_str().unwrap()).collect();
    assert!(names.contains(&"Independence Square") && names.len() < 10, "{names:?}");
    for (query, field) in [("?bbox=1,2,3", "bbox"), ("?bbox=31,50,30,51", "bbox")] {
        assert_eq!(app.get(&format!("/api/v1/shelters{query}")).await.body["field"], field);
    }
    assert_eq!(app.get("/api/v1/shelters/nearest?lat=50&lon=30&limit=0").await.body["field"], "limit");
}

#[tokio::test]
async fn the_nearest_shelters_are_near_or_the_answer_says_there_are_none() {
    let app = TestApp::spawn().await;
    // Only the bundled Kyiv metro: from Lviv the nearest station is 470 km away.
    let lviv = app.get(&format!("/api/v1/shelters/nearest?lat={}&lon={}", LVIV.0, LVIV.1)).await;
    assert_eq!(lviv.status, StatusCode::OK);
    assert_eq!(lviv.body["shelters"], json!([]));
    assert_eq!(lviv.body["max_distance_m"], 20000.0, "the default cap");
    assert!(lviv.body["message"].as_str().unwrap().contains("no known shelter within 20000 m"), "{}", lviv.body);
    let far = app.get(&format!("/api/v1/shelters/nearest?lat={}&lon={}&max_distance_m=600000", LVIV.0, LVIV.1)).await;
    let shelters = far.body["shelters"].as_array().unwrap();
    assert!(!shelters.is_empty() && shelters.iter().all(|s| s["distance_m"].as_f64().unwrap() <= 600_000.0));
    assert!(far.body.get("message").is_none(), "no message when shelters are found");
    let near = app.get(&format!("/api/v1/shelters/nearest?lat={}&lon={}&max_distance_m=500", MAIDAN.0, MAIDAN.1)).await;
    let distances: Vec<f64> =
        near.body["shelters"].as_array().unwrap().iter().map(|s| s["distance_m"].as_f64().unwrap()).collect();
    assert!(!distances.is_empty() && distances.iter().all(|d| *d <= 500.0), "{distances:?}");
    for bad in ["0", "-5", "abc", "30000000"] {
        let answer = app.get(&format!("/api/v1/shelters/nearest?lat=50&lon=30&max_distance_m={bad}")).await;
        assert_eq!(
            (answer.status, answer.body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("max_distance_m")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn importing_the_same_shelters_twice_adds_them_once() {
    let app = TestApp::spawn().await;
    let count = async || app.get("/api/v1/shelters").await.body["shelters"].as_array().unwrap().len();
    let before = count().await;
    let file = json!({ "shelters": [
        { "lat": LVIV.0, "lon": LVIV.1, "name_uk": "Укриття 1", "kind": "basement" },
        { "lat": LVIV.0 + 0.001, "lon": LVIV.1, "name_uk": "Укриття 2", "kind": "basement" },
    ] });
    let first = app.post("/api/v1/shelters/import", ADMIN, file.clone()).await;
    assert_eq!(
        (first.status, first.body["added"].as_u64(), first.body["unchanged"].as_u64()),
        (StatusCode::CREATED, Some(2), Some(0))
    );
    let again = app.post("/api/v1/shelters/import", ADMIN, file).await;
    assert_eq!((again.body["added"].as_u64(), again.body["unchanged"].as_u64()), (Some(0), Some(2)), "{}", again.body);
    assert_eq!(count().await, before + 2);
}

#[tokio::test]
async fn admins_add_update_and_remove_shelters_and_bad_ones_change_nothing() {
    let app = TestApp::spawn().await;
    let count = async || app.get("/api/v1/shelters").await.body["shelters"].as_array().unwrap().len();
    let before = count().await;
    let shelter =
        json!({ "lat": LVIV.0, "lon": LVIV.1, "name_uk": "Укриття у Львові", "kind": "basement", "capacity": 80 });
    let operator = app.operator(&[27]).await;
    assert_eq!(app.post("/api/v1/shelters", &operator, shelter.clone()).await.status, StatusCode::FORBIDDEN);
    let added = app.post("/api/v1/shelters", ADMIN, shelter.clone()).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let id = added.body["id"].as_u64().unwrap();
    let nearest = app.get(&format!("/api/v1/shelters/nearest?lat={}&lon={}&limit=1", LVIV.0, LVIV.1)).await;
    assert_eq!(nearest.body["shelters"][0]["id"], id, "the index knows it at once");

    let moved =
        json!({ "lat": 49.88, "lon": 23.97, "name_uk": "Укриття у Львові", "kind": "basement", "wheelchair": true });
    let updated = app.call(Method::PUT, &format!("/api/v1/shelters/{id}"), Some(ADMIN), Some(moved)).await;
    assert_eq!((updated.status, updated.body["wheelchair"].as_bool()), (StatusCode::OK, Some(true)));

    let bad_cases = [
        (json!({ "lat": 95, "lon": 24, "name_uk": "X", "kind": "basement" }), "lat"),
        (json!({ "lat": 49, "lon": 24, "name_uk": " ", "kind": "basement" }), "name_uk"),
        (json!({ "lat": 49, "lon": 24, "name_uk": "X", "kind": "bunker" }), "kind"),
        (json!({ "lat": 49, "lon": 24, "name_uk": "X", "kind": "basement", "capacity": 0 }), "capacity"),
        (json!({ "lat": 49, "lon": 24, "name_uk": "X", "kind": "basement", "floors": 3 }), "floors"),
    ];
    for (body, field) in bad_cases {
        let answer = app.post("/api/v1/shelters", ADMIN, body.clone()).await;
        assert_eq!(
            (answer.status, answer.body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
    let import = json!({ "shelters": [shelter.clone(), { "lat": 49, "lon": 24, "name_uk": "", "kind": "basement" }] });
    let refused = app.post("/api/v1/shelters/import", ADMIN, import).await;
    assert_eq!(refused.body["field"], "shelters[1].name_uk");
    assert_eq!(count().await, before + 1, "nothing half-imported, no bad shelter stored");

    let removed = app.call(Method::DELETE, &format!("/api/v1/shelters/{id}"), Some(ADMIN), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/shelters/{id}")).await.body["code"], "shelter-not-found");
    assert_eq!(count().await, before);
}

#[tokio::test]
async fn a_stream_by_location_hears_the_hromada_there_and_its_ancestors() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/stream?lat={}&lon={}", LVIV.0, LVIV.1);
    let mut stream = SseStream::open(&reqwest::Client::new(), &app.base, &path, None).await;
    let snapshot = stream.next(Duration::from_secs(5)).await.unwrap();
    let hromada = snapshot.json()["regions"][0]["id"].as_u64().unwrap();
    let located = app.get(&format!("/api/v1/locate?lat={}&lon={}", LVIV.0, LVIV.1)).await;
    assert_eq!(located.body["hromada"]["id"].as_u64(), Some(hromada));
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await; // elsewhere
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 27, "kind": "air_raid" })).await; // its oblast
    let heard = stream.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!((heard.seq(), heard.json()["alert"]["region_id"].as_u64()), (2, Some(27)));
    let outside = app.get("/api/v1/stream?lat=43&lon=34").await;
    assert_eq!(outside.body["code"], "outside-regions");
    assert_eq!(app.get("/api/v1/stream?lat=49").await.body["field"], "lon");
}
