use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN, TestApp};
use tryvoha::config::FlagSettings;

#[tokio::test]
async fn the_registry_of_ukraine_is_served_with_every_level() {
    let app = TestApp::spawn().await;
    let all = app.get("/api/v1/regions").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["regions"].as_array().unwrap().len(), 27 + 136 + 1469);
    for (level, count) in [("oblast", 27), ("raion", 136), ("hromada", 1469)] {
        let some = app.get(&format!("/api/v1/regions?level={level}")).await;
        assert_eq!(some.body["regions"].as_array().unwrap().len(), count, "{level}");
    }
    let kyiv = app.get("/api/v1/regions/31").await;
    assert_eq!((kyiv.body["name_uk"].as_str(), kyiv.body["name_en"].as_str()), (Some("м. Київ"), Some("Kyiv City")));
    assert_eq!(kyiv.body["state"], "clear");
}

#[tokio::test]
async fn a_region_is_found_by_its_katottg_code_and_shows_its_state() {
    let app = TestApp::spawn().await;
    let by_code = app.get("/api/v1/regions/UA32020010000093088").await;
    assert_eq!(by_code.status, StatusCode::OK);
    assert_eq!(by_code.body["id"], 711);
    assert_eq!(by_code.body["parent_id"], 73);
    let declared = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 711, "kind": "air_raid" })).await;
    assert_eq!(declared.status, StatusCode::CREATED);
    let states = [(711, "alert"), (73, "partial"), (14, "partial"), (31, "clear")];
    for (id, state) in states {
        let region = app.get(&format!("/api/v1/regions/{id}")).await;
        assert_eq!(region.body["state"], state, "region {id}");
    }
    let raion = app.get("/api/v1/regions/73").await;
    assert_eq!(raion.body["alerts"][0]["id"], declared.body["id"], "the raion lists the alert below it");
}

#[tokio::test]
async fn unknown_regions_and_bad_filters_are_clear_errors() {
    let app = TestApp::spawn().await;
    let missing = app.get("/api/v1/regions/999999").await;
    assert_eq!((missing.status, missing.body["code"].as_str()), (StatusCode::NOT_FOUND, Some("region-not-found")));
    let bad_level = app.get("/api/v1/regions?level=country").await;
    assert_eq!(bad_level.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (bad_level.body["code"].as_str(), bad_level.body["field"].as_str()),
        (Some("invalid-query"), Some("level"))
    );
    assert_eq!(bad_level.content_type, "application/problem+json");
}

#[tokio::test]
async fn another_countrys_registry_loads_from_a_file() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("regions.csv");
    std::fs::write(
        &file,
        "id,parent_id,level,code,name_uk,name_en\n1,,oblast,MD-CU,Кишинів,Chisinau\n10,1,raion,,Центр,Centru\n",
    )
    .unwrap();
    let app = TestApp::spawn_with(data, FlagSettings { regions: Some(file), ..Default::default() }).await;
    let all = app.get("/api/v1/regions").await;
    assert_eq!(all.body["regions"].as_array().unwrap().len(), 2);
    assert_eq!(app.get("/api/v1/regions/MD-CU").await.body["name_en"], "Chisinau");
    let declared = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 10, "kind": "air_raid" })).await;
    assert_eq!(declared.status, StatusCode::CREATED);
    assert_eq!(app.get("/api/v1/regions/1").await.body["state"], "partial");
}

#[tokio::test]
async fn a_registry_files_time_to_shelter_is_carried_by_alerts_below_it() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("regions.csv");
    std::fs::write(
        &file,
        "id,parent_id,level,code,name_uk,name_en,shelter_within_s\n1,,oblast,,Північ,North,90\n\
         10,1,raion,,Район,District,\n2,,oblast,,Південь,South,\n",
    )
    .unwrap();
    let app = TestApp::spawn_with(data, FlagSettings { regions: Some(file), ..Default::default() }).await;
    let below = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 10, "kind": "air_raid" })).await;
    assert_eq!(below.body["shelter_within_s"], 90, "{}", below.body);
    let stream = app.get("/api/v1/alerts/active").await;
    assert!(stream.body.to_string().contains("\"shelter_within_s\":90"), "{}", stream.body);
    let none = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 2, "kind": "air_raid" })).await;
    assert!(none.body.get("shelter_within_s").is_none(), "omitted where none is configured: {}", none.body);
}

#[tokio::test]
async fn an_admin_sets_a_time_to_shelter_that_descendants_inherit_and_it_survives_a_restart() {
    let app = TestApp::spawn().await;
    let patch = async |id: &str, token: &str, body: serde_json::Value| {
        app.call(Method::PATCH, &format!("/api/v1/regions/{id}"), Some(token), Some(body)).await
    };
    let operator = app.operator(&[14]).await;
    let refusals = [
        (patch("14", &operator, json!({ "shelter_within_s": 90 })).await, StatusCode::FORBIDDEN, None),
        (
            patch("14", ADMIN, json!({ "shelter_within_s": 3601 })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("shelter_within_s"),
        ),
        (
            patch("14", ADMIN, json!({ "shelter_within_s": -1 })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("shelter_within_s"),
        ),
        (patch("14", ADMIN, json!({})).await, StatusCode::UNPROCESSABLE_ENTITY, Some("shelter_within_s")),
        (
            patch("14", ADMIN, json!({ "shelter_within_s": 60, "name_en": "x" })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("name_en"),
        ),
        (patch("424242", ADMIN, json!({ "shelter_within_s": 60 })).await, StatusCode::NOT_FOUND, None),
    ];
    for (answer, status, field) in refusals {
        assert_eq!((answer.status, answer.body["field"].as_str()), (status, field), "{}", answer.body);
    }
    assert!(app.get("/api/v1/regions/14").await.body.get("shelter_within_s").is_none(), "nothing was set");

    let set = patch("14", ADMIN, json!({ "shelter_within_s": 120 })).await;
    assert_eq!((set.status, set.body["shelter_within_s"].as_u64()), (StatusCode::OK, Some(120)), "{}", set.body);
    assert_eq!(
        app.get("/api/v1/regions/711").await.body["shelter_within_s"],
        120,
        "a hromada of the oblast inherits it"
    );
    let alert = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 711, "kind": "air_raid" })).await;
    assert_eq!(alert.body["shelter_within_s"], 120, "{}", alert.body);
    // Changes one after another: the last holds for the next declaration, at once.
    patch("14", ADMIN, json!({ "shelter_within_s": null })).await;
    patch("14", ADMIN, json!({ "shelter_within_s": 60 })).await;
    let next = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 714, "kind": "air_raid" })).await;
    assert_eq!(next.body["shelter_within_s"], 60, "{}", next.body);
    patch("14", ADMIN, json!({ "shelter_within_s": 120 })).await;
    let elsewhere = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await;
    assert!(elsewhere.body.get("shelter_within_s").is_none(), "Kyiv city is not in the oblast: {}", elsewhere.body);

    let data = app.stop().await;
    let app = TestApp::spawn_in(data).await;
    assert_eq!(app.get("/api/v1/regions/711").await.body["shelter_within_s"], 120, "kept in the store");
    let cleared =
        app.call(Method::PATCH, "/api/v1/regions/14", Some(ADMIN), Some(json!({ "shelter_within_s": null }))).await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert!(cleared.body.get("shelter_within_s").is_none(), "{}", cleared.body);
    let later = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 712, "kind": "air_raid" })).await;
    assert!(later.body.get("shelter_within_s").is_none(), "{}", later.body);
}
