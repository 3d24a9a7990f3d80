//! Ukrainian and English: which one a page speaks, and its words. The choice comes from
//! `?lang=` (which the page's switch sets, and the server then remembers in a `lang` cookie),
//! else that cookie, else the browser's `Accept-Language`, else Ukrainian.

use tryvoha_core::{AlertKind, AlertLevel, AlertStatus, LocalizedText, Region, RegionState, Threat};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    Uk,
    En,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "uk" | "ua" => Some(Lang::Uk),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Uk => "uk",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Uk => Lang::En,
            Lang::En => Lang::Uk,
        }
    }

    /// The page's language: the query's, else the cookie's, else the first of the browser's
    /// preferences (by `q`) that is Ukrainian or English, else Ukrainian.
    pub fn choose(query: Option<&str>, cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(lang) = query.and_then(Lang::parse).or_else(|| cookie.and_then(Lang::parse)) {
            return lang;
        }
        let mut preferences: Vec<(f32, Lang)> = accept_language
            .unwrap_or_default()
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let lang = Lang::parse(tag.split('-').next()?)?;
                let q = parts.filter_map(|p| p.trim().strip_prefix("q=")?.parse::<f32>().ok()).next().unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        preferences.sort_by(|a, b| b.0.total_cmp(&a.0));
        preferences.first().map_or(Lang::Uk, |(_, lang)| *lang)
    }

    pub fn words(self) -> &'static Words {
        match self {
            Lang::Uk => &UK,
            Lang::En => &EN,
        }
    }

    pub fn region_name(self, region: &Region) -> &str {
        match self {
            Lang::Uk => &region.name_uk,
            Lang::En => &region.name_en,
        }
    }

    /// The text in this language, else in the other one.
    pub fn text<'a>(self, text: &'a LocalizedText) -> Option<&'a str> {
        let (first, second) = match self {
            Lang::Uk => (&text.uk, &text.en),
            Lang::En => (&text.en, &text.uk),
        };
        let given = |text: &'a Option<String>| text.as_deref().filter(|t| !t.is_empty());
        given(first).or(given(second))
    }
}

/// Every fixed text of the pages, in one language.
pub struct Words {
    pub title: &'static str,
    pub map: &'static str,
    pub shelters: &'static str,
    pub console: &'static str,
    pub switch_language: &'static str,
    pub live: &'static str,
    pub reconnecting: &'static str,
    pub stale_since: &'static str,
    pub as_of: &'static str,
    pub active_alerts: &'static str,
    pub no_active_alerts: &'static str,
    pub under_alert: &'static str,
    pub nobody_under_alert: &'static str,
    pub since: &'static str,
    pub oblasts: &'static str,
    pub raions: &'static str,
    pub hromadas: &'static str,
    pub legend: &'static str,
    pub notify: &'static str,
    pub notify_help: &'static str,
    pub watching: &'static str,
    pub no_script: &'static str,
    pub exercise: &'static str,
    pub test: &'static str,
    pub instruction: &'static str,
    pub threats: &'static str,
    pub level: &'static str,
    pub region: &'static str,
    pub history: &'static str,
    pub nearest_shelters: &'static str,
    pub no_shelters: &'static str,
    pub download_csv: &'static str,
    pub alerts_per_day: &'static str,
    pub durations: &'static str,
    pub by_hour: &'static str,
    pub this_month: &'static str,
    pub days_30: &'static str,
    pub days_90: &'static str,
    pub find_shelters: &'static str,
    pub use_my_location: &'static str,
    pub latitude: &'static str,
    pub longitude: &'static str,
    pub distance: &'static str,
    pub walk: &'static str,
    pub minutes: &'static str,
    pub your_area_under_alert: &'static str,
    pub go_to_shelter: &'static str,
    /// Before the countdown of an alert's time to shelter.
    pub time_to_shelter: &'static str,
    /// Where the countdown ends.
    pub in_shelter_now: &'static str,
    /// A shelter reported open tonight, and reported full (still listed: people may squeeze in).
    pub shelter_open: &'static str,
    pub shelter_full: &'static str,
    /// Before how long ago a shelter's status was reported.
    pub reported: &'static str,
    pub minutes_ago: &'static str,
    pub pick_on_map: &'static str,
    pub attribution: &'static str,
}

pub static UK: Words = Words {
    title: "Тривога — карта повітряних тривог",
    map: "Карта",
    shelters: "Укриття",
    console: "Пульт оператора",
    switch_language: "English",
    live: "Наживо",
    reconnecting: "Перепідключення…",
    stale_since: "Дані застаріли з",
    as_of: "Стан на",
    active_alerts: "Активні тривоги",
    no_active_alerts: "Активних тривог немає.",
    under_alert: "Під тривогою",
    nobody_under_alert: "Зараз жоден регіон не під тривогою.",
    since: "з",
    oblasts: "Області",
    raions: "Райони",
    hromadas: "Громади",
    legend: "Позначення",
    notify: "Сповіщати про цей регіон",
    notify_help: "Звук і сповіщення браузера, коли обраний регіон опиняється під тривогою (поки сторінка відкрита).",
    watching: "Обрані регіони",
    no_script: "Без JavaScript карта показує стан на момент завантаження; оновіть сторінку, щоб побачити зміни.",
    exercise: "НАВЧАННЯ",
    test: "ТЕСТ",
    instruction: "Що робити",
    threats: "Загрози",
    level: "Рівень",
    region: "Регіон",
    history: "Історія",
    nearest_shelters: "Найближчі укриття",
    no_shelters: "Укриттів у цьому регіоні не внесено.",
    download_csv: "Дані (CSV)",
    alerts_per_day: "Тривог на день",
    durations: "Тривалість тривог",
    by_hour: "Початок тривог за годиною доби (за київським часом)",
    this_month: "Під тривогою цього місяця",
    days_30: "30 днів",
    days_90: "90 днів",
    find_shelters: "Знайти укриття",
    use_my_location: "Моє місцезнаходження",
    latitude: "Широта",
    longitude: "Довгота",
    distance: "Відстань",
    walk: "Пішки",
    minutes: "хв",
    your_area_under_alert: "Ваш район під тривогою.",
    go_to_shelter: "Прямуйте до найближчого укриття.",
    time_to_shelter: "Час дійти до укриття",
    in_shelter_now: "час вийшов, будьте в укритті",
    shelter_open: "відчинене",
    shelter_full: "переповнене",
    reported: "повідомлено",
    minutes_ago: "хв тому",
    pick_on_map: "або клацніть на карті",
    attribution: "Межі: S. Matuszak, ukrainian_geodata (CC BY 4.0)",
};

pub static EN: Words = Words {
    title: "Tryvoha — air-raid alert map",
    map: "Map",
    shelters: "Shelters",
    console: "Operator console",
    switch_language: "Українська",
    live: "Live",
    reconnecting: "Reconnecting…",
    stale_since: "Stale since",
    as_of: "As of",
    active_alerts: "Active alerts",
    no_active_alerts: "No active alerts.",
    under_alert: "Under alert",
    nobody_under_alert: "No region is under alert now.",
    since: "since",
    oblasts: "Oblasts",
    raions: "Raions",
    hromadas: "Hromadas",
    legend: "Legend",
    notify: "Notify me about this region",
    notify_help: "A sound and a browser notification when a region you picked comes under alert (while the page is open).",
    watching: "Your regions",
    no_script: "Without JavaScript the map shows the state when the page loaded; reload to see changes.",
    exercise: "EXERCISE",
    test: "TEST",
    instruction: "What to do",
    threats: "Threats",
    level: "Level",
    region: "Region",
    history: "History",
    nearest_shelters: "Nearest shelters",
    no_shelters: "No shelters are listed in this region.",
    download_csv: "Data (CSV)",
    alerts_per_day: "Alerts per day",
    durations: "How long alerts lasted",
    by_hour: "Alerts by starting hour (Kyiv time)",
    this_month: "Under alert this month",
    days_30: "30 days",
    days_90: "90 days",
    find_shelters: "Find shelters",
    use_my_location: "Use my location",
    latitude: "Latitude",
    longitude: "Longitude",
    distance: "Distance",
    walk: "Walk",
    minutes: "min",
    your_area_under_alert: "Your area is under alert.",
    go_to_shelter: "Go to the nearest shelter.",
    time_to_shelter: "Time to reach a shelter",
    in_shelter_now: "time is up, be in a shelter",
    shelter_open: "open",
    shelter_full: "full",
    reported: "reported",
    minutes_ago: "min ago",
    pick_on_map: "or click on the map",
    attribution: "Boundaries: S. Matuszak, ukrainian_geodata (CC BY 4.0)",
};

impl Lang {
    pub fn state(self, state: RegionState) -> &'static str {
        match (self, state) {
            (Lang::Uk, RegionState::Alert) => "Тривога",
            (Lang::Uk, RegionState::Partial) => "Часткова тривога",
            (Lang::Uk, RegionState::Clear) => "Немає тривоги",
            (Lang::En, RegionState::Alert) => "Alert",
            (Lang::En, RegionState::Partial) => "Partial alert",
            (Lang::En, RegionState::Clear) => "No alert",
        }
    }

    pub fn kind(self, kind: AlertKind) -> &'static str {
        match (self, kind) {
            (Lang::Uk, AlertKind::AirRaid) => "Повітряна тривога",
            (Lang::Uk, AlertKind::ArtilleryShelling) => "Загроза артобстрілу",
            (Lang::Uk, AlertKind::UrbanFights) => "Вуличні бої",
            (Lang::Uk, AlertKind::Chemical) => "Хімічна загроза",
            (Lang::Uk, AlertKind::Nuclear) => "Радіаційна загроза",
            (Lang::En, AlertKind::AirRaid) => "Air-raid alert",
            (Lang::En, AlertKind::ArtilleryShelling) => "Artillery shelling threat",
            (Lang::En, AlertKind::UrbanFights) => "Urban fights",
            (Lang::En, AlertKind::Chemical) => "Chemical threat",
            (Lang::En, AlertKind::Nuclear) => "Nuclear threat",
        }
    }

    pub fn level(self, level: AlertLevel) -> &'static str {
        match (self, level) {
            (Lang::Uk, AlertLevel::Red) => "червоний (тривога)",
            (Lang::Uk, AlertLevel::Yellow) => "жовтий (загроза)",
            (Lang::En, AlertLevel::Red) => "red (alert)",
            (Lang::En, AlertLevel::Yellow) => "yellow (threat)",
        }
    }

    pub fn threat(self, threat: Threat) -> &'static str {
        match (self, threat) {
            (Lang::Uk, Threat::Drones) => "ударні БпЛА",
            (Lang::Uk, Threat::BallisticMissiles) => "балістичні ракети",
            (Lang::Uk, Threat::CruiseMissiles) => "крилаті ракети",
            (Lang::Uk, Threat::GuidedAerialBombs) => "керовані авіабомби",
            (Lang::Uk, Threat::Aviation) => "авіація",
            (Lang::Uk, Threat::Artillery) => "артилерія",
            (Lang::En, Threat::Drones) => "attack drones",
            (Lang::En, Threat::BallisticMissiles) => "ballistic missiles",
            (Lang::En, Threat::CruiseMissiles) => "cruise missiles",
            (Lang::En, Threat::GuidedAerialBombs) => "guided aerial bombs",
            (Lang::En, Threat::Aviation) => "aviation",
            (Lang::En, Threat::Artillery) => "artillery",
        }
    }

    /// The marker of an alert that is not real, or `None` for a real one.
    pub fn status_marker(self, status: AlertStatus) -> Option<&'static str> {
        match status {
            AlertStatus::Actual => None,
            AlertStatus::Exercise => Some(self.words().exercise),
            AlertStatus::Test => Some(self.words().test),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_then_the_cookie_then_the_browser() {
        assert_eq!(Lang::choose(Some("en"), Some("uk"), Some("uk")), Lang::En);
        assert_eq!(Lang::choose(None, Some("en"), Some("uk")), Lang::En);
        assert_eq!(Lang::choose(Some("xx"), None, Some("de-DE,en-GB;q=0.8,uk;q=0.5")), Lang::En);
        assert_eq!(Lang::choose(None, None, Some("en;q=0.4, uk-UA")), Lang::Uk);
        assert_eq!(Lang::choose(None, None, Some("de")), Lang::Uk);
        assert_eq!(Lang::choose(None, None, None), Lang::Uk);
    }
}
