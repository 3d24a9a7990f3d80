//! ukrainealarm v3 (and siren.pp.ua, its key-less mirror): the region tree, the alerts per
//! region, the change counter and a region's history. Exact shapes: docs/compat.md.

use serde_json::{Value, json};
use time::OffsetDateTime;
use tryvoha_core::{
    Alert, AlertBook, AlertEvent, AlertKind, AlertLevel, AlertStatus, Level, Region, RegionId, RegionRegistry,
};
use tryvoha_store::HistoryRecord;

use crate::air_raid::is_real;
use crate::wire_time::{milliseconds, whole_seconds};

/// How many past alarms `regionHistory` returns, as upstream does.
pub const HISTORY_LENGTH: usize = 25;

/// `/api/v3/regions`: the registry as a tree, oblasts (`State`) at the top.
pub fn regions(registry: &RegionRegistry) -> Value {
    fn node(registry: &RegionRegistry, region: &Region) -> Value {
        let children: Vec<Value> =
            registry.children(region.id).iter().filter_map(|id| registry.get(*id)).map(|c| node(registry, c)).collect();
        json!({ "regionId": region.id.to_string(), "regionName": region.name_uk, "regionType": region_type(region), "regionChildIds": children })
    }
    let states: Vec<Value> =
        registry.all().iter().filter(|r| r.parent_id.is_none()).map(|r| node(registry, r)).collect();
    json!({ "states": states })
}

/// `/api/v3/alerts`: every region with a real alert of its own, in id order.
pub fn all_alerts(book: &AlertBook) -> Value {
    let registry = book.registry();
    let mut with_alerts: Vec<RegionId> = book.active().filter(|a| is_real(a)).map(|a| a.region_id).collect();
    with_alerts.sort();
    with_alerts.dedup();
    let models: Vec<Value> =
        with_alerts.iter().filter_map(|id| registry.get(*id)).map(|r| region_model(book, r)).collect();
    Value::Array(models)
}

/// A region with the real alerts covering it: its own and its ancestors'.
pub fn region_model(book: &AlertBook, region: &Region) -> Value {
    let registry = book.registry();
    let covering: Vec<&Alert> =
        book.active().filter(|a| is_real(a) && registry.is_within(region.id, a.region_id)).collect();
    let active: Vec<Value> = covering
        .iter()
        .map(|alert| {
            let level = match alert.level {
                AlertLevel::Red => "Red",
                AlertLevel::Yellow => "Yellow",
            };
            let reason = alert.message.as_ref().and_then(|m| m.uk.clone()).unwrap_or_default();
            let holder = registry.get(alert.region_id).unwrap_or(region);
            json!({
                "regionId": alert.region_id.to_string(),
                "regionType": region_type(holder),
                "type": alert_type(alert.kind),
                "lastUpdate": milliseconds(alert.updated_at),
                "activeAlertLevels": [{ "alertLevel": level, "reason": reason, "createdAt": milliseconds(alert.started_at) }],
            })
        })
        .collect();
    let last_update =
        covering.iter().map(|a| a.updated_at).max().or(book.last_change_at()).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    json!({
        "regionId": region.id.to_string(),
        "regionType": region_type(region),
        "regionName": region.name_uk,
        "regionEngName": region.name_en,
        "lastUpdate": milliseconds(last_update),
        "activeAlerts": active,
    })
}

/// `/api/v3/alerts/status`: any number that grows with every change will do, and the log's
/// sequence number does.
pub fn status(book: &AlertBook) -> Value {
    json!({ "lastActionIndex": book.last_seq() })
}

/// The regions whose alarms covered `region`: it and its ancestors.
pub fn history_regions(registry: &RegionRegistry, region: RegionId) -> Vec<RegionId> {
    std::iter::once(region).chain(registry.ancestors(region)).collect()
}

/// `/api/v3/alerts/regionHistory`: the real alarms among `records` (the latest
/// [`HISTORY_LENGTH`] of [`history_regions`]).
pub fn region_history(records: &[HistoryRecord], registry: &RegionRegistry, region: &Region) -> Value {
    let alarms: Vec<Value> = records
        .iter()
        .filter(|r| r.status == AlertStatus::Actual)
        .map(|r| {
            let seconds = (r.finished_at - r.started_at).whole_seconds().max(0);
            let name = registry.get(r.region_id).map_or("", |g| g.name_uk.as_str());
            json!({
                "regionId": r.region_id.to_string(),
                "regionName": name,
                "startDate": whole_seconds(r.started_at),
                "endDate": whole_seconds(r.finished_at),
                "duration": format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60),
                "alertType": alert_type(r.kind),
                "isContinue": false,
            })
        })
        .collect();
    json!([{ "regionId": region.id.to_string(), "regionName": region.name_uk, "alarms": alarms }])
}

/// The body of a ukrainealarm-style webhook for `event` (a real alert's; `None` for a drill or
/// a test, which that API never shows). `status`, `alertLevel` and `reason` describe the change;
/// `activeAlertLevels` is the region's full state for that alarm type after it, as upstream's
/// documentation describes (docs/compat.md says what is inferred).
pub fn webhook_body(event: &AlertEvent, book: &AlertBook) -> Option<Value> {
    let alert = &event.alert;
    if !is_real(alert) {
        return None;
    }
    let status = if alert.finished_at.is_some() { "DEACTIVATE" } else { "ACTIVATE" };
    let level = |level: AlertLevel| match level {
        AlertLevel::Red => "Red",
        AlertLevel::Yellow => "Yellow",
    };
    let reason = |alert: &Alert| alert.message.as_ref().and_then(|m| m.uk.clone()).unwrap_or_default();
    let active: Vec<Value> = book
        .active()
        .filter(|a| is_real(a) && a.region_id == alert.region_id && a.kind == alert.kind)
        .map(|a| json!({ "alertLevel": level(a.level), "reason": reason(a), "createdAt": whole_seconds(a.started_at) }))
        .collect();
    Some(json!({
        "status": status,
        "regionId": alert.region_id.0,
        "alarmType": alert_type(alert.kind),
        "createdAt": whole_seconds(event.at),
        "alertLevel": level(alert.level),
        "reason": reason(alert),
        "activeAlertLevels": active,
    }))
}

fn region_type(region: &Region) -> &'static str {
    match region.level {
        Level::Oblast => "State",
        Level::Raion => "District",
        Level::Hromada => "Community",
    }
}

fn alert_type(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::AirRaid => "AIR",
        AlertKind::ArtilleryShelling => "ARTILLERY",
        AlertKind::UrbanFights => "URBAN_FIGHTS",
        AlertKind::Chemical => "CHEMICAL",
        AlertKind::Nuclear => "NUCLEAR",
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use tryvoha_core::{AlertLevel::*, AlertStatus::*};

    use super::*;
    use crate::fixture::{STARTED, alert, book};

    #[test]
    fn a_region_lists_the_real_alerts_covering_it_with_their_holders_type() {
        let book = book(vec![alert(1, 4, Yellow, Actual), alert(2, 400, Red, Exercise)]);
        let hromada = book.registry().get(RegionId(400)).unwrap();
        let model = region_model(&book, hromada);
        assert_eq!(model["regionType"], "Community");
        let active = model["activeAlerts"].as_array().unwrap();
        assert_eq!(active.len(), 1, "the drill is not shown: {active:?}");
        assert_eq!(active[0]["regionId"], "4");
        assert_eq!(active[0]["regionType"], "State");
        assert_eq!(active[0]["type"], "AIR");
        assert_eq!(active[0]["activeAlertLevels"][0]["alertLevel"], "Yellow");
        assert_eq!(all_alerts(&book).as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn the_region_tree_nests_children_under_each_oblast() {
        let book = book(Vec::new());
        let tree = regions(book.registry());
        let states = tree["states"].as_array().unwrap();
        assert_eq!(states.len(), 2);
        let vinnytsia = states.iter().find(|s| s["regionId"] == "4").unwrap();
        assert_eq!(vinnytsia["regionChildIds"][0]["regionChildIds"][0]["regionType"], "Community");
    }

    #[test]
    fn a_history_alarm_has_whole_second_times_and_a_duration() {
        let book = book(Vec::new());
        let registry = book.registry();
        assert_eq!(history_regions(registry, RegionId(400)), vec![RegionId(400), RegionId(40), RegionId(4)]);
        let record = HistoryRecord {
            id: 1,
            region_id: RegionId(4),
            kind: tryvoha_core::AlertKind::AirRaid,
            level: Red,
            status: Actual,
            started_at: STARTED,
            finished_at: STARTED + Duration::seconds(3723),
            source: "live".into(),
        };
        let history = region_history(&[record], registry, registry.get(RegionId(400)).unwrap());
        let alarm = &history[0]["alarms"][0];
        assert_eq!(alarm["startDate"], "2026-05-06T10:02:45Z");
        assert_eq!(alarm["duration"], "01:02:03");
        assert_eq!(alarm["regionName"], "Вінницька область");
    }
}
