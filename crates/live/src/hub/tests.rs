//! A large fan-out to parked streams, written from several threads: every subscriber gets each
//! frame once, in order, and every delivery is counted once.

use std::io::IoSlice;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use tryvoha_core::{Actor, AlertBook, AlertKind, Command, Decision, Declaration, Event, RegionId, RegionRegistry};

use super::{Hub, SUBSCRIBERS_PER_THREAD};
use crate::filter::Filter;
use crate::metrics::{Metrics, Transport};
use crate::signer::Signer;
use crate::tap::Outlet;

/// A socket with room for everything, keeping it.
#[derive(Default)]
struct Socket(Mutex<Vec<u8>>);

impl Outlet for Socket {
    fn try_write_vectored(&self, parts: &[IoSlice<'_>]) -> std::io::Result<usize> {
        let mut taken = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        parts.iter().for_each(|part| taken.extend_from_slice(part));
        Ok(parts.iter().map(|part| part.len()).sum())
    }
}

fn events(registry: &Arc<RegionRegistry>, count: u64) -> Vec<Event> {
    (1..=count).map(|seq| event(registry, seq, RegionId(1))).collect()
}

/// Event `seq`: an air-raid alert declared on `region`.
fn event(registry: &Arc<RegionRegistry>, seq: u64, region: RegionId) -> Event {
    let book = AlertBook::new(registry.clone());
    let declaration = Command::Declare(Declaration::new(region, AlertKind::AirRaid));
    match book.decide(&declaration, &Actor::system(), OffsetDateTime::UNIX_EPOCH) {
        Ok(Decision::Record(draft)) => draft.into_event(seq).into(),
        other => panic!("a declaration on an empty book records an event, not {other:?}"),
    }
}

/// A parked subscriber of `hub` with `filter`, and what its socket received.
fn parked(hub: &Arc<Hub>, filter: Filter) -> (super::Subscription, Arc<Socket>) {
    let subscription = hub.subscribe(filter);
    let socket = Arc::new(Socket::default());
    subscription.tap.attach(socket.clone(), Transport::Sse);
    assert!(subscription.tap.park(0, || false));
    (subscription, socket)
}

fn received(socket: &Socket) -> Vec<u8> {
    socket.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}

#[test]
fn a_subscriber_hears_its_regions_from_when_it_subscribes_until_it_leaves() {
    let registry = Arc::new(
        RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n2,,oblast,,P,P\n")
            .unwrap(),
    );
    let hub = Hub::new(registry.clone(), Arc::new(Metrics::default()), 64);
    let signer = Signer::from_seed([7; 32]);
    let frame = |event: &Event| hub.frames().frame(event, &signer);
    let (leaving, leaving_socket) = parked(&hub, Filter::new(vec![RegionId(1)], vec![], vec![]));
    let (everywhere, everywhere_socket) = parked(&hub, Filter::default());
    let first = event(&registry, 1, RegionId(1));
    hub.publish(&frame(&first), &first);

    let (late, late_socket) = parked(&hub, Filter::default());
    drop(leaving);
    let (second, third) = (event(&registry, 2, RegionId(1)), event(&registry, 3, RegionId(2)));
    hub.publish(&frame(&second), &second);
    hub.publish(&frame(&third), &third);

    let sse = |events: &[&Event]| -> Vec<u8> { events.iter().flat_map(|event| frame(event).sse.to_vec()).collect() };
    assert_eq!(received(&leaving_socket), sse(&[&first]), "region 1 only, until it left");
    assert_eq!(received(&everywhere_socket), sse(&[&first, &second, &third]));
    assert_eq!(received(&late_socket), sse(&[&second, &third]), "from when it subscribed");
    drop((everywhere, late));
}

#[test]
fn a_fan_out_from_several_threads_writes_each_frame_to_every_parked_stream_once_in_order() {
    let registry =
        Arc::new(RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n").unwrap());
    let metrics = Arc::new(Metrics::default());
    let hub = Hub::with_fan_out_threads(registry.clone(), metrics.clone(), 64, 3);
    let signer = Signer::from_seed([7; 32]);
    let subscribers = 3 * SUBSCRIBERS_PER_THREAD + 5;
    let parked: Vec<_> = (0..subscribers)
        .map(|index| {
            let subscription = hub.subscribe(Filter::default());
            let (socket, transport) = (Arc::new(Socket::default()), [Transport::Sse, Transport::WebSocket][index % 2]);
            subscription.tap.attach(socket.clone(), transport);
            assert!(subscription.tap.park(0, || false));
            (subscription, socket, transport)
        })
        .collect();

    let events = events(&registry, 5);
    let frames: Vec<_> = events.iter().map(|event| hub.frames().frame(event, &signer)).collect();
    hub.publish(&frames[0], &events[0]);
    hub.publish_all(&events[1..], &frames[1..]);

    for (_, socket, transport) in &parked {
        let expected: Vec<u8> = frames.iter().flat_map(|frame| frame.bytes(*transport).to_vec()).collect();
        assert!(*socket.0.lock().unwrap() == expected, "every frame once, in order, over {transport:?}");
    }
    let metrics_text = metrics.render();
    let delivered = (subscribers * frames.len()).to_string();
    for counter in ["tryvoha_events_delivered_total", "tryvoha_fan_out_writes_total"] {
        assert!(metrics_text.contains(&format!("{counter} {delivered}\n")), "{counter}: {metrics_text}");
    }
    assert!(metrics_text.contains("tryvoha_fan_out_handovers_total 0\n"));
    // Each frame's own count, per channel: what its alert's delivery report says.
    let totals = metrics.deliveries.totals();
    let over = |transport: Transport| parked.iter().filter(|(_, _, t)| *t == transport).count() as u64;
    for transport in [Transport::Sse, Transport::WebSocket] {
        let summary = totals.channel(transport.channel()).summary();
        let expected = over(transport) * frames.len() as u64;
        assert_eq!((summary.attempted, summary.delivered), (expected, expected), "{transport:?}");
    }
}

#[test]
fn a_filter_is_let_go_when_its_last_subscriber_leaves_or_is_cut_off_during_a_fan_out() {
    let registry =
        Arc::new(RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n").unwrap());
    let hub = Hub::new(registry.clone(), Arc::new(Metrics::default()), 2);
    let signer = Signer::from_seed([7; 32]);
    // Through hyper (no socket of their own): their frames are queued, in queues of two.
    let one_of_a_kind = hub.subscribe(Filter::new(vec![RegionId(1)], vec![AlertKind::AirRaid], vec![]));
    let (sharing, also_sharing) = (hub.subscribe(Filter::default()), hub.subscribe(Filter::default()));
    assert_eq!(hub.lock().filters.len(), 2, "one copy of each distinct filter");

    // Three frames at once overflow every queue: all are cut off while the batch's audience,
    // which holds their filters too, is still being written to.
    let events = events(&registry, 3);
    let frames: Vec<_> = events.iter().map(|event| hub.frames().frame(event, &signer)).collect();
    hub.publish_all(&events, &frames);
    assert_eq!(hub.subscriber_count(), 0, "all cut off");
    assert!(hub.lock().filters.is_empty(), "no filter kept for nobody");

    drop((one_of_a_kind, sharing, also_sharing));
    let (first, second) = (hub.subscribe(Filter::default()), hub.subscribe(Filter::default()));
    drop(first);
    assert_eq!(hub.lock().filters.len(), 1, "still the second one's");
    drop(second);
    assert!(hub.lock().filters.is_empty());
}
