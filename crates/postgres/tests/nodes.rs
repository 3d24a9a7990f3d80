//! Several nodes on one database: two stores on one schema append at once and the log stays
//! gap-free, the loser refused; two cluster names on one database are two stores.

mod support;

use std::sync::{Arc, Barrier};

use support::TestSchema;
use tryvoha_core::AlertId;
use tryvoha_postgres::PostgresStore;
use tryvoha_store::contract::declared;
use tryvoha_store::{Commit, CursorStore, EventLog, NewToken, PushStore, StoreError, TokenStore, WebhookStore};

fn commit(events: Vec<tryvoha_core::AlertEvent>) -> Commit {
    Commit { events: events.into_iter().map(Into::into).collect(), idempotency: vec![] }
}

/// Two stores on one schema, as two nodes of one cluster would open it.
fn two_nodes(schema: &TestSchema) -> [Arc<PostgresStore>; 2] {
    [Arc::new(schema.open()), Arc::new(schema.open())]
}

/// Runs `work(node)` on two threads, one per node, started together; their answers in order.
fn on_both_nodes<T: Send + 'static>(
    nodes: &[Arc<PostgresStore>; 2],
    work: impl Fn(usize, &PostgresStore) -> T + Send + Sync + 'static,
) -> [T; 2] {
    let (start, work) = (Arc::new(Barrier::new(2)), Arc::new(work));
    let threads = [0, 1].map(|node| {
        let (store, start, work) = (nodes[node].clone(), start.clone(), work.clone());
        std::thread::spawn(move || {
            start.wait();
            work(node, &store)
        })
    });
    threads.map(|thread| thread.join().expect("a node panicked"))
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn of_two_nodes_appending_the_same_seq_one_wins_and_the_other_is_refused() {
    let schema = TestSchema::new();
    let nodes = two_nodes(&schema);
    const ROUNDS: u64 = 30;
    for round in 1..=ROUNDS {
        // Both decided against the same head; each node's alert has an id of its own.
        let answers = on_both_nodes(&nodes, move |node, store| {
            store.append(&commit(vec![declared(round, round * 10 + node as u64, 14)]))
        });
        let won: Vec<usize> = (0..2).filter(|&node| answers[node].is_ok()).collect();
        assert_eq!(won.len(), 1, "round {round}: exactly one append wins: {answers:?}");
        let lost = 1 - won[0];
        assert!(matches!(answers[lost], Err(StoreError::Conflict(_))), "round {round}: {:?}", answers[lost]);
        let loser_alert = AlertId(round * 10 + lost as u64);
        assert_eq!(nodes[won[0]].alert(loser_alert).unwrap(), None, "the refused append wrote nothing");
    }
    let log = nodes[0].events_after(0, 1000).unwrap();
    assert_eq!(log.iter().map(|e| e.seq()).collect::<Vec<_>>(), (1..=ROUNDS).collect::<Vec<_>>(), "gap-free");
    assert_eq!(nodes[1].events_after(0, 1000).unwrap(), log, "both nodes read the one log");
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn two_nodes_that_retry_after_a_conflict_keep_the_log_gap_free_in_commit_order() {
    let schema = TestSchema::new();
    let nodes = two_nodes(&schema);
    const EACH: u64 = 40;
    let conflicts = on_both_nodes(&nodes, |node, store| {
        let mut conflicts = 0;
        for n in 0..EACH {
            // As the engine does: decide against the head it knows, and again after a refusal.
            loop {
                let next = store.last_seq().unwrap() + 1;
                match store.append(&commit(vec![declared(next, 1000 * (node as u64 + 1) + n, 14)])) {
                    Ok(()) => break,
                    Err(StoreError::Conflict(_)) => conflicts += 1,
                    Err(other) => panic!("node {node}: {other:?}"),
                }
            }
        }
        conflicts
    });
    let log = nodes[1].events_after(0, 1000).unwrap();
    assert_eq!(log.iter().map(|e| e.seq()).collect::<Vec<_>>(), (1..=2 * EACH).collect::<Vec<_>>());
    for node in 0..2u64 {
        let ids: Vec<u64> =
            log.iter().filter_map(|e| e.as_alert()).map(|e| e.alert.id.0).filter(|id| id / 1000 == node + 1).collect();
        assert_eq!(ids, (0..EACH).map(|n| 1000 * (node + 1) + n).collect::<Vec<_>>(), "each once, in its order");
    }
    eprintln!("conflicts on the way: {conflicts:?}");
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn two_nodes_starting_together_on_a_new_schema_both_open_it() {
    let schema = Arc::new(TestSchema::new());
    let start = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (schema, start) = (schema.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                PostgresStore::open(&schema.url, &schema.name).map(|store| store.last_seq().unwrap())
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap().unwrap(), 0, "created once, migrated once, opened twice");
    }
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn two_cluster_names_on_one_database_are_independent_stores() {
    let (east, west) = (TestSchema::new(), TestSchema::new());
    let (east, west) = ((east.open(), east), (west.open(), west));
    east.0.append(&commit(vec![declared(1, 1, 14), declared(2, 2, 14)])).unwrap();
    west.0.append(&commit(vec![declared(1, 7, 31)])).unwrap();
    assert_eq!((east.0.last_seq().unwrap(), west.0.last_seq().unwrap()), (2, 1), "a log each, numbered apart");
    assert_eq!(west.0.alert(AlertId(1)).unwrap(), None);
    assert_eq!(west.0.active_alerts().unwrap().len(), 1);

    let token = NewToken {
        name: "op".into(),
        role: tryvoha_core::Role::Operator,
        regions: vec![],
        secret_hash: "same-hash".into(),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
    };
    let (in_east, in_west) = (east.0.create_token(&token).unwrap(), west.0.create_token(&token).unwrap());
    assert_eq!((in_east.id, in_west.id), (1, 1), "ids count per cluster; the same hash twice is no clash");
    east.0.revoke_token(in_east.id, time::OffsetDateTime::UNIX_EPOCH).unwrap();
    assert_eq!(west.0.token_by_hash("same-hash").unwrap().unwrap().revoked_at, None);

    east.0.set_cursor("mqtt", 0, 2).unwrap();
    assert_eq!(west.0.stored_cursor("mqtt").unwrap(), None);
    assert!(west.0.webhooks().unwrap().is_empty());
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL")]
fn of_two_nodes_subscribing_one_endpoint_at_once_one_is_told_it_is_new() {
    let schema = TestSchema::new();
    let nodes = two_nodes(&schema);
    for round in 0..20 {
        let answers = on_both_nodes(&nodes, move |_, store| {
            let subscription = tryvoha_store::NewPushSubscription {
                endpoint: format!("https://push.example/{round}"),
                p256dh: "BKey".into(),
                auth: "auth".into(),
                filter: tryvoha_store::PushFilter {
                    regions: vec![tryvoha_core::RegionId(31)],
                    kinds: vec![],
                    statuses: vec![],
                    lang: "uk".into(),
                },
                created_at: time::OffsetDateTime::UNIX_EPOCH,
            };
            store.upsert_push_subscription(&subscription).unwrap()
        });
        assert_eq!(answers[0].0.id, answers[1].0.id, "round {round}: one subscription");
        assert_eq!(u8::from(answers[0].1) + u8::from(answers[1].1), 1, "round {round}: one of them made it");
    }
}
