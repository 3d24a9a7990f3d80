//! The installable web app: its manifest (`/manifest.webmanifest`), its service worker
//! (`/sw.js`: Web Push notifications and the pages kept for offline use, `assets/sw.js` with
//! this build's asset names and words filled in), and the push controls the map and region
//! pages carry (`assets/push.js` drives them).

use crate::assets::Assets;
use crate::html::{escape, put};
use crate::lang::Lang;
use crate::map_page::{kinds, threats};

/// The theme colour of the app's window and icon (the alert red of the map).
const THEME: &str = "#b3261e";

/// The manifest, the same for both languages (the name is in both).
pub fn manifest(assets: &Assets) -> String {
    let icon = |name: &str, sizes: &str, kind: &str| serde_json::json!({ "src": assets.url(name), "sizes": sizes, "type": kind, "purpose": "any maskable" });
    let manifest = serde_json::json!({
        "name": "Тривога · Tryvoha",
        "short_name": "Тривога",
        "description": "Карта повітряних тривог і сповіщення · Air-raid alert map and notifications",
        "lang": "uk",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [
            icon("icon-192.png", "192x192", "image/png"),
            icon("icon-512.png", "512x512", "image/png"),
            { "src": assets.url("icon.svg"), "sizes": "any", "type": "image/svg+xml" },
        ],
    });
    manifest.to_string()
}

/// The service worker, with what it needs of this build: the assets to keep (by their hashed
/// names, so a new build's worker replaces the old files), the region table, the words.
pub fn service_worker(assets: &Assets) -> String {
    let words: serde_json::Map<String, serde_json::Value> =
        [Lang::Uk, Lang::En].iter().map(|&lang| (lang.code().to_owned(), notification_words(lang))).collect();
    let config = serde_json::json!({
        "assets": assets.urls(),
        "regions_url": assets.url("regions.json"),
        "icon": assets.url("icon-192.png"),
        "words": words,
    });
    include_str!("../assets/sw.js").replacen("/*CONFIG*/ {}", &config.to_string(), 1)
}

/// What a notification says, in one language.
fn notification_words(lang: Lang) -> serde_json::Value {
    let words = lang.words();
    let (all_clear, updated, not_real, update) = match lang {
        Lang::Uk => ("Відбій тривоги", "оновлено", "Це навчання, не справжня тривога.", "Тривога: оновлення"),
        Lang::En => ("All clear", "updated", "This is an exercise, not a real alert.", "Tryvoha: an update"),
    };
    // `{s}` is the alert's time to shelter in seconds; at once when it is 0.
    let (shelter_within, shelter_now) = match lang {
        Lang::Uk => ("Дістаньтеся укриття протягом {s} с", "Негайно в укриття"),
        Lang::En => ("Reach a shelter within {s} s", "Go to a shelter at once"),
    };
    serde_json::json!({
        "kinds": kinds(lang), "threat_names": threats(lang),
        "levels": { "red": lang.level(tryvoha_core::AlertLevel::Red), "yellow": lang.level(tryvoha_core::AlertLevel::Yellow) },
        "level": words.level, "threats": words.threats, "instruction": words.instruction,
        "exercise": words.exercise, "test": words.test,
        "all_clear": all_clear, "updated": updated, "not_real": not_real, "update": update,
        "shelter_within": shelter_within, "shelter_now": shelter_now,
    })
}

/// What push.js says on the page.
pub fn push_words(lang: Lang) -> serde_json::Value {
    match lang {
        Lang::Uk => serde_json::json!({
            "on": "Push-сповіщення увімкнено для:", "off": "Push-сповіщення вимкнено.",
            "pick_region": "Спершу оберіть регіон (або додайте своє місце).",
            "working": "Зачекайте…", "failed": "Не вдалося:", "denied": "Браузер не дозволив сповіщення.",
            "unsupported": "Цей браузер не підтримує push-сповіщення.",
            "no_location": "Місце не визначено.", "added": "Додано:",
        }),
        Lang::En => serde_json::json!({
            "on": "Push notifications are on for:", "off": "Push notifications are off.",
            "pick_region": "Pick a region first (or add your location).",
            "working": "One moment…", "failed": "That did not work:", "denied": "The browser did not allow notifications.",
            "unsupported": "This browser does not support push notifications.",
            "no_location": "No location found.", "added": "Added:",
        }),
    }
}

/// The push controls: on, off, add my location, and what happened.
pub fn push_controls(out: &mut String, lang: Lang) {
    let (title, help, on, off, locate) = match lang {
        Lang::Uk => (
            "Сповіщення на телефон",
            "Навіть коли сторінку й браузер закрито: телефон отримає тривогу для обраних регіонів.",
            "Увімкнути push-сповіщення",
            "Вимкнути",
            "Додати моє місце",
        ),
        Lang::En => (
            "Notifications on this phone",
            "Even when this page and the browser are closed: the phone is woken for an alert on your regions.",
            "Turn on push notifications",
            "Turn off",
            "Add my location",
        ),
    };
    put(
        out,
        format_args!(
            "<section class=\"push\" id=\"push\"><h2>{title}</h2><p class=\"note\">{help}</p>\
             <p><button type=\"button\" id=\"push-on\">{on}</button> <button type=\"button\" id=\"push-locate\">{locate}</button> \
             <button type=\"button\" id=\"push-off\">{off}</button></p>\
             <p id=\"push-status\" class=\"note\" role=\"status\" data-state=\"off\"></p></section>",
            title = escape(title),
            help = escape(help),
            on = escape(on),
            off = escape(off),
            locate = escape(locate),
        ),
    );
}

/// The head's links to the app: manifest, theme colour, the icon a home screen uses.
pub fn head_links(out: &mut String, assets: &Assets) {
    put(
        out,
        format_args!(
            "<link rel=\"manifest\" href=\"/manifest.webmanifest\"><meta name=\"theme-color\" content=\"{THEME}\">\
             <link rel=\"apple-touch-icon\" href=\"{}\">",
            assets.url("icon-192.png")
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_and_the_worker_name_this_builds_files() {
        let assets = Assets::new(b"{}".to_vec());
        let manifest: serde_json::Value = serde_json::from_str(&manifest(&assets)).expect("JSON");
        assert_eq!(manifest["display"], "standalone");
        assert_eq!(manifest["icons"][1]["src"], assets.url("icon-512.png"));
        let worker = service_worker(&assets);
        let config = worker.split("const CONFIG = ").nth(1).and_then(|rest| rest.split_once(";\n")).expect("config").0;
        let config: serde_json::Value = serde_json::from_str(config).expect("the config is JSON");
        assert!(config["assets"].as_array().expect("list").iter().any(|u| u == assets.url("app.css")));
        assert_eq!(config["words"]["en"]["kinds"]["air_raid"], "Air-raid alert");
        assert_eq!(config["words"]["uk"]["exercise"], Lang::Uk.words().exercise);
    }
}
