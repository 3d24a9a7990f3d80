//! Group commit, against a real SQLite store behind a `FaultyStore` that can hold an append:
//! while the writer is inside one commit, the requests that arrive wait in its queue, and the
//! next pass takes them all into one transaction. What a batch decides together (idempotency
//! keys among them) and what the engine refuses before anything is written.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

mod support;

use time::OffsetDateTime;
use tryvoha_core::*;
use tryvoha_engine::{EngineError, Request};
use tryvoha_store::*;

use support::{Answer, declare, keyed, queued, start, writer_busy};

#[tokio::test]
async fn requests_that_wait_together_are_committed_in_one_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, faults) = start(&dir);
    let (first, release) = writer_busy(&engine, &faults).await;
    let waiting: Vec<Answer> = (3..8).map(|region| queued(&engine, declare(region))).collect();
    release.send(()).unwrap();

    assert_eq!(first.await.unwrap().event.unwrap().seq, 1);
    let mut seqs = Vec::new();
    for answer in waiting {
        seqs.push(answer.await.unwrap().event.unwrap().seq);
    }
    assert_eq!(seqs, [2, 3, 4, 5, 6], "numbered in the order they were queued");
    assert_eq!(faults.appends(), [1, 5], "one append for the first, one for the five that waited");
    assert_eq!(store.last_seq().unwrap(), 6);
}

#[tokio::test]
async fn an_idempotency_key_used_twice_in_one_batch_is_one_declaration_and_a_changed_request_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, faults) = start(&dir);
    let (first, release) = writer_busy(&engine, &faults).await;
    let original = queued(&engine, keyed(3, "k", "f3"));
    let retried = queued(&engine, keyed(3, "k", "f3"));
    let changed = queued(&engine, keyed(4, "k", "f4"));
    release.send(()).unwrap();
    first.await.unwrap();

    let original = original.await.unwrap();
    assert!(original.created && original.event.is_some());
    let retried = retried.await.unwrap();
    assert_eq!((retried.alert.id, retried.created, retried.event), (original.alert.id, true, None), "a replay");
    assert!(matches!(changed.await, Err(EngineError::IdempotencyKeyReused)));
    assert_eq!(faults.appends(), [1, 1], "the batch wrote one event");
    let record = store.idempotency_record("token:1", "k").unwrap().unwrap();
    assert_eq!((record.alert_id, record.fingerprint.as_str()), (original.alert.id, "f3"));

    // Inside one job too: the second use of the key answers with what the first did.
    let both = engine.execute_all(vec![keyed(5, "j", "f5"), keyed(5, "j", "f5")]).await.unwrap();
    assert_eq!(both[0].alert.id, both[1].alert.id);
    assert_eq!((both[0].event.is_some(), both[1].event.is_none()), (true, true));
    assert_eq!(faults.appends(), [1, 1, 1]);
}

#[tokio::test]
async fn a_request_the_engine_refuses_writes_nothing_not_even_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, faults) = start(&dir);
    let mut committed = engine.committed();
    let operator = Grant { role: Role::Operator, regions: vec![RegionId(3)] };
    let out_of_scope = Request { grant: operator, ..keyed(4, "scope", "f") };
    assert!(matches!(engine.execute(out_of_scope).await, Err(EngineError::OutOfScope { region: RegionId(4) })));

    let past = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let expired = Declaration { expires_at: Some(past), ..Declaration::new(RegionId(3), AlertKind::AirRaid) };
    let request = Request { command: Command::Declare(expired), ..keyed(3, "past", "f") };
    assert!(matches!(engine.execute(request).await, Err(EngineError::Alert(AlertError::ExpiryNotInFuture))));

    let text = LocalizedText { uk: Some("тривога\u{1}".into()), en: None };
    let bad_text = Declaration { message: Some(text), ..Declaration::new(RegionId(3), AlertKind::AirRaid) };
    let request = Request { command: Command::Declare(bad_text), ..keyed(3, "text", "f") };
    let refused = engine.execute(request).await;
    assert!(matches!(refused, Err(EngineError::Alert(AlertError::InvalidCharacters { .. }))), "{refused:?}");

    let unknown = engine.execute(keyed(999, "unknown", "f")).await;
    assert!(matches!(unknown, Err(EngineError::Alert(AlertError::UnknownRegion { .. }))), "{unknown:?}");

    assert_eq!(faults.appends(), Vec::<usize>::new(), "the store was never asked to write");
    assert_eq!(store.last_seq().unwrap(), 0);
    for key in ["scope", "past", "text", "unknown"] {
        assert_eq!(store.idempotency_record("token:1", key).unwrap(), None, "{key}");
    }
    assert_eq!(engine.book().active().count(), 0);
    assert!(committed.try_recv().is_err(), "nothing was published");
}

#[tokio::test]
async fn a_reinstatement_reads_the_cancelled_alert_from_the_log_or_from_its_own_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, _) = start(&dir);
    let as_request = |command| Request { command, ..declare(2) };
    let first = engine.execute(declare(2)).await.unwrap().alert;
    engine.execute(as_request(Command::Cancel { id: first.id })).await.unwrap();
    let again = engine.execute(as_request(Command::Reinstate { id: first.id })).await.unwrap();
    assert!(again.created);
    assert_eq!((again.alert.reinstates, again.alert.region_id), (Some(first.id), RegionId(2)));
    assert_eq!(store.alert(again.alert.id).unwrap().unwrap().reinstates, Some(first.id), "stored with it");

    // Cancelled and reinstated in one batch: the cancellation is not in the log yet.
    let id = again.alert.id;
    let both = engine
        .execute_all(vec![as_request(Command::Cancel { id }), as_request(Command::Reinstate { id })])
        .await
        .unwrap();
    assert_eq!(both[1].alert.reinstates, Some(id));

    // An operator of another region may not reinstate it, and learns nothing more.
    let elsewhere = Grant { role: Role::Operator, regions: vec![RegionId(3)] };
    engine.execute(as_request(Command::Cancel { id: both[1].alert.id })).await.unwrap();
    let head = store.last_seq().unwrap();
    let refused =
        engine.execute(Request { grant: elsewhere, ..as_request(Command::Reinstate { id: both[1].alert.id }) });
    assert!(matches!(refused.await, Err(EngineError::OutOfScope { region: RegionId(2) })));
    assert_eq!(store.last_seq().unwrap(), head, "nothing was written");
}
