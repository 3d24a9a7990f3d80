//! An alert as a list item: kind, region, level, threats, since when (with a duration the
//! scripts keep ticking), message and instruction; an exercise or a test says so first, in
//! words, so that it can never be read as real. `live.js` builds the same markup from events.

use time::OffsetDateTime;
use tryvoha_core::{Alert, AlertStatus, RegionRegistry};

use crate::html::{escape, put};
use crate::kyiv::{duration_text, kyiv_day_time};
use crate::lang::Lang;

/// `<li>` for one alert.
pub fn alert_item(out: &mut String, alert: &Alert, registry: &RegionRegistry, lang: Lang, now: OffsetDateTime) {
    let words = lang.words();
    let region =
        registry.get(alert.region_id).map_or_else(|| alert.region_id.to_string(), |r| lang.region_name(r).to_owned());
    let status_class = match alert.status {
        AlertStatus::Actual => "actual",
        AlertStatus::Exercise => "exercise",
        AlertStatus::Test => "test",
    };
    put(
        out,
        format_args!(
            "<li class=\"alert {status_class} level-{level}\" data-alert-id=\"{id}\" data-alert-region=\"{region_id}\">",
            level = alert.level.as_str(),
            id = alert.id.0,
            region_id = alert.region_id,
        ),
    );
    if let Some(marker) = lang.status_marker(alert.status) {
        put(out, format_args!("<strong class=\"marker\">{}</strong> ", escape(marker)));
    }
    put(
        out,
        format_args!(
            "<strong class=\"kind\">{kind}</strong> — <a href=\"/regions/{region_id}\">{region}</a>\
             <span class=\"meta\">{level_word}: {level}",
            kind = escape(lang.kind(alert.kind)),
            region_id = alert.region_id,
            region = escape(&region),
            level_word = escape(words.level),
            level = escape(lang.level(alert.level)),
        ),
    );
    if !alert.threats.is_empty() {
        let threats: Vec<&str> = alert.threats.iter().map(|t| lang.threat(*t)).collect();
        put(out, format_args!(" · {}: {}", escape(words.threats), escape(&threats.join(", "))));
    }
    let started = alert.started_at;
    put(
        out,
        format_args!(
            " · {since} <time datetime=\"{iso}\">{at}</time> (<span class=\"duration\" data-since=\"{iso}\">{lasted}</span>)</span>",
            since = escape(words.since),
            iso = started.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            at = kyiv_day_time(started),
            lasted = duration_text(lang, (now - started).whole_seconds()),
        ),
    );
    if let Some(seconds) = alert.shelter_within_s.filter(|_| alert.is_active()) {
        shelter_countdown(out, alert.started_at + time::Duration::seconds(i64::from(seconds)), lang, now);
    }
    if let Some(message) = alert.message.as_ref().and_then(|m| lang.text(m)) {
        put(out, format_args!("<p class=\"message\">{}</p>", escape(message)));
    }
    if let Some(instruction) = alert.instruction.as_ref().and_then(|m| lang.text(m)) {
        put(
            out,
            format_args!(
                "<p class=\"instruction\"><strong>{}:</strong> {}</p>",
                escape(words.instruction),
                escape(instruction)
            ),
        );
    }
    out.push_str("</li>");
}

/// The time left to reach a shelter (`live.js` ticks it), or that it is up.
fn shelter_countdown(out: &mut String, until: OffsetDateTime, lang: Lang, now: OffsetDateTime) {
    let words = lang.words();
    let left = (until - now).whole_seconds();
    let text = if left > 0 { format!("{}:{:02}", left / 60, left % 60) } else { words.in_shelter_now.to_owned() };
    put(
        out,
        format_args!(
            "<p class=\"shelter-time\"><strong>{label}:</strong> <span class=\"countdown\" data-until=\"{iso}\">{text}</span></p>",
            label = escape(words.time_to_shelter),
            iso = until.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            text = escape(&text),
        ),
    );
}

/// The list of active alerts under its heading (`#alert-list`, which `live.js` keeps), and the
/// note shown when it is empty.
pub fn alert_list(out: &mut String, alerts: &[&Alert], registry: &RegionRegistry, lang: Lang, now: OffsetDateTime) {
    let words = lang.words();
    put(out, format_args!("<h2>{}</h2><ul id=\"alert-list\" class=\"alert-list\">", escape(words.active_alerts)));
    for alert in alerts {
        alert_item(out, alert, registry, lang, now);
    }
    put(
        out,
        format_args!(
            "</ul><p id=\"no-alerts\" class=\"note\"{}>{}</p>",
            if alerts.is_empty() { "" } else { " hidden" },
            escape(words.no_active_alerts)
        ),
    );
}

/// Real alerts first, then the newest first: what people must act on leads.
pub fn ordered<'a>(alerts: impl Iterator<Item = &'a Alert>) -> Vec<&'a Alert> {
    let mut alerts: Vec<&Alert> = alerts.collect();
    alerts.sort_by(|a, b| {
        (a.status != AlertStatus::Actual)
            .cmp(&(b.status != AlertStatus::Actual))
            .then(b.started_at.cmp(&a.started_at))
            .then(a.id.0.cmp(&b.id.0))
    });
    alerts
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;
    use tryvoha_core::{Actor, AlertId, AlertKind, AlertLevel, RegionId};

    use super::*;

    fn timed(started_at: OffsetDateTime, shelter_within_s: Option<u32>) -> Alert {
        Alert {
            id: AlertId(1),
            region_id: RegionId(1),
            kind: AlertKind::AirRaid,
            level: AlertLevel::Red,
            status: AlertStatus::Actual,
            threats: Vec::new(),
            message: None,
            instruction: None,
            started_at,
            updated_at: started_at,
            expires_at: None,
            finished_at: None,
            finish_reason: None,
            declared_by: Actor::system(),
            seq: 1,
            reinstates: None,
            shelter_within_s,
        }
    }

    fn rendered(alert: &Alert, now: OffsetDateTime) -> String {
        let registry =
            RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n").unwrap();
        let mut out = String::new();
        alert_item(&mut out, alert, &registry, Lang::En, now);
        out
    }

    #[test]
    fn an_alert_with_a_time_to_shelter_counts_down_from_its_start_until_it_is_up() {
        let start = datetime!(2026-12-02 01:00:00 UTC);
        let alert = timed(start, Some(90));
        let early = rendered(&alert, start + time::Duration::seconds(30));
        assert!(early.contains("Time to reach a shelter:</strong> <span class=\"countdown\" data-until=\"2026-12-02T01:01:30Z\">1:00</span>"), "{early}");
        let late = rendered(&alert, start + time::Duration::seconds(95));
        assert!(late.contains(">time is up, be in a shelter</span>"), "{late}");
        let mut ended = alert.clone();
        ended.finished_at = Some(start + time::Duration::minutes(30));
        assert!(!rendered(&ended, start).contains("countdown"), "an ended alert has no countdown");
        assert!(!rendered(&timed(start, None), start).contains("countdown"), "none where none is configured");
    }
}
