use std::sync::Arc;

use time::OffsetDateTime;
use tryvoha_core::{Actor, AlertBook, AlertKind, Command, Decision, Declaration, RegionId, RegionRegistry};

use super::*;

fn event(seq: Seq) -> Event {
    let registry = RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n");
    let book = AlertBook::new(Arc::new(registry.expect("a valid registry")));
    let declaration = Command::Declare(Declaration::new(RegionId(1), AlertKind::AirRaid));
    match book.decide(&declaration, &Actor::system(), OffsetDateTime::UNIX_EPOCH) {
        Ok(Decision::Record(draft)) => draft.into_event(seq).into(),
        other => panic!("a declaration on an empty book records an event, not {other:?}"),
    }
}

#[test]
fn an_event_is_signed_once_and_its_frame_shared() {
    let (cache, signer) = (FrameCache::new(4), Signer::from_seed([1; 32]));
    let first = cache.frame(&event(7), &signer);
    let again = cache.frame(&event(7), &signer);
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(signer.signatures(), 1);
    assert!(cache.get(7).is_some_and(|kept| Arc::ptr_eq(&kept, &first)));
}

#[test]
fn a_newer_event_takes_the_slot_and_an_older_one_never_does() {
    let (cache, signer) = (FrameCache::new(4), Signer::from_seed([1; 32]));
    cache.frame(&event(3), &signer);
    let newer = cache.frame(&event(7), &signer);
    assert!(cache.get(3).is_none(), "7 took the slot of 3");
    let older = cache.frame(&event(3), &signer);
    assert_eq!(older.seq, 3, "an older event still gets its frame");
    assert!(cache.get(7).is_some_and(|kept| Arc::ptr_eq(&kept, &newer)), "but does not evict a newer one");
    assert_eq!(signer.signatures(), 3);
}
