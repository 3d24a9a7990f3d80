//! Every write is in the server's log: one structured line under `tryvoha::audit` saying who,
//! what, where and the outcome. Captured here as the JSON lines `--log-format json` writes.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tryvoha_core::*;
use tryvoha_engine::{Engine, Request, SystemClock};
use tryvoha_sqlite::SqliteStore;

/// Collects every line written, from every thread (the writer logs on its own).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn audit_lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .filter(|line| line["target"] == "tryvoha::audit")
            .collect()
    }
}

#[tokio::test]
async fn a_declaration_a_refused_write_and_a_reinstatement_each_leave_one_audit_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt().json().with_writer(move || writer.clone()).init();

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    let registry = RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n").unwrap();
    let engine = Engine::start(store, Arc::new(registry), Arc::new(SystemClock), None).unwrap();
    let actor = Actor { token_id: Some(7), name: "duty officer".into() };
    let request = |command| Request { command, actor: actor.clone(), grant: Grant::admin(), idempotency: None };
    engine.execute(request(Command::Declare(Declaration::new(RegionId(1), AlertKind::AirRaid)))).await.unwrap();
    engine.execute(request(Command::Cancel { id: AlertId(99) })).await.unwrap_err();
    engine.execute(request(Command::Cancel { id: AlertId(1) })).await.unwrap();
    engine.execute(request(Command::Reinstate { id: AlertId(1) })).await.unwrap();

    let lines = captured.audit_lines();
    assert_eq!(lines.len(), 4, "{lines:?}");
    let declared = &lines[0]["fields"];
    assert_eq!(declared["action"], "declare");
    assert_eq!((declared["token"].as_u64(), declared["name"].as_str()), (Some(7), Some("duty officer")));
    assert_eq!((declared["region"].as_u64(), declared["alert"].as_u64()), (Some(1), Some(1)));
    assert_eq!((declared["event"].as_str(), declared["seq"].as_u64()), (Some("declared"), Some(1)));
    let refused = &lines[1]["fields"];
    assert_eq!((refused["action"].as_str(), refused["alert"].as_u64()), (Some("cancel"), Some(99)));
    assert!(refused["reason"].as_str().unwrap().contains("99"), "{refused}");
    assert_eq!(lines[1]["level"], "WARN");
    let reinstated = &lines[3]["fields"];
    assert_eq!(reinstated["action"], "reinstate");
    assert_eq!((reinstated["alert"].as_u64(), reinstated["reinstates"].as_u64()), (Some(2), Some(1)));
    assert_eq!((reinstated["event"].as_str(), reinstated["seq"].as_u64()), (Some("declared"), Some(3)));
    assert!(lines[0]["fields"].get("reinstates").is_none(), "other lines stay as they were");
}
