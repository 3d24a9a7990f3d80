//! Transfers: a source full of every kind of row is copied with every id kept, a second copy
//! adds nothing, the ids the target makes afterwards follow the restored ones, and a target that
//! holds another log is refused with nothing written. Run by an adapter that implements
//! [`Restore`] with a source of any adapter.

use time::macros::datetime;
use tryvoha_core::{AlertId, AlertKind, AlertLevel, AlertStatus, RegionId, Role, ShelterId};

use crate::contract::{T0, cancelled, commit, declared, shelter};
use crate::{
    Commit, CursorMove, Export, HistoryRecord, IdempotencyRecord, ImportedRecord, NewPushSubscription, NewToken,
    Paused, PushFilter, Restore, TransferError, WebhookFormat, WebhookSpec, transfer, verify, webhook_consumer,
};

fn token(name: &str) -> NewToken {
    NewToken {
        name: name.into(),
        role: Role::Operator,
        regions: vec![RegionId(14)],
        secret_hash: format!("hash-of-{name}"),
        created_at: T0,
    }
}

fn endpoint(url: &str) -> WebhookSpec {
    WebhookSpec {
        url: url.into(),
        regions: vec![],
        kinds: vec![AlertKind::AirRaid],
        statuses: vec![AlertStatus::Actual],
        types: vec![],
        format: WebhookFormat::Ukrainealarm,
        owner: Some(2),
        may_reach_private: false,
    }
}

/// Fills `source` with every kind of row, with gaps in its ids (removed rows) so that a target
/// numbering them anew would differ.
fn fill(source: &dyn Export) {
    let first = declared(1, 1, 14);
    let second = declared(2, 2, 31);
    source
        .append(&Commit {
            events: vec![first.clone().into(), second.clone().into()],
            idempotency: vec![IdempotencyRecord {
                owner: "token:1".into(),
                key: "declare-14".into(),
                fingerprint: "f1".into(),
                alert_id: AlertId(1),
                created: true,
            }],
        })
        .unwrap();
    source.append(&commit(vec![cancelled(3, &first)])).unwrap();

    for name in ["first", "second", "third"] {
        source.create_token(&token(name)).unwrap();
    }
    source.revoke_token(2, T0).unwrap();
    source.seed_shelters_once(&[shelter("Хрещатик", 50.45), shelter("Майдан", 50.46)]).unwrap();
    source.add_shelters(&[shelter("Арсенальна", 50.44)]).unwrap();
    source.remove_shelter(ShelterId(2)).unwrap();
    // The highest id removed too: the target must not give it again.
    let last = source.add_shelters(&[shelter("Дніпро", 50.44)]).unwrap()[0].id;
    source.remove_shelter(last).unwrap();
    source.set_shelter_time(RegionId(14), Some(120)).unwrap();
    let imported = |key: &str, hour: i64| ImportedRecord {
        key: key.into(),
        record: HistoryRecord {
            id: 0,
            region_id: RegionId(14),
            kind: AlertKind::AirRaid,
            level: AlertLevel::Red,
            status: AlertStatus::Actual,
            started_at: T0 - time::Duration::hours(hour),
            finished_at: T0 - time::Duration::hours(hour) + time::Duration::minutes(40),
            source: "official".into(),
        },
    };
    source.import_history(&[imported("file:1", 30), imported("file:2", 20)]).unwrap();

    let gone = source.create_webhook(&endpoint("https://a.example/hook"), "secret-a", T0).unwrap();
    let kept = source.create_webhook(&endpoint("https://b.example/hook"), "secret-b", T0).unwrap();
    source.remove_webhook(gone.id).unwrap();
    let last = source.create_webhook(&endpoint("https://c.example/hook"), "secret-c", T0).unwrap();
    source.remove_webhook(last.id).unwrap();
    let paused = Paused { at: T0, reason: "retried for too long".into() };
    source.update_webhook(kept.id, &kept.spec, Some(&paused)).unwrap();
    source.set_cursor(&webhook_consumer(kept.id), 3, 2).unwrap();
    source.set_cursors(&[CursorMove { consumer: "mqtt".into(), expected: 0, to: 3 }]).unwrap();

    let pushes = [
        ("https://push.example/1", "auth-1"),
        ("https://push.example/2", "auth-2"),
        ("https://push.example/3", "auth-3"),
    ];
    for (endpoint, auth) in pushes {
        source
            .upsert_push_subscription(&NewPushSubscription {
                endpoint: endpoint.into(),
                p256dh: "BKey".into(),
                auth: auth.into(),
                filter: PushFilter { regions: vec![RegionId(14)], kinds: vec![], statuses: vec![], lang: "en".into() },
                created_at: datetime!(2026-11-20 01:00 UTC),
            })
            .unwrap();
    }
    source.remove_push_subscription("https://push.example/1", "auth-1").unwrap();
    source.remove_push_subscription("https://push.example/3", "auth-3").unwrap();
    let kept = source.push_subscriptions().unwrap()[0].id;
    source.set_push_delivered(&[(kept, 3)]).unwrap();
}

pub fn a_transfer_keeps_every_id_and_writes_nothing_the_second_time(source: &dyn Export, target: &dyn Restore) {
    fill(source);
    let copied = transfer(source, target).expect("the first transfer");
    let added = |table: &str| copied.iter().find(|c| c.table == table).map(|c| (c.source, c.written));
    assert_eq!(added("events"), Some((3, 3)));
    assert_eq!(added("tokens"), Some((3, 3)));
    assert_eq!(added("shelters"), Some((2, 2)), "the removed one is not copied");
    assert_eq!(added("times to shelter"), Some((1, 1)));
    // One live (made again by the log's events, so not written), two imported.
    assert_eq!(added("history records"), Some((3, 2)));
    assert_eq!(added("webhooks"), Some((1, 1)));
    assert_eq!(added("push subscriptions"), Some((1, 1)));
    assert_eq!(added("cursors"), Some((2, 2)));

    // The same ids, not renumbered (transfer verified equality; these say what it means).
    let shelters: Vec<u64> = target.shelters().unwrap().iter().map(|s| s.id.0).collect();
    assert_eq!(shelters, [1, 3], "the same ids, with the gaps removals left");
    assert_eq!(target.webhooks().unwrap()[0].id, 2);
    assert_eq!(target.cursor(&webhook_consumer(2)).unwrap(), 2);
    assert!(target.tokens().unwrap()[1].revoked_at.is_some());
    assert_eq!(target.push_subscriptions().unwrap()[0].delivered, 3);
    assert!(target.history_rows(0, 10).unwrap().iter().any(|row| row.import_key.as_deref() == Some("file:2")));
    assert!(target.shelters_seeded().unwrap());
    assert_eq!(target.idempotency_record("token:1", "declare-14").unwrap().unwrap().alert_id, AlertId(1));

    let again = transfer(source, target).expect("the second transfer");
    assert!(again.iter().all(|c| c.written == 0), "a second transfer writes nothing: {again:?}");

    // The verification compares rows, not counts: a token revoked in the target alone differs.
    target.revoke_token(1, T0).unwrap();
    match verify(source, target) {
        Err(TransferError::Differs { table: "tokens", .. }) => {}
        other => panic!("a target whose token differs must fail the verification, got {other:?}"),
    }
    // A run after the source changed (a token revoked, a cursor moved on) writes the changes,
    // and the target's own change back to the source's.
    source.revoke_token(3, T0).unwrap();
    source.set_cursor("mqtt", 3, 1).unwrap();
    source.set_shelter_time(RegionId(14), None).unwrap();
    let changed = transfer(source, target).expect("a transfer after the source changed");
    let written = |table: &str| changed.iter().find(|c| c.table == table).map(|c| c.written);
    assert_eq!((written("tokens"), written("cursors"), written("shelters")), (Some(2), Some(1), Some(0)));
    assert_eq!(written("times to shelter"), Some(1), "a time cleared in the source is cleared in the target");
    assert!(target.shelter_times().unwrap().is_empty());
    assert!(target.tokens().unwrap()[0].revoked_at.is_none(), "the target's stray revocation is undone");

    // Ids the target makes now follow the highest the source ever gave, removed rows included.
    assert_eq!(target.create_token(&token("fourth")).unwrap().id, 4);
    assert_eq!(target.add_shelters(&[shelter("Либідська", 50.41)]).unwrap()[0].id, ShelterId(5));
    assert_eq!(target.create_webhook(&endpoint("https://d.example/hook"), "d", T0).unwrap().id, 4);
    assert!(!target.seed_shelters_once(&[shelter("Хрещатик", 50.45)]).unwrap(), "seeded once, in the source");
    target.append(&commit(vec![declared(4, 3, 14)])).expect("the log goes on after the copy");
    // The alert the source cancelled is history in the target too: live, by its alert id.
    assert!(target.history_rows(0, 10).unwrap().iter().any(|row| row.record.id == 1 && row.import_key.is_none()));
}

pub fn a_transfer_into_another_log_is_refused_and_writes_nothing(source: &dyn Export, target: &dyn Restore) {
    fill(source);
    let mut other = declared(1, 1, 14);
    other.alert.region_id = RegionId(26);
    target.append(&commit(vec![other])).unwrap();
    match transfer(source, target) {
        Err(TransferError::ForeignLog { seq: 1 }) => {}
        other => panic!("a target with another log must be refused, got {other:?}"),
    }
    assert_eq!(target.last_seq().unwrap(), 1, "no event was added");
    assert!(target.tokens().unwrap().is_empty(), "no token was added");
    assert!(target.shelters().unwrap().is_empty(), "no shelter was added");

    target.append(&commit(vec![declared(2, 2, 31), declared(3, 3, 31), declared(4, 4, 31)])).unwrap();
    match transfer(source, target) {
        Err(TransferError::TargetAhead { source_head: 3, target_head: 4 }) => {}
        other => panic!("a target ahead of the source must be refused, got {other:?}"),
    }
    assert!(matches!(target.cursor("mqtt"), Ok(0)), "no cursor was added");
}
