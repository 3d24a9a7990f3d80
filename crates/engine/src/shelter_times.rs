//! Times to shelter: an admin's change is kept in the store, then the writer's book takes the
//! times the store holds, so that each declaration from then on carries its region's time. On a
//! store that nodes share, every node reads them again every few seconds (tryvoha's cluster).

use tryvoha_core::{RegionId, ShelterTimeError, ShelterTimes};

use crate::{Engine, EngineError, writer};

impl Engine {
    /// Sets (`Some`) or clears (`None`) the time to shelter of `region` over the registry
    /// file's; returns the times in force after it.
    pub async fn set_shelter_time(&self, region: RegionId, seconds: Option<u32>) -> Result<ShelterTimes, EngineError> {
        let registry = self.registry();
        match seconds {
            Some(seconds) => ShelterTimes::check(region, seconds, registry)?,
            None if registry.get(region).is_none() => return Err(ShelterTimeError::UnknownRegion(region).into()),
            None => {}
        }
        self.blocking(move |store| store.set_shelter_time(region, seconds)).await?;
        self.reload_shelter_times().await
    }

    /// Reads the times from the store and hands them to the writer, whose book gives them to
    /// the declarations queued after this call.
    pub async fn reload_shelter_times(&self) -> Result<ShelterTimes, EngineError> {
        let times = times_of(self.blocking(|store| store.shelter_times()).await?);
        if self.book().shelter_times() != &times {
            let message = writer::Message::ShelterTimes(Box::new(times.clone()));
            self.inner.jobs.send(message).await.map_err(|_| EngineError::ShuttingDown)?;
        }
        Ok(times)
    }

    /// The times to shelter in force.
    pub fn shelter_times(&self) -> ShelterTimes {
        self.book().shelter_times().clone()
    }
}

pub(crate) fn times_of(rows: Vec<(RegionId, u32)>) -> ShelterTimes {
    let mut times = ShelterTimes::default();
    for (region, seconds) in rows {
        times.set(region, Some(seconds));
    }
    times
}
