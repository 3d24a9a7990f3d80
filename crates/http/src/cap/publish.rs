//! tryvoha alerts as CAP messages, and the Atom index of the current ones.
//!
//! One message per alert state: the declaration is an `Alert` with identifier
//! `tryvoha-alert-{id}`; after an update it is an `Update`, after the all-clear (or expiry) a
//! `Cancel`, each with identifier `tryvoha-alert-{id}-{seq}` and `references` to the
//! declaration, so a CAP receiver can tie them together.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use tryvoha_cap::atom::{Entry, Feed, Person};
use tryvoha_cap::{
    Area, Category, Certainty, Info, MessageType, NamedValue, Point, Polygon, Reference, ResponseType, Scope, Severity,
    Status, Timestamp, Urgency,
};
use tryvoha_core::{Alert, AlertKind, AlertLevel, AlertStatus, LocalizedText, RegionRegistry, Threat};

use crate::AppState;
use crate::openapi;
use crate::places::BoundaryLayers;

/// The CAP document of an alert's current state.
pub fn cap_response(state: &AppState, alert: &Alert) -> Response {
    let registry = state.engine.registry();
    let message = message(alert, registry, &state.boundaries, &state.cap_sender);
    ([(header::CONTENT_TYPE, tryvoha_cap::CAP_MIME_TYPE)], tryvoha_cap::write(&message)).into_response()
}

fn timestamp(at: OffsetDateTime) -> Timestamp {
    // Our times are UTC with milliseconds; CAP wants whole seconds and an explicit offset.
    let whole = at.replace_nanosecond(0).unwrap_or(at);
    Timestamp::from_offset_date_time(whole).unwrap_or_else(|_| {
        Timestamp::from_offset_date_time(OffsetDateTime::UNIX_EPOCH).expect("the epoch is a valid CAP time")
    })
}

pub fn declaration_identifier(alert: &Alert) -> String {
    format!("tryvoha-alert-{}", alert.id)
}

fn message(alert: &Alert, registry: &RegionRegistry, boundaries: &BoundaryLayers, sender: &str) -> tryvoha_cap::Alert {
    let msg_type = if !alert.is_active() {
        MessageType::Cancel
    } else if alert.updated_at != alert.started_at {
        MessageType::Update
    } else {
        MessageType::Alert
    };
    let (identifier, references) = match msg_type {
        MessageType::Alert => (declaration_identifier(alert), Vec::new()),
        _ => (
            format!("{}-{}", declaration_identifier(alert), alert.seq),
            vec![Reference {
                sender: sender.to_owned(),
                identifier: declaration_identifier(alert),
                sent: timestamp(alert.started_at),
            }],
        ),
    };
    let status = match alert.status {
        AlertStatus::Actual => Status::Actual,
        AlertStatus::Exercise => Status::Exercise,
        AlertStatus::Test => Status::Test,
    };
    let infos = [Language::Ukrainian, Language::English]
        .into_iter()
        .map(|language| info(alert, language, registry, boundaries, msg_type))
        .collect();
    tryvoha_cap::Alert {
        identifier,
        sender: sender.to_owned(),
        sent: timestamp(alert.updated_at),
        status,
        msg_type,
        source: None,
        scope: Scope::Public,
        restriction: None,
        addresses: Vec::new(),
        codes: Vec::new(),
        note: None,
        references,
        incidents: Vec::new(),
        infos,
    }
}

#[derive(Clone, Copy)]
enum Language {
    Ukrainian,
    English,
}

impl Language {
    fn code(self) -> &'static str {
        match self {
            Language::Ukrainian => "uk-UA",
            Language::English => "en-US",
        }
    }

    fn pick(self, text: &Option<LocalizedText>) -> Option<String> {
        let text = text.as_ref()?;
        match self {
            Language::Ukrainian => text.uk.clone(),
            Language::English => text.en.clone(),
        }
    }
}

fn event_name(kind: AlertKind, language: Language) -> &'static str {
    match (kind, language) {
        (AlertKind::AirRaid, Language::Ukrainian) => "Повітряна тривога",
        (AlertKind::AirRaid, Language::English) => "Air raid alert",
        (AlertKind::ArtilleryShelling, Language::Ukrainian) => "Загроза артобстрілу",
        (AlertKind::ArtilleryShelling, Language::English) => "Artillery shelling threat",
        (AlertKind::UrbanFights, Language::Ukrainian) => "Загроза вуличних боїв",
        (AlertKind::UrbanFights, Language::English) => "Urban fighting threat",
        (AlertKind::Chemical, Language::Ukrainian) => "Хімічна небезпека",
        (AlertKind::Chemical, Language::English) => "Chemical threat",
        (AlertKind::Nuclear, Language::Ukrainian) => "Радіаційна небезпека",
        (AlertKind::Nuclear, Language::English) => "Nuclear threat",
    }
}

fn category(kind: AlertKind) -> Category {
    match kind {
        AlertKind::AirRaid | AlertKind::ArtilleryShelling => Category::Safety,
        AlertKind::UrbanFights => Category::Security,
        AlertKind::Chemical | AlertKind::Nuclear => Category::Cbrne,
    }
}

fn info(
    alert: &Alert,
    language: Language,
    registry: &RegionRegistry,
    boundaries: &BoundaryLayers,
    msg_type: MessageType,
) -> Info {
    let region = registry.get(alert.region_id);
    let place = region.map(|r| match language {
        Language::Ukrainian => r.name_uk.clone(),
        Language::English => r.name_en.clone(),
    });
    let polygons = boundaries
        .rings(alert.region_id)
        .into_iter()
        .filter_map(|ring| {
            Polygon::new(ring.iter().filter_map(|[lon, lat]| Point::new(*lat, *lon).ok()).collect()).ok()
        })
        .collect();
    let area = Area {
        area_desc: place.clone().unwrap_or_else(|| format!("region {}", alert.region_id)),
        polygons,
        circles: Vec::new(),
        geocodes: region
            .and_then(|r| r.code.clone())
            .map(|code| vec![NamedValue::new("KATOTTG", code)])
            .unwrap_or_default(),
        altitude: None,
        ceiling: None,
    };
    let cancelled = msg_type == MessageType::Cancel;
    let event = event_name(alert.kind, language);
    Info {
        language: Some(language.code().to_owned()),
        categories: vec![category(alert.kind)],
        event: event.to_owned(),
        response_types: vec![if cancelled { ResponseType::AllClear } else { ResponseType::Shelter }],
        urgency: if cancelled { Urgency::Past } else { Urgency::Immediate },
        severity: match alert.level {
            AlertLevel::Red => Severity::Extreme,
            AlertLevel::Yellow => Severity::Severe,
        },
        certainty: Certainty::Observed,
        audience: None,
        event_codes: vec![NamedValue::new("tryvoha:kind", alert.kind.as_str())],
        effective: None,
        onset: Some(timestamp(alert.started_at)),
        expires: alert.expires_at.map(timestamp),
        sender_name: Some("tryvoha".to_owned()),
        headline: Some(headline(alert, event, place.as_deref(), language, cancelled)),
        description: description(alert, language),
        instruction: language.pick(&alert.instruction),
        web: None,
        contact: None,
        parameters: threats_parameter(&alert.threats),
        resources: Vec::new(),
        areas: vec![area],
    }
}

/// What marks a drill or a test in every text a person reads, in both languages whatever the
/// `info`'s language: a headline or feed title is often all that is shown, and `status` alone is
/// easy for a consumer to drop.
fn not_real_marker(status: AlertStatus) -> Option<&'static str> {
    match status {
        AlertStatus::Actual => None,
        AlertStatus::Exercise => Some("НАВЧАННЯ / EXERCISE"),
        AlertStatus::Test => Some("ТЕСТ / TEST"),
    }
}

fn headline(alert: &Alert, event: &str, place: Option<&str>, language: Language, cancelled: bool) -> String {
    let all_clear = if matches!(language, Language::Ukrainian) { "відбій" } else { "all clear" };
    let text = match (place, cancelled) {
        (Some(place), false) => format!("{event}: {place}"),
        (Some(place), true) => format!("{event} — {all_clear}: {place}"),
        (None, false) => event.to_owned(),
        (None, true) => format!("{event} — {all_clear}"),
    };
    match not_real_marker(alert.status) {
        Some(marker) => format!("{marker}: {text}"),
        None => text,
    }
}

/// The drill notice, the message and the threats, as paragraphs; `None` when there is none.
fn description(alert: &Alert, language: Language) -> Option<String> {
    let ukrainian = matches!(language, Language::Ukrainian);
    let notice = not_real_marker(alert.status).map(|marker| {
        let sentence =
            if ukrainian { "Це не справжня тривога." } else { "This is not a real alert." };
        format!("{marker}. {sentence}")
    });
    let threats = (!alert.threats.is_empty()).then(|| {
        let names: Vec<&str> = alert.threats.iter().map(|t| threat_name(*t, language)).collect();
        format!("{}: {}.", if ukrainian { "Загрози" } else { "Threats" }, names.join(", "))
    });
    let paragraphs: Vec<String> = [notice, language.pick(&alert.message), threats].into_iter().flatten().collect();
    (!paragraphs.is_empty()).then(|| paragraphs.join("\n\n"))
}

fn threat_name(threat: Threat, language: Language) -> &'static str {
    match (threat, language) {
        (Threat::Drones, Language::Ukrainian) => "ударні БпЛА",
        (Threat::Drones, Language::English) => "attack drones",
        (Threat::BallisticMissiles, Language::Ukrainian) => "балістичні ракети",
        (Threat::BallisticMissiles, Language::English) => "ballistic missiles",
        (Threat::CruiseMissiles, Language::Ukrainian) => "крилаті ракети",
        (Threat::CruiseMissiles, Language::English) => "cruise missiles",
        (Threat::GuidedAerialBombs, Language::Ukrainian) => "керовані авіабомби",
        (Threat::GuidedAerialBombs, Language::English) => "guided aerial bombs",
        (Threat::Aviation, Language::Ukrainian) => "авіація",
        (Threat::Aviation, Language::English) => "aviation",
        (Threat::Artillery, Language::Ukrainian) => "артилерія",
        (Threat::Artillery, Language::English) => "artillery",
    }
}

/// The threats for machines: `tryvoha:threats`, their wire names separated by commas.
fn threats_parameter(threats: &[Threat]) -> Vec<NamedValue> {
    if threats.is_empty() {
        return Vec::new();
    }
    let names: Vec<&str> = threats.iter().map(|t| t.as_str()).collect();
    vec![NamedValue::new("tryvoha:threats", names.join(","))]
}

/// `GET /feeds/cap.atom`: the active alerts, newest first, each linking to its CAP message.
#[utoipa::path(
    get, path = "/feeds/cap.atom", operation_id = "capFeed", tag = "cap",
    summary = "Atom feed of the current alerts as CAP 1.2",
    responses(
        (status = 200,
            description = "Atom 1.0, entries linking to /api/v1/alerts/{id}.cap. Every link starts with the configured \
                `public_url` (default `http://` and the listen address), never with the request's Host.",
            body = String, content_type = "application/atom+xml"),
        (status = 429, response = openapi::RateLimited),
    )
)]
pub async fn feed(State(state): State<AppState>) -> Response {
    // Links must be absolute. They come from the configured public URL, never from the request's
    // Host header: a cache in front of us would otherwise keep whatever host an attacker sent.
    let base = &state.public_url;
    let book = state.engine.book();
    let registry = book.registry();
    let mut active: Vec<&Alert> = book.active().collect();
    active.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    let entries = active
        .iter()
        .map(|alert| {
            let message = message(alert, registry, &state.boundaries, &state.cap_sender);
            Entry::for_alert(&message, format!("{base}/api/v1/alerts/{}.cap", alert.id))
        })
        .collect();
    let feed = Feed {
        id: format!("{base}/feeds/cap.atom"),
        title: "tryvoha: current alerts (CAP 1.2)".to_owned(),
        updated: timestamp(book.last_change_at().unwrap_or(OffsetDateTime::UNIX_EPOCH)),
        author: Person { name: state.cap_sender.to_string(), uri: None, email: None },
        self_link: format!("{base}/feeds/cap.atom"),
        entries,
    };
    ([(header::CONTENT_TYPE, "application/atom+xml")], tryvoha_cap::atom::write_feed(&feed)).into_response()
}
