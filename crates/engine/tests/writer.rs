//! The single writer against a real SQLite store, through a store whose commits can be made to fail.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

mod support;

use tryvoha_core::*;
use tryvoha_engine::{EngineError, IdempotencyKey, Request};
use tryvoha_store::*;

use support::{declare, start, start_with_tasks, writer_busy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_declarations_get_gap_free_sequence_numbers_in_commit_order() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, _) = start(&dir);
    let mut committed = engine.committed();
    let tasks: Vec<_> = (2..302)
        .map(|region| {
            tokio::spawn({
                let engine = engine.clone();
                async move { engine.execute(declare(region)).await.unwrap() }
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap().event.unwrap().seq);
    }
    seqs.sort();
    assert_eq!(seqs, (1..=300).collect::<Vec<_>>());
    let logged: Vec<Seq> = store.events_after(0, 1000).unwrap().iter().map(|e| e.seq()).collect();
    assert_eq!(logged, seqs);
    let published: Vec<Seq> = (0..300).map(|_| committed.try_recv().unwrap().seq()).collect();
    assert_eq!(published, seqs, "events are published in sequence order");
    assert_eq!(engine.book().active().count(), 300);
}

#[tokio::test]
async fn a_failed_commit_answers_unavailable_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _, faults) = start(&dir);
    engine.execute(declare(2)).await.unwrap();
    let mut committed = engine.committed();
    faults.append_fails.on();
    let refused = engine.execute(declare(3)).await;
    assert!(matches!(refused, Err(EngineError::Unavailable(_))), "{refused:?}");
    assert_eq!(engine.book().active().count(), 1, "the book did not take the unwritten alert");
    assert!(committed.try_recv().is_err(), "nothing was published");
    faults.append_fails.off();
    let next = engine.execute(declare(3)).await.unwrap();
    assert_eq!(next.event.unwrap().seq, 2, "the sequence continues without a gap");
    assert_eq!(next.alert.id, AlertId(2), "and so do alert ids");
}

#[tokio::test]
async fn an_idempotency_key_is_written_with_its_event_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let keyed = |region| Request {
        idempotency: Some(IdempotencyKey {
            owner: "token:1".into(),
            key: "k".into(),
            fingerprint: format!("f{region}"),
        }),
        ..declare(region)
    };
    let first = {
        let (engine, tasks, _, _) = start_with_tasks(&dir);
        let first = engine.execute(keyed(2)).await.unwrap();
        tasks.writer.stop().await.unwrap();
        first
    };
    let (engine, _, _) = start(&dir);
    let retry = engine.execute(keyed(2)).await.unwrap();
    assert_eq!((retry.alert.id, retry.created, retry.event), (first.alert.id, true, None));
    let reused = engine.execute(keyed(3)).await;
    assert!(matches!(reused, Err(EngineError::IdempotencyKeyReused)));
}

#[tokio::test]
async fn a_commit_that_landed_though_it_reported_failure_is_answered_as_written_and_writing_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, faults) = start(&dir);
    let mut committed = engine.committed();
    faults.append_lands_but_fails_once.on();
    let first = engine.execute(declare(2)).await.unwrap();
    assert_eq!(first.event.as_ref().unwrap().seq, 1, "the landed commit is answered with its event");
    let second = engine.execute(declare(3)).await.expect("the writer did not wedge on a stale head");
    assert_eq!(second.event.unwrap().seq, 2);
    let logged: Vec<Seq> = store.events_after(0, 10).unwrap().iter().map(|e| e.seq()).collect();
    assert_eq!(logged, [1, 2], "the log has no gap and no duplicate");
    let published: Vec<Seq> = (0..2).map(|_| committed.try_recv().unwrap().seq()).collect();
    assert_eq!(published, [1, 2], "subscribers hear the landed event too");
    assert_eq!(engine.book().active().count(), 2);
}

#[tokio::test]
async fn a_writer_that_panics_is_reported_stopped_and_refuses_every_later_write() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, faults) = start(&dir);
    assert!(engine.writer_running());
    faults.append_panics.on();
    let lost = engine.execute(declare(2)).await;
    assert!(matches!(lost, Err(EngineError::ShuttingDown)), "{lost:?}");
    let reason = tokio::time::timeout(std::time::Duration::from_secs(10), engine.writer_stopped()).await.unwrap();
    assert!(reason.contains("injected: the store's append panicked"), "{reason}");
    assert!(!engine.writer_running());
    faults.append_panics.off();
    assert!(matches!(engine.execute(declare(3)).await, Err(EngineError::ShuttingDown)));
    assert_eq!(store.last_seq().unwrap(), 0, "nothing was written");
}

#[tokio::test]
async fn a_request_whose_caller_already_gave_up_is_never_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, _) = start(&dir);
    let handoff = tryvoha_engine::Handoff::new();
    assert!(handoff.give_up(), "nothing took it yet: the time limit may answer 408");
    let dropped = handoff.scope(engine.execute(declare(2))).await;
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(store.last_seq().unwrap(), 0, "nothing was written");
    assert_eq!(engine.book().active().count(), 0);

    let taken = tryvoha_engine::Handoff::new();
    let applied = taken.clone().scope(engine.execute(declare(2))).await.unwrap();
    assert_eq!(applied.event.unwrap().seq, 1);
    assert!(!taken.give_up(), "once the writer took a request, its caller cannot be told 408");
}

#[tokio::test]
async fn a_batch_with_one_refused_member_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store, _) = start(&dir);
    let first = engine.execute(declare(2)).await.unwrap();
    let mut committed = engine.committed();
    let scoped =
        |request: Request| Request { grant: Grant { role: Role::Operator, regions: vec![RegionId(3)] }, ..request };
    let keyed = Request {
        idempotency: Some(IdempotencyKey { owner: "cap:x".into(), key: "m#3".into(), fingerprint: "f".into() }),
        ..scoped(declare(3))
    };
    // Region 3 is in scope, region 4 is not: neither may be declared.
    let refused = engine.execute_all(vec![keyed.clone(), scoped(declare(4))]).await;
    assert!(matches!(refused, Err(EngineError::OutOfScope { region: RegionId(4) })), "{refused:?}");
    // A refusal late in a batch undoes what the batch decided before it, too.
    let cancel_twice = Request { command: Command::Cancel { id: first.alert.id }, ..declare(2) };
    let refused = engine.execute_all(vec![declare(5), cancel_twice.clone(), cancel_twice]).await;
    assert!(matches!(refused, Err(EngineError::Alert(AlertError::AlreadyFinished { .. }))), "{refused:?}");
    assert_eq!(store.last_seq().unwrap(), 1, "nothing was written");
    assert_eq!(store.idempotency_record("cap:x", "m#3").unwrap(), None, "not even the idempotency record");
    assert_eq!(engine.book().active().map(|a| a.id).collect::<Vec<_>>(), [first.alert.id]);
    assert!(committed.try_recv().is_err(), "nothing was published");

    let both = engine.execute_all(vec![keyed, declare(4)]).await.unwrap();
    let seqs: Vec<Seq> = both.iter().map(|o| o.event.as_ref().unwrap().seq).collect();
    assert_eq!(seqs, [2, 3], "the batch is committed together, in order, with no gap");
    assert_eq!(both.iter().map(|o| o.alert.region_id).collect::<Vec<_>>(), [RegionId(3), RegionId(4)]);
    assert!(store.idempotency_record("cap:x", "m#3").unwrap().unwrap().created);
}

#[tokio::test]
async fn an_escalating_declaration_reports_what_it_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _, _) = start(&dir);
    let yellow = Request {
        command: Command::Declare(Declaration {
            level: AlertLevel::Yellow,
            threats: vec![Threat::Drones],
            ..Declaration::new(RegionId(2), AlertKind::AirRaid)
        }),
        ..declare(2)
    };
    let first = engine.execute(yellow.clone()).await.unwrap();
    assert!(first.created && first.changed.is_empty());
    let red = Request {
        command: Command::Declare(Declaration {
            threats: vec![Threat::BallisticMissiles],
            ..Declaration::new(RegionId(2), AlertKind::AirRaid)
        }),
        ..declare(2)
    };
    let escalated = engine.execute(red).await.unwrap();
    assert!(!escalated.created);
    assert_eq!(escalated.changed, [AlertField::Level, AlertField::Threats]);
    assert_eq!(escalated.event.unwrap().kind, EventType::Updated);
    let again = engine.execute(yellow).await.unwrap();
    assert_eq!((again.changed.len(), again.event, again.alert.level), (0, None, AlertLevel::Red));
}

#[tokio::test]
async fn a_stopped_writer_finishes_the_commit_it_is_in_answers_it_then_refuses_and_its_thread_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, tasks, store, faults) = start_with_tasks(&dir);
    let (in_commit, release) = writer_busy(&engine, &faults).await;
    let stopped = tokio::spawn(tasks.writer.stop());
    release.send(()).unwrap();
    assert_eq!(in_commit.await.unwrap().event.unwrap().seq, 1, "the request in the commit is answered");
    assert_eq!(stopped.await.unwrap(), Ok(()), "the thread ended, and not by panicking");
    assert!(!engine.writer_running());
    assert!(matches!(engine.execute(declare(3)).await, Err(EngineError::ShuttingDown)));
    assert_eq!(store.last_seq().unwrap(), 1);
}

#[tokio::test]
async fn a_writer_that_panicked_says_so_when_it_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, tasks, _, faults) = start_with_tasks(&dir);
    faults.append_panics.on();
    assert!(engine.execute(declare(2)).await.is_err());
    let ended = tasks.writer.stop().await.expect_err("the panic is reported");
    assert!(ended.contains(tryvoha_store::faults::APPEND_PANIC), "{ended}");
}
