//! Each shelter's latest status, as the log's shelter events leave it. Places follows the log
//! for them (its own events and other nodes'), so that a status reaches `/shelters/nearest`
//! whether or not the request that reported it lived to see its answer; each status carries
//! its event's seq, and only a later event replaces it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;
use tryvoha_core::{Event, Seq, ShelterId, ShelterStatus};
use tryvoha_follow::{EventSource, FollowError};

use crate::Places;

/// How long the follower waits before reading again a log it could not read.
const LOG_RETRY: Duration = Duration::from_secs(1);

/// Shelter statuses by shelter, each with the seq of the event that set it.
#[derive(Clone, Debug, Default)]
pub struct Statuses {
    by_shelter: HashMap<ShelterId, (Seq, ShelterStatus)>,
}

impl Statuses {
    pub fn of(rows: Vec<(Seq, ShelterStatus)>) -> Statuses {
        let mut statuses = Statuses::default();
        for (seq, status) in rows {
            statuses.take(seq, status);
        }
        statuses
    }

    pub fn get(&self, shelter: &ShelterId) -> Option<&ShelterStatus> {
        self.by_shelter.get(shelter).map(|(_, status)| status)
    }

    /// Takes the status of event `seq` unless a later one is kept; says whether it did.
    pub fn take(&mut self, seq: Seq, status: ShelterStatus) -> bool {
        match self.by_shelter.get(&status.shelter_id) {
            Some((kept, _)) if *kept >= seq => false,
            _ => {
                self.by_shelter.insert(status.shelter_id, (seq, status));
                true
            }
        }
    }
}

impl Places {
    /// Each shelter's latest status.
    pub fn statuses(&self) -> Arc<Statuses> {
        self.statuses.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// The status event `seq` set, taken in at once (the follower brings it too; the later
    /// of the two changes nothing).
    pub fn status_changed(&self, seq: Seq, status: ShelterStatus) {
        let mut kept = self.statuses.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut next = (**kept).clone();
        if next.take(seq, status) {
            *kept = Arc::new(next);
        }
    }

    /// Follows the log's shelter events until `stop`: from the head as it stands now, after
    /// reading every status from the store again (so that nothing between the load and now
    /// is missed). A lag or a log that cannot be read is followed again from the last event.
    pub async fn follow_statuses(self: Arc<Places>, source: Arc<dyn EventSource>, stop: CancellationToken) {
        let mut after = source.head();
        let mut follow = source.follow(after);
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || store.shelter_statuses()).await {
            Ok(Ok(rows)) => rows.into_iter().for_each(|(seq, status)| self.status_changed(seq, status)),
            _ => tracing::warn!("cannot read the shelter statuses again; following the log from here"),
        }
        loop {
            let next = tokio::select! {
                () = stop.cancelled() => return,
                next = follow.next() => next,
            };
            match next {
                Some(Ok(event)) => {
                    after = event.seq();
                    if let Event::Shelter(changed) = &*event {
                        self.status_changed(changed.seq, changed.shelter.clone());
                    }
                }
                Some(Err(error)) => {
                    if matches!(error, FollowError::Log { .. }) {
                        tracing::warn!(%error, "places: cannot read the log; following again shortly");
                        tokio::select! {
                            () = stop.cancelled() => return,
                            () = tokio::time::sleep(LOG_RETRY) => {}
                        }
                    }
                    follow = source.follow(after);
                }
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;
    use tryvoha_core::{RegionId, ShelterState};

    use super::*;

    fn status(state: ShelterState) -> ShelterStatus {
        ShelterStatus {
            shelter_id: ShelterId(1),
            region_id: RegionId(31),
            status: state,
            occupancy: None,
            capacity: None,
            accessible: None,
            notes: None,
            since: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn only_a_later_event_replaces_a_status_whatever_the_clocks_said() {
        let mut statuses = Statuses::default();
        assert!(statuses.take(5, status(ShelterState::Full)));
        assert!(!statuses.take(4, status(ShelterState::Open)), "an older event, read late");
        assert!(!statuses.take(5, status(ShelterState::Open)), "the same event again");
        assert_eq!(statuses.get(&ShelterId(1)).map(|s| s.status), Some(ShelterState::Full));
        assert!(statuses.take(9, status(ShelterState::Closed)));
        assert_eq!(statuses.get(&ShelterId(1)).map(|s| s.status), Some(ShelterState::Closed));
    }
}
