//! `/`: the live map and the list of active alerts, with the state already drawn in the HTML,
//! so that a phone on a weak link during an attack sees which regions are under alert before
//! any script has run. `map.js` and `live.js` then keep it live from the event stream.

use tryvoha_core::{AlertBook, AlertStatus, Level, RegionId, RegionState};

use crate::alerts::{alert_list, ordered};
use crate::html::{escape, put};
use crate::lang::Lang;
use crate::layout::{Context, Frame, Nav, page};

pub fn map_page(context: &Context<'_>, book: &AlertBook, level: Level) -> String {
    let lang = context.lang;
    let words = lang.words();
    let mut body = String::with_capacity(96 * 1024);
    body.push_str("<main class=\"map-page\"><section class=\"map-panel\">");
    put(&mut body, format_args!("<nav class=\"levels\" aria-label=\"{}\">", escape(words.map)));
    for (option, text) in
        [(Level::Oblast, words.oblasts), (Level::Raion, words.raions), (Level::Hromada, words.hromadas)]
    {
        let current = if option == level { " aria-current=\"true\"" } else { "" };
        put(&mut body, format_args!("<a href=\"/?level={}\"{current}>{}</a>", option.as_str(), escape(text)));
    }
    body.push_str("</nav>");
    map_svg(&mut body, context, book, level, "map");
    legend(&mut body, lang);
    put(&mut body, format_args!("<noscript><p class=\"note\">{}</p></noscript>", escape(words.no_script)));
    body.push_str("</section><section class=\"alerts-panel\">");
    under_alert_list(&mut body, book, lang);
    alert_list(&mut body, &ordered(book.active()), book.registry(), lang, context.now);
    notify_controls(&mut body, lang);
    body.push_str("</section></main>");
    let data = page_data(
        context,
        book,
        serde_json::json!({ "level": level.as_str(), "push_words": crate::pwa::push_words(lang) }),
    );
    let frame = Frame {
        title: words.map,
        nav: Nav::Map,
        scripts: &["live.js", "map.js", "push.js"],
        data,
        body_class: "page-map",
    };
    page(context, &frame, &body)
}

/// What every live page's scripts read: the language and its words, the position of the state
/// drawn, where the region table is.
pub fn page_data(context: &Context<'_>, book: &AlertBook, extra: serde_json::Value) -> serde_json::Value {
    let lang = context.lang;
    let words = lang.words();
    let mut data = serde_json::json!({
        "lang": lang.code(),
        "seq": book.last_seq(),
        "regions_url": context.assets.url("regions.json"),
        // The state drawn is as of this moment (to the minute): a copy kept for offline use
        // says how old it is.
        "rendered_at": context.now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "words": {
            "live": words.live, "reconnecting": words.reconnecting, "stale_since": words.stale_since,
            "since": words.since, "level": words.level, "threats": words.threats, "instruction": words.instruction,
            "exercise": words.exercise, "test": words.test, "nobody_under_alert": words.nobody_under_alert,
            "time_to_shelter": words.time_to_shelter, "in_shelter_now": words.in_shelter_now,
            "states": { "alert": lang.state(RegionState::Alert), "partial": lang.state(RegionState::Partial), "clear": lang.state(RegionState::Clear) },
            "kinds": kinds(lang), "levels": { "red": lang.level(tryvoha_core::AlertLevel::Red), "yellow": lang.level(tryvoha_core::AlertLevel::Yellow) },
            "threat_names": threats(lang),
            "h": if lang == Lang::Uk { "год" } else { "h" }, "min": if lang == Lang::Uk { "хв" } else { "min" },
            "saved_copy": if lang == Lang::Uk { "Збережений стан на" } else { "Saved state as of" },
            "ago": if lang == Lang::Uk { "тому" } else { "ago" },
        },
    });
    if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
        data.extend(extra.clone());
    }
    data
}

pub(crate) fn kinds(lang: Lang) -> serde_json::Value {
    tryvoha_core::AlertKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), serde_json::Value::from(lang.kind(*k))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

pub(crate) fn threats(lang: Lang) -> serde_json::Value {
    tryvoha_core::Threat::ALL
        .iter()
        .map(|t| (t.as_str().to_owned(), serde_json::Value::from(lang.threat(*t))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The map itself: one link and shape per region, each with its id, its state in an attribute,
/// a class (colour and pattern) and a title (the state in words).
pub fn map_svg(out: &mut String, context: &Context<'_>, book: &AlertBook, level: Level, id: &str) {
    let lang = context.lang;
    let registry = book.registry();
    let drills: Vec<RegionId> =
        book.active().filter(|a| a.status != AlertStatus::Actual).map(|a| a.region_id).collect();
    put(
        out,
        format_args!(
            "<svg id=\"{id}\" class=\"map\" viewBox=\"{view_box}\" data-level=\"{level}\" role=\"group\" aria-label=\"{label}\">\
             <defs>{patterns}</defs><g class=\"shapes\">",
            view_box = context.geometry.view_box(),
            level = level.as_str(),
            label = escape(lang.words().map),
            patterns = PATTERNS,
        ),
    );
    for shape in context.geometry.shapes(level) {
        let Some(region) = registry.get(shape.id) else { continue };
        let state = book.region_state(shape.id);
        let name = lang.region_name(region);
        let drill = drills.iter().any(|d| registry.is_within(shape.id, *d) || registry.is_within(*d, shape.id));
        put(
            out,
            format_args!(
                "<a href=\"/regions/{id}\" data-region-link=\"{id}\"><path data-region-id=\"{id}\" data-state=\"{state}\" \
                 class=\"region s-{state}{drill}\" fill-rule=\"evenodd\" d=\"{d}\"><title>{name} — {state_text}</title></path></a>",
                id = shape.id,
                state = state_code(state),
                drill = if drill { " drill" } else { "" },
                d = shape.path,
                name = escape(name),
                state_text = escape(lang.state(state)),
            ),
        );
    }
    out.push_str("</g></svg>");
}

/// Hatching for an alert, dots for a partial one: the state never rests on colour alone.
const PATTERNS: &str = "<pattern id=\"p-alert\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
    <rect width=\"8\" height=\"8\" class=\"pa-bg\"/><rect width=\"3\" height=\"8\" class=\"pa-fg\"/></pattern>\
    <pattern id=\"p-partial\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">\
    <rect width=\"8\" height=\"8\" class=\"pp-bg\"/><circle cx=\"4\" cy=\"4\" r=\"1.6\" class=\"pp-fg\"/></pattern>";

pub fn state_code(state: RegionState) -> &'static str {
    match state {
        RegionState::Alert => "alert",
        RegionState::Partial => "partial",
        RegionState::Clear => "clear",
    }
}

fn legend(out: &mut String, lang: Lang) {
    put(out, format_args!("<ul class=\"legend\" aria-label=\"{}\">", escape(lang.words().legend)));
    for state in [RegionState::Alert, RegionState::Partial, RegionState::Clear] {
        put(
            out,
            format_args!(
                "<li><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><rect width=\"16\" height=\"16\" class=\"region s-{}\"/></svg>{}</li>",
                state_code(state),
                escape(lang.state(state))
            ),
        );
    }
    put(
        out,
        format_args!(
            "<li><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><rect width=\"16\" height=\"16\" class=\"region s-clear drill\"/></svg>{}</li></ul>",
            escape(lang.words().exercise)
        ),
    );
}

/// The regions under alert as text (oblast level, where an alert is seen first): what a screen
/// reader reads, and anyone who cannot tell the map's shapes apart.
fn under_alert_list(out: &mut String, book: &AlertBook, lang: Lang) {
    let words = lang.words();
    let registry = book.registry();
    let mut under: Vec<&tryvoha_core::Region> = registry
        .all()
        .iter()
        .filter(|r| r.level == Level::Oblast && book.region_state(r.id) != RegionState::Clear)
        .collect();
    under.sort_by_key(|r| lang.region_name(r).to_owned());
    put(
        out,
        format_args!(
            "<h2 id=\"under-alert-title\">{}</h2><ul id=\"under-alert\" class=\"under-alert\" aria-live=\"polite\">",
            escape(words.under_alert)
        ),
    );
    for region in &under {
        let state = book.region_state(region.id);
        put(
            out,
            format_args!(
                "<li data-under-region=\"{id}\" data-state=\"{code}\"><a href=\"/regions/{id}\">{name}</a> — {state}</li>",
                id = region.id,
                code = state_code(state),
                name = escape(lang.region_name(region)),
                state = escape(lang.state(state)),
            ),
        );
    }
    out.push_str("</ul>");
    put(
        out,
        format_args!(
            "<p id=\"nobody-under-alert\" class=\"note\"{}>{}</p>",
            if under.is_empty() { "" } else { " hidden" },
            escape(words.nobody_under_alert)
        ),
    );
}

fn notify_controls(out: &mut String, lang: Lang) {
    let words = lang.words();
    put(
        out,
        format_args!(
            "<details class=\"notify\" id=\"notify\"><summary>{watching}</summary><p class=\"note\">{help}</p>\
             <label for=\"watch-select\">{region}</label> <select id=\"watch-select\"></select> \
             <button type=\"button\" id=\"watch-add\">+</button><ul id=\"watch-list\"></ul>\
             <button type=\"button\" id=\"notify-enable\">{notify}</button>",
            watching = escape(words.watching),
            help = escape(words.notify_help),
            region = escape(words.region),
            notify = escape(if lang == Lang::Uk {
                "Увімкнути звук і сповіщення"
            } else {
                "Turn on sound and notifications"
            }),
        ),
    );
    crate::pwa::push_controls(out, lang);
    out.push_str("</details>");
}
