//! `/alerts/{id}/report`: the record of one alert as the public may read it. What was declared
//! and when, each update and the all-clear, the public incidents that belong to it and the
//! shelters that filled, with the same record as JSON and CSV.

use time::OffsetDateTime;
use tryvoha_core::{Alert, AlertBook, AlertEvent, Incident};

use crate::html::{escape, put};
use crate::incidents::{incident_list, pick};
use crate::kyiv::{duration_text, kyiv_day_time};
use crate::layout::Context;
use crate::layout::{Frame, Nav, page};
use crate::map_page::page_data;

/// A shelter reported full while the alert ran.
pub struct FilledShelter {
    pub name: String,
    pub at: OffsetDateTime,
    pub occupancy: Option<u32>,
}

/// What the page shows: the alert, its events, its public incidents, the shelters that filled.
pub struct NightRecord<'a> {
    pub alert: &'a Alert,
    pub events: &'a [AlertEvent],
    pub incidents: &'a [Incident],
    pub filled: &'a [FilledShelter],
}

pub fn report_page(context: &Context<'_>, book: &AlertBook, record: &NightRecord<'_>) -> String {
    let lang = context.lang;
    let registry = book.registry();
    let alert = record.alert;
    let region =
        registry.get(alert.region_id).map_or_else(|| alert.region_id.to_string(), |r| lang.region_name(r).to_owned());
    let title = format!("{} #{}", pick(lang, "Звіт про тривогу", "Record of alert"), alert.id);
    let mut body = String::with_capacity(16 * 1024);
    put(&mut body, format_args!("<main class=\"report-page\"><h1>{}</h1>", escape(&title)));
    if let Some(marker) = lang.status_marker(alert.status) {
        put(&mut body, format_args!("<p class=\"marker\"><strong>{}</strong></p>", escape(marker)));
    }
    let until = alert.finished_at.unwrap_or(context.now);
    put(
        &mut body,
        format_args!(
            "<p class=\"summary\"><strong>{kind}</strong> — <a href=\"/regions/{region_id}\">{region}</a> · {from} – {to} ({lasted})</p>",
            kind = escape(lang.kind(alert.kind)),
            region_id = alert.region_id,
            region = escape(&region),
            from = kyiv_day_time(alert.started_at),
            to = alert.finished_at.map_or_else(|| escape(pick(lang, "триває", "still on")), kyiv_day_time),
            lasted = duration_text(lang, (until - alert.started_at).whole_seconds()),
        ),
    );
    put(&mut body, format_args!("<h2>{}</h2><ol class=\"timeline\">", escape(pick(lang, "Перебіг", "Timeline"))));
    for event in record.events {
        let what = match event.kind {
            tryvoha_core::EventType::Declared => pick(lang, "оголошено", "declared"),
            tryvoha_core::EventType::Updated => pick(lang, "змінено", "updated"),
            tryvoha_core::EventType::Cancelled => pick(lang, "відбій", "all-clear"),
            tryvoha_core::EventType::Expired => pick(lang, "завершилась за часом", "expired"),
        };
        put(&mut body, format_args!("<li><time>{}</time> {}</li>", kyiv_day_time(event.at), escape(what)));
    }
    body.push_str("</ol>");
    put(&mut body, format_args!("<h2>{}</h2>", escape(pick(lang, "Інциденти", "Incidents"))));
    if record.incidents.is_empty() {
        put(
            &mut body,
            format_args!("<p class=\"note\">{}</p>", escape(pick(lang, "Не повідомлялось.", "None reported."))),
        );
    } else {
        incident_list(&mut body, record.incidents, registry, lang);
    }
    if !record.filled.is_empty() {
        put(
            &mut body,
            format_args!(
                "<h2>{}</h2><ul class=\"filled\">",
                escape(pick(lang, "Переповнені укриття", "Shelters that filled"))
            ),
        );
        for shelter in record.filled {
            let inside = shelter.occupancy.map(|n| format!(" ({n})")).unwrap_or_default();
            put(
                &mut body,
                format_args!("<li><time>{}</time> {}{inside}</li>", kyiv_day_time(shelter.at), escape(&shelter.name)),
            );
        }
        body.push_str("</ul>");
    }
    put(
        &mut body,
        format_args!(
            "<p><a href=\"/api/v1/alerts/{id}/report\">JSON</a> · <a href=\"/api/v1/alerts/{id}/report.csv\" download>CSV</a></p></main>",
            id = alert.id
        ),
    );
    let data = page_data(context, book, serde_json::json!({}));
    let frame = Frame { title: &title, nav: Nav::Region, scripts: &["live.js"], data, body_class: "page-report" };
    page(context, &frame, &body)
}
