//! CAP timestamps: `xs:dateTime` narrowed by the CAP pattern to whole seconds and a numeric
//! UTC offset.

use std::fmt;
use std::str::FromStr;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A point in time as a CAP message writes it: `YYYY-MM-DDThh:mm:ss±hh:mm`.
///
/// The sender's local time and offset are kept as written, so a message re-written by
/// [`write`](crate::write) shows the same wall-clock time. Equality compares both, not just the
/// instant. The one normalisation: a zero offset is written `-00:00`, the spelling CAP 1.2 §3.3.2
/// prescribes for UTC (`+00:00` is read as the same value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    local: PrimitiveDateTime,
    offset: UtcOffset,
}

/// Why a text is not a CAP timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("expected YYYY-MM-DDThh:mm:ss±hh:mm (CAP allows neither `Z` nor fractional seconds)")]
    Format,
    #[error("no such calendar date or time of day")]
    NoSuchDateTime,
    #[error("year must be between 0001 and 9999")]
    YearOutOfRange,
    #[error("UTC offset must be whole minutes between -14:00 and +14:00")]
    OffsetOutOfRange,
}

impl Timestamp {
    /// Reads the CAP form. Surrounding XML whitespace is the caller's business (`xs:dateTime`
    /// collapses it; the parser trims before calling this).
    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        let bytes = text.as_bytes();
        // Positions of the separators in `2003-06-17T14:57:00-07:00`; everything else is a digit.
        let shape_ok = bytes.len() == 25
            && bytes.iter().enumerate().all(|(position, &byte)| match position {
                4 | 7 => byte == b'-',
                10 => byte == b'T',
                13 | 16 | 22 => byte == b':',
                19 => byte == b'+' || byte == b'-',
                _ => byte.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(TimestampError::Format);
        }
        let number = |range: std::ops::Range<usize>| -> u16 {
            bytes[range].iter().fold(0, |value, digit| value * 10 + u16::from(digit - b'0'))
        };
        let year = number(0..4);
        if year == 0 {
            return Err(TimestampError::YearOutOfRange);
        }
        let month = Month::try_from(number(5..7) as u8).map_err(|_| TimestampError::NoSuchDateTime)?;
        let date = Date::from_calendar_date(i32::from(year), month, number(8..10) as u8)
            .map_err(|_| TimestampError::NoSuchDateTime)?;
        let time = Time::from_hms(number(11..13) as u8, number(14..16) as u8, number(17..19) as u8)
            .map_err(|_| TimestampError::NoSuchDateTime)?;
        let offset = offset_from_parts(bytes[19] == b'-', number(20..22), number(23..25))?;
        Ok(Timestamp { local: PrimitiveDateTime::new(date, time), offset })
    }

    /// The same instant and offset, with any fraction of a second dropped (CAP has none).
    pub fn from_offset_date_time(value: OffsetDateTime) -> Result<Timestamp, TimestampError> {
        if !(1..=9999).contains(&value.year()) {
            return Err(TimestampError::YearOutOfRange);
        }
        let offset = value.offset();
        if offset.seconds_past_minute() != 0
            || offset.whole_hours().abs() > 14
            || offset.whole_minutes().abs() > 14 * 60
        {
            return Err(TimestampError::OffsetOutOfRange);
        }
        let local = PrimitiveDateTime::new(value.date(), value.time().truncate_to_second());
        Ok(Timestamp { local, offset })
    }

    /// The instant, in the sender's offset.
    pub fn to_offset_date_time(self) -> OffsetDateTime {
        self.local.assume_offset(self.offset)
    }

    /// The offset the sender wrote.
    pub fn offset(self) -> UtcOffset {
        self.offset
    }
}

fn offset_from_parts(negative: bool, hours: u16, minutes: u16) -> Result<UtcOffset, TimestampError> {
    if minutes > 59 || hours > 14 || (hours == 14 && minutes > 0) {
        return Err(TimestampError::OffsetOutOfRange);
    }
    let sign = if negative { -1 } else { 1 };
    UtcOffset::from_hms(sign * hours as i8, sign * minutes as i8, 0).map_err(|_| TimestampError::OffsetOutOfRange)
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Self, TimestampError> {
        Timestamp::parse(text)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (date, time) = (self.local.date(), self.local.time());
        let sign = if self.offset.is_positive() { '+' } else { '-' };
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            date.year(),
            u8::from(date.month()),
            date.day(),
            time.hour(),
            time.minute(),
            time.second(),
            self.offset.whole_hours().unsigned_abs(),
            self.offset.minutes_past_hour().unsigned_abs(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn keeps_the_senders_offset_and_writes_it_back() {
        let sent = Timestamp::parse("2003-06-17T14:57:00-07:00").unwrap();
        assert_eq!(sent.offset(), UtcOffset::from_hms(-7, 0, 0).unwrap());
        assert_eq!(sent.to_offset_date_time(), datetime!(2003-06-17 21:57:00 UTC));
        assert_eq!(sent.to_string(), "2003-06-17T14:57:00-07:00");
        assert_eq!(Timestamp::parse("2024-05-19T17:18:00+05:45").unwrap().to_string(), "2024-05-19T17:18:00+05:45");
        assert_eq!(Timestamp::parse("2024-05-19T17:18:00-03:30").unwrap().to_string(), "2024-05-19T17:18:00-03:30");
    }

    #[test]
    fn utc_is_written_minus_zero_as_cap_prescribes() {
        let plus = Timestamp::parse("2010-08-31T00:09:25+00:00").unwrap();
        let minus = Timestamp::parse("2010-08-31T00:09:25-00:00").unwrap();
        assert_eq!(plus, minus);
        assert_eq!(plus.to_string(), "2010-08-31T00:09:25-00:00");
    }

    #[test]
    fn same_instant_in_another_offset_is_a_different_timestamp() {
        let kyiv = Timestamp::parse("2026-11-27T12:00:00+02:00").unwrap();
        let utc = Timestamp::parse("2026-11-27T10:00:00-00:00").unwrap();
        assert_eq!(kyiv.to_offset_date_time(), utc.to_offset_date_time());
        assert_ne!(kyiv, utc);
    }

    #[test]
    fn refuses_what_the_cap_pattern_or_the_calendar_refuses() {
        let cases = [
            ("2003-06-17T14:57:00Z", TimestampError::Format),
            ("2003-06-17T14:57:00.5-07:00", TimestampError::Format),
            ("2003-06-17 14:57:00-07:00", TimestampError::Format),
            ("2003-06-17T14:57-07:00", TimestampError::Format),
            ("2003-06-17T14:57:00,07:00", TimestampError::Format),
            ("+003-06-17T14:57:00-07:00", TimestampError::Format),
            ("2003-02-29T14:57:00-07:00", TimestampError::NoSuchDateTime),
            ("2003-13-01T14:57:00-07:00", TimestampError::NoSuchDateTime),
            ("2003-06-17T24:00:00-07:00", TimestampError::NoSuchDateTime),
            ("2003-06-17T14:57:60-07:00", TimestampError::NoSuchDateTime),
            ("0000-06-17T14:57:00-07:00", TimestampError::YearOutOfRange),
            ("2003-06-17T14:57:00+14:30", TimestampError::OffsetOutOfRange),
            ("2003-06-17T14:57:00+03:60", TimestampError::OffsetOutOfRange),
            ("", TimestampError::Format),
        ];
        for (text, expected) in cases {
            assert_eq!(Timestamp::parse(text), Err(expected), "{text}");
        }
        assert!(Timestamp::parse("2004-02-29T00:00:00+14:00").is_ok());
    }

    #[test]
    fn from_offset_date_time_drops_the_fraction_and_refuses_what_cap_cannot_write() {
        let now = datetime!(2026-11-27 10:15:30.75 +02:00);
        let timestamp = Timestamp::from_offset_date_time(now).unwrap();
        assert_eq!(timestamp.to_string(), "2026-11-27T10:15:30+02:00");
        assert_eq!(
            Timestamp::from_offset_date_time(datetime!(2026-11-27 10:15:30 +02:00:30)),
            Err(TimestampError::OffsetOutOfRange)
        );
        assert_eq!(
            Timestamp::from_offset_date_time(datetime!(2026-11-27 10:15:30 +15:00)),
            Err(TimestampError::OffsetOutOfRange)
        );
        assert_eq!(
            Timestamp::from_offset_date_time(datetime!(0000-01-01 00:00:00 UTC)),
            Err(TimestampError::YearOutOfRange)
        );
    }
}
