use time::macros::datetime;

use super::*;
use crate::access::Role;

const NOW: OffsetDateTime = datetime!(2026-12-02 01:10 UTC);

fn registry() -> RegionRegistry {
    RegionRegistry::from_csv(
        "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n2,1,raion,,R,R\n3,2,hromada,,H,H\n4,,oblast,,P,P\n",
    )
    .unwrap()
}

fn responder() -> Grant {
    Grant { role: Role::Responder, regions: vec![RegionId(1)] }
}

fn actor() -> Actor {
    Actor { token_id: Some(7), name: "rescue".into() }
}

fn fire(public: bool) -> IncidentReport {
    IncidentReport {
        kind: IncidentKind::Fire,
        severity: Severity::Severe,
        region_id: RegionId(3),
        lat: 50.45,
        lon: 30.52,
        description: LocalizedText { uk: Some("Пожежа".into()), en: None },
        people_affected: None,
        evacuated_to: None,
        address: None,
        casualty_details: None,
        public,
        alert_id: Some(AlertId(9)),
    }
}

fn reported(public: bool) -> Incident {
    report(fire(public), IncidentId(1), actor(), &responder(), &registry(), NOW).unwrap().incident
}

#[test]
fn a_report_is_active_and_carries_who_and_when() {
    let draft = report(fire(true), IncidentId(5), actor(), &responder(), &registry(), NOW).unwrap();
    assert_eq!(draft.kind, IncidentEventType::IncidentReported);
    let incident = draft.incident;
    assert_eq!(
        (incident.id, incident.status, incident.alert_id),
        (IncidentId(5), IncidentStatus::Active, Some(AlertId(9)))
    );
    assert_eq!((incident.reported_at, incident.updated_at, incident.closed_at), (NOW, NOW, None));
    assert_eq!(incident.reported_by, actor());
}

#[test]
fn a_report_outside_the_scope_or_without_a_description_is_refused() {
    let outside = IncidentReport { region_id: RegionId(4), ..fire(true) };
    let refused = report(outside, IncidentId(1), actor(), &responder(), &registry(), NOW).unwrap_err();
    assert_eq!(refused, IncidentError::OutOfScope { region: RegionId(4) });
    let reader = Grant { role: Role::Reader, regions: vec![RegionId(1)] };
    assert!(report(fire(true), IncidentId(1), actor(), &reader, &registry(), NOW).is_err());
    let blank = IncidentReport { description: LocalizedText { uk: Some("  ".into()), en: None }, ..fire(true) };
    let refused = report(blank, IncidentId(1), actor(), &responder(), &registry(), NOW).unwrap_err();
    assert_eq!(refused.field(), Some(IncidentField::Description));
}

#[test]
fn private_only_fields_are_refused_on_a_public_incident() {
    let with_address = IncidentReport { address: Some("вул. Хрещатик, 1".into()), ..fire(true) };
    let refused = report(with_address.clone(), IncidentId(1), actor(), &responder(), &registry(), NOW).unwrap_err();
    assert_eq!(refused, IncidentError::PrivateOnPublic { field: IncidentField::Address });
    let private = IncidentReport { public: false, ..with_address };
    let kept = report(private, IncidentId(1), actor(), &responder(), &registry(), NOW).unwrap().incident;
    assert_eq!(kept.address.as_deref(), Some("вул. Хрещатик, 1"));

    // Publishing it later is refused while the address is on it.
    let publish = IncidentChanges { public: Some(true), ..IncidentChanges::default() };
    let refused = update(&kept, publish.clone(), actor(), &responder(), &registry(), NOW).unwrap_err();
    assert_eq!(refused.field(), Some(IncidentField::Address));
    // Cleared in the same change, it may be published.
    let cleared = IncidentChanges { address: Some(None), ..publish };
    let published = update(&kept, cleared, actor(), &responder(), &registry(), NOW).unwrap().unwrap();
    assert!(published.incident.public && published.incident.address.is_none());
}

#[test]
fn a_published_incident_is_never_made_private() {
    let unpublish = IncidentChanges { public: Some(false), ..IncidentChanges::default() };
    let refused = update(&reported(true), unpublish, actor(), &responder(), &registry(), NOW).unwrap_err();
    assert_eq!(refused, IncidentError::Unpublish);
}

#[test]
fn the_status_goes_forward_only_and_a_closed_incident_is_final() {
    let later = NOW + time::Duration::minutes(40);
    let to = |status| IncidentChanges { status: Some(status), ..IncidentChanges::default() };
    let contained = update(&reported(true), to(IncidentStatus::Contained), actor(), &responder(), &registry(), later)
        .unwrap()
        .unwrap();
    assert_eq!((contained.kind, contained.incident.updated_at), (IncidentEventType::IncidentUpdated, later));
    let back = update(&contained.incident, to(IncidentStatus::Active), actor(), &responder(), &registry(), later);
    assert!(matches!(back, Err(IncidentError::StatusBackwards { .. })));
    let closed = update(&contained.incident, to(IncidentStatus::Closed), actor(), &responder(), &registry(), later)
        .unwrap()
        .unwrap();
    assert_eq!((closed.kind, closed.incident.closed_at), (IncidentEventType::IncidentClosed, Some(later)));
    let after = update(&closed.incident, to(IncidentStatus::Closed), actor(), &responder(), &registry(), later);
    assert_eq!(after.unwrap_err(), IncidentError::Closed { id: IncidentId(1) });
}

#[test]
fn an_update_that_changes_nothing_makes_no_event() {
    let same = IncidentChanges { severity: Some(Severity::Severe), ..IncidentChanges::default() };
    assert_eq!(update(&reported(true), same, actor(), &responder(), &registry(), NOW), Ok(None));
}
