//! The feed against a real engine and store: resume at random disconnect points never loses or
//! repeats an event, and a slow subscriber is cut off without holding anyone back.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tryvoha_core::*;
use tryvoha_engine::{Engine, Request, SystemClock};
use tryvoha_live::{Feed, Filter, Hub, Metrics, Resume, Signer};
use tryvoha_sqlite::SqliteStore;

/// Oblast 1 with raions 2 and 3; hromadas 4, 5 in raion 2 and 6 in raion 3; oblast 7 apart.
const REGIONS: &str = "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n2,1,raion,,R,R\n3,1,raion,,S,S\n\
                       4,2,hromada,,H,H\n5,2,hromada,,G,G\n6,3,hromada,,F,F\n7,,oblast,,P,P\n";

struct World {
    engine: Engine,
    hub: Arc<Hub>,
    signer: Arc<Signer>,
    _dir: tempfile::TempDir,
}

fn world(queue_capacity: usize) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let registry = Arc::new(RegionRegistry::from_csv(REGIONS).unwrap());
    let engine = Engine::start(Arc::new(store), registry.clone(), Arc::new(SystemClock), None).unwrap();
    let signer = Arc::new(Signer::from_seed([3; 32]));
    let hub = Hub::new(registry, Arc::new(Metrics::default()), queue_capacity);
    tokio::spawn(hub.clone().run(engine.event_source(), signer.clone()));
    World { engine, hub, signer, _dir: dir }
}

fn request(command: Command) -> Request {
    Request { command, actor: Actor::system(), grant: Grant::admin(), idempotency: None }
}

async fn declare(world: &World, region: u32, kind: AlertKind) -> Option<AlertEvent> {
    let command = Command::Declare(Declaration::new(RegionId(region), kind));
    world.engine.execute(request(command)).await.unwrap().event
}

async fn next_seq(feed: &mut Feed) -> Option<u64> {
    tokio::time::timeout(Duration::from_secs(5), feed.next()).await.expect("a frame within 5 s").unwrap().map(|f| f.seq)
}

#[derive(Clone, Debug)]
enum Step {
    Declare { region: u32, kind: AlertKind },
    Cancel { pick: usize },
    Read { frames: usize },
    ReadReady,
    Reconnect,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1..8u32, prop::sample::select(AlertKind::ALL.to_vec())).prop_map(|(region, kind)| Step::Declare { region, kind }),
        2 => (0..20usize).prop_map(|pick| Step::Cancel { pick }),
        3 => (0..4usize).prop_map(|frames| Step::Read { frames }),
        2 => Just(Step::ReadReady),
        2 => Just(Step::Reconnect),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A subscriber of raion 2 that disconnects at random points and resumes by its last id
    /// (taking frames one by one or whatever is ready at once) sees, over all its connections,
    /// exactly the log's matching events, in order, once each.
    #[test]
    fn resuming_at_any_point_sees_every_matching_event_exactly_once(steps in prop::collection::vec(step(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let world = world(64);
            let filter = Filter { regions: vec![RegionId(2)], ..Filter::default() };
            let registry = world.engine.registry().clone();
            let mut feed = Feed::open(&world.engine, &world.hub, &world.signer, filter.clone(), Resume::Fresh);
            assert_eq!(next_seq(&mut feed).await, Some(0), "a fresh subscriber starts with the snapshot");
            let (mut seen, mut last, mut matching, mut declared) = (Vec::new(), 0u64, Vec::new(), Vec::new());
            for step in steps {
                match step {
                    Step::Declare { region, kind } => {
                        if let Some(event) = declare(&world, region, kind).await {
                            declared.push(event.alert.id);
                            if filter.matches(&event.alert, &registry) { matching.push(event.seq); }
                        }
                    }
                    Step::Cancel { pick } if !declared.is_empty() => {
                        let id = declared[pick % declared.len()];
                        if let Ok(outcome) = world.engine.execute(request(Command::Cancel { id })).await {
                            let event = outcome.event.unwrap();
                            if filter.matches(&event.alert, &registry) { matching.push(event.seq); }
                        }
                    }
                    Step::Cancel { .. } => {}
                    Step::Read { frames } => {
                        let available = matching.iter().filter(|&&s| s > last).count();
                        for _ in 0..frames.min(available) {
                            let seq = next_seq(&mut feed).await.expect("not cut off");
                            seen.push(seq);
                            last = seq;
                        }
                    }
                    // Whatever is ready, without waiting: how a transport gathers a batch.
                    Step::ReadReady => {
                        while let Some(frame) = feed.next_ready() {
                            seen.push(frame.seq);
                            last = frame.seq;
                        }
                    }
                    Step::Reconnect => {
                        drop(feed);
                        feed = Feed::open(&world.engine, &world.hub, &world.signer, filter.clone(), Resume::After(last));
                    }
                }
            }
            while seen.len() < matching.len() {
                let seq = next_seq(&mut feed).await.expect("not cut off");
                seen.push(seq);
            }
            assert_eq!(seen, matching);
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_is_cut_off_while_the_others_keep_their_pace_and_it_resumes_from_the_log() {
    let world = world(2);
    let everyone = Filter::default();
    // Fresh: a snapshot, then only its live queue (no log reads that would hide the cut).
    let mut slow = Feed::open(&world.engine, &world.hub, &world.signer, everyone.clone(), Resume::Fresh);
    let mut brisk = Feed::open(&world.engine, &world.hub, &world.signer, everyone.clone(), Resume::After(0));
    for region in 1..=6 {
        declare(&world, region, AlertKind::AirRaid).await;
        assert_eq!(next_seq(&mut brisk).await, Some(u64::from(region)), "the brisk subscriber keeps pace");
    }
    assert_eq!(world.hub.metrics().slow_cuts(), 1, "the slow one was cut once its queue of 2 was full");
    let mut received = Vec::new();
    while let Some(seq) = next_seq(&mut slow).await {
        received.push(seq);
    }
    assert_eq!(received, [0, 1, 2], "the snapshot and what was queued, then its feed ends: no silent skip");
    let mut resumed = Feed::open(&world.engine, &world.hub, &world.signer, everyone, Resume::After(2));
    for expected in 3..=6 {
        assert_eq!(next_seq(&mut resumed).await, Some(expected));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_signed_once_whether_it_reaches_a_subscriber_live_or_from_the_log() {
    let world = world(64);
    let everyone = Filter::default();
    let mut live = Feed::open(&world.engine, &world.hub, &world.signer, everyone.clone(), Resume::Fresh);
    assert_eq!(next_seq(&mut live).await, Some(0), "the snapshot, signed for this subscriber alone");
    let mut live_frames = Vec::new();
    for region in 1..=5 {
        declare(&world, region, AlertKind::AirRaid).await;
        let frame = tokio::time::timeout(Duration::from_secs(5), live.next()).await.unwrap().unwrap().unwrap();
        live_frames.push(frame);
    }
    let mut catching_up = Feed::open(&world.engine, &world.hub, &world.signer, everyone, Resume::After(0));
    for live_frame in &live_frames {
        let frame = tokio::time::timeout(Duration::from_secs(5), catching_up.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(frame.seq, live_frame.seq);
        assert!(Arc::ptr_eq(&frame, live_frame), "the log reader got the hub's frame of {}", frame.seq);
    }
    assert_eq!(world.signer.signatures(), 1 + 5, "one snapshot and one signature per event");
}
