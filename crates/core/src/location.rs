//! Points on the Earth (WGS 84) and the shelters people go to.

use serde::{Deserialize, Serialize};

/// A validated WGS 84 position.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CoordinateError {
    #[error("lat must be a number from -90 to 90")]
    Latitude,
    #[error("lon must be a number from -180 to 180")]
    Longitude,
}

impl CoordinateError {
    /// The name of the offending field.
    pub fn field(&self) -> &'static str {
        match self {
            CoordinateError::Latitude => "lat",
            CoordinateError::Longitude => "lon",
        }
    }
}

impl Coordinates {
    pub fn parse(lat: f64, lon: f64) -> Result<Coordinates, CoordinateError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(CoordinateError::Latitude);
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(CoordinateError::Longitude);
        }
        Ok(Coordinates { lat, lon })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(minimum = 1))]
#[serde(transparent)]
pub struct ShelterId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShelterKind {
    /// A metro station designated as a shelter (dual-use structure).
    MetroStation,
    /// A purpose-built civil-defence shelter.
    CivilDefenceShelter,
    /// A basement or cellar.
    Basement,
    /// An underground parking or passage.
    Underground,
    Other,
}

impl ShelterKind {
    pub const ALL: &'static [ShelterKind] = &[
        ShelterKind::MetroStation,
        ShelterKind::CivilDefenceShelter,
        ShelterKind::Basement,
        ShelterKind::Underground,
        ShelterKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ShelterKind::MetroStation => "metro_station",
            ShelterKind::CivilDefenceShelter => "civil_defence_shelter",
            ShelterKind::Basement => "basement",
            ShelterKind::Underground => "underground",
            ShelterKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<ShelterKind> {
        ShelterKind::ALL.iter().copied().find(|k| k.as_str() == text)
    }
}

/// A shelter's description, as given when it is added or changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShelterInfo {
    #[cfg_attr(feature = "openapi", schema(minimum = -90, maximum = 90))]
    pub lat: f64,
    #[cfg_attr(feature = "openapi", schema(minimum = -180, maximum = 180))]
    pub lon: f64,
    #[cfg_attr(feature = "openapi", schema(max_length = 300))]
    pub name_uk: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 300))]
    pub name_en: Option<String>,
    pub kind: ShelterKind,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub capacity: Option<u32>,
    /// True only for full step-free access.
    #[serde(default)]
    pub wheelchair: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 300))]
    pub address: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 300))]
    pub opening_hours: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shelter {
    pub id: ShelterId,
    #[serde(flatten)]
    pub info: ShelterInfo,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShelterError {
    #[error(transparent)]
    Coordinates(#[from] CoordinateError),
    #[error("name_uk must not be empty")]
    NameMissing,
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("capacity must be at least 1 when given")]
    NoCapacity,
}

impl ShelterError {
    pub fn field(&self) -> &'static str {
        match self {
            ShelterError::Coordinates(error) => error.field(),
            ShelterError::NameMissing => "name_uk",
            ShelterError::TooLong { field, .. } => field,
            ShelterError::NoCapacity => "capacity",
        }
    }
}

impl ShelterInfo {
    const MAX_TEXT: usize = 300;

    /// A shelter with only what every shelter has: a place, a name and a kind.
    pub fn new(lat: f64, lon: f64, name_uk: impl Into<String>, kind: ShelterKind) -> ShelterInfo {
        ShelterInfo {
            lat,
            lon,
            name_uk: name_uk.into(),
            name_en: None,
            kind,
            capacity: None,
            wheelchair: None,
            address: None,
            opening_hours: None,
        }
    }

    /// Checks every field; trims names and drops empty optional texts.
    pub fn validate(mut self) -> Result<ShelterInfo, ShelterError> {
        Coordinates::parse(self.lat, self.lon)?;
        self.name_uk = self.name_uk.trim().to_owned();
        if self.name_uk.is_empty() {
            return Err(ShelterError::NameMissing);
        }
        for (field, text) in
            [("name_en", &mut self.name_en), ("address", &mut self.address), ("opening_hours", &mut self.opening_hours)]
        {
            *text = text.take().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
            if text.as_ref().is_some_and(|t| t.chars().count() > Self::MAX_TEXT) {
                return Err(ShelterError::TooLong { field, max: Self::MAX_TEXT });
            }
        }
        if self.name_uk.chars().count() > Self::MAX_TEXT {
            return Err(ShelterError::TooLong { field: "name_uk", max: Self::MAX_TEXT });
        }
        if self.capacity == Some(0) {
            return Err(ShelterError::NoCapacity);
        }
        Ok(self)
    }

    pub fn coordinates(&self) -> Coordinates {
        Coordinates { lat: self.lat, lon: self.lon }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ShelterInfo {
        ShelterInfo {
            lat: 50.4501,
            lon: 30.5234,
            name_uk: " Майдан Незалежності ".into(),
            name_en: Some("".into()),
            kind: ShelterKind::MetroStation,
            capacity: Some(2000),
            wheelchair: None,
            address: None,
            opening_hours: None,
        }
    }

    #[test]
    fn coordinates_outside_the_globe_are_refused_naming_the_field() {
        assert_eq!(Coordinates::parse(91.0, 0.0), Err(CoordinateError::Latitude));
        assert_eq!(Coordinates::parse(f64::NAN, 0.0), Err(CoordinateError::Latitude));
        assert_eq!(Coordinates::parse(0.0, -180.5).unwrap_err().field(), "lon");
        assert!(Coordinates::parse(-90.0, 180.0).is_ok());
    }

    #[test]
    fn a_valid_shelter_is_tidied_and_bad_ones_name_their_field() {
        let tidy = info().validate().unwrap();
        assert_eq!((tidy.name_uk.as_str(), tidy.name_en), ("Майдан Незалежності", None));
        let cases = [
            (ShelterInfo { name_uk: "  ".into(), ..info() }, "name_uk"),
            (ShelterInfo { lat: 100.0, ..info() }, "lat"),
            (ShelterInfo { capacity: Some(0), ..info() }, "capacity"),
            (ShelterInfo { address: Some("x".repeat(301)), ..info() }, "address"),
        ];
        for (shelter, field) in cases {
            assert_eq!(shelter.validate().unwrap_err().field(), field);
        }
    }
}
