//! tryvoha alerts as CAP messages.
//!
//! One message per alert state: the declaration is an `Alert` with identifier
//! `tryvoha-alert-{id}`; after an update it is an `Update`, after the all-clear (or expiry) a
//! `Cancel`, each with identifier `tryvoha-alert-{id}-{seq}` and `references` to the
//! declaration, so a CAP receiver can tie them together. An alert that takes back an all-clear
//! sent in error says so (`correction`).

mod correction;

use time::OffsetDateTime;
use tryvoha_cap::{
    Area, Category, Certainty, Info, MessageType, NamedValue, Point, Polygon, Reference, ResponseType, Scope, Severity,
    Status, Timestamp, Urgency,
};
use tryvoha_core::{Alert, AlertKind, AlertLevel, AlertStatus, LocalizedText, RegionRegistry, Threat};

/// The identifier prefix of the messages this server publishes; a received reference to one
/// names the alert by the number after it.
pub(crate) const OWN_IDENTIFIER: &str = "tryvoha-alert-";

pub(crate) fn timestamp(at: OffsetDateTime) -> Timestamp {
    // Our times are UTC with milliseconds; CAP wants whole seconds and an explicit offset.
    let whole = at.replace_nanosecond(0).unwrap_or(at);
    Timestamp::from_offset_date_time(whole).unwrap_or_else(|_| {
        Timestamp::from_offset_date_time(OffsetDateTime::UNIX_EPOCH).expect("the epoch is a valid CAP time")
    })
}

/// The identifier of the `Alert` message that declared `alert`; its later messages reference it.
pub fn declaration_identifier(alert: &Alert) -> String {
    format!("{OWN_IDENTIFIER}{}", alert.id)
}

/// The CAP message of an alert's current state, from `sender`; `rings` are the outlines of the
/// alert's region (`[lon, lat]`, none when there is no map of it). `reinstated` is the cancelled
/// alert that `alert` reinstates (`alert.reinstates`), when the caller has it: the declaration
/// then references that alert's messages, its declaration and its all-clear.
pub fn message(
    alert: &Alert,
    reinstated: Option<&Alert>,
    registry: &RegionRegistry,
    rings: &[Vec<[f64; 2]>],
    sender: &str,
) -> tryvoha_cap::Alert {
    let msg_type = if !alert.is_active() {
        MessageType::Cancel
    } else if alert.updated_at != alert.started_at {
        MessageType::Update
    } else {
        MessageType::Alert
    };
    let (identifier, references) = match msg_type {
        MessageType::Alert => (declaration_identifier(alert), correction::references(alert, reinstated, sender)),
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
        .map(|language| info(alert, language, registry, rings, msg_type))
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
        note: correction::note(alert),
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
    rings: &[Vec<[f64; 2]>],
    msg_type: MessageType,
) -> Info {
    let region = registry.get(alert.region_id);
    let place = region.map(|r| match language {
        Language::Ukrainian => r.name_uk.clone(),
        Language::English => r.name_en.clone(),
    });
    let polygons = rings
        .iter()
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
        instruction: instruction(alert, language, cancelled),
        web: None,
        contact: None,
        parameters: [threats_parameter(&alert.threats), shelter_parameter(alert, cancelled)].concat(),
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

/// The drill notice, the correction of a mistaken all-clear, the message and the threats, as
/// paragraphs; `None` when there is none.
fn description(alert: &Alert, language: Language) -> Option<String> {
    let ukrainian = matches!(language, Language::Ukrainian);
    let notice = not_real_marker(alert.status).map(|marker| {
        let sentence =
            if ukrainian { "Це не справжня тривога." } else { "This is not a real alert." };
        format!("{marker}. {sentence}")
    });
    let correction = correction::notice(alert, language);
    let threats = (!alert.threats.is_empty()).then(|| {
        let names: Vec<&str> = alert.threats.iter().map(|t| threat_name(*t, language)).collect();
        format!("{}: {}.", if ukrainian { "Загрози" } else { "Threats" }, names.join(", "))
    });
    let paragraphs: Vec<String> =
        [notice, correction, language.pick(&alert.message), threats].into_iter().flatten().collect();
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

/// The time to shelter first (the one thing to do at once), then the alert's own instruction.
fn instruction(alert: &Alert, language: Language, cancelled: bool) -> Option<String> {
    let shelter = alert.shelter_within_s.filter(|_| !cancelled).map(|seconds| match (language, seconds) {
        (Language::Ukrainian, 0) => "Негайно в укриття.".to_owned(),
        (Language::English, 0) => "Go to a shelter at once.".to_owned(),
        (Language::Ukrainian, _) => format!("Дістаньтеся укриття протягом {seconds} с."),
        (Language::English, _) => format!("Reach a shelter within {seconds} seconds."),
    });
    let lines: Vec<String> = [shelter, language.pick(&alert.instruction)].into_iter().flatten().collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The time to shelter for machines, until the all-clear: `tryvoha:shelterWithinSeconds`
/// (Israel's `migun_time`).
fn shelter_parameter(alert: &Alert, cancelled: bool) -> Vec<NamedValue> {
    let seconds = alert.shelter_within_s.filter(|_| !cancelled);
    seconds.map(|s| NamedValue::new("tryvoha:shelterWithinSeconds", s.to_string())).into_iter().collect()
}

/// The threats for machines: `tryvoha:threats`, their wire names separated by commas.
fn threats_parameter(threats: &[Threat]) -> Vec<NamedValue> {
    if threats.is_empty() {
        return Vec::new();
    }
    let names: Vec<&str> = threats.iter().map(|t| t.as_str()).collect();
    vec![NamedValue::new("tryvoha:threats", names.join(","))]
}

#[cfg(test)]
mod tests {
    // Test code: an unwrap that fails is a failing test.
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;
    use tryvoha_core::{Actor, AlertId, RegionId};

    use super::*;

    const REGIONS: &str = "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,UA1,Область,Oblast\n";

    fn alert(status: AlertStatus) -> Alert {
        let at = datetime!(2026-05-06 10:02:45.123 UTC);
        Alert {
            id: AlertId(7),
            region_id: RegionId(1),
            kind: AlertKind::AirRaid,
            level: AlertLevel::Red,
            status,
            threats: vec![Threat::Drones],
            message: None,
            instruction: None,
            started_at: at,
            updated_at: at,
            expires_at: None,
            finished_at: None,
            finish_reason: None,
            declared_by: Actor::system(),
            seq: 3,
            reinstates: None,
            shelter_within_s: None,
        }
    }

    #[test]
    fn a_declaration_is_an_alert_and_what_follows_references_it() {
        let registry = RegionRegistry::from_csv(REGIONS).unwrap();
        let declared = message(&alert(AlertStatus::Actual), None, &registry, &[], "us");
        assert_eq!((declared.msg_type, declared.identifier.as_str()), (MessageType::Alert, "tryvoha-alert-7"));
        assert_eq!(declared.sent.to_string(), "2026-05-06T10:02:45-00:00", "whole seconds, UTC as CAP writes it");
        let mut ended = alert(AlertStatus::Actual);
        ended.finished_at = Some(ended.started_at + time::Duration::HOUR);
        let cancel = message(&ended, None, &registry, &[], "us");
        assert_eq!((cancel.msg_type, cancel.identifier.as_str()), (MessageType::Cancel, "tryvoha-alert-7-3"));
        assert_eq!(cancel.references[0].identifier, "tryvoha-alert-7");
        assert_eq!(cancel.infos[0].response_types, vec![ResponseType::AllClear]);
    }

    #[test]
    fn a_drill_says_so_in_every_headline_and_both_languages_carry_the_region() {
        let registry = RegionRegistry::from_csv(REGIONS).unwrap();
        let drill = message(&alert(AlertStatus::Exercise), None, &registry, &[], "us");
        let headlines: Vec<&str> = drill.infos.iter().filter_map(|i| i.headline.as_deref()).collect();
        assert_eq!(
            headlines,
            ["НАВЧАННЯ / EXERCISE: Повітряна тривога: Область", "НАВЧАННЯ / EXERCISE: Air raid alert: Oblast"]
        );
        assert_eq!(drill.infos[1].areas[0].geocodes[0].value, "UA1");
        assert_eq!(drill.infos[0].parameters[0].value, "drones");
    }

    #[test]
    fn the_time_to_shelter_leads_the_instruction_and_is_a_parameter_until_the_all_clear() {
        let registry = RegionRegistry::from_csv(REGIONS).unwrap();
        let mut timed = alert(AlertStatus::Actual);
        timed.shelter_within_s = Some(90);
        timed.instruction =
            Some(LocalizedText { uk: Some("Не користуйтеся ліфтом.".into()), en: None });
        let declared = message(&timed, None, &registry, &[], "us");
        let (uk, en) = (&declared.infos[0], &declared.infos[1]);
        assert_eq!(uk.instruction.as_deref(), Some("Дістаньтеся укриття протягом 90 с.\nНе користуйтеся ліфтом."));
        assert_eq!(en.instruction.as_deref(), Some("Reach a shelter within 90 seconds."));
        let parameter = en.parameters.iter().find(|p| p.value_name == "tryvoha:shelterWithinSeconds");
        assert_eq!(parameter.map(|p| p.value.as_str()), Some("90"));
        timed.finished_at = Some(timed.started_at + time::Duration::HOUR);
        let cancel = message(&timed, None, &registry, &[], "us");
        assert_eq!(cancel.infos[1].instruction, None, "an all-clear asks no one to run");
        assert!(
            cancel
                .infos
                .iter()
                .all(|info| info.parameters.iter().all(|p| p.value_name != "tryvoha:shelterWithinSeconds"))
        );
        assert!(message(&alert(AlertStatus::Actual), None, &registry, &[], "us").infos[1].parameters.len() == 1);
    }

    /// Alert 7 cancelled at its seq 3, and alert 8 reinstating it, of `status`.
    fn cancelled_and_reinstated(status: AlertStatus) -> (Alert, Alert) {
        let mut cancelled = alert(status);
        cancelled.updated_at = cancelled.started_at + time::Duration::minutes(40);
        cancelled.finished_at = Some(cancelled.updated_at);
        cancelled.finish_reason = Some(tryvoha_core::FinishReason::Cancelled);
        let at = cancelled.updated_at + time::Duration::minutes(2);
        let again = Alert {
            id: AlertId(8),
            started_at: at,
            updated_at: at,
            finished_at: None,
            finish_reason: None,
            seq: 4,
            reinstates: Some(cancelled.id),
            shelter_within_s: None,
            ..cancelled.clone()
        };
        (cancelled, again)
    }

    #[test]
    fn a_reinstating_declaration_says_the_all_clear_was_in_error_and_references_its_messages() {
        let registry = RegionRegistry::from_csv(REGIONS).unwrap();
        let (cancelled, again) = cancelled_and_reinstated(AlertStatus::Actual);
        let declared = message(&again, Some(&cancelled), &registry, &[], "us");
        assert_eq!((declared.msg_type, declared.identifier.as_str()), (MessageType::Alert, "tryvoha-alert-8"));
        let references: Vec<(&str, String)> =
            declared.references.iter().map(|r| (r.identifier.as_str(), r.sent.to_string())).collect();
        assert_eq!(
            references,
            [
                ("tryvoha-alert-7", "2026-05-06T10:02:45-00:00".to_owned()),
                ("tryvoha-alert-7-3", "2026-05-06T10:42:45-00:00".to_owned())
            ]
        );
        let note = declared.note.as_deref().unwrap();
        assert!(note.contains("tryvoha-alert-7") && note.contains("помилково") && note.contains("sent in error"));
        let descriptions: Vec<&str> = declared.infos.iter().filter_map(|i| i.description.as_deref()).collect();
        assert_eq!(
            descriptions,
            [
                "ПОМИЛКОВИЙ ВІДБІЙ / ALL-CLEAR SENT IN ERROR. Відбій тривоги було надіслано помилково. Тривога триває.\n\n\
             Загрози: ударні БпЛА.",
                "ПОМИЛКОВИЙ ВІДБІЙ / ALL-CLEAR SENT IN ERROR. The all-clear was sent in error. The alert is in effect.\n\n\
             Threats: attack drones."
            ]
        );
        tryvoha_cap::check_semantics(&declared).unwrap();
        assert!(message(&again, None, &registry, &[], "us").references.is_empty(), "none it cannot name");
    }

    #[test]
    fn a_reinstated_drill_stays_a_drill_and_its_own_all_clear_is_a_plain_one() {
        let registry = RegionRegistry::from_csv(REGIONS).unwrap();
        let (cancelled, mut again) = cancelled_and_reinstated(AlertStatus::Exercise);
        let declared = message(&again, Some(&cancelled), &registry, &[], "us");
        for info in &declared.infos {
            let (headline, description) = (info.headline.as_deref().unwrap(), info.description.as_deref().unwrap());
            assert!(headline.starts_with("НАВЧАННЯ / EXERCISE") && description.starts_with("НАВЧАННЯ / EXERCISE"));
            assert!(description.contains("ПОМИЛКОВИЙ ВІДБІЙ / ALL-CLEAR SENT IN ERROR"), "{description}");
        }
        again.finished_at = Some(again.started_at + time::Duration::HOUR);
        again.finish_reason = Some(tryvoha_core::FinishReason::Cancelled);
        let ended = message(&again, Some(&cancelled), &registry, &[], "us");
        assert_eq!((ended.msg_type, ended.note.as_deref()), (MessageType::Cancel, None));
        assert_eq!(ended.references.len(), 1, "its own declaration");
        assert!(ended.infos.iter().all(|i| !i.description.as_deref().unwrap().contains("ALL-CLEAR SENT IN ERROR")));
    }
}
