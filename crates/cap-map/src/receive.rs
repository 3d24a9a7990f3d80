//! A received CAP message to commands, decided in full before anything is applied:
//! - regions: geocodes by the registry, polygons and circles by the area rule (`area`);
//! - kind by the documented table (`meaning`); an unknown event is refused, never an air raid;
//! - `Alert` declares one alert per region; one already active there is escalated (as a repeated
//!   declaration is), and the message does not thereby own it;
//! - `Update` and `Cancel` act only on alerts that their referenced messages created, and only
//!   for the token that declared them or an admin;
//! - a message sent too long ago, in the future or already expired is refused.

use std::collections::BTreeSet;

use tryvoha_cap::{MessageType, Reference, Scope, Status};
use tryvoha_core::{Actor, AlertBook, AlertChanges, AlertId, AlertStatus, Command, Declaration, RegionRegistry, Role};
use tryvoha_geo::Locator;

use crate::meaning::{check_current, kind_of, level_of, texts, threats_of};
use crate::publish::OWN_IDENTIFIER;
use crate::{Freshness, Refusal, RefusalKind, refuse};

/// What a public message asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// New alerts, with this status.
    Declare(AlertStatus),
    /// An `Update` or `Cancel` of the alerts its references created.
    FollowUp,
}

/// One alert to declare, and the key of its idempotency record: the same message again (a
/// retry) finds the alert it declared.
#[derive(Clone, Debug)]
pub struct Planned {
    pub declaration: Declaration,
    pub key: String,
}

/// The alerts an `Alert` message declares, under the owner of their idempotency records.
#[derive(Clone, Debug)]
pub struct Declarations {
    pub owner: String,
    pub alerts: Vec<Planned>,
}

/// Only `Public` messages of status `Actual`, `Exercise` or `Test` become alerts; `Alert`
/// declares, `Update` and `Cancel` follow up, `Ack` and `Error` are refused.
pub fn intent(message: &tryvoha_cap::Alert) -> Result<Intent, Refusal> {
    if message.scope != Scope::Public {
        return Err(refuse("cap-not-public", "scope", "only Public messages become public alerts"));
    }
    let status = match message.status {
        Status::Actual => AlertStatus::Actual,
        Status::Exercise => AlertStatus::Exercise,
        Status::Test => AlertStatus::Test,
        other => {
            return Err(refuse("cap-not-public", "status", &format!("{other} messages are not alerts for the public")));
        }
    };
    match message.msg_type {
        MessageType::Alert => Ok(Intent::Declare(status)),
        MessageType::Update | MessageType::Cancel => Ok(Intent::FollowUp),
        other => {
            Err(refuse("cap-not-applicable", "msgType", &format!("{other} messages are acknowledgements, not alerts")))
        }
    }
}

/// The declarations of an `Alert` message, one per region it names or covers. Covering a
/// polygon samples every region it may touch: CPU work, for a blocking thread.
pub fn plan_declarations(
    message: &tryvoha_cap::Alert,
    status: AlertStatus,
    registry: &RegionRegistry,
    locator: &Locator,
    freshness: Freshness,
) -> Result<Declarations, Refusal> {
    let info = message.infos.first().ok_or_else(no_info)?;
    let regions = crate::area::regions_of(registry, locator, message);
    if regions.is_empty() {
        return Err(refuse(
            "cap-area-outside-registry",
            "info.area",
            "no area of the message lies in a region of the registry",
        ));
    }
    let kind = kind_of(&message.infos)?;
    check_current(message, freshness)?;
    let threats = threats_of(&message.infos)?.unwrap_or_default();
    let alerts = regions
        .into_iter()
        .map(|region| Planned {
            declaration: Declaration {
                region_id: region,
                kind,
                level: level_of(info),
                status,
                threats: threats.clone(),
                message: texts(&message.infos, |i| i.description.clone().or_else(|| i.headline.clone())),
                instruction: texts(&message.infos, |i| i.instruction.clone()),
                expires_at: info.expires.map(|t| t.to_offset_date_time()),
            },
            // One that met an active alert is recorded as not having created it, so it owns
            // nothing.
            key: format!("{}#{}", message.identifier, region),
        })
        .collect();
    Ok(Declarations { owner: owner(&message.sender), alerts })
}

/// Where the alerts a referenced message declared are recorded: the owner and the key prefix of
/// their idempotency records.
pub fn reference_records(reference: &Reference) -> (String, String) {
    (owner(&reference.sender), format!("{}#", reference.identifier))
}

/// The alert a reference to one of our own published messages names (`tryvoha-alert-{id}`
/// from `our_sender`), if it names one. Whether it exists is for the caller to look up.
pub fn own_alert(reference: &Reference, our_sender: &str) -> Option<AlertId> {
    if reference.sender != our_sender {
        return None;
    }
    let id = reference.identifier.strip_prefix(OWN_IDENTIFIER)?.parse::<i64>().ok()?;
    u64::try_from(id).ok().map(AlertId)
}

/// The commands of an `Update` or `Cancel` whose references created `targets`, acting as
/// `actor` with `role`. Alerts ended already (a repeated Cancel) need nothing.
pub fn follow_up(
    message: &tryvoha_cap::Alert,
    targets: &BTreeSet<AlertId>,
    book: &AlertBook,
    actor: &Actor,
    role: Role,
    freshness: Freshness,
) -> Result<Vec<Command>, Refusal> {
    if targets.is_empty() {
        return Err(refuse("cap-unknown-reference", "references", "the referenced messages declared no alert here"));
    }
    check_current(message, freshness)?;
    let active: Vec<_> = targets.iter().filter_map(|id| book.get(*id)).collect();
    // A CAP message may come from a relay that forwards whatever it gets: it must not end or
    // change an alert that this token did not declare. Admins may.
    if role != Role::Admin
        && let Some(alert) = active.iter().find(|a| actor.token_id.is_none_or(|id| a.declared_by.token_id != Some(id)))
    {
        return Err(Refusal {
            kind: RefusalKind::NotOwner,
            code: "cap-not-owner",
            field: "references",
            detail: format!(
                "alert {} was declared by another token; only it or an admin may change it by CAP",
                alert.id
            ),
        });
    }
    let changes = match message.msg_type {
        MessageType::Cancel => None,
        _ => Some(update_changes(message)?),
    };
    Ok(active
        .iter()
        .map(|alert| match &changes {
            None => Command::Cancel { id: alert.id },
            Some(changes) => Command::Update { id: alert.id, changes: changes.clone() },
        })
        .collect())
}

/// The owner of the idempotency records of a sender's messages.
fn owner(sender: &str) -> String {
    format!("cap:{sender}")
}

/// An Update's changes: level, threats (when it names them), texts and expiry from its infos.
fn update_changes(message: &tryvoha_cap::Alert) -> Result<AlertChanges, Refusal> {
    let info = message.infos.first();
    Ok(AlertChanges {
        level: info.map(level_of),
        threats: threats_of(&message.infos)?,
        message: texts(&message.infos, |i| i.description.clone().or_else(|| i.headline.clone())),
        instruction: texts(&message.infos, |i| i.instruction.clone()),
        expires_at: info.and_then(|i| i.expires).map(|t| t.to_offset_date_time()),
    })
}

fn no_info() -> Refusal {
    refuse("cap-not-applicable", "info", "an Alert without info says nothing to declare")
}

#[cfg(test)]
mod tests {
    // Test code: an unwrap that fails is a failing test.
    #![allow(clippy::unwrap_used)]

    use time::{Duration, OffsetDateTime};
    use tryvoha_cap::Timestamp;
    use tryvoha_core::AlertKind;

    use super::*;

    const REGIONS: &str = "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,UA1,Область,Oblast\n";

    fn message(msg_type: &str, event: &str, geocode: &str) -> tryvoha_cap::Alert {
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>m-1</identifier><sender>civil.example</sender><sent>2026-05-01T10:00:00+00:00</sent>
<status>Actual</status><msgType>{msg_type}</msgType><scope>Public</scope>
<info><language>en-US</language><category>Safety</category><event>{event}</event><urgency>Immediate</urgency>
<severity>Extreme</severity><certainty>Observed</certainty><headline>Take shelter</headline>
<area><areaDesc>here</areaDesc><geocode><valueName>KATOTTG</valueName><value>{geocode}</value></geocode></area>
</info></alert>"#
        );
        tryvoha_cap::parse(xml.as_bytes()).unwrap()
    }

    fn at_sending(message: &tryvoha_cap::Alert) -> Freshness {
        Freshness { now: message.sent.to_offset_date_time(), max_age: Duration::HOUR }
    }

    #[test]
    fn an_alert_by_geocode_declares_in_that_region_keyed_by_sender_and_identifier() {
        let registry = RegionRegistry::from_csv(REGIONS).unwrap();
        let message = message("Alert", "Air raid alert", "UA1");
        assert_eq!(intent(&message), Ok(Intent::Declare(AlertStatus::Actual)));
        let planned = plan_declarations(
            &message,
            AlertStatus::Actual,
            &registry,
            &Locator::new(Vec::new()),
            at_sending(&message),
        )
        .unwrap();
        assert_eq!(planned.owner, "cap:civil.example");
        assert_eq!(planned.alerts.len(), 1);
        assert_eq!(planned.alerts[0].key, "m-1#1");
        assert_eq!(planned.alerts[0].declaration.kind, AlertKind::AirRaid);
    }

    #[test]
    fn an_unknown_event_or_area_is_refused_by_name_and_never_becomes_an_air_raid() {
        let registry = RegionRegistry::from_csv(REGIONS).unwrap();
        let locator = Locator::new(Vec::new());
        let plan = |message: &tryvoha_cap::Alert| {
            plan_declarations(message, AlertStatus::Actual, &registry, &locator, at_sending(message)).unwrap_err()
        };
        let unknown_event = plan(&message("Alert", "Flood warning", "UA1"));
        assert_eq!((unknown_event.code, unknown_event.field), ("cap-unknown-event", "info.event"));
        let outside = plan(&message("Alert", "Air raid alert", "UA999"));
        assert_eq!(outside.code, "cap-area-outside-registry");
    }

    #[test]
    fn a_stale_or_future_message_is_refused() {
        let registry = RegionRegistry::from_csv(REGIONS).unwrap();
        let message = message("Alert", "Air raid alert", "UA1");
        let sent = message.sent.to_offset_date_time();
        let plan_at = |now: OffsetDateTime| {
            let freshness = Freshness { now, max_age: Duration::HOUR };
            plan_declarations(&message, AlertStatus::Actual, &registry, &Locator::new(Vec::new()), freshness)
        };
        assert_eq!(plan_at(sent + Duration::hours(2)).unwrap_err().code, "cap-too-old");
        assert_eq!(plan_at(sent - Duration::minutes(10)).unwrap_err().code, "cap-sent-in-future");
        assert!(plan_at(sent - Duration::minutes(4)).is_ok(), "within the clock skew");
    }

    #[test]
    fn a_reference_names_our_alert_only_from_our_sender_and_only_a_declaration() {
        let sent = Timestamp::from_offset_date_time(OffsetDateTime::UNIX_EPOCH).unwrap();
        let reference = |sender: &str, identifier: &str| Reference {
            sender: sender.to_owned(),
            identifier: identifier.to_owned(),
            sent,
        };
        assert_eq!(own_alert(&reference("us", "tryvoha-alert-7"), "us"), Some(AlertId(7)));
        assert_eq!(own_alert(&reference("them", "tryvoha-alert-7"), "us"), None);
        assert_eq!(own_alert(&reference("us", "tryvoha-alert-7-12"), "us"), None, "an update's identifier");
        assert_eq!(own_alert(&reference("us", "tryvoha-alert--7"), "us"), None);
        let (owner, prefix) = reference_records(&reference("civil.example", "m-1"));
        assert_eq!((owner.as_str(), prefix.as_str()), ("cap:civil.example", "m-1#"));
    }

    #[test]
    fn a_follow_up_without_known_targets_or_of_another_tokens_alert_is_refused() {
        let registry = std::sync::Arc::new(RegionRegistry::from_csv(REGIONS).unwrap());
        let book = AlertBook::new(registry);
        let update = message("Update", "Air raid alert", "UA1");
        let actor = Actor { token_id: Some(3), name: "relay".into() };
        let none = follow_up(&update, &BTreeSet::new(), &book, &actor, Role::Operator, at_sending(&update));
        assert_eq!(none.unwrap_err().code, "cap-unknown-reference");
        // An alert that ended already (not in the book) needs nothing.
        let ended = [AlertId(1)].into_iter().collect();
        assert_eq!(follow_up(&update, &ended, &book, &actor, Role::Operator, at_sending(&update)), Ok(Vec::new()));
    }

    #[test]
    fn acknowledgements_and_non_public_messages_are_refused() {
        assert_eq!(intent(&message("Ack", "Air raid alert", "UA1")).unwrap_err().field, "msgType");
        assert_eq!(intent(&message("Cancel", "Air raid alert", "UA1")), Ok(Intent::FollowUp));
    }
}
