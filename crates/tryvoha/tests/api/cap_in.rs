//! CAP in, the rules that keep it safe: it never takes over or ends an alert it did not create,
//! maps only what it knows, refuses stale messages, covers polygons by area, and applies a
//! message over several regions all or nothing.

use reqwest::StatusCode;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::support::{ADMIN, Answer, TestApp};

/// A CAP time: whole seconds and an explicit offset.
fn cap_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A CAP message with one `info` in English.
struct Message<'a> {
    identifier: &'a str,
    sender: &'a str,
    sent: OffsetDateTime,
    msg_type: &'a str,
    references: Vec<String>,
    event: &'a str,
    severity: &'a str,
    area: String,
}

impl Message<'_> {
    fn alert<'a>(identifier: &'a str, area: String) -> Message<'a> {
        Message {
            identifier,
            sender: "civil-protection.example",
            sent: OffsetDateTime::now_utc(),
            msg_type: "Alert",
            references: Vec::new(),
            event: "Air raid alert",
            severity: "Extreme",
            area,
        }
    }

    fn follow_up<'a>(identifier: &'a str, msg_type: &'a str, references: Vec<String>) -> Message<'a> {
        Message { msg_type, references, ..Message::alert(identifier, geocode(31)) }
    }

    fn xml(&self) -> Vec<u8> {
        let references = if self.references.is_empty() {
            String::new()
        } else {
            format!("<references>{}</references>", self.references.join(" "))
        };
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>{}</identifier><sender>{}</sender><sent>{}</sent><status>Actual</status>
<msgType>{}</msgType><scope>Public</scope>{references}
<info><language>en-US</language><category>Safety</category><event>{}</event><urgency>Immediate</urgency>
<severity>{}</severity><certainty>Observed</certainty><headline>Take shelter</headline>
<area><areaDesc>here</areaDesc>{}</area></info></alert>"#,
            self.identifier,
            self.sender,
            cap_time(self.sent),
            self.msg_type,
            self.event,
            self.severity,
            self.area
        )
        .into_bytes()
    }
}

fn geocode(region: u32) -> String {
    format!("<geocode><valueName>tryvoha:region</valueName><value>{region}</value></geocode>")
}

fn reference(message: &Message<'_>) -> String {
    format!("{},{},{}", message.sender, message.identifier, cap_time(message.sent))
}

async fn post_cap(app: &TestApp, token: &str, message: &Message<'_>) -> Answer {
    app.raw_post("/api/v1/cap", token, "application/cap+xml", message.xml()).await
}

fn assert_refused(answer: &Answer, status: StatusCode, code: &str, field: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(
        (answer.body["code"].as_str(), answer.body["field"].as_str()),
        (Some(code), Some(field)),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn a_cap_alert_escalates_a_native_alert_but_its_cancel_cannot_end_it() {
    let app = TestApp::spawn().await;
    let native =
        app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid", "level": "yellow" })).await;
    assert_eq!(native.status, StatusCode::CREATED);
    let relay = app.operator(&[31]).await;
    let alert = Message::alert("relay-1", geocode(31));
    let escalated = post_cap(&app, &relay, &alert).await;
    assert_eq!(escalated.status, StatusCode::OK, "nothing new was created: {}", escalated.body);
    assert_eq!(escalated.body["alerts"][0]["id"], native.body["id"]);
    assert_eq!(escalated.body["alerts"][0]["level"], "red", "Extreme escalates the yellow alert");
    assert_eq!(app.events().await.last().unwrap()["type"], "updated");

    let cancel = Message::follow_up("relay-2", "Cancel", vec![reference(&alert)]);
    let refused = post_cap(&app, &relay, &cancel).await;
    assert_refused(&refused, StatusCode::UNPROCESSABLE_ENTITY, "cap-unknown-reference", "references");
    let active = app.get("/api/v1/alerts/active").await.body;
    assert_eq!(active["alerts"][0]["id"], native.body["id"], "the native alert still stands");
}

#[tokio::test]
async fn our_own_message_may_be_followed_up_only_by_the_token_that_declared_it_or_an_admin() {
    let app = TestApp::spawn().await;
    let declarer = app.operator(&[31]).await;
    let stranger = app.operator(&[31]).await;
    let declared = app.post("/api/v1/alerts", &declarer, json!({ "region_id": 31, "kind": "air_raid" })).await;
    let id = declared.body["id"].as_u64().unwrap();
    let ours = format!("tryvoha,tryvoha-alert-{id},{}", cap_time(OffsetDateTime::now_utc()));
    let cancel = Message::follow_up("stranger-cancel", "Cancel", vec![ours.clone()]);
    let before = app.last_seq().await;
    assert_refused(&post_cap(&app, &stranger, &cancel).await, StatusCode::FORBIDDEN, "cap-not-owner", "references");
    assert_eq!(app.last_seq().await, before, "the stranger changed nothing");
    let nobody = format!("tryvoha,tryvoha-alert-9223372036854775808,{}", cap_time(OffsetDateTime::now_utc()));
    for missing in [format!("tryvoha,tryvoha-alert-999,{}", cap_time(OffsetDateTime::now_utc())), nobody] {
        let cancel = Message::follow_up("missing-cancel", "Cancel", vec![missing]);
        let refused = post_cap(&app, ADMIN, &cancel).await;
        assert_refused(&refused, StatusCode::UNPROCESSABLE_ENTITY, "cap-unknown-reference", "references");
    }
    let ended = post_cap(&app, &declarer, &cancel).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert_eq!(ended.body["alerts"][0]["finish_reason"], "cancelled");
}

#[tokio::test]
async fn a_cap_alert_over_several_regions_is_applied_all_or_nothing() {
    let app = TestApp::spawn().await;
    let kyiv_oblast = app.operator(&[14]).await;
    let both = Message::alert("two-regions", format!("{}{}", geocode(14), geocode(31)));
    let before = app.last_seq().await;
    assert_refused(&post_cap(&app, &kyiv_oblast, &both).await, StatusCode::FORBIDDEN, "out-of-scope", "region_id");
    assert_eq!(app.last_seq().await, before, "not even the region in scope was declared");
    assert!(app.get("/api/v1/alerts/active").await.body["alerts"].as_array().unwrap().is_empty());

    let applied = post_cap(&app, ADMIN, &both).await;
    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.body);
    let seqs: Vec<u64> =
        applied.body["alerts"].as_array().unwrap().iter().map(|a| a["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2]);
    // The Update acts on both in one commit, and an operator of one region may not make it.
    let update = Message { severity: "Moderate", ..Message::follow_up("two-update", "Update", vec![reference(&both)]) };
    assert_refused(&post_cap(&app, &kyiv_oblast, &update).await, StatusCode::FORBIDDEN, "cap-not-owner", "references");
    let updated = post_cap(&app, ADMIN, &update).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let levels: Vec<&str> =
        updated.body["alerts"].as_array().unwrap().iter().map(|a| a["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["yellow", "yellow"]);
}

#[tokio::test]
async fn unknown_events_and_stale_or_future_messages_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    let now = OffsetDateTime::now_utc();
    let cases = [
        (Message { event: "Tsunami Warning", ..Message::alert("e1", geocode(31)) }, "cap-unknown-event", "info.event"),
        (Message { sent: now - Duration::minutes(61), ..Message::alert("e2", geocode(31)) }, "cap-too-old", "sent"),
        (
            Message { sent: now + Duration::minutes(6), ..Message::alert("e3", geocode(31)) },
            "cap-sent-in-future",
            "sent",
        ),
    ];
    for (message, code, field) in &cases {
        assert_refused(&post_cap(&app, ADMIN, message).await, StatusCode::UNPROCESSABLE_ENTITY, code, field);
    }
    let slightly_ahead = Message { sent: now + Duration::minutes(2), ..Message::alert("e4", geocode(31)) };
    assert_eq!(post_cap(&app, ADMIN, &slightly_ahead).await.status, StatusCode::CREATED, "within the clock skew");
    assert_eq!(app.last_seq().await, 1);
    assert_eq!(app.events().await[0]["alert"]["kind"], "air_raid");
}

#[tokio::test]
async fn the_maximum_age_is_a_setting() {
    let flags = tryvoha::config::FlagSettings { cap_max_age_secs: Some(7200), ..Default::default() };
    let app = TestApp::spawn_with(tempfile::tempdir().unwrap(), flags).await;
    let older = Message { sent: OffsetDateTime::now_utc() - Duration::minutes(90), ..Message::alert("a", geocode(31)) };
    assert_eq!(post_cap(&app, ADMIN, &older).await.status, StatusCode::CREATED);
}

/// The outer ring of Kyiv oblast (region 14) from the bundled simplified boundaries, as a CAP
/// polygon (`lat,lon` pairs).
fn kyiv_oblast_polygon() -> String {
    let text = include_str!("../../../../data/boundaries/ukraine-oblast-simplified.geojson");
    let collection: serde_json::Value = serde_json::from_str(text).unwrap();
    let feature = collection["features"].as_array().unwrap().iter().find(|f| f["id"] == 14).unwrap();
    let geometry = &feature["geometry"];
    let rings: Vec<&serde_json::Value> = match geometry["type"].as_str().unwrap() {
        "Polygon" => vec![&geometry["coordinates"][0]],
        _ => geometry["coordinates"].as_array().unwrap().iter().map(|p| &p[0]).collect(),
    };
    let ring = rings.into_iter().max_by_key(|r| r.as_array().unwrap().len()).unwrap();
    let points: Vec<String> = ring.as_array().unwrap().iter().map(|p| format!("{},{}", p[1], p[0])).collect();
    format!("<polygon>{}</polygon>", points.join(" "))
}

#[tokio::test]
async fn a_polygon_of_kyiv_oblast_declares_kyiv_oblast_and_the_city_inside_it() {
    let app = TestApp::spawn().await;
    let applied = post_cap(&app, ADMIN, &Message::alert("oblast-polygon", kyiv_oblast_polygon())).await;
    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.body);
    let regions: Vec<u64> =
        applied.body["alerts"].as_array().unwrap().iter().map(|a| a["region_id"].as_u64().unwrap()).collect();
    assert_eq!(regions, [14, 31], "the oblast, and Kyiv city inside its outer ring; not the city alone");
    // With the oblast's geocode beside the polygon, the geocode decides (our own messages).
    let named = Message::alert("oblast-named", format!("{}{}", kyiv_oblast_polygon(), geocode(14)));
    let named = post_cap(&app, ADMIN, &named).await;
    let regions: Vec<u64> =
        named.body["alerts"].as_array().unwrap().iter().map(|a| a["region_id"].as_u64().unwrap()).collect();
    assert_eq!(regions, [14]);
}
