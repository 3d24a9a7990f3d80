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
