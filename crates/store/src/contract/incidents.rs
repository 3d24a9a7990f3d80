//! Incidents and shelter statuses in the log, and the indexes kept beside it.

use time::{Duration, OffsetDateTime};
use tryvoha_core::*;

use super::{T0, declared};
use crate::{Commit, IncidentQuery, Store};

pub fn reported(seq: Seq, id: u64, region: u32, public: bool, at: OffsetDateTime) -> IncidentEvent {
    let actor = Actor { token_id: Some(2), name: "brigade".into() };
    IncidentEvent {
        seq,
        kind: IncidentEventType::IncidentReported,
        at,
        actor: actor.clone(),
        incident: Incident {
            id: IncidentId(id),
            kind: IncidentKind::Fire,
            status: IncidentStatus::Active,
            severity: Severity::Severe,
            region_id: RegionId(region),
            lat: 50.45,
            lon: 30.52,
            description: LocalizedText { uk: Some("Пожежа".into()), en: Some("Fire".into()) },
            people_affected: Some(3),
            evacuated_to: None,
            address: (!public).then(|| "Khreshchatyk 1".into()),
            casualty_details: None,
            public,
            alert_id: Some(AlertId(1)),
            reported_at: at,
            updated_at: at,
            closed_at: None,
            reported_by: actor,
        },
    }
}

pub fn shelter_changed(seq: Seq, shelter: u64, status: ShelterState, at: OffsetDateTime) -> ShelterEvent {
    ShelterEvent {
        seq,
        kind: ShelterEventType::ShelterStatus,
        at,
        actor: Actor { token_id: Some(2), name: "brigade".into() },
        shelter: ShelterStatus {
            shelter_id: ShelterId(shelter),
            region_id: RegionId(31),
            status,
            occupancy: None,
            capacity: None,
            accessible: None,
            notes: None,
            since: at,
        },
    }
}

fn all() -> IncidentQuery {
    IncidentQuery { limit: 100, ..IncidentQuery::default() }
}

pub fn incidents_and_shelter_statuses_share_the_log_and_are_indexed(store: &dyn Store) {
    let later = T0 + Duration::minutes(10);
    let first = reported(2, 1, 31, true, T0);
    let mut closed = first.clone();
    closed.seq = 4;
    closed.kind = IncidentEventType::IncidentClosed;
    closed.incident.status = IncidentStatus::Closed;
    closed.incident.closed_at = Some(later);
    let events: Vec<Event> = vec![
        declared(1, 1, 31).into(),
        Event::Incident(first),
        Event::Incident(reported(3, 2, 14, false, later)),
        Event::Incident(closed.clone()),
        Event::Shelter(shelter_changed(5, 7, ShelterState::Full, later)),
    ];
    store.append(&Commit { events: events[..3].to_vec(), idempotency: vec![] }).unwrap();
    store.append(&Commit { events: events[3..].to_vec(), idempotency: vec![] }).unwrap();
    assert_eq!(store.events_after(0, 10).unwrap(), events, "every kind reads back as written, in one sequence");
    assert_eq!(store.incident(IncidentId(1)).unwrap(), Some(closed.incident.clone()), "the latest event's incident");
    assert_eq!(store.incident_for_writer(IncidentId(9)).unwrap(), None);
    assert_eq!(store.highest_incident_id().unwrap(), Some(IncidentId(2)));
    assert_eq!(store.active_alerts().unwrap().len(), 1, "incidents are not alerts");

    let ids = |query: IncidentQuery| store.incidents(&query).unwrap().iter().map(|i| i.id.0).collect::<Vec<_>>();
    assert_eq!(ids(all()), [2, 1], "newest report first");
    assert_eq!(ids(IncidentQuery { public_only: true, ..all() }), [1]);
    assert_eq!(ids(IncidentQuery { regions: Some(vec![RegionId(14), RegionId(5)]), ..all() }), [2]);
    assert_eq!(ids(IncidentQuery { statuses: vec![IncidentStatus::Closed], ..all() }), [1]);
    assert_eq!(ids(IncidentQuery { alert_id: Some(AlertId(1)), limit: 1, ..all() }), [2]);
    assert_eq!(ids(IncidentQuery { alert_id: Some(AlertId(5)), ..all() }), Vec::<u64>::new());
    assert_eq!(ids(IncidentQuery { from: Some(later), ..all() }), [2], "from is inclusive");
    assert_eq!(ids(IncidentQuery { to: Some(later), ..all() }), [1], "to is exclusive");

    let far = T0 + Duration::days(1);
    assert_eq!(
        store.incident_counts(T0, far, false).unwrap(),
        [(RegionId(14), IncidentKind::Fire, 1), (RegionId(31), IncidentKind::Fire, 1)]
    );
    assert_eq!(store.incident_counts(T0, far, true).unwrap(), [(RegionId(31), IncidentKind::Fire, 1)], "public ones");
    assert_eq!(store.incident_counts(later, far, false).unwrap(), [(RegionId(14), IncidentKind::Fire, 1)]);
    let statuses = store.shelter_statuses().unwrap();
    assert_eq!(
        statuses.iter().map(|(seq, s)| (*seq, s.shelter_id, s.status)).collect::<Vec<_>>(),
        [(5, ShelterId(7), ShelterState::Full)]
    );
    let reopened = shelter_changed(6, 7, ShelterState::Open, later + Duration::seconds(1));
    store.append(&Commit { events: vec![Event::Shelter(reopened.clone())], idempotency: vec![] }).unwrap();
    assert_eq!(
        store.shelter_statuses().unwrap(),
        vec![(6, reopened.shelter.clone())],
        "one status per shelter, the latest"
    );
    let between = store.shelter_events_between(later, later + Duration::seconds(1)).unwrap();
    assert_eq!(between.iter().map(|e| e.seq).collect::<Vec<_>>(), [5], "from inclusive, to exclusive");
    assert!(store.shelter_events_between(T0, later).unwrap().is_empty());
}
