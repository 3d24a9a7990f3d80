use super::*;
use crate::alert::{AlertId, AlertKind, AlertLevel, AlertStatus, LocalizedText};
use crate::incident::{IncidentId, IncidentKind, IncidentStatus, Severity};
use crate::location::ShelterId;
use crate::shelter_status::ShelterState;

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
}

fn actor() -> Actor {
    Actor { token_id: Some(4), name: "brigade 12".into() }
}

fn incident(public: bool) -> Incident {
    Incident {
        id: IncidentId(3),
        kind: IncidentKind::Fire,
        status: IncidentStatus::Active,
        severity: Severity::Severe,
        region_id: RegionId(31),
        lat: 50.45,
        lon: 30.52,
        description: LocalizedText { uk: Some("Пожежа".into()), en: None },
        people_affected: Some(12),
        evacuated_to: None,
        address: (!public).then(|| "Khreshchatyk 1".into()),
        casualty_details: None,
        public,
        alert_id: Some(AlertId(1)),
        reported_at: at(),
        updated_at: at(),
        closed_at: None,
        reported_by: actor(),
    }
}

fn events() -> Vec<Event> {
    let alert = Alert {
        id: AlertId(1),
        region_id: RegionId(31),
        kind: AlertKind::AirRaid,
        level: AlertLevel::Red,
        status: AlertStatus::Actual,
        threats: Vec::new(),
        message: None,
        instruction: None,
        started_at: at(),
        updated_at: at(),
        expires_at: None,
        finished_at: None,
        finish_reason: None,
        declared_by: actor(),
        seq: 1,
        reinstates: None,
        shelter_within_s: Some(90),
    };
    vec![
        Event::Alert(AlertEvent { seq: 1, kind: EventType::Declared, at: at(), actor: actor(), alert }),
        Event::Incident(IncidentEvent {
            seq: 2,
            kind: IncidentEventType::IncidentReported,
            at: at(),
            actor: actor(),
            incident: incident(false),
        }),
        Event::Shelter(ShelterEvent {
            seq: 3,
            kind: ShelterEventType::ShelterStatus,
            at: at(),
            actor: actor(),
            shelter: ShelterStatus {
                shelter_id: ShelterId(9),
                region_id: RegionId(31),
                status: ShelterState::Full,
                occupancy: Some(400),
                capacity: None,
                accessible: None,
                notes: None,
                since: at(),
            },
        }),
    ]
}

#[test]
fn every_kind_of_event_reads_back_as_the_kind_it_was() {
    for event in events() {
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains(&format!("\"type\":\"{}\"", event.name())), "{json}");
        let read: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(read, event);
        assert_eq!(read.family(), event.family());
    }
}

#[test]
fn an_alert_event_keeps_its_wire_shape() {
    let Event::Alert(alert) = &events()[0] else { unreachable!() };
    let generic = serde_json::to_value(&events()[0]).unwrap();
    assert_eq!(generic, serde_json::to_value(alert).unwrap());
    assert!(generic.get("alert").is_some() && generic.get("incident").is_none());
}

#[test]
fn only_public_incidents_are_public_and_the_published_form_names_the_authority() {
    let events = events();
    assert!(events[0].is_public() && events[2].is_public());
    assert!(!events[1].is_public(), "a private incident is no public event");
    let mut public = events[1].clone();
    if let Event::Incident(event) = &mut public {
        event.incident = incident(true);
    }
    assert!(public.is_public());
    let published = public.published_by("ДСНС");
    let Event::Incident(event) = published else { unreachable!() };
    assert_eq!((event.actor.token_id, event.incident.reported_by.token_id), (None, None));
    assert_eq!(event.actor.name, "ДСНС");
}
