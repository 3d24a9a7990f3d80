//! The hub against a scripted event source: when it lags behind the source it cuts every
//! subscriber (they resume from the log by their last id) and follows again from the last event
//! it fanned out, never from wherever the source has got to.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tryvoha_core::*;
use tryvoha_follow::{EventSource, Follow, FollowError, LogReader, ReadFuture};
use tryvoha_live::{Feed, Filter, Hub, Metrics, Resume, Signer};

type Script = BoxStream<'static, Result<Arc<Event>, FollowError>>;

/// Hands out one script per `follow` and records where each follow started. Its log is empty:
/// subscribers here hear only what the hub fans out.
#[derive(Clone)]
struct ScriptedSource {
    book: Arc<AlertBook>,
    scripts: Arc<Mutex<VecDeque<Script>>>,
    follows: Arc<watch::Sender<Vec<Seq>>>,
}

impl EventSource for ScriptedSource {
    fn head(&self) -> Seq {
        0
    }

    fn follow(&self, after: Seq) -> Follow {
        self.follows.send_modify(|follows| follows.push(after));
        let script = self.scripts.lock().unwrap().pop_front().unwrap_or_else(|| stream::empty().boxed());
        // A script that ran out waits, as a quiet source does, rather than end the fan-out.
        Box::pin(script.chain(stream::pending()))
    }
}

impl LogReader for ScriptedSource {
    fn events_after(&self, _after: Seq, _limit: usize) -> ReadFuture<'_, Vec<Event>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn head(&self) -> ReadFuture<'_, Seq> {
        Box::pin(async { Ok(0) })
    }

    fn book(&self) -> Arc<AlertBook> {
        self.book.clone()
    }
}

fn declared(book: &AlertBook, seq: Seq) -> Arc<Event> {
    let command = Command::Declare(Declaration::new(RegionId(1), AlertKind::AirRaid));
    let Ok(Decision::Record(draft)) = book.decide(&command, &Actor::system(), OffsetDateTime::UNIX_EPOCH) else {
        panic!("a declaration on an empty book records an event")
    };
    Arc::new(draft.into_event(seq).into())
}

async fn next_seq(feed: &mut Feed) -> Option<Seq> {
    tokio::time::timeout(Duration::from_secs(5), feed.next()).await.expect("a frame within 5 s").unwrap().map(|f| f.seq)
}

#[tokio::test]
async fn a_hub_that_lags_cuts_everyone_and_follows_again_after_the_last_event_it_fanned_out() {
    let csv = "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n";
    let registry = Arc::new(RegionRegistry::from_csv(csv).unwrap());
    let book = Arc::new(AlertBook::new(registry.clone()));
    let third_released = Arc::new(Notify::new());
    let lagging: Script = stream::iter([
        Ok(declared(&book, 1)),
        Ok(declared(&book, 2)),
        Err(FollowError::Lagged { after: 2, missed: 5 }),
    ])
    .boxed();
    let resumed: Script = stream::once({
        let released = third_released.clone();
        async move {
            released.notified().await;
            Ok(declared(&book, 3))
        }
    })
    .boxed();
    let source = ScriptedSource {
        book: Arc::new(AlertBook::new(registry.clone())),
        scripts: Arc::new(Mutex::new(VecDeque::from([lagging, resumed]))),
        follows: Arc::new(watch::channel(Vec::new()).0),
    };
    let signer = Arc::new(Signer::from_seed([5; 32]));
    let hub = Hub::new(registry, Arc::new(Metrics::default()), 16);
    let everyone = Filter::default();
    let mut early = Feed::open(&source, &hub, &signer, everyone.clone(), Resume::Fresh);
    tokio::spawn(hub.clone().run(Arc::new(source.clone()), signer.clone()));

    let mut received = Vec::new();
    while let Some(seq) = next_seq(&mut early).await {
        received.push(seq);
    }
    assert_eq!(received, [0, 1, 2], "the snapshot and what was fanned out before the lag, then cut off");
    assert!(hub.metrics().render().contains("tryvoha_lagged_subscribers_cut_total 1"));

    let mut follows = source.follows.subscribe();
    follows.wait_for(|follows| follows.len() == 2).await.unwrap();
    assert_eq!(*follows.borrow(), [0, 2], "followed again after 2, the last event fanned out");
    let mut late = Feed::open(&source, &hub, &signer, everyone, Resume::Fresh);
    assert_eq!(next_seq(&mut late).await, Some(0), "the snapshot of the (scripted, empty) book");
    third_released.notify_one();
    assert_eq!(next_seq(&mut late).await, Some(3), "and the fan-out goes on from there");
}
