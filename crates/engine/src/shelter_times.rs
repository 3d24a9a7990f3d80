//! Times to shelter. A change is written to the store by the writer thread, which then takes
//! the times the store holds into its book before it answers: declarations decided after the
//! answer carry the new time, and no change can overtake another (they pass through the writer
//! one at a time, and each rereads the store). On a store that nodes share, every node asks its
//! writer to reread every few seconds (tryvoha's cluster), so the nodes agree within that time.

use tokio::sync::oneshot;
use tryvoha_core::{Actor, RegionId, ShelterTimeError, ShelterTimes};
use tryvoha_store::{Store, StoreError};

use crate::{Engine, EngineError, audit, writer};

/// What the writer is asked to do with the times.
pub(crate) struct TimesJob {
    /// `Some`: set (`Some(s)`) or clear (`None`) a region's time first.
    pub(crate) change: Option<(RegionId, Option<u32>, Actor)>,
    pub(crate) reply: oneshot::Sender<Result<ShelterTimes, StoreError>>,
}

impl Engine {
    /// Sets (`Some`) or clears (`None`) the time to shelter of `region` over the registry
    /// file's, on behalf of `actor`; returns the times in force after it.
    pub async fn set_shelter_time(
        &self,
        region: RegionId,
        seconds: Option<u32>,
        actor: Actor,
    ) -> Result<ShelterTimes, EngineError> {
        let registry = self.registry();
        match seconds {
            Some(seconds) => ShelterTimes::check(region, seconds, registry)?,
            None if registry.get(region).is_none() => return Err(ShelterTimeError::UnknownRegion(region).into()),
            None => {}
        }
        self.times_job(Some((region, seconds, actor))).await
    }

    /// Has the writer read the times from the store again (what other nodes changed).
    pub async fn reload_shelter_times(&self) -> Result<ShelterTimes, EngineError> {
        self.times_job(None).await
    }

    async fn times_job(&self, change: Option<(RegionId, Option<u32>, Actor)>) -> Result<ShelterTimes, EngineError> {
        let (reply, answer) = oneshot::channel();
        let job = writer::Message::ShelterTimes(Box::new(TimesJob { change, reply }));
        self.inner.jobs.send(job).await.map_err(|_| EngineError::ShuttingDown)?;
        answer.await.map_err(|_| EngineError::ShuttingDown)?.map_err(EngineError::Unavailable)
    }
}

/// On the writer thread: the change written, then the times the store holds, as the book's.
/// A change that could not be written changes nothing; one written whose reread failed is
/// applied to the book as written, so the book never lags the store it answered for.
pub(crate) fn run(store: &dyn Store, current: &ShelterTimes, job: TimesJob) -> Option<ShelterTimes> {
    let TimesJob { change, reply } = job;
    if let Some((region, seconds, _)) = &change
        && let Err(error) = store.set_shelter_time(*region, *seconds)
    {
        let _ = reply.send(Err(error));
        return None;
    }
    let times = match store.shelter_times() {
        Ok(rows) => times_of(rows),
        Err(error) => {
            let Some((region, seconds, _)) = &change else {
                let _ = reply.send(Err(error));
                return None;
            };
            let mut times = current.clone();
            times.set(*region, *seconds);
            times
        }
    };
    if let Some((region, seconds, actor)) = &change {
        tracing::info!(
            target: audit::TARGET,
            token = actor.token_id,
            name = %actor.name,
            action = "set_shelter_time",
            region = region.0,
            shelter_within_s = *seconds,
            "applied"
        );
    }
    let _ = reply.send(Ok(times.clone()));
    Some(times)
}

pub(crate) fn times_of(rows: Vec<(RegionId, u32)>) -> ShelterTimes {
    let mut times = ShelterTimes::default();
    for (region, seconds) in rows {
        times.set(region, Some(seconds));
    }
    times
}
