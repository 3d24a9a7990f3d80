//! `/shelters`: the nearest shelters to a point (the browser's location, a click on the map, or
//! the form), with distance, walking time and direction; and a warning first when the point is
//! under alert. Without a script the form works too: the server answers `?lat=&lon=`.

use tryvoha_core::{AlertBook, Level, RegionState};

use crate::html::{escape, put};
use crate::lang::Lang;
use crate::layout::Context;
use crate::layout::{Frame, Nav, page};
use crate::map_page::{map_svg, page_data};

/// A shelter as the pages list it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NearShelter {
    pub name_uk: String,
    pub name_en: Option<String>,
    pub kind: String,
    pub address: Option<String>,
    pub wheelchair: Option<bool>,
    pub lat: f64,
    pub lon: f64,
    pub distance_m: f64,
    pub walking_minutes: f64,
    /// From the point asked about, degrees clockwise from north.
    pub bearing_deg: f64,
    /// The status reported tonight (`open` or `full`: a closed one is not listed), if any.
    pub status: Option<ShelterMark>,
}

/// A shelter's status as a page shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ShelterMark {
    pub full: bool,
    pub occupancy: Option<u32>,
    /// When it was reported: a cached page says when, not "minutes ago" that stop being true.
    #[serde(with = "time::serde::rfc3339")]
    pub since: time::OffsetDateTime,
}

/// `· full (1200), reported 23:41` (Kyiv time), or nothing.
fn status_text(lang: Lang, mark: Option<&ShelterMark>) -> String {
    let Some(mark) = mark else { return String::new() };
    let words = lang.words();
    let (class, word) = if mark.full { ("full", words.shelter_full) } else { ("open", words.shelter_open) };
    let inside = mark.occupancy.map(|n| format!(" ({n})")).unwrap_or_default();
    format!(
        " · <span class=\"status status-{class}\">{}{inside}</span>, {} {}",
        escape(word),
        escape(words.reported),
        crate::kyiv::kyiv_hh_mm(mark.since)
    )
}

/// The initial bearing from one point to another, degrees from north, 0–360.
pub fn bearing(from: (f64, f64), to: (f64, f64)) -> f64 {
    let (lat1, lat2) = (from.0.to_radians(), to.0.to_radians());
    let dlon = (to.1 - from.1).to_radians();
    let y = dlon.sin() * lat2.cos();
    let x = lat1.cos() * lat2.sin() - lat1.sin() * lat2.cos() * dlon.cos();
    (y.atan2(x).to_degrees() + 360.0) % 360.0
}

/// The compass point of a bearing, in words.
pub fn compass(lang: Lang, bearing_deg: f64) -> &'static str {
    const UK: [&str; 8] = [
        "північ",
        "північний схід",
        "схід",
        "південний схід",
        "південь",
        "південний захід",
        "захід",
        "північний захід",
    ];
    const EN: [&str; 8] = ["north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"];
    let index = (((bearing_deg % 360.0) + 22.5) / 45.0) as usize % 8;
    match lang {
        Lang::Uk => UK[index],
        Lang::En => EN[index],
    }
}

pub fn shelter_list(out: &mut String, shelters: &[NearShelter], lang: Lang) {
    let words = lang.words();
    out.push_str("<ol id=\"shelter-list\" class=\"shelters\">");
    for shelter in shelters {
        let name = match lang {
            Lang::En => shelter.name_en.as_deref().unwrap_or(&shelter.name_uk),
            Lang::Uk => &shelter.name_uk,
        };
        put(
            out,
            format_args!(
                "<li class=\"shelter\"><strong>{name}</strong> <span class=\"meta\">{distance_word}: {distance} m · {walk}: {minutes} {min} · {direction}{access}{status}</span>{address}</li>",
                name = escape(name),
                distance_word = escape(words.distance),
                distance = shelter.distance_m.round(),
                walk = escape(words.walk),
                minutes = shelter.walking_minutes.ceil(),
                min = escape(words.minutes),
                direction = escape(compass(lang, shelter.bearing_deg)),
                access = if shelter.wheelchair == Some(true) { " · ♿" } else { "" },
                status = status_text(lang, shelter.status.as_ref()),
                address = shelter
                    .address
                    .as_deref()
                    .map(|a| format!("<br><span class=\"address\">{}</span>", escape(a)))
                    .unwrap_or_default(),
            ),
        );
    }
    out.push_str("</ol>");
}

/// The point asked about, where it is and its state, and what is near.
pub struct Search<'a> {
    pub at: Option<(f64, f64)>,
    /// The finest region at the point, and its state.
    pub region: Option<(&'a str, RegionState)>,
    pub shelters: &'a [NearShelter],
}

pub fn shelters_page(context: &Context<'_>, book: &AlertBook, search: &Search<'_>) -> String {
    let lang = context.lang;
    let words = lang.words();
    let mut body = String::with_capacity(96 * 1024);
    put(&mut body, format_args!("<main class=\"shelters-page\"><h1>{}</h1>", escape(words.find_shelters)));
    let under_alert = matches!(search.region, Some((_, RegionState::Alert)));
    put(
        &mut body,
        format_args!(
            "<p id=\"shelter-warning\" class=\"warning\" role=\"alert\"{}><strong>{}</strong> {}</p>",
            if under_alert { "" } else { " hidden" },
            escape(words.your_area_under_alert),
            escape(words.go_to_shelter)
        ),
    );
    let (lat, lon) =
        search.at.map_or((String::new(), String::new()), |(lat, lon)| (format!("{lat:.5}"), format!("{lon:.5}")));
    put(
        &mut body,
        format_args!(
            "<form class=\"locate\" method=\"get\" action=\"/shelters\"><button type=\"button\" id=\"use-location\">{mine}</button> \
             <label>{lat_word} <input name=\"lat\" id=\"lat\" inputmode=\"decimal\" value=\"{lat}\" required></label> \
             <label>{lon_word} <input name=\"lon\" id=\"lon\" inputmode=\"decimal\" value=\"{lon}\" required></label> \
             <button type=\"submit\">{find}</button> <span class=\"note\">{pick}</span></form>",
            mine = escape(words.use_my_location),
            lat_word = escape(words.latitude),
            lon_word = escape(words.longitude),
            find = escape(words.find_shelters),
            pick = escape(words.pick_on_map),
        ),
    );
    if let Some((region, state)) = search.region {
        put(&mut body, format_args!("<p id=\"located\">{} — {}</p>", escape(region), escape(lang.state(state))));
    } else {
        body.push_str("<p id=\"located\" hidden></p>");
    }
    body.push_str("<div id=\"shelter-results\">");
    if search.at.is_some() {
        if search.shelters.is_empty() {
            put(&mut body, format_args!("<p class=\"note\">{}</p>", escape(words.no_shelters)));
        } else {
            shelter_list(&mut body, search.shelters, lang);
        }
    }
    body.push_str("</div>");
    map_svg(&mut body, context, book, Level::Oblast, "pick-map");
    body.push_str("</main>");
    let projection = context.geometry.projection;
    let data = page_data(
        context,
        book,
        serde_json::json!({ "projection": projection.parameters(), "shelter_words": {
            "distance": words.distance, "walk": words.walk, "minutes": words.minutes, "none": words.no_shelters,
            "open": words.shelter_open, "full": words.shelter_full, "reported": words.reported, "ago": words.minutes_ago,
        }}),
    );
    let frame = Frame {
        title: words.shelters,
        nav: Nav::Shelters,
        scripts: &["live.js", "shelters.js"],
        data,
        body_class: "page-shelters",
    };
    page(context, &frame, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_point_where_the_shelter_is() {
        let kyiv = (50.45, 30.52);
        assert_eq!(compass(Lang::En, bearing(kyiv, (50.50, 30.52))), "north");
        assert_eq!(compass(Lang::En, bearing(kyiv, (50.45, 30.60))), "east");
        assert_eq!(compass(Lang::Uk, bearing(kyiv, (50.40, 30.45))), "південний захід");
    }
}
