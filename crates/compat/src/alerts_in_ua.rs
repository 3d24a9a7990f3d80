//! alerts.in.ua v1 (and the v2 IoT strings): the active alerts, a region's history and the
//! compact IoT strings. Exact shapes: docs/compat.md.

use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tryvoha_core::{Alert, AlertBook, AlertStatus, Level, Region, RegionId, RegionRegistry, Threat};
use tryvoha_store::HistoryRecord;

use crate::air_raid::{AirRaid, IotVersion, is_real};
use crate::wire_time::{meta_time, milliseconds};

/// The order of the 27 characters of `active_air_raid_alerts_by_oblast.json`, fixed by the API.
pub const OBLAST_ORDER: [u32; 27] =
    [29, 8, 4, 9, 28, 10, 11, 12, 13, 31, 14, 15, 16, 27, 17, 18, 19, 5, 30, 20, 21, 22, 23, 3, 24, 26, 25];
/// Ids from here up are tryvoha's reserved range (docs/regions.md), unknown to these clients.
const RESERVED_IDS: u32 = 100_001;
const DISCLAIMER: &str = "Served by tryvoha, compatible with the alerts.in.ua API.";

/// The answer of `alerts/active.json` and of a region's history.
#[derive(Debug, Serialize)]
pub struct Envelope {
    pub alerts: Vec<Value>,
    pub meta: Value,
    pub disclaimer: &'static str,
}

impl Envelope {
    pub fn new(alerts: Vec<Value>, last_modified: OffsetDateTime) -> Envelope {
        let meta = json!({ "last_updated_at": meta_time(last_modified), "type": "full" });
        Envelope { alerts, meta, disclaimer: DISCLAIMER }
    }
}

/// When the answers last changed: the latest event, at whole seconds as HTTP dates are.
pub fn last_modified(book: &AlertBook) -> OffsetDateTime {
    let at = book.last_change_at().unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.replace_nanosecond(0).unwrap_or(at)
}

/// The real active alerts, in the wire shape.
pub fn active_alerts(book: &AlertBook) -> Vec<Value> {
    let registry = book.registry();
    book.active().filter(|a| is_real(a)).filter_map(|a| alert_json(a, registry)).collect()
}

/// The regions a region's history holds: it and everything below it (an oblast's history holds
/// its raions' alerts too).
pub fn history_regions(registry: &RegionRegistry, region: RegionId) -> Vec<RegionId> {
    registry.all().iter().filter(|r| registry.is_within(r.id, region)).map(|r| r.id).collect()
}

/// A region's history since `from`: the real finished alerts in `records` (read for
/// [`history_regions`]), then the real active ones of its subtree that started since.
pub fn history_alerts(
    records: &[HistoryRecord],
    book: &AlertBook,
    region: RegionId,
    from: OffsetDateTime,
) -> Vec<Value> {
    let registry = book.registry();
    let mut alerts: Vec<Value> =
        records.iter().filter(|r| r.status == AlertStatus::Actual).filter_map(|r| history_json(r, registry)).collect();
    let ongoing =
        book.active().filter(|a| is_real(a) && registry.is_within(a.region_id, region) && a.started_at >= from);
    alerts.extend(ongoing.filter_map(|a| alert_json(a, registry)));
    alerts
}

/// `active_air_raid_alerts_by_oblast.json`: one letter per oblast, in [`OBLAST_ORDER`].
pub fn by_oblast(book: &AlertBook, version: IotVersion) -> String {
    OBLAST_ORDER.iter().map(|&uid| AirRaid::of(book, RegionId(uid)).letter(version)).collect()
}

/// `active_air_raid_alerts.json`: the letter of every region at its id's place, a space where
/// no region has that id; the reserved ids are left out.
pub fn every_uid(book: &AlertBook, version: IotVersion) -> String {
    let ids: Vec<u32> = book.registry().all().iter().map(|r| r.id.0).filter(|&id| id < RESERVED_IDS).collect();
    let length = ids.iter().max().map_or(0, |max| *max as usize + 1);
    let mut letters = vec![' '; length];
    for id in ids {
        letters[id as usize] = AirRaid::of(book, RegionId(id)).letter(version);
    }
    letters.into_iter().collect()
}

/// One alert in the wire shape, with its threats (active alerts) and place names.
fn alert_json(alert: &Alert, registry: &RegionRegistry) -> Option<Value> {
    let mut value = location_json(registry, alert.region_id)?;
    let threats: Vec<_> = alert
        .threats
        .iter()
        .map(|t| json!({ "threat_type": threat_name(*t), "level": alert.level.as_str(), "started_at": milliseconds(alert.started_at), "source_message": null }))
        .collect();
    let extra = json!({
        "id": alert.id.0,
        "started_at": milliseconds(alert.started_at),
        "finished_at": alert.finished_at.map(milliseconds),
        "updated_at": milliseconds(alert.updated_at),
        "alert_type": alert.kind.as_str(),
        "alert_level": alert.level.as_str(),
        "threats": threats,
        "notes": alert.message.as_ref().and_then(|m| m.uk.clone()),
    });
    merge(&mut value, extra);
    Some(value)
}

fn history_json(record: &HistoryRecord, registry: &RegionRegistry) -> Option<Value> {
    let mut value = location_json(registry, record.region_id)?;
    merge(
        &mut value,
        json!({
            "id": record.id,
            "started_at": milliseconds(record.started_at),
            "finished_at": milliseconds(record.finished_at),
            "updated_at": milliseconds(record.finished_at),
            "alert_type": record.kind.as_str(),
            "alert_level": record.level.as_str(),
            "notes": null,
            "calculated": false,
        }),
    );
    Some(value)
}

/// The location fields: titles, type, uid (a string), oblast (uid an int), raion when below one.
fn location_json(registry: &RegionRegistry, id: RegionId) -> Option<Value> {
    let region = registry.get(id)?;
    let chain: Vec<&Region> =
        std::iter::once(region).chain(registry.ancestors(id).filter_map(|a| registry.get(a))).collect();
    let oblast = chain.iter().find(|r| r.level == Level::Oblast)?;
    let mut value = json!({
        "location_title": region.name_uk,
        "location_title_en": region.name_en,
        "location_type": region.level.as_str(),
        "location_uid": region.id.to_string(),
        "location_oblast": oblast.name_uk,
        "location_oblast_uid": oblast.id.0,
        "notes": null,
        "country": null,
        "calculated": null,
    });
    if let Some(raion) = chain.iter().find(|r| r.level == Level::Raion) {
        value["location_raion"] = json!(raion.name_uk);
    }
    Some(value)
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

fn threat_name(threat: Threat) -> &'static str {
    match threat {
        Threat::Drones => "drones",
        Threat::BallisticMissiles => "ballistic_missiles",
        Threat::CruiseMissiles => "cruise_missiles",
        Threat::GuidedAerialBombs => "guided_aerial_bombs",
        Threat::Aviation => "tactic_aircraft_activity",
        Threat::Artillery => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use tryvoha_core::{AlertKind, AlertLevel::*, AlertStatus::*};

    use super::*;
    use crate::fixture::{STARTED, alert, book};

    #[test]
    fn an_active_alert_has_its_place_names_threats_and_the_clients_time_format() {
        let book = book(vec![alert(1, 400, Red, Actual), alert(2, 8, Red, Test)]);
        let alerts = active_alerts(&book);
        assert_eq!(alerts.len(), 1, "a test alert is not shown: {alerts:?}");
        let alert = &alerts[0];
        assert_eq!(alert["location_uid"], "400");
        assert_eq!(alert["location_type"], "hromada");
        assert_eq!(alert["location_oblast"], "Вінницька область");
        assert_eq!(alert["location_oblast_uid"], 4);
        assert_eq!(alert["location_raion"], "Вінницький район");
        assert_eq!(alert["started_at"], "2026-05-06T10:02:45.123Z");
        assert_eq!(alert["finished_at"], Value::Null);
        assert_eq!(alert["threats"][0]["threat_type"], "drones");
        assert_eq!(alert["notes"], "Загроза БпЛА");
    }

    #[test]
    fn the_envelope_says_when_it_last_changed_at_whole_seconds() {
        let book = book(Vec::new());
        let envelope = serde_json::to_value(Envelope::new(Vec::new(), last_modified(&book))).unwrap();
        assert_eq!(envelope["meta"]["last_updated_at"], "2026/05/06 10:02:45 +0000");
        assert_eq!(envelope["meta"]["type"], "full");
    }

    #[test]
    fn a_history_holds_its_subtrees_real_records_and_the_ongoing_alerts_since_then() {
        let book = book(vec![alert(1, 400, Red, Actual), alert(2, 8, Red, Actual)]);
        let record = |id, status| HistoryRecord {
            id,
            region_id: RegionId(40),
            kind: AlertKind::AirRaid,
            level: Red,
            status,
            started_at: STARTED - Duration::hours(3),
            finished_at: STARTED - Duration::hours(2),
            source: "live".into(),
        };
        assert_eq!(history_regions(book.registry(), RegionId(4)), vec![RegionId(4), RegionId(40), RegionId(400)]);
        let records = [record(7, Actual), record(8, Exercise)];
        let alerts = history_alerts(&records, &book, RegionId(4), STARTED - Duration::days(7));
        let ids: Vec<&Value> = alerts.iter().map(|a| &a["id"]).collect();
        assert_eq!(ids, [&json!(7), &json!(1)]);
        assert_eq!(alerts[0]["calculated"], false);
        assert!(history_alerts(&records, &book, RegionId(4), STARTED + Duration::SECOND).len() == 1);
    }

    #[test]
    fn the_iot_strings_put_each_region_at_its_place() {
        let book = book(vec![alert(1, 40, Red, Actual)]);
        let by_oblast = by_oblast(&book, IotVersion::V2);
        assert_eq!(by_oblast.chars().count(), 27);
        let vinnytsia = OBLAST_ORDER.iter().position(|&id| id == 4).unwrap();
        assert_eq!(by_oblast.chars().nth(vinnytsia), Some('P'));
        let every = every_uid(&book, IotVersion::V1);
        assert_eq!(every.chars().count(), 401);
        assert_eq!(
            (every.chars().nth(4), every.chars().nth(40), every.chars().nth(400)),
            (Some('P'), Some('A'), Some('A'))
        );
        assert_eq!(every.chars().nth(5), Some(' '), "no region has id 5");
    }
}
