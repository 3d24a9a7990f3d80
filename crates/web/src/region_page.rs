//! `/regions/{id}`: a region's state, the alerts that bear on it and what to do, its nearest
//! shelters, and its record in charts (each with its data as CSV from the history API).

use time::{Duration, OffsetDateTime};
use tryvoha_core::{AlertBook, Region, RegionRegistry};
use tryvoha_history::Interval;

use crate::alerts::{alert_list, ordered};
use crate::charts::{DURATION_CLASSES, bar_chart, by_hour, durations, per_day, this_month};
use crate::html::{escape, put};
use crate::kyiv::duration_text;
use crate::layout::Context;
use crate::layout::{Frame, Nav, page};
use crate::map_page::{page_data, state_code};
use crate::shelters_page::{NearShelter, shelter_list};

/// What a region page shows besides the book: its record over the last 90 days (alerts on it or
/// an ancestor), and shelters in it.
pub struct RegionRecord<'a> {
    pub intervals: &'a [Interval],
    pub shelters: &'a [NearShelter],
    /// Public incidents in the region or below it that are not closed, newest first.
    pub incidents: &'a [tryvoha_core::Incident],
}

pub fn region_page(context: &Context<'_>, book: &AlertBook, region: &Region, record: &RegionRecord<'_>) -> String {
    let lang = context.lang;
    let words = lang.words();
    let registry = book.registry();
    let name = lang.region_name(region);
    let state = book.region_state(region.id);
    let mut body = String::with_capacity(32 * 1024);
    body.push_str("<main class=\"region-page\">");
    let mut chain: Vec<&Region> = registry.ancestors(region.id).filter_map(|id| registry.get(id)).collect();
    chain.reverse();
    if !chain.is_empty() {
        body.push_str("<nav class=\"crumbs\" aria-label=\"regions\">");
        for ancestor in chain {
            put(
                &mut body,
                format_args!("<a href=\"/regions/{}\">{}</a> › ", ancestor.id, escape(lang.region_name(ancestor))),
            );
        }
        body.push_str("</nav>");
    }
    put(
        &mut body,
        format_args!(
            "<h1>{name}</h1><p class=\"codes\">id {id}{code}</p>\
             <p class=\"state-badge region s-{code_state}\" data-region-id=\"{id}\" data-state=\"{code_state}\">{state}</p>",
            name = escape(name),
            id = region.id,
            code = region.code.as_deref().map(|c| format!(" · KATOTTG {}", escape(c))).unwrap_or_default(),
            code_state = state_code(state),
            state = escape(lang.state(state)),
        ),
    );
    alert_list(&mut body, &ordered(book.alerts_bearing_on(region.id)), registry, lang, context.now);
    put(
        &mut body,
        format_args!(
            "<p><button type=\"button\" id=\"watch-this\" data-region=\"{}\">{}</button></p>",
            region.id,
            escape(words.notify)
        ),
    );
    if !record.incidents.is_empty() {
        let heading = crate::incidents::pick(lang, "Інциденти", "Incidents");
        put(&mut body, format_args!("<h2>{}</h2>", escape(heading)));
        crate::incidents::incident_list(&mut body, record.incidents, registry, lang);
    }
    crate::pwa::push_controls(&mut body, lang);
    put(&mut body, format_args!("<h2>{}</h2>", escape(words.nearest_shelters)));
    if record.shelters.is_empty() {
        put(&mut body, format_args!("<p class=\"note\">{}</p>", escape(words.no_shelters)));
    } else {
        shelter_list(&mut body, record.shelters, lang);
    }
    history(&mut body, context, registry, region, record.intervals);
    body.push_str("</main>");
    let data = page_data(
        context,
        book,
        serde_json::json!({ "region": region.id, "push_words": crate::pwa::push_words(lang) }),
    );
    let frame = Frame {
        title: name,
        nav: Nav::Region,
        scripts: &["live.js", "map.js", "push.js"],
        data,
        body_class: "page-region",
    };
    page(context, &frame, &body)
}

fn history(
    out: &mut String,
    context: &Context<'_>,
    registry: &RegionRegistry,
    region: &Region,
    intervals: &[Interval],
) {
    let (lang, now) = (context.lang, context.now);
    let words = lang.words();
    put(
        out,
        format_args!(
            "<h2>{}</h2><p class=\"month\">{}: <strong>{}</strong></p>",
            escape(words.history),
            escape(words.this_month),
            duration_text(lang, this_month(intervals, now))
        ),
    );
    // The chart counts alerts on the region and on what contains it: so does its data.
    let covering: Vec<String> =
        std::iter::once(region.id).chain(registry.ancestors(region.id)).map(|id| id.to_string()).collect();
    let csv = |from: OffsetDateTime| {
        let from = from.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        format!(
            "/api/v1/history.csv?regions={}&amp;from={}",
            covering.join(","),
            from.replace(':', "%3A").replace('+', "%2B")
        )
    };
    for (days, label, every) in [(30u16, words.days_30, 5), (90u16, words.days_90, 15)] {
        let bars: Vec<(String, usize)> = per_day(intervals, now, days)
            .into_iter()
            .map(|(d, n)| (format!("{:02}.{:02}", d.day(), u8::from(d.month())), n))
            .collect();
        bar_chart(out, &format!("{} · {label}", words.alerts_per_day), &bars, every);
        put(
            out,
            format_args!(
                "<p><a href=\"{}\" download>{}</a></p>",
                csv(now - Duration::days(i64::from(days))),
                escape(words.download_csv)
            ),
        );
    }
    let from = now - Duration::days(90);
    let classes: Vec<(String, usize)> = DURATION_CLASSES
        .iter()
        .zip(durations(intervals, from, now))
        .map(|((_, label), n)| ((*label).to_owned(), n))
        .collect();
    bar_chart(out, &format!("{} · {}", words.durations, words.days_90), &classes, 1);
    let hours: Vec<(String, usize)> =
        by_hour(intervals, from, now).iter().enumerate().map(|(h, n)| (format!("{h:02}"), *n)).collect();
    bar_chart(out, &format!("{} · {}", words.by_hour, words.days_90), &hours, 3);
    put(out, format_args!("<p><a href=\"{}\" download>{}</a></p>", csv(from), escape(words.download_csv)));
}
