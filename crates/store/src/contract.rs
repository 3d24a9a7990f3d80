//! The behaviour every store adapter must show. An adapter runs it from its own tests with
//! [`store_contract_tests!`](crate::store_contract_tests), which makes one `#[test]` per check.
//!
//! The checks panic with a sentence saying what broke; they need a fresh, empty store each, and
//! `cursors_survive_reopening` an opener that opens the same storage again. An adapter whose
//! stores live on a shared server (PostgreSQL) makes each in a storage of its own and removes it
//! after the check (the macro's `run:` form).
//!
//! Compiled only with the `contract` feature, which adapters enable in their `[dev-dependencies]`.

// This module is test support: a failed unwrap is a failed check, which is what it should be.
#![allow(clippy::unwrap_used)]

mod cluster;
mod cursors;
mod incidents;
mod push;
mod transfer;
mod webhooks;

pub use cluster::*;
pub use cursors::*;
pub use incidents::*;
pub use push::*;
pub use transfer::*;
pub use webhooks::*;

use time::OffsetDateTime;
use time::macros::datetime;
use tryvoha_core::*;

use crate::{
    Commit, HistoryOrder, HistoryQuery, HistoryRecord, IMPORTED_ID_BASE, IdempotencyRecord, ImportedRecord, NewToken,
    PageEnd, Store, StoreError,
};

pub(crate) fn shelter(name: &str, lat: f64) -> ShelterInfo {
    ShelterInfo {
        lat,
        lon: 30.5,
        name_uk: name.into(),
        name_en: Some(format!("{name} (en)")),
        kind: ShelterKind::MetroStation,
        capacity: Some(500),
        wheelchair: Some(true),
        address: None,
        opening_hours: Some("24/7".into()),
    }
}

pub(crate) const T0: OffsetDateTime = datetime!(2026-11-27 01:00 UTC);

/// Expands to one `#[test]` per contract check, in one of two forms:
///
/// - `store_contract_tests!(MAKE, reopen: REOPEN)`: `MAKE` is an expression giving a fresh store
///   (dropped when its check ends), `REOPEN` one giving a `FnMut() -> Box<dyn Store>` that opens
///   one fresh storage, the same each time it is called.
/// - `store_contract_tests!(#[ATTRIBUTE]… run: RUN, reopen: REOPEN)`, for an adapter whose fresh
///   stores need cleaning up (a schema on a shared server): `RUN` is called with each check as a
///   `fn(&dyn Store)` and runs it on a fresh store, then cleans up (also when the check panics).
///   The attributes, e.g. `#[cfg_attr(not(some_cfg), ignore = "why")]`, go on every test.
#[macro_export]
macro_rules! store_contract_tests {
    ($(#[$attribute:meta])* run: $run:expr, reopen: $reopen:expr $(,)?) => {
        #[test]
        $(#[$attribute])*
        fn cursors_survive_reopening() {
            let mut open = $reopen;
            $crate::contract::cursors_survive_reopening(&mut open);
        }
        $crate::store_contract_tests!(@each [$(#[$attribute])*] $run;
            an_empty_log_has_nothing_after_zero,
            appended_events_read_back_in_order_and_page,
            a_commit_out_of_sequence_is_refused_and_writes_nothing,
            the_alert_index_follows_the_latest_event,
            idempotency_records_are_kept_with_their_commit,
            tokens_are_found_by_hash_listed_and_revoked,
            shelters_are_added_whole_updated_and_removed,
            shelters_are_seeded_only_once,
            finished_alerts_enter_the_history_with_their_commit,
            imported_history_is_added_once_and_queried_by_region_and_time,
            history_pages_continue_after_their_last_position,
            the_writer_reads_what_was_committed,
            incidents_and_shelter_statuses_share_the_log_and_are_indexed,
            importing_the_same_shelters_twice_adds_them_once,
            shelter_times_are_set_replaced_and_cleared,
            a_cursor_starts_at_zero_and_moves_by_compare_and_set,
            a_cursor_that_moved_meanwhile_is_not_overwritten,
            consumers_keep_cursors_of_their_own,
            a_cursor_never_passes_the_log_head,
            cursors_move_together_or_not_at_all,
            webhooks_start_at_the_head_and_leave_with_their_cursor,
            push_subscriptions_are_one_per_endpoint_and_renewed_in_place,
            a_lease_has_one_holder_until_it_runs_out_or_is_released,
            the_first_cluster_key_offered_is_the_one_kept,
        );
    };
    // The attributes travel as one token tree: a macro cannot repeat them, a sequence of their
    // own, inside the repetition over the checks.
    (@each $attributes:tt $run:expr; $($check:ident),+ $(,)?) => {
        $( $crate::store_contract_tests!(@one $attributes $run; $check); )+
    };
    (@one [$(#[$attribute:meta])*] $run:expr; $check:ident) => {
        #[test]
        $(#[$attribute])*
        fn $check() {
            ($run)($crate::contract::$check);
        }
    };
    ($make:expr, reopen: $reopen:expr $(,)?) => {
        $crate::store_contract_tests!(
            run: |check: fn(&dyn $crate::Store)| check(&$make),
            reopen: $reopen
        );
    };
}

pub fn declared(seq: Seq, id: u64, region: u32) -> AlertEvent {
    let alert = Alert {
        id: AlertId(id),
        region_id: RegionId(region),
        kind: AlertKind::AirRaid,
        level: AlertLevel::Red,
        status: AlertStatus::Actual,
        threats: vec![Threat::Drones],
        message: Some(LocalizedText { uk: Some("Тривога".into()), en: Some("Alert".into()) }),
        instruction: None,
        started_at: T0,
        updated_at: T0,
        expires_at: None,
        finished_at: None,
        finish_reason: None,
        declared_by: Actor { token_id: Some(1), name: "op".into() },
        seq,
        reinstates: None,
        shelter_within_s: None,
    };
    AlertEvent { seq, kind: EventType::Declared, at: T0, actor: alert.declared_by.clone(), alert }
}

pub fn cancelled(seq: Seq, declared: &AlertEvent) -> AlertEvent {
    let mut alert = declared.alert.clone();
    let at = T0 + time::Duration::minutes(30);
    alert.finished_at = Some(at);
    alert.finish_reason = Some(FinishReason::Cancelled);
    alert.updated_at = at;
    alert.seq = seq;
    AlertEvent { seq, kind: EventType::Cancelled, at, actor: declared.actor.clone(), alert }
}

pub(crate) fn commit(events: Vec<AlertEvent>) -> Commit {
    Commit { events: events.into_iter().map(Event::from).collect(), idempotency: vec![] }
}

pub(crate) fn logged(events: &[AlertEvent]) -> Vec<Event> {
    events.iter().cloned().map(Event::from).collect()
}

pub fn an_empty_log_has_nothing_after_zero(store: &dyn Store) {
    assert_eq!(store.last_seq().unwrap(), 0);
    assert!(store.events_after(0, 10).unwrap().is_empty());
    assert!(store.active_alerts().unwrap().is_empty());
    assert_eq!(store.highest_alert_id().unwrap(), None);
}

pub fn appended_events_read_back_in_order_and_page(store: &dyn Store) {
    let events: Vec<_> = (1..=5).map(|n| declared(n, n, 14)).collect();
    store.append(&commit(events[..2].to_vec())).unwrap();
    store.append(&commit(events[2..].to_vec())).unwrap();
    assert_eq!(store.last_seq().unwrap(), 5);
    assert_eq!(store.events_after(0, 100).unwrap(), logged(&events), "events read back exactly as written");
    assert_eq!(store.events_after(1, 2).unwrap(), logged(&events[1..3]), "a page starts after `after`");
    assert!(store.events_after(5, 10).unwrap().is_empty());
}

pub fn a_commit_out_of_sequence_is_refused_and_writes_nothing(store: &dyn Store) {
    store.append(&commit(vec![declared(1, 1, 14)])).unwrap();
    for bad in [vec![declared(3, 2, 14)], vec![declared(1, 2, 14)], vec![declared(2, 2, 14), declared(4, 3, 14)]] {
        let result = store.append(&commit(bad.clone()));
        assert!(matches!(result, Err(StoreError::Conflict(_))), "{bad:?} gave {result:?}");
    }
    assert_eq!(store.last_seq().unwrap(), 1, "a refused commit leaves the log as it was");
    assert_eq!(store.active_alerts().unwrap().len(), 1);
}

pub fn the_alert_index_follows_the_latest_event(store: &dyn Store) {
    let first = declared(1, 1, 14);
    let second = declared(2, 2, 31);
    store.append(&commit(vec![first.clone(), second.clone()])).unwrap();
    let ended = cancelled(3, &first);
    store.append(&commit(vec![ended.clone()])).unwrap();
    assert_eq!(store.alert(AlertId(1)).unwrap(), Some(ended.alert.clone()));
    assert_eq!(store.active_alerts().unwrap(), vec![second.alert]);
    assert_eq!(store.highest_alert_id().unwrap(), Some(AlertId(2)));
    assert_eq!(store.alert(AlertId(9)).unwrap(), None);
    assert_eq!(store.alert_events(AlertId(1)).unwrap(), logged(&[first, ended]), "an alert's events, oldest first");
    assert!(store.alert_events(AlertId(9)).unwrap().is_empty());
}

pub fn idempotency_records_are_kept_with_their_commit(store: &dyn Store) {
    let record = IdempotencyRecord {
        owner: "token:1".into(),
        key: "k-1".into(),
        fingerprint: "abc".into(),
        alert_id: AlertId(1),
        created: true,
    };
    store.append(&Commit { events: vec![declared(1, 1, 14).into()], idempotency: vec![record.clone()] }).unwrap();
    assert_eq!(store.idempotency_record("token:1", "k-1").unwrap(), Some(record.clone()));
    assert_eq!(store.idempotency_record("token:2", "k-1").unwrap(), None, "keys are per owner");
    assert_eq!(store.idempotency_records_with_prefix("token:1", "k-").unwrap(), vec![record.clone()]);
    assert!(store.idempotency_records_with_prefix("token:1", "x").unwrap().is_empty());
    let refused = Commit {
        events: vec![declared(5, 2, 14).into()],
        idempotency: vec![IdempotencyRecord { key: "k-2".into(), ..record }],
    };
    assert!(store.append(&refused).is_err());
    assert_eq!(store.idempotency_record("token:1", "k-2").unwrap(), None, "a refused commit keeps no key");
}

pub fn tokens_are_found_by_hash_listed_and_revoked(store: &dyn Store) {
    let new = NewToken {
        name: "kyiv".into(),
        role: Role::Operator,
        regions: vec![RegionId(14), RegionId(31)],
        secret_hash: "h1".into(),
        created_at: T0,
    };
    let created = store.create_token(&new).unwrap();
    assert_eq!(
        (created.name.as_str(), created.role, created.regions.clone()),
        ("kyiv", Role::Operator, new.regions.clone())
    );
    let other = store
        .create_token(&NewToken {
            name: "reader".into(),
            role: Role::Reader,
            regions: vec![],
            secret_hash: "h2".into(),
            ..new
        })
        .unwrap();
    assert_ne!(created.id, other.id);
    assert_eq!(store.token_by_hash("h1").unwrap(), Some(created.clone()));
    assert_eq!(store.token_by_hash("nope").unwrap(), None);
    assert_eq!(store.tokens().unwrap(), vec![created.clone(), other]);
    let revoked = store.revoke_token(created.id, T0).unwrap();
    assert_eq!(revoked.revoked_at, Some(T0));
    assert_eq!(store.token_by_hash("h1").unwrap().and_then(|t| t.revoked_at), Some(T0));
    assert!(matches!(store.revoke_token(999, T0), Err(StoreError::NotFound)));
}

pub fn shelters_are_added_whole_updated_and_removed(store: &dyn Store) {
    let added = store.add_shelters(&[shelter("Арсенальна", 50.44), shelter("Дніпро", 50.45)]).unwrap();
    assert_eq!(added.len(), 2);
    assert_ne!(added[0].id, added[1].id);
    assert_eq!(store.shelters().unwrap(), added, "read back exactly as written");
    let moved = ShelterInfo { lat: 50.46, capacity: None, ..shelter("Дніпро", 50.45) };
    let updated = store.update_shelter(added[1].id, &moved).unwrap();
    assert_eq!(updated.info, moved);
    store.remove_shelter(added[0].id).unwrap();
    assert_eq!(store.shelters().unwrap(), vec![updated]);
    assert!(matches!(store.remove_shelter(added[0].id), Err(StoreError::NotFound)));
    assert!(matches!(store.update_shelter(ShelterId(999), &moved), Err(StoreError::NotFound)));
}

pub fn shelters_are_seeded_only_once(store: &dyn Store) {
    assert!(store.seed_shelters_once(&[shelter("Либідська", 50.41)]).unwrap());
    let seeded = store.shelters().unwrap();
    store.remove_shelter(seeded[0].id).unwrap();
    assert!(!store.seed_shelters_once(&[shelter("Либідська", 50.41)]).unwrap(), "a removed example stays removed");
    assert!(store.shelters().unwrap().is_empty());
}

pub fn finished_alerts_enter_the_history_with_their_commit(store: &dyn Store) {
    let first = declared(1, 1, 14);
    store.append(&commit(vec![first.clone(), declared(2, 2, 31)])).unwrap();
    assert!(store.history(&HistoryQuery::default()).unwrap().is_empty(), "active alerts are not history");
    let ended = cancelled(3, &first);
    store.append(&commit(vec![ended.clone()])).unwrap();
    let history = store.history(&HistoryQuery::default()).unwrap();
    let expected = HistoryRecord {
        id: 1,
        region_id: RegionId(14),
        kind: AlertKind::AirRaid,
        level: AlertLevel::Red,
        status: AlertStatus::Actual,
        started_at: T0,
        finished_at: ended.alert.finished_at.unwrap(),
        source: "live".into(),
    };
    assert_eq!(history, vec![expected]);
}

pub fn imported_history_is_added_once_and_queried_by_region_and_time(store: &dyn Store) {
    let record = |region: u32, start_hour: i64, minutes: i64| HistoryRecord {
        id: 0,
        region_id: RegionId(region),
        kind: AlertKind::AirRaid,
        level: AlertLevel::Red,
        status: AlertStatus::Actual,
        started_at: T0 + time::Duration::hours(start_hour),
        finished_at: T0 + time::Duration::hours(start_hour) + time::Duration::minutes(minutes),
        source: "official".into(),
    };
    let rows: Vec<ImportedRecord> = [(14, 0, 30), (14, 5, 90), (31, 2, 10)]
        .iter()
        .enumerate()
        .map(|(n, &(region, hour, minutes))| ImportedRecord {
            key: format!("file:{n}"),
            record: record(region, hour, minutes),
        })
        .collect();
    assert_eq!(store.import_history(&rows).unwrap(), 3);
    assert_eq!(store.import_history(&rows).unwrap(), 0, "the same keys add nothing");
    let all = store.history(&HistoryQuery::default()).unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|r| r.id >= IMPORTED_ID_BASE), "imported ids stay clear of live ones");
    assert_eq!(all.iter().map(|r| r.started_at).collect::<Vec<_>>(), [0, 2, 5].map(|h| T0 + time::Duration::hours(h)));
    let kyiv_oblast = HistoryQuery { regions: Some(vec![RegionId(14)]), ..HistoryQuery::default() };
    assert_eq!(store.history(&kyiv_oblast).unwrap().len(), 2);
    let overlapping = HistoryQuery {
        from: Some(T0 + time::Duration::minutes(20)),
        to: Some(T0 + time::Duration::hours(3)),
        ..HistoryQuery::default()
    };
    let found: Vec<u32> = store.history(&overlapping).unwrap().iter().map(|r| r.region_id.0).collect();
    assert_eq!(found, [14, 31], "the first overlaps the start, the third lies inside, the second is after");
    let latest = HistoryQuery { order: HistoryOrder::Latest(1), ..HistoryQuery::default() };
    assert_eq!(store.history(&latest).unwrap()[0].started_at, T0 + time::Duration::hours(5));
    let by_region = HistoryQuery { order: HistoryOrder::Region, ..HistoryQuery::default() };
    let order: Vec<u32> = store.history(&by_region).unwrap().iter().map(|r| r.region_id.0).collect();
    assert_eq!(order, [14, 14, 31]);
    let mut other = rows[0].clone();
    other.key = "volunteer:1".into();
    other.record.source = "volunteer".into();
    store.import_history(&[other]).unwrap();
    let official = HistoryQuery { sources: Some(vec!["official".into()]), ..HistoryQuery::default() };
    assert_eq!(store.history(&official).unwrap().len(), 3, "filtered by source");
}

pub fn history_pages_continue_after_their_last_position(store: &dyn Store) {
    // Five records, two of them starting in the same second: a page may end between them.
    let rows: Vec<ImportedRecord> = [0, 1, 1, 2, 3]
        .iter()
        .enumerate()
        .map(|(n, &hour)| ImportedRecord {
            key: format!("page:{n}"),
            record: HistoryRecord {
                id: 0,
                region_id: RegionId(14),
                kind: AlertKind::AirRaid,
                level: AlertLevel::Red,
                status: AlertStatus::Actual,
                started_at: T0 + time::Duration::hours(hour),
                finished_at: T0 + time::Duration::hours(hour) + time::Duration::minutes(10),
                source: "official".into(),
            },
        })
        .collect();
    store.import_history(&rows).unwrap();
    let all = store.history(&HistoryQuery::default()).unwrap();
    let mut after = None;
    let mut paged = Vec::new();
    loop {
        let query = HistoryQuery { after, ..HistoryQuery::default() };
        let Some(PageEnd { last, more }) = store.history_page_end(&query, 2).unwrap() else { break };
        let page = store.history(&HistoryQuery { through: Some(last), limit: Some(100), ..query }).unwrap();
        assert!(page.len() <= 2 && page.last().map(HistoryRecord::position) == Some(last), "{page:?} ends at {last:?}");
        paged.extend(page);
        after = Some(last);
        if !more {
            break;
        }
    }
    assert_eq!(paged, all, "pages of two give every record once, in order");
    let small = HistoryQuery { limit: Some(3), ..HistoryQuery::default() };
    assert_eq!(store.history(&small).unwrap(), all[..3], "a limit takes the oldest");
    let end = store.history_page_end(&HistoryQuery::default(), 10).unwrap();
    assert_eq!(end, Some(PageEnd { last: all[4].position(), more: false }), "a short page ends at the last record");
    let past = HistoryQuery { after: Some(all[4].position()), ..HistoryQuery::default() };
    assert_eq!(store.history_page_end(&past, 10).unwrap(), None, "nothing after the last record");
}

pub fn the_writer_reads_what_was_committed(store: &dyn Store) {
    let record = IdempotencyRecord {
        owner: "token:1".into(),
        key: "k-1".into(),
        fingerprint: "abc".into(),
        alert_id: AlertId(1),
        created: true,
    };
    let event = declared(1, 1, 14);
    store.append(&Commit { events: vec![event.clone().into()], idempotency: vec![record.clone()] }).unwrap();
    assert_eq!(store.idempotency_for_writer("token:1", "k-1").unwrap(), Some(record));
    assert_eq!(store.idempotency_for_writer("token:2", "k-1").unwrap(), None);
    assert_eq!(store.alert_for_writer(AlertId(1)).unwrap(), Some(event.alert));
    assert_eq!(store.alert_for_writer(AlertId(2)).unwrap(), None);
}

pub fn importing_the_same_shelters_twice_adds_them_once(store: &dyn Store) {
    let file = [shelter("Арсенальна", 50.44), shelter("Дніпро", 50.45)];
    let first = store.import_shelters(&file).unwrap();
    assert_eq!((first.added.len(), first.unchanged), (2, 0));
    let again = store.import_shelters(&file).unwrap();
    assert_eq!((again.added.len(), again.unchanged), (0, 2), "a re-import adds nothing");
    let grown = [file[0].clone(), file[1].clone(), shelter("Дніпро", 50.46)];
    let third = store.import_shelters(&grown).unwrap();
    assert_eq!((third.added.len(), third.unchanged), (1, 2), "a shelter elsewhere of the same name is another one");
    assert_eq!(store.shelters().unwrap().len(), 3);
    let twice_in_one = store.import_shelters(&[shelter("Либідська", 50.41), shelter("Либідська", 50.41)]).unwrap();
    assert_eq!((twice_in_one.added.len(), twice_in_one.unchanged), (1, 1), "a row repeated in one file counts once");
}

pub fn shelter_times_are_set_replaced_and_cleared(store: &dyn Store) {
    assert!(store.shelter_times().unwrap().is_empty(), "a new store has none");
    store.set_shelter_time(RegionId(31), Some(90)).unwrap();
    store.set_shelter_time(RegionId(14), Some(0)).unwrap();
    store.set_shelter_time(RegionId(31), Some(120)).unwrap();
    assert_eq!(store.shelter_times().unwrap(), [(RegionId(14), 0), (RegionId(31), 120)], "by region, the latest");
    store.set_shelter_time(RegionId(14), None).unwrap();
    store.set_shelter_time(RegionId(27), None).unwrap();
    assert_eq!(store.shelter_times().unwrap(), [(RegionId(31), 120)], "cleared; clearing none is no error");
}
