//! The times to shelter an admin set per region (`PATCH /api/v1/regions/{id}`), over those of
//! the registry file.

use tryvoha_core::RegionId;

pub trait ShelterTimeStore: Send + Sync {
    /// Every time an admin set, by region id.
    fn shelter_times(&self) -> crate::StoreResult<Vec<(RegionId, u32)>>;
    /// Sets (`Some`) or clears (`None`) the time of `region`, durably.
    fn set_shelter_time(&self, region: RegionId, seconds: Option<u32>) -> crate::StoreResult<()>;
}
