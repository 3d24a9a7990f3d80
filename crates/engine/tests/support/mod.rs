//! What the engine's test files share: the engine over a real SQLite store behind a
//! [`FaultyStore`], requests, and a way to keep the writer busy while requests queue up.

// Each test file uses some of these.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Waker};

use tokio::sync::oneshot;
use tryvoha_core::*;
use tryvoha_engine::{Engine, EngineError, EngineTasks, IdempotencyKey, Outcome, Request, SystemClock};
use tryvoha_sqlite::SqliteStore;
use tryvoha_store::faults::{Faults, FaultyStore};

pub fn registry() -> Arc<RegionRegistry> {
    let mut csv = String::from("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n");
    for raion in 2..400 {
        csv += &format!("{raion},1,raion,,R,R\n");
    }
    Arc::new(RegionRegistry::from_csv(&csv).unwrap())
}

/// The engine over SQLite through a [`FaultyStore`]; the store is returned to read what was
/// written, the faults to make appends fail, misreport, panic or wait.
pub fn start(dir: &tempfile::TempDir) -> (Engine, Arc<FaultyStore>, Arc<Faults>) {
    let (engine, _left_to_run, store, faults) = start_with_tasks(dir);
    (engine, store, faults)
}

/// [`start`], with the writer thread and the expiry task to stop.
pub fn start_with_tasks(dir: &tempfile::TempDir) -> (Engine, EngineTasks, Arc<FaultyStore>, Arc<Faults>) {
    let faults = Faults::new();
    let sqlite = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    let store = Arc::new(FaultyStore::new(sqlite, faults.clone()));
    let (engine, tasks) = Engine::start_with_tasks(store.clone(), registry(), Arc::new(SystemClock), None).unwrap();
    (engine, tasks, store, faults)
}

pub fn declare(region: u32) -> Request {
    Request {
        command: Command::Declare(Declaration::new(RegionId(region), AlertKind::AirRaid)),
        actor: Actor { token_id: Some(1), name: "op".into() },
        grant: Grant::admin(),
        idempotency: None,
    }
}

pub fn keyed(region: u32, key: &str, fingerprint: &str) -> Request {
    let idempotency = IdempotencyKey { owner: "token:1".into(), key: key.into(), fingerprint: fingerprint.into() };
    Request { idempotency: Some(idempotency), ..declare(region) }
}

pub type Answer = Pin<Box<dyn Future<Output = Result<Outcome, EngineError>> + Send>>;

/// Holds the writer inside the commit of a declaration in region 2 (answered by the returned
/// task): requests sent until the returned sender releases it wait in the writer's queue.
pub async fn writer_busy(
    engine: &Engine,
    faults: &Faults,
) -> (tokio::task::JoinHandle<Outcome>, std::sync::mpsc::Sender<()>) {
    let (began, begun) = oneshot::channel();
    let release = faults.hold_next_append(move || {
        let _ = began.send(());
    });
    let first = tokio::spawn({
        let engine = engine.clone();
        async move { engine.execute(declare(2)).await.unwrap() }
    });
    begun.await.unwrap();
    (first, release)
}

/// Sends `request` and polls it once: far enough to be in the writer's queue (which has room),
/// not to be answered (the writer is busy). So the order of the queue is the order of these calls.
pub fn queued(engine: &Engine, request: Request) -> Answer {
    let engine = engine.clone();
    let mut request: Answer = Box::pin(async move { engine.execute(request).await });
    let polled = request.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(polled.is_pending(), "the writer is busy: nothing is answered yet");
    request
}
