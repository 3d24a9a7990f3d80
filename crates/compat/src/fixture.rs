//! A small registry and a book of hand-made alerts, for the unit tests.

// Test code: an unwrap that fails is a failing test.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use time::OffsetDateTime;
use time::macros::datetime;
use tryvoha_core::{
    Actor, Alert, AlertBook, AlertId, AlertKind, AlertLevel, AlertStatus, LocalizedText, RegionId, RegionRegistry,
    Threat,
};

/// Oblast 4 with raion 40 and its hromada 400; oblast 8 alone.
const REGIONS: &str = "id,parent_id,level,katottg,name_uk,name_en\n\
    4,,oblast,UA4,Вінницька область,Vinnytsia Oblast\n\
    40,4,raion,UA40,Вінницький район,Vinnytskyi Raion\n\
    400,40,hromada,UA400,Вінницька громада,Vinnytsia Hromada\n\
    8,,oblast,UA8,Волинська область,Volyn Oblast\n";

pub const STARTED: OffsetDateTime = datetime!(2026-05-06 10:02:45.123 UTC);

pub fn alert(id: u64, region: u32, level: AlertLevel, status: AlertStatus) -> Alert {
    Alert {
        id: AlertId(id),
        region_id: RegionId(region),
        kind: AlertKind::AirRaid,
        level,
        status,
        threats: vec![Threat::Drones],
        message: Some(LocalizedText { uk: Some("Загроза БпЛА".into()), en: None }),
        instruction: None,
        started_at: STARTED,
        updated_at: STARTED,
        expires_at: None,
        finished_at: None,
        finish_reason: None,
        declared_by: Actor::system(),
        seq: id,
        reinstates: None,
        shelter_within_s: None,
    }
}

pub fn book(alerts: Vec<Alert>) -> AlertBook {
    let registry = Arc::new(RegionRegistry::from_csv(REGIONS).unwrap());
    let last_seq = alerts.len() as u64;
    AlertBook::restore(registry, alerts, None, last_seq, Some(STARTED))
}
