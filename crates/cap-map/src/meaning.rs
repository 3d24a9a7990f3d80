//! What a received CAP message means for tryvoha: its kind (a documented table, never a
//! default), level, threats, texts and whether it is current. Rules: docs/cap.md.

use time::Duration;
use tryvoha_cap::{Info, Severity};
use tryvoha_core::{AlertKind, AlertLevel, LocalizedText, Threat};

use crate::{Freshness, Refusal, refuse};

/// How far in the future a message's `sent` may be: the sender's clock may run ahead of ours.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// `event` texts (compared trimmed and case-insensitively) and the kinds they mean. Our own
/// messages' events are here, so they come back in as they went out.
const EVENTS: &[(&str, AlertKind)] = &[
    ("air raid alert", AlertKind::AirRaid),
    ("air raid warning", AlertKind::AirRaid),
    ("air raid", AlertKind::AirRaid),
    ("air-raid alert", AlertKind::AirRaid),
    ("повітряна тривога", AlertKind::AirRaid),
    ("artillery shelling threat", AlertKind::ArtilleryShelling),
    ("artillery shelling", AlertKind::ArtilleryShelling),
    ("загроза артобстрілу", AlertKind::ArtilleryShelling),
    ("urban fighting threat", AlertKind::UrbanFights),
    ("urban fighting", AlertKind::UrbanFights),
    ("urban fights", AlertKind::UrbanFights),
    ("загроза вуличних боїв", AlertKind::UrbanFights),
    ("chemical threat", AlertKind::Chemical),
    ("chemical hazard", AlertKind::Chemical),
    ("хімічна небезпека", AlertKind::Chemical),
    ("хімічна загроза", AlertKind::Chemical),
    ("nuclear threat", AlertKind::Nuclear),
    ("radiation hazard", AlertKind::Nuclear),
    ("radiological hazard", AlertKind::Nuclear),
    ("радіаційна небезпека", AlertKind::Nuclear),
    ("радіаційна загроза", AlertKind::Nuclear),
];

/// The kind, from the first `info` that names one: its `tryvoha:kind` event code, else its
/// `event` by the table. Nothing else (a category, say) decides: an alert of the wrong kind
/// tells people the wrong thing to do.
pub fn kind_of(infos: &[Info]) -> Result<AlertKind, Refusal> {
    for info in infos {
        if let Some(code) = info.event_codes.iter().find(|c| c.value_name == "tryvoha:kind") {
            return AlertKind::parse(code.value.trim()).ok_or_else(|| {
                refuse("cap-unknown-event", "info.eventCode", &format!("tryvoha:kind {:?} is not a kind", code.value))
            });
        }
        let event = info.event.trim().to_lowercase();
        if let Some((_, kind)) = EVENTS.iter().find(|(name, _)| *name == event) {
            return Ok(*kind);
        }
    }
    let event = infos.first().map_or("", |i| i.event.as_str());
    Err(refuse(
        "cap-unknown-event",
        "info.event",
        &format!("the event {event:?} is not one tryvoha maps to an alert kind (docs/cap.md)"),
    ))
}

/// Red for `Extreme` and `Severe`, yellow otherwise.
pub fn level_of(info: &Info) -> AlertLevel {
    if matches!(info.severity, Severity::Extreme | Severity::Severe) { AlertLevel::Red } else { AlertLevel::Yellow }
}

/// The threats of the first `info` with a `tryvoha:threats` parameter (wire names, separated by
/// commas), or `None` when no `info` has one.
pub fn threats_of(infos: &[Info]) -> Result<Option<Vec<Threat>>, Refusal> {
    let Some(parameter) = infos.iter().flat_map(|i| &i.parameters).find(|p| p.value_name == "tryvoha:threats") else {
        return Ok(None);
    };
    let names = parameter.value.split(',').map(str::trim).filter(|name| !name.is_empty());
    let threats = names
        .map(|name| {
            Threat::parse(name).ok_or_else(|| {
                refuse("cap-unknown-threat", "info.parameter", &format!("tryvoha:threats names {name:?}, not a threat"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(threats))
}

/// The texts of the Ukrainian and English `info`s, picked by `field`.
pub fn texts(infos: &[Info], field: impl Fn(&Info) -> Option<String>) -> Option<LocalizedText> {
    let in_language =
        |prefix: &str| infos.iter().find(|i| i.language_or_default().starts_with(prefix)).and_then(&field);
    let text = LocalizedText { uk: in_language("uk"), en: in_language("en") };
    (text.uk.is_some() || text.en.is_some()).then_some(text)
}

/// Refuses a message sent too long ago (`max_age`), too far in the future ([`CLOCK_SKEW`]), or
/// already expired: a replayed or delayed message must not sound an alert that is over.
pub fn check_current(message: &tryvoha_cap::Alert, freshness: Freshness) -> Result<(), Refusal> {
    let Freshness { now, max_age } = freshness;
    let sent = message.sent.to_offset_date_time();
    if sent > now + CLOCK_SKEW {
        return Err(refuse(
            "cap-sent-in-future",
            "sent",
            &format!(
                "the message was sent at {}, more than {} minutes ahead of this server's clock",
                message.sent,
                CLOCK_SKEW.whole_minutes()
            ),
        ));
    }
    if now - sent > max_age {
        return Err(refuse(
            "cap-too-old",
            "sent",
            &format!("the message was sent at {}, more than {} seconds ago", message.sent, max_age.whole_seconds()),
        ));
    }
    let expires = message.infos.first().and_then(|i| i.expires).map(|t| t.to_offset_date_time());
    if expires.is_some_and(|at| at <= now) {
        return Err(refuse("cap-expired", "info.expires", "the message has already expired"));
    }
    Ok(())
}
