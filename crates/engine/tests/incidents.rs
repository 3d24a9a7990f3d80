//! Incidents and shelter statuses through the writer: in the one gap-free log with the alerts,
//! linked to the alert that covers them, refused whole, and settled after a failed commit.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

mod support;

use tryvoha_core::*;
use tryvoha_engine::EngineError;
use tryvoha_store::*;

use support::{declare, start};

fn responder(region: u32) -> (Actor, Grant) {
    (
        Actor { token_id: Some(7), name: "brigade".into() },
        Grant { role: Role::Responder, regions: vec![RegionId(region)] },
    )
}

fn fire(region: u32) -> IncidentReport {
    IncidentReport {
        kind: IncidentKind::Fire,
        severity: Severity::Severe,
        region_id: RegionId(region),
        lat: 50.45,
        lon: 30.52,
        description: LocalizedText { uk: Some("Пожежа".into()), en: None },
        people_affected: None,
        evacuated_to: None,
        address: None,
        casualty_details: None,
        public: true,
        alert_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_take_their_place_in_the_log_and_belong_to_the_covering_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, _) = start(&dir);
    let mut committed = engine.committed();
    let (actor, grant) = responder(1);
    let unlinked = engine.report_incident(fire(2), actor.clone(), grant.clone()).await.unwrap();
    assert_eq!((unlinked.seq, unlinked.incident.alert_id), (1, None), "no alert has covered raion 2 yet");

    // An alert on the oblast covers the raion: the next report there belongs to it.
    let oblast = engine.execute(declare(1)).await.unwrap().alert;
    let linked = engine.report_incident(fire(2), actor.clone(), grant.clone()).await.unwrap();
    assert_eq!((linked.seq, linked.incident.id, linked.incident.alert_id), (3, IncidentId(2), Some(oblast.id)));
    let cancel = tryvoha_engine::Request { command: Command::Cancel { id: oblast.id }, ..declare(1) };
    engine.execute(cancel).await.unwrap();
    let after = engine.report_incident(fire(3), actor.clone(), grant.clone()).await.unwrap();
    assert_eq!(after.incident.alert_id, Some(oblast.id), "after the all-clear: the alert that ended last");

    let seqs: Vec<Seq> = store.events_after(0, 10).unwrap().iter().map(Event::seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5], "one gap-free log");
    let published: Vec<&str> = (0..5).map(|_| committed.try_recv().unwrap().name()).collect();
    assert_eq!(published, ["incident_reported", "declared", "incident_reported", "cancelled", "incident_reported"]);
    assert_eq!(engine.book().last_seq(), 5, "the book's head follows every event");

    let status = StatusReport {
        shelter_id: ShelterId(4),
        region_id: RegionId(2),
        status: ShelterState::Full,
        occupancy: Some(300),
        capacity: None,
        accessible: None,
        notes: None,
    };
    let changed = engine.set_shelter_status(status, actor, grant).await.unwrap();
    assert_eq!(changed.seq, 6);
    assert_eq!(engine.shelter_statuses().await.unwrap(), vec![(6, changed.shelter)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_write_nothing_and_updates_apply_one_after_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, _) = start(&dir);
    let (actor, grant) = responder(2);
    let outside = engine.report_incident(fire(3), actor.clone(), grant.clone()).await.unwrap_err();
    assert!(matches!(outside, EngineError::Incident(IncidentError::OutOfScope { .. })), "{outside:?}");
    let private_on_public = IncidentReport { address: Some("Khreshchatyk 1".into()), ..fire(2) };
    let refused = engine.report_incident(private_on_public, actor.clone(), grant.clone()).await.unwrap_err();
    assert!(matches!(refused, EngineError::Incident(IncidentError::PrivateOnPublic { .. })), "{refused:?}");
    let unknown_alert = IncidentReport { alert_id: Some(AlertId(99)), ..fire(2) };
    let refused = engine.report_incident(unknown_alert, actor.clone(), grant.clone()).await.unwrap_err();
    assert!(matches!(refused, EngineError::AlertNotFound { .. }), "{refused:?}");
    assert_eq!(store.last_seq().unwrap(), 0, "no refusal wrote anything");

    let reported = engine.report_incident(fire(2), actor.clone(), grant.clone()).await.unwrap();
    let id = reported.incident.id;
    let contain = IncidentChanges { status: Some(IncidentStatus::Contained), ..IncidentChanges::default() };
    let count = IncidentChanges { people_affected: Some(40), ..IncidentChanges::default() };
    let (a, b) = tokio::join!(
        engine.update_incident(id, contain, actor.clone(), grant.clone()),
        engine.update_incident(id, count, actor.clone(), grant.clone()),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.1.is_some() && b.1.is_some(), "both changed something");
    let now = engine.incident(id).await.unwrap().unwrap();
    assert_eq!((now.status, now.people_affected), (IncidentStatus::Contained, Some(40)), "neither lost the other");

    let close = IncidentChanges { status: Some(IncidentStatus::Closed), ..IncidentChanges::default() };
    let (closed, event) = engine.update_incident(id, close.clone(), actor.clone(), grant.clone()).await.unwrap();
    assert_eq!((closed.status, event.unwrap().kind), (IncidentStatus::Closed, IncidentEventType::IncidentClosed));
    let head = store.last_seq().unwrap();
    let again = engine.update_incident(id, close, actor.clone(), grant.clone()).await.unwrap_err();
    assert!(matches!(again, EngineError::Incident(IncidentError::Closed { .. })), "{again:?}");
    let missing = engine.update_incident(IncidentId(77), IncidentChanges::default(), actor, grant).await.unwrap_err();
    assert!(matches!(missing, EngineError::IncidentNotFound { .. }), "{missing:?}");
    assert_eq!(store.last_seq().unwrap(), head, "a refused update writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_whose_commit_failed_but_landed_is_answered_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, faults) = start(&dir);
    let (actor, grant) = responder(2);
    faults.append_lands_but_fails_once.on();
    let reported = engine.report_incident(fire(2), actor.clone(), grant.clone()).await.unwrap();
    assert_eq!(store.incident(reported.incident.id).unwrap(), Some(reported.incident.clone()));
    faults.append_fails.on();
    let failed = engine.report_incident(fire(2), actor.clone(), grant.clone()).await.unwrap_err();
    assert!(matches!(failed, EngineError::Unavailable(_)), "{failed:?}");
    faults.append_fails.off();
    let next = engine.report_incident(fire(2), actor, grant).await.unwrap();
    assert_eq!((next.seq, next.incident.id), (2, IncidentId(2)), "the failed one left no trace");
}
