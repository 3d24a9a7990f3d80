//! Timed alerts end at their `expires_at`, even when the server was down at that moment.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::datetime;
use tryvoha_core::*;
use tryvoha_engine::{Clock, Engine, Request};
use tryvoha_sqlite::SqliteStore;
use tryvoha_store::{HistoryQuery, Store};

const T0: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);

/// A clock the test sets.
struct ManualClock(Mutex<OffsetDateTime>);

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

fn registry() -> Arc<RegionRegistry> {
    Arc::new(RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n").unwrap())
}

#[tokio::test]
async fn an_alert_that_expired_while_the_server_was_down_ends_at_its_expiry_not_at_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    let expires_at = T0 + time::Duration::hours(1);
    let declared = {
        let engine = Engine::start(store.clone(), registry(), Arc::new(ManualClock(Mutex::new(T0))), None).unwrap();
        let mut declaration = Declaration::new(RegionId(1), AlertKind::AirRaid);
        declaration.expires_at = Some(expires_at);
        let request = Request {
            command: Command::Declare(declaration),
            actor: Actor { token_id: Some(1), name: "op".into() },
            grant: Grant::admin(),
            idempotency: None,
        };
        engine.execute(request).await.unwrap().alert
    };

    // The server was down from before the expiry until three hours later.
    let restart = T0 + time::Duration::hours(3);
    let engine = Engine::start(store.clone(), registry(), Arc::new(ManualClock(Mutex::new(restart))), None).unwrap();
    let mut committed = engine.committed();
    let event = tokio::time::timeout(Duration::from_secs(10), committed.recv()).await.unwrap().unwrap();
    let event = event.as_alert().expect("an alert event");
    assert_eq!((event.kind, event.alert.id), (EventType::Expired, declared.id));
    assert_eq!(event.at, expires_at, "the event is dated at the expiry");
    assert_eq!(event.alert.finished_at, Some(expires_at));
    let history = store.history(&HistoryQuery::default()).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].finished_at, expires_at, "the history record ends at the expiry");
}
