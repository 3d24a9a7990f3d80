//! CAP area geometry: WGS 84 points written `lat,lon`, polygons and circles.
//!
//! The XSD types `polygon` and `circle` as plain strings; the syntax and ranges checked here are
//! those of the CAP 1.2 specification text (§3.2.4).

use std::fmt;

/// Why a text or a value is not valid CAP geometry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    #[error("{0:?} is not a decimal number")]
    NotADecimal(String),
    #[error("expected a `lat,lon` pair, found {0:?}")]
    NotAPair(String),
    #[error("latitude {0} is outside -90..=90")]
    LatitudeOutOfRange(f64),
    #[error("longitude {0} is outside -180..=180")]
    LongitudeOutOfRange(f64),
    #[error("a polygon needs at least 4 points (the first repeated as the last), found {0}")]
    TooFewPoints(usize),
    #[error("a polygon must end with its first point")]
    NotClosed,
    #[error("expected `lat,lon radius`, with the radius in kilometres")]
    NotACircle,
    #[error("radius {0} km is not a non-negative finite number")]
    BadRadius(f64),
}

/// A WGS 84 point, in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    lat: f64,
    lon: f64,
}

impl Point {
    pub fn new(lat: f64, lon: f64) -> Result<Point, GeometryError> {
        // The negated form also refuses NaN.
        if !(-90.0..=90.0).contains(&lat) {
            return Err(GeometryError::LatitudeOutOfRange(lat));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(GeometryError::LongitudeOutOfRange(lon));
        }
        Ok(Point { lat, lon })
    }

    /// Reads `lat,lon`.
    pub fn parse(text: &str) -> Result<Point, GeometryError> {
        let (lat, lon) = text.split_once(',').ok_or_else(|| GeometryError::NotAPair(text.to_owned()))?;
        Point::new(parse_decimal(lat)?, parse_decimal(lon)?)
    }

    pub fn lat(self) -> f64 {
        self.lat
    }

    pub fn lon(self) -> f64 {
        self.lon
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `f64`'s Display is the shortest text that reads back to the same number, and never
        // uses an exponent, so it is always a valid `xs:decimal`.
        write!(f, "{},{}", self.lat, self.lon)
    }
}

/// A closed ring of at least four points, the first repeated as the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    points: Vec<Point>,
}

impl Polygon {
    pub fn new(points: Vec<Point>) -> Result<Polygon, GeometryError> {
        if points.len() < 4 {
            return Err(GeometryError::TooFewPoints(points.len()));
        }
        if points.first() != points.last() {
            return Err(GeometryError::NotClosed);
        }
        Ok(Polygon { points })
    }

    /// Reads whitespace-separated `lat,lon` pairs.
    pub fn parse(text: &str) -> Result<Polygon, GeometryError> {
        let points = text.split_ascii_whitespace().map(Point::parse).collect::<Result<Vec<_>, _>>()?;
        Polygon::new(points)
    }

    pub fn points(&self) -> &[Point] {
        &self.points
    }
}

impl fmt::Display for Polygon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, point) in self.points.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{point}")?;
        }
        Ok(())
    }
}

/// A circle around a point; a radius of 0 stands for the point itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    center: Point,
    radius_km: f64,
}

impl Circle {
    pub fn new(center: Point, radius_km: f64) -> Result<Circle, GeometryError> {
        if !(radius_km.is_finite() && radius_km >= 0.0) {
            return Err(GeometryError::BadRadius(radius_km));
        }
        Ok(Circle { center, radius_km })
    }

    /// Reads `lat,lon radius`.
    pub fn parse(text: &str) -> Result<Circle, GeometryError> {
        let mut parts = text.split_ascii_whitespace();
        let (Some(center), Some(radius), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(GeometryError::NotACircle);
        };
        Circle::new(Point::parse(center)?, parse_decimal(radius)?)
    }

    pub fn center(self) -> Point {
        self.center
    }

    pub fn radius_km(self) -> f64 {
        self.radius_km
    }
}

impl fmt::Display for Circle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.center, self.radius_km)
    }
}

/// Reads an `xs:decimal`: optional sign, digits, optional fraction; no exponent, no `inf`, no
/// `NaN` (all of which Rust's `f64` parser would take). Values too large for `f64` are refused.
pub(crate) fn parse_decimal(text: &str) -> Result<f64, GeometryError> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits_only = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    let lexically_decimal = digits_only(whole) && digits_only(fraction) && !(whole.is_empty() && fraction.is_empty());
    match text.parse::<f64>() {
        Ok(value) if lexically_decimal && value.is_finite() => Ok(value),
        _ => Err(GeometryError::NotADecimal(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_spec_examples_and_writes_them_back() {
        let polygon = Polygon::parse("38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14").unwrap();
        assert_eq!(polygon.points().len(), 5);
        assert_eq!(polygon.points()[1], Point::new(38.34, -119.95).unwrap());
        assert_eq!(polygon.to_string(), "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14");
        let circle = Circle::parse("32.9525,-115.5527 0").unwrap();
        assert_eq!(circle.center(), Point::new(32.9525, -115.5527).unwrap());
        assert_eq!(circle.radius_km(), 0.0);
        assert_eq!(circle.to_string(), "32.9525,-115.5527 0");
    }

    #[test]
    fn tolerates_any_xml_whitespace_between_pairs() {
        let polygon = Polygon::parse("\n  1,2\t1,3   2,3\r\n1,2  ").unwrap();
        assert_eq!(polygon.to_string(), "1,2 1,3 2,3 1,2");
    }

    #[test]
    fn refuses_open_short_or_out_of_range_polygons() {
        assert_eq!(Polygon::parse("1,2 1,3 2,3 1,4"), Err(GeometryError::NotClosed));
        assert_eq!(Polygon::parse("1,2 1,3 1,2"), Err(GeometryError::TooFewPoints(3)));
        assert_eq!(Polygon::parse(""), Err(GeometryError::TooFewPoints(0)));
        assert_eq!(Polygon::parse("91,2 1,3 2,3 91,2"), Err(GeometryError::LatitudeOutOfRange(91.0)));
        assert_eq!(Polygon::parse("1,-180.5 1,3 2,3 1,2"), Err(GeometryError::LongitudeOutOfRange(-180.5)));
        assert_eq!(Polygon::parse("1;2 1,3 2,3 1;2"), Err(GeometryError::NotAPair("1;2".into())));
        assert_eq!(Polygon::parse("1, 2 1,3 2,3 1,2"), Err(GeometryError::NotADecimal("".into())));
    }

    #[test]
    fn refuses_malformed_circles() {
        assert_eq!(Circle::parse("1,2"), Err(GeometryError::NotACircle));
        assert_eq!(Circle::parse("1,2 3 4"), Err(GeometryError::NotACircle));
        assert_eq!(Circle::parse("1,2 -3"), Err(GeometryError::BadRadius(-3.0)));
        assert_eq!(Circle::parse("1,2 km"), Err(GeometryError::NotADecimal("km".into())));
        assert!(Circle::new(Point::new(0.0, 0.0).unwrap(), f64::NAN).is_err());
    }

    #[test]
    fn decimals_are_xsd_decimals_only() {
        for good in ["0", "-0", "+1.5", "1.", ".5", "-.5", "007", "179.999999"] {
            assert!(parse_decimal(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "-", "1e3", "inf", "NaN", "0x10", "1.2.3", " 1", "١", "1".repeat(400).as_str()] {
            assert!(parse_decimal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn written_points_read_back_exactly() {
        for (lat, lon) in [(0.1, 0.2), (-89.999999, 179.123456789012), (1e-7, -1e-9), (-0.0, 0.0)] {
            let point = Point::new(lat, lon).unwrap();
            assert_eq!(Point::parse(&point.to_string()), Ok(point));
        }
    }
}
