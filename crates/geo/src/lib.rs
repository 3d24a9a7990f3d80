//! Geography: region boundaries and the point-in-region lookup, shelters and the nearest-shelter
//! search, and reading shelter files. In-memory indexes (R-trees), built once at start.
//!
//! No I/O: boundary and shelter files arrive as text. Coordinates are WGS 84 degrees; GeoJSON
//! order is `[lon, lat]`.

mod area;
mod coverage;
mod distance;
mod import;
mod locator;
mod shelters;

pub use area::{Area, BoundaryError, geometry_texts, parse_boundaries};
pub use coverage::{PART_SHARE, WHOLE_SHARE};
pub use distance::{geodesic_metres, walking_minutes};
pub use import::{ImportedRow, RowError, read_shelter_file};
pub use locator::Locator;
pub use shelters::{Nearby, ShelterIndex};
