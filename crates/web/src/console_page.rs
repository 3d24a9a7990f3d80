//! `/console`: the operator's page. It signs in with a token kept in `sessionStorage` and sent
//! as a bearer header (no cookie, so no cross-site request can act for the operator), and does
//! everything through the API, which refuses what the token may not do whatever the page sends.
//!
//! The Hawaii 2018 lessons are in the markup and `console.js`: an exercise console looks
//! unmistakably different (its own colours and a banner on every screen); the confirmation
//! restates the regions, kind, level and status in words, and a live alert needs a different
//! action (typing a word) than an exercise; every live alert has its all-clear at hand, and a
//! mistaken all-clear is undone in one action (reinstate).

use tryvoha_core::{AlertBook, Level};

use crate::html::{escape, put};
use crate::lang::Lang;
use crate::layout::Context;
use crate::layout::{Frame, Nav, page};
use crate::map_page::{map_svg, page_data};

/// The console's words, by key, in both languages (the script reads them from the page data).
const WORDS: &[(&str, &str, &str)] = &[
    ("title", "Пульт оператора", "Operator console"),
    ("mode_live", "РЕАЛЬНИЙ РЕЖИМ — оголошення бачать усі", "LIVE MODE — everyone sees what you declare"),
    ("mode_exercise", "НАВЧАННЯ — режим тренування, не реальна тривога", "EXERCISE — training mode, not a real alert"),
    ("switch_to_live", "Перейти в реальний режим", "Switch to live mode"),
    ("switch_to_exercise", "Перейти в режим навчання", "Switch to exercise mode"),
    ("token", "Токен", "Token"),
    ("sign_in", "Увійти", "Sign in"),
    ("sign_out", "Вийти", "Sign out"),
    ("may", "Цей токен може", "This token may"),
    ("declare", "Оголосити", "Declare"),
    ("regions", "Регіони", "Regions"),
    ("search", "Пошук (назва або код КАТОТТГ)", "Search (name or KATOTTG code)"),
    ("kind", "Вид", "Kind"),
    ("level", "Рівень", "Level"),
    ("threats", "Загрози", "Threats"),
    ("message_uk", "Повідомлення (українською)", "Message (Ukrainian)"),
    ("message_en", "Повідомлення (англійською)", "Message (English)"),
    ("instruction_uk", "Що робити (українською)", "What to do (Ukrainian)"),
    ("instruction_en", "Що робити (англійською)", "What to do (English)"),
    ("expires", "Закінчується через, хв (необов’язково)", "Expires in, minutes (optional)"),
    ("review", "Перевірити й надіслати…", "Review and send…"),
    ("confirm_title", "Підтвердіть", "Confirm"),
    ("confirm_live_word", "ТРИВОГА", "LIVE"),
    (
        "confirm_live_help",
        "Це реальна тривога. Щоб надіслати, введіть слово",
        "This is a real alert. To send it, type the word",
    ),
    ("send_live", "Надіслати реальну тривогу", "Send the real alert"),
    ("send_exercise", "Надіслати навчальну тривогу", "Send the exercise alert"),
    ("back", "Назад", "Back"),
    ("active", "Активні тривоги ваших регіонів", "Active alerts in your regions"),
    ("update", "Змінити", "Update"),
    ("cancel", "Відбій", "All-clear"),
    ("cancel_confirm", "Дати відбій для", "Give the all-clear for"),
    ("reinstate", "Відбій був помилковим — відновити тривогу", "The all-clear was a mistake — reinstate"),
    ("recent", "Останні події ваших регіонів", "Recent events in your regions"),
    ("refused", "Відмовлено", "Refused"),
    ("done", "Готово", "Done"),
    ("none", "Немає", "None"),
    ("pick_regions", "Оберіть принаймні один регіон", "Pick at least one region"),
];

pub fn console_page(context: &Context<'_>, book: &AlertBook) -> String {
    let lang = context.lang;
    let word = |key: &'static str| -> &'static str {
        WORDS.iter().find(|(k, _, _)| *k == key).map_or(key, |(_, uk, en)| if lang == Lang::Uk { uk } else { en })
    };
    let mut body = String::with_capacity(96 * 1024);
    put(
        &mut body,
        format_args!(
            "<div id=\"mode-banner\" class=\"mode-banner\" role=\"status\">{exercise}</div>\
             <main class=\"console-page\"><h1>{title}</h1>\
             <p><button type=\"button\" id=\"mode-switch\">{to_live}</button></p>\
             <form id=\"sign-in\" class=\"card\"><label>{token} <input type=\"password\" id=\"token\" autocomplete=\"off\" required></label> \
             <button type=\"submit\">{sign_in}</button></form>\
             <section id=\"signed-in\" class=\"card\" hidden><p><span id=\"whoami\"></span> \
             <button type=\"button\" id=\"sign-out\">{sign_out}</button></p></section>\
             <p id=\"console-status\" class=\"status\" role=\"alert\"></p>",
            exercise = escape(word("mode_exercise")),
            title = escape(word("title")),
            to_live = escape(word("switch_to_live")),
            token = escape(word("token")),
            sign_in = escape(word("sign_in")),
            sign_out = escape(word("sign_out")),
        ),
    );
    put(
        &mut body,
        format_args!(
            "<form id=\"declare\" class=\"card\" hidden><h2>{declare}</h2>\
             <fieldset><legend>{regions}</legend><label>{search} <input type=\"search\" id=\"region-search\" autocomplete=\"off\"></label>\
             <ul id=\"region-options\" class=\"options\"></ul><p>{regions}: <span id=\"picked\">—</span></p>",
            declare = escape(word("declare")),
            regions = escape(word("regions")),
            search = escape(word("search")),
        ),
    );
    map_svg(&mut body, context, book, Level::Oblast, "console-map");
    put(&mut body, format_args!("</fieldset><label>{} <select id=\"kind\">", escape(word("kind"))));
    for kind in tryvoha_core::AlertKind::ALL {
        put(&mut body, format_args!("<option value=\"{kind}\">{}</option>", escape(lang.kind(*kind))));
    }
    put(
        &mut body,
        format_args!(
            "</select></label> <label>{} <select id=\"level\"><option value=\"red\">{}</option><option value=\"yellow\">{}</option></select></label>\
             <fieldset><legend>{}</legend>",
            escape(word("level")),
            escape(lang.level(tryvoha_core::AlertLevel::Red)),
            escape(lang.level(tryvoha_core::AlertLevel::Yellow)),
            escape(word("threats")),
        ),
    );
    for threat in tryvoha_core::Threat::ALL {
        let name = lang.threat(*threat);
        put(
            &mut body,
            format_args!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"threat\" value=\"{threat}\"> {}</label>",
                escape(name)
            ),
        );
    }
    body.push_str("</fieldset>");
    for (id, key) in [
        ("message-uk", "message_uk"),
        ("message-en", "message_en"),
        ("instruction-uk", "instruction_uk"),
        ("instruction-en", "instruction_en"),
    ] {
        put(
            &mut body,
            format_args!(
                "<label class=\"wide\">{} <textarea id=\"{id}\" maxlength=\"2000\" rows=\"2\"></textarea></label>",
                escape(word(key))
            ),
        );
    }
    put(
        &mut body,
        format_args!(
            "<label>{} <input type=\"number\" id=\"expires\" min=\"1\" max=\"1440\" inputmode=\"numeric\"></label>\
             <p><button type=\"submit\" id=\"review\">{}</button></p></form>",
            escape(word("expires")),
            escape(word("review")),
        ),
    );
    put(
        &mut body,
        format_args!(
            "<dialog id=\"confirm\"><h2>{title}</h2><p id=\"confirm-text\"></p>\
             <p id=\"confirm-live\" hidden><label>{help} <strong>{word}</strong>: <input id=\"confirm-word\" autocomplete=\"off\"></label></p>\
             <p><button type=\"button\" id=\"confirm-send\"></button> <button type=\"button\" id=\"confirm-back\">{back}</button></p></dialog>",
            title = escape(word("confirm_title")),
            help = escape(word("confirm_live_help")),
            word = escape(word("confirm_live_word")),
            back = escape(word("back")),
        ),
    );
    put(
        &mut body,
        format_args!(
            "<section id=\"active\" class=\"card\" hidden><h2>{}</h2><ul id=\"console-alerts\" class=\"alert-list\"></ul></section>\
             <section id=\"recent\" class=\"card\" hidden><h2>{}</h2><ul id=\"console-events\"></ul></section></main>",
            escape(word("active")),
            escape(word("recent")),
        ),
    );
    let words: serde_json::Map<String, serde_json::Value> = WORDS
        .iter()
        .map(|(key, uk, en)| ((*key).to_owned(), serde_json::Value::from(if lang == Lang::Uk { *uk } else { *en })))
        .collect();
    let data = page_data(context, book, serde_json::json!({ "console_words": words }));
    let frame = Frame {
        title: word("title"),
        nav: Nav::Console,
        scripts: &["live.js", "console.js"],
        data,
        body_class: "page-console mode-exercise",
    };
    page(context, &frame, &body)
}
