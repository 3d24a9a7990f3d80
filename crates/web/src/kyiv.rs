//! Times as people in Ukraine read them: Kyiv time, 24-hour clock.

use time::OffsetDateTime;
use tryvoha_history::to_kyiv;

use crate::lang::Lang;

/// `HH:MM` in Kyiv.
pub fn kyiv_hh_mm(at: OffsetDateTime) -> String {
    let local = to_kyiv(at);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// `DD.MM HH:MM` in Kyiv.
pub fn kyiv_day_time(at: OffsetDateTime) -> String {
    let local = to_kyiv(at);
    format!("{:02}.{:02} {:02}:{:02}", local.day(), u8::from(local.month()), local.hour(), local.minute())
}

/// `1 h 05 min`, `12 хв`: how long something has lasted.
pub fn duration_text(lang: Lang, seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    let (h, min) = match lang {
        Lang::Uk => ("год", "хв"),
        Lang::En => ("h", "min"),
    };
    if minutes < 60 { format!("{minutes} {min}") } else { format!("{} {h} {:02} {min}", minutes / 60, minutes % 60) }
}
