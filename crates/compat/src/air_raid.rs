//! Air-raid state per region for the IoT strings and the LED maps: only real (`actual`)
//! air-raid alerts count here, as the compatible APIs mean it.

use tryvoha_core::{Alert, AlertBook, AlertKind, AlertLevel, AlertStatus, RegionId};

/// The IoT strings: v1 says only whether, v2 also at which level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IotVersion {
    V1,
    V2,
}

/// `A`/`R`/`Y` (covered), `P` (partly), `N` (none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AirRaid {
    /// An air-raid alert covers the whole region (on it or an ancestor), at this level.
    Whole(AlertLevel),
    /// Only some of its descendants are under an air-raid alert.
    Partial,
    None,
}

impl AirRaid {
    pub fn of(book: &AlertBook, region: RegionId) -> AirRaid {
        let registry = book.registry();
        let real = book.active().filter(|a| a.kind == AlertKind::AirRaid && a.status == AlertStatus::Actual);
        let (mut whole, mut partial) = (None::<AlertLevel>, false);
        for alert in real {
            if registry.is_within(region, alert.region_id) {
                // Red outranks yellow when both cover the region.
                whole = Some(match (whole, alert.level) {
                    (Some(AlertLevel::Red), _) | (_, AlertLevel::Red) => AlertLevel::Red,
                    _ => AlertLevel::Yellow,
                });
            } else if registry.is_within(alert.region_id, region) {
                partial = true;
            }
        }
        match (whole, partial) {
            (Some(level), _) => AirRaid::Whole(level),
            (None, true) => AirRaid::Partial,
            (None, false) => AirRaid::None,
        }
    }

    /// The v1 character (`A`, `P`, `N`) or the v2 one (`R`, `Y`, `P`, `N`).
    pub fn letter(self, version: IotVersion) -> char {
        match (self, version) {
            (AirRaid::Whole(_), IotVersion::V1) => 'A',
            (AirRaid::Whole(AlertLevel::Red), IotVersion::V2) => 'R',
            (AirRaid::Whole(AlertLevel::Yellow), IotVersion::V2) => 'Y',
            (AirRaid::Partial, _) => 'P',
            (AirRaid::None, _) => 'N',
        }
    }
}

/// Only what the compatible APIs may show: real alerts.
pub fn is_real(alert: &Alert) -> bool {
    alert.status == AlertStatus::Actual
}

#[cfg(test)]
mod tests {
    use tryvoha_core::{AlertLevel::*, AlertStatus::*};

    use super::*;
    use crate::fixture::{alert, book};

    #[test]
    fn an_alert_covers_its_region_and_below_and_makes_its_ancestors_partial() {
        let book = book(vec![alert(1, 40, Yellow, Actual)]);
        assert_eq!(AirRaid::of(&book, RegionId(40)), AirRaid::Whole(Yellow));
        assert_eq!(AirRaid::of(&book, RegionId(400)), AirRaid::Whole(Yellow));
        assert_eq!(AirRaid::of(&book, RegionId(4)), AirRaid::Partial);
        assert_eq!(AirRaid::of(&book, RegionId(8)), AirRaid::None);
    }

    #[test]
    fn red_outranks_yellow_and_drills_never_count() {
        let book = book(vec![alert(1, 4, Yellow, Actual), alert(2, 40, Red, Actual), alert(3, 8, Red, Exercise)]);
        assert_eq!(AirRaid::of(&book, RegionId(400)), AirRaid::Whole(Red));
        assert_eq!(AirRaid::of(&book, RegionId(4)), AirRaid::Whole(Yellow));
        assert_eq!(AirRaid::of(&book, RegionId(8)), AirRaid::None);
    }

    #[test]
    fn the_letters_of_each_iot_version() {
        let letters = |state: AirRaid| (state.letter(IotVersion::V1), state.letter(IotVersion::V2));
        assert_eq!(letters(AirRaid::Whole(Red)), ('A', 'R'));
        assert_eq!(letters(AirRaid::Whole(Yellow)), ('A', 'Y'));
        assert_eq!(letters(AirRaid::Partial), ('P', 'P'));
        assert_eq!(letters(AirRaid::None), ('N', 'N'));
    }
}
