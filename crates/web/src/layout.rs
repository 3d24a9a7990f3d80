//! What every page shares: the head (styles, icon, no inline script), the header with the
//! navigation, the language switch and the freshness line, and the data block the scripts
//! read (JSON in a `<script type="application/json">`, which the browser never runs).

use time::OffsetDateTime;

use crate::assets::Assets;
use crate::html::{escape, json_for_script, put};
use crate::kyiv::kyiv_hh_mm;
use crate::lang::Lang;
use crate::svg::MapGeometry;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Map,
    Region,
    Shelters,
    Console,
}

/// What every page is made with besides its own data.
pub struct Context<'a> {
    pub lang: Lang,
    pub assets: &'a Assets,
    pub geometry: &'a MapGeometry,
    /// The time the state shown was read (the freshness line starts with it).
    pub now: OffsetDateTime,
    /// The request's path and query, without `lang=` (for the language switch).
    pub here: &'a str,
}

/// How one page is framed.
pub struct Frame<'a> {
    /// The page's own title (the site's name follows it).
    pub title: &'a str,
    pub nav: Nav,
    /// Logical names of the scripts to load (deferred).
    pub scripts: &'a [&'a str],
    /// What the scripts read.
    pub data: serde_json::Value,
    pub body_class: &'a str,
}

pub fn page(context: &Context<'_>, frame: &Frame<'_>, body: &str) -> String {
    let lang = context.lang;
    let words = lang.words();
    let mut out = String::with_capacity(body.len() + 4096);
    put(
        &mut out,
        format_args!(
            "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · {site}</title><link rel=\"stylesheet\" href=\"{css}\">\
             <link rel=\"icon\" href=\"{icon}\" type=\"image/svg+xml\">",
            lang = lang.code(),
            title = escape(frame.title),
            site = escape(words.title),
            css = context.assets.url("app.css"),
            icon = context.assets.url("icon.svg"),
        ),
    );
    crate::pwa::head_links(&mut out, context.assets);
    for script in frame.scripts {
        put(&mut out, format_args!("<script src=\"{}\" defer></script>", context.assets.url(script)));
    }
    put(&mut out, format_args!("</head><body class=\"{}\">", escape(frame.body_class)));
    let link = |nav: Nav, href: &str, text: &str| {
        let current = if nav == frame.nav { " aria-current=\"page\"" } else { "" };
        format!("<a href=\"{href}\"{current}>{}</a>", escape(text))
    };
    let switch = language_switch(context.here, lang.other());
    put(
        &mut out,
        format_args!(
            "<header class=\"top\"><a class=\"brand\" href=\"/\">Тривога · Tryvoha</a>\
             <nav aria-label=\"{nav_label}\">{map}{shelters}{console}</nav>\
             <a class=\"lang\" href=\"{switch}\" hreflang=\"{other}\" lang=\"{other}\">{switch_text}</a>\
             <p id=\"freshness\" class=\"freshness\" data-freshness=\"loaded\" role=\"status\">{as_of} {time}</p></header>",
            nav_label = escape(words.map),
            map = link(Nav::Map, "/", words.map),
            shelters = link(Nav::Shelters, "/shelters", words.shelters),
            console = link(Nav::Console, "/console", words.console),
            switch = escape(&switch),
            other = lang.other().code(),
            switch_text = escape(words.switch_language),
            as_of = escape(words.as_of),
            time = kyiv_hh_mm(context.now),
        ),
    );
    out.push_str(body);
    put(
        &mut out,
        format_args!(
            "<footer><p>{}</p><p><a href=\"/api/openapi.json\">API</a></p></footer>\
             <script type=\"application/json\" id=\"page-data\">{}</script></body></html>",
            escape(words.attribution),
            json_for_script(&frame.data)
        ),
    );
    out
}

/// `here` with `lang=<to>` in its query.
fn language_switch(here: &str, to: Lang) -> String {
    let (path, query) = here.split_once('?').unwrap_or((here, ""));
    let mut parts: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("lang=")).collect();
    let lang = format!("lang={}", to.code());
    parts.push(&lang);
    format!("{path}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_switch_keeps_the_rest_of_the_query() {
        assert_eq!(language_switch("/", Lang::En), "/?lang=en");
        assert_eq!(language_switch("/?level=raion&lang=uk", Lang::En), "/?level=raion&lang=en");
    }
}
