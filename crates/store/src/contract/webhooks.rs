//! Webhook endpoints: created with their cursor at the head, listed, changed, paused and
//! removed with their cursor.

use time::macros::datetime;
use tryvoha_core::{AlertKind, AlertStatus, EventFamily, RegionId};

use crate::contract::{commit, declared};
use crate::{Paused, Store, StoreError, WebhookFormat, WebhookSpec, webhook_consumer};

fn spec(url: &str) -> WebhookSpec {
    WebhookSpec {
        url: url.into(),
        regions: vec![RegionId(31)],
        kinds: vec![AlertKind::AirRaid],
        statuses: vec![AlertStatus::Actual],
        types: vec![EventFamily::Alerts, EventFamily::Incidents],
        format: WebhookFormat::Tryvoha,
        owner: None,
        may_reach_private: true,
    }
}

pub fn webhooks_start_at_the_head_and_leave_with_their_cursor(store: &dyn Store) {
    store.append(&commit((1..=3).map(|n| declared(n, n, 14)).collect())).unwrap();
    let at = datetime!(2026-11-20 01:00 UTC);
    let first = store.create_webhook(&spec("https://a.example/hook"), "whsec_1", at).unwrap();
    let second = store.create_webhook(&spec("https://b.example/hook"), "whsec_2", at).unwrap();
    assert_ne!(first.id, second.id);
    assert_eq!(store.stored_cursor(&webhook_consumer(first.id)).unwrap(), Some(3), "a new endpoint starts at the head");
    let listed = store.webhooks().unwrap();
    assert_eq!(listed, vec![first.clone(), second.clone()], "listed by id, as created");
    assert_eq!(listed[0].secret, "whsec_1", "the secret is kept: it signs each delivery");

    let paused = Paused { at, reason: "retried for 24 h".into() };
    let changed = store.update_webhook(first.id, &spec("https://c.example/hook"), Some(&paused)).unwrap();
    assert_eq!(
        (changed.spec.url.as_str(), changed.paused.as_ref()),
        ("https://c.example/hook", Some(&paused)),
        "both at once"
    );
    assert_eq!(store.webhooks().unwrap()[0], changed, "as stored");
    assert_eq!(store.update_webhook(first.id, &changed.spec, None).unwrap().paused, None);

    store.remove_webhook(first.id).unwrap();
    assert_eq!(store.stored_cursor(&webhook_consumer(first.id)).unwrap(), None, "its cursor goes with it");
    assert_eq!(store.webhooks().unwrap(), vec![second.clone()]);
    assert!(matches!(store.remove_webhook(first.id), Err(StoreError::NotFound)));
    assert!(matches!(store.update_webhook(first.id, &spec("https://d.example"), None), Err(StoreError::NotFound)));
    let third = store.create_webhook(&spec("https://e.example/hook"), "whsec_3", at).unwrap();
    store.remove_webhook(third.id).unwrap();
    let fourth = store.create_webhook(&spec("https://f.example/hook"), "whsec_4", at).unwrap();
    assert!(fourth.id > third.id, "the newest endpoint's id is not given again once it is removed");
}
