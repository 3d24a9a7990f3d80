//! Web Push subscriptions: one per endpoint, renewed in place, removed by endpoint.

use time::macros::datetime;
use tryvoha_core::{AlertKind, RegionId};

use crate::{NewPushSubscription, PushFilter, Store};

fn subscription(endpoint: &str, auth: &str, region: u32) -> NewPushSubscription {
    NewPushSubscription {
        endpoint: endpoint.into(),
        p256dh: "BPublicKeyOfTheBrowser".into(),
        auth: auth.into(),
        filter: PushFilter {
            regions: vec![RegionId(region)],
            kinds: vec![AlertKind::AirRaid],
            statuses: vec![],
            lang: "uk".into(),
        },
        created_at: datetime!(2026-11-20 01:00 UTC),
    }
}

pub fn push_subscriptions_are_one_per_endpoint_and_renewed_in_place(store: &dyn Store) {
    let (first, new) = store.upsert_push_subscription(&subscription("https://push.example/a", "auth-1", 31)).unwrap();
    assert!(new);
    let (second, _) = store.upsert_push_subscription(&subscription("https://push.example/b", "auth-2", 14)).unwrap();
    let (renewed, new) = store.upsert_push_subscription(&subscription("https://push.example/a", "auth-3", 12)).unwrap();
    assert!(!new, "the same endpoint again is a renewal");
    assert_eq!(renewed.id, first.id, "renewed in place");
    assert_eq!(
        (renewed.auth.as_str(), renewed.filter.regions.clone()),
        ("auth-3", vec![RegionId(12)]),
        "new keys and filter"
    );
    assert_eq!(store.push_subscriptions().unwrap(), vec![renewed.clone(), second.clone()]);
    assert!(
        !store.remove_push_subscription("https://push.example/a", "auth-1").unwrap(),
        "the old keys' removal leaves the renewal"
    );
    assert_eq!(renewed.delivered, 0, "nothing delivered yet");
    store.set_push_delivered(&[(first.id, 5), (second.id, 3)]).unwrap();
    store.set_push_delivered(&[(second.id, 2), (9_999, 7)]).unwrap();
    let delivered: Vec<_> = store.push_subscriptions().unwrap().iter().map(|s| (s.id, s.delivered)).collect();
    assert_eq!(delivered, [(first.id, 5), (second.id, 3)], "recorded, never moved back; an unknown id is skipped");
    let (renewed, _) = store.upsert_push_subscription(&subscription("https://push.example/a", "auth-3", 12)).unwrap();
    assert_eq!(renewed.delivered, 5, "a renewal keeps what was delivered");
    let second = store.push_subscriptions().unwrap().pop().unwrap();
    assert!(store.remove_push_subscription("https://push.example/a", "auth-3").unwrap());
    assert!(!store.remove_push_subscription("https://push.example/a", "auth-3").unwrap(), "gone already");
    assert_eq!(store.push_subscriptions().unwrap(), vec![second]);
}
