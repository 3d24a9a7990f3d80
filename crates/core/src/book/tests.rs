use super::*;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-27 02:00 UTC);

fn registry() -> Arc<RegionRegistry> {
    Arc::new(
        RegionRegistry::from_csv(
            "id,parent_id,level,katottg,name_uk,name_en\n\
             1,,oblast,,O,O\n2,1,raion,,R,R\n3,2,hromada,,H,H\n4,2,hromada,,G,G\n5,,oblast,,P,P\n",
        )
        .unwrap(),
    )
}

fn operator() -> Actor {
    Actor { token_id: Some(7), name: "kyiv-operator".into() }
}

fn declaration(region: u32, kind: AlertKind) -> Declaration {
    Declaration::new(RegionId(region), kind)
}

/// Decides and applies like the writer does, numbering events from the book's own count.
fn run(book: &mut AlertBook, command: Command, at: OffsetDateTime, seq: &mut u64) -> Result<Alert, AlertError> {
    match book.decide(&command, &operator(), at)? {
        Decision::Unchanged(alert) => Ok(alert),
        Decision::Record(draft) => {
            *seq += 1;
            let event = draft.into_event(*seq);
            book.apply(&event);
            Ok(event.alert)
        }
    }
}

#[test]
fn declaring_a_hromada_alert_makes_its_ancestors_partial() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let alert = run(&mut book, Command::Declare(declaration(3, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    assert_eq!((alert.id, alert.seq, alert.started_at), (AlertId(1), 1, T0));
    assert_eq!(book.region_state(RegionId(3)), RegionState::Alert);
    assert_eq!(book.region_state(RegionId(4)), RegionState::Clear);
    assert_eq!(book.region_state(RegionId(2)), RegionState::Partial);
    assert_eq!(book.region_state(RegionId(1)), RegionState::Partial);
    assert_eq!(book.region_state(RegionId(5)), RegionState::Clear);
}

#[test]
fn an_oblast_alert_covers_every_descendant() {
    let mut book = AlertBook::new(registry());
    run(&mut book, Command::Declare(declaration(1, AlertKind::AirRaid)), T0, &mut 0).unwrap();
    for region in [1, 2, 3, 4] {
        assert_eq!(book.region_state(RegionId(region)), RegionState::Alert, "region {region}");
    }
    assert_eq!(book.alerts_bearing_on(RegionId(4)).count(), 1);
    assert_eq!(book.alerts_bearing_on(RegionId(5)).count(), 0);
}

#[test]
fn declaring_an_active_kind_again_returns_the_existing_alert() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let first = run(&mut book, Command::Declare(declaration(3, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    let again = book.decide(&Command::Declare(declaration(3, AlertKind::AirRaid)), &operator(), T0).unwrap();
    assert_eq!(again, Decision::Unchanged(first));
    let other_kind = run(&mut book, Command::Declare(declaration(3, AlertKind::Chemical)), T0, &mut seq).unwrap();
    assert_eq!(other_kind.id, AlertId(2));
}

#[test]
fn a_drill_never_merges_with_a_real_alert_nor_changes_region_state() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let mut drill = declaration(3, AlertKind::AirRaid);
    drill.status = AlertStatus::Exercise;
    let drill = run(&mut book, Command::Declare(drill), T0, &mut seq).unwrap();
    assert_eq!(book.region_state(RegionId(3)), RegionState::Clear);
    let real = run(&mut book, Command::Declare(declaration(3, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    assert_ne!(real.id, drill.id);
    assert_eq!(real.status, AlertStatus::Actual);
    assert_eq!(book.region_state(RegionId(3)), RegionState::Alert);
}

#[test]
fn cancelled_alert_cannot_be_cancelled_again() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let alert = run(&mut book, Command::Declare(declaration(3, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    let later = T0 + time::Duration::minutes(40);
    let cancelled = run(&mut book, Command::Cancel { id: alert.id }, later, &mut seq).unwrap();
    assert_eq!(cancelled.finished_at, Some(later));
    assert_eq!(cancelled.finish_reason, Some(FinishReason::Cancelled));
    assert_eq!(book.region_state(RegionId(1)), RegionState::Clear);
    assert_eq!(
        book.decide(&Command::Cancel { id: alert.id }, &operator(), later),
        Err(AlertError::AlreadyFinished { id: alert.id })
    );
    assert_eq!(
        book.decide(&Command::Cancel { id: AlertId(99) }, &operator(), later),
        Err(AlertError::NotFound { id: AlertId(99) })
    );
}

#[test]
fn an_alert_expires_only_once_its_time_has_come() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let mut timed = declaration(3, AlertKind::AirRaid);
    timed.expires_at = Some(T0 + time::Duration::hours(1));
    let alert = run(&mut book, Command::Declare(timed), T0, &mut seq).unwrap();
    assert!(book.due_to_expire(T0).is_empty());
    assert_eq!(
        book.decide(&Command::Expire { id: alert.id }, &Actor::system(), T0),
        Err(AlertError::NotYetExpired { id: alert.id })
    );
    let at = T0 + time::Duration::hours(1);
    assert_eq!(book.due_to_expire(at), [alert.id]);
    let expired = run(&mut book, Command::Expire { id: alert.id }, at, &mut seq).unwrap();
    assert_eq!(expired.finish_reason, Some(FinishReason::Expired));
    assert_eq!(book.active().count(), 0);
}

#[test]
fn bad_declarations_are_refused_with_the_reason() {
    let book = AlertBook::new(registry());
    let mut past = declaration(3, AlertKind::AirRaid);
    past.expires_at = Some(T0);
    let mut wordy = declaration(3, AlertKind::AirRaid);
    wordy.message = Some(LocalizedText { uk: Some("я".repeat(2001)), en: None });
    let cases = [
        (declaration(999, AlertKind::AirRaid), AlertError::UnknownRegion { id: RegionId(999) }),
        (past, AlertError::ExpiryNotInFuture),
        (wordy, AlertError::TextTooLong { field: "message" }),
    ];
    for (declaration, expected) in cases {
        assert_eq!(book.decide(&Command::Declare(declaration), &operator(), T0), Err(expected));
    }
}

#[test]
fn an_update_changes_only_what_it_names_and_a_no_op_writes_nothing() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let alert = run(&mut book, Command::Declare(declaration(3, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    let changes = AlertChanges { threats: Some(vec![Threat::Drones, Threat::Drones]), ..Default::default() };
    let later = T0 + time::Duration::minutes(5);
    let updated = run(&mut book, Command::Update { id: alert.id, changes: changes.clone() }, later, &mut seq).unwrap();
    assert_eq!(updated.threats, [Threat::Drones]);
    assert_eq!((updated.level, updated.started_at, updated.updated_at), (AlertLevel::Red, T0, later));
    let again = book.decide(&Command::Update { id: alert.id, changes }, &operator(), later).unwrap();
    assert!(matches!(again, Decision::Unchanged(_)));
}

#[test]
fn a_restored_book_continues_the_id_sequence() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let first = run(&mut book, Command::Declare(declaration(3, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    let restored = AlertBook::restore(registry(), [first.clone()], Some(AlertId(5)), 9, Some(T0));
    assert_eq!((restored.last_seq(), restored.last_change_at()), (9, Some(T0)));
    assert_eq!(restored.region_state(RegionId(1)), RegionState::Partial);
    let next = restored.decide(&Command::Declare(declaration(4, AlertKind::AirRaid)), &operator(), T0).unwrap();
    let Decision::Record(draft) = next else { panic!("expected a new alert") };
    assert_eq!(draft.alert.id, AlertId(6));
}

#[test]
fn a_red_declaration_escalates_an_active_yellow_alert_with_the_union_of_threats() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let mut yellow = declaration(3, AlertKind::AirRaid);
    yellow.level = AlertLevel::Yellow;
    yellow.threats = vec![Threat::Drones];
    let first = run(&mut book, Command::Declare(yellow), T0, &mut seq).unwrap();
    let mut red = declaration(3, AlertKind::AirRaid);
    red.threats = vec![Threat::BallisticMissiles];
    red.message = Some(LocalizedText { uk: Some("Балістика".into()), en: None });
    let later = T0 + time::Duration::minutes(3);
    let Decision::Record(draft) = book.decide(&Command::Declare(red), &operator(), later).unwrap() else {
        panic!("an escalation is written")
    };
    assert_eq!(draft.kind, EventType::Updated);
    let escalated = &draft.alert;
    assert_eq!(
        (escalated.id, escalated.level, escalated.started_at, escalated.updated_at),
        (first.id, AlertLevel::Red, T0, later)
    );
    assert_eq!(escalated.threats, [Threat::Drones, Threat::BallisticMissiles]);
    assert_eq!(changed_fields(&first, escalated), [AlertField::Level, AlertField::Threats, AlertField::Message]);
}

#[test]
fn a_yellow_declaration_never_lowers_a_red_alert() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let red = run(&mut book, Command::Declare(declaration(3, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    let mut yellow = declaration(3, AlertKind::AirRaid);
    yellow.level = AlertLevel::Yellow;
    assert_eq!(book.decide(&Command::Declare(yellow.clone()), &operator(), T0), Ok(Decision::Unchanged(red.clone())));
    yellow.threats = vec![Threat::Aviation];
    let escalated = run(&mut book, Command::Declare(yellow), T0, &mut seq).unwrap();
    assert_eq!((escalated.level, escalated.threats.as_slice()), (AlertLevel::Red, [Threat::Aviation].as_slice()));
    assert_eq!(changed_fields(&red, &escalated), [AlertField::Threats]);
}

#[test]
fn texts_with_characters_xml_does_not_allow_are_refused_naming_the_language() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    for c in ['\u{0}', '\u{8}', '\u{b}', '\u{c}', '\u{e}', '\u{1f}', '\u{fffe}', '\u{ffff}'] {
        let mut pasted = declaration(3, AlertKind::AirRaid);
        pasted.message =
            Some(LocalizedText { uk: Some("Рядок".into()), en: Some(format!("Line one{c}line two")) });
        assert_eq!(
            book.decide(&Command::Declare(pasted), &operator(), T0),
            Err(AlertError::InvalidCharacters { field: "message.en", code_point: u32::from(c) })
        );
    }
    let mut fine = declaration(3, AlertKind::AirRaid);
    fine.instruction =
        Some(LocalizedText { uk: Some("Рядок\tодин\r\nрядок два 🚨".into()), en: None });
    let alert = run(&mut book, Command::Declare(fine), T0, &mut seq).unwrap();
    let changes =
        AlertChanges { instruction: Some(LocalizedText { uk: Some("\u{b}".into()), en: None }), ..Default::default() };
    assert_eq!(
        book.decide(&Command::Update { id: alert.id, changes }, &operator(), T0),
        Err(AlertError::InvalidCharacters { field: "instruction.uk", code_point: 0xB })
    );
}

/// Declares `declaration` at T0 and gives the all-clear 40 minutes later; returns the cancelled
/// alert as the log records it.
fn declared_then_cancelled(book: &mut AlertBook, declaration: Declaration, seq: &mut u64) -> Alert {
    let alert = run(book, Command::Declare(declaration), T0, seq).unwrap();
    run(book, Command::Cancel { id: alert.id }, T0 + time::Duration::minutes(40), seq).unwrap()
}

#[test]
fn reinstating_a_cancelled_alert_declares_it_again_as_a_new_alert_naming_it() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let mut timed = declaration(3, AlertKind::AirRaid);
    timed.level = AlertLevel::Yellow;
    timed.threats = vec![Threat::Drones, Threat::CruiseMissiles];
    timed.message = Some(LocalizedText { uk: Some("Загроза БпЛА".into()), en: Some("Drone threat".into()) });
    timed.instruction = Some(LocalizedText { uk: Some("До укриття".into()), en: None });
    timed.expires_at = Some(T0 + time::Duration::hours(3));
    let cancelled = declared_then_cancelled(&mut book, timed, &mut seq);
    assert_eq!(book.region_state(RegionId(3)), RegionState::Clear);

    let at = T0 + time::Duration::minutes(42);
    let Decision::Record(draft) = book.decide_reinstate(cancelled.id, Some(&cancelled), &operator(), at).unwrap()
    else {
        panic!("a reinstatement is written")
    };
    assert_eq!((draft.kind, draft.at), (EventType::Declared, at));
    let again = &draft.alert;
    assert_eq!((again.id, again.reinstates), (AlertId(2), Some(cancelled.id)));
    assert_eq!(
        (again.region_id, again.kind, again.level, again.status),
        (cancelled.region_id, cancelled.kind, cancelled.level, cancelled.status)
    );
    assert_eq!(
        (&again.threats, &again.message, &again.instruction),
        (&cancelled.threats, &cancelled.message, &cancelled.instruction)
    );
    assert_eq!((again.started_at, again.updated_at, again.expires_at), (at, at, cancelled.expires_at));
    assert_eq!((again.finished_at, again.finish_reason, &again.declared_by), (None, None, &operator()));
    book.apply(&draft.into_event(seq + 1));
    assert_eq!(book.region_state(RegionId(3)), RegionState::Alert);
    assert_eq!(book.region_state(RegionId(1)), RegionState::Partial);
}

#[test]
fn a_reinstated_alert_keeps_no_expiry_that_has_passed_and_a_drill_stays_a_drill() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let mut drill = declaration(3, AlertKind::AirRaid);
    drill.status = AlertStatus::Exercise;
    drill.expires_at = Some(T0 + time::Duration::hours(1));
    let cancelled = declared_then_cancelled(&mut book, drill, &mut seq);
    let later = T0 + time::Duration::hours(2);
    let again = run(&mut book, Command::Declare(declaration(4, AlertKind::AirRaid)), later, &mut seq).unwrap();
    assert_eq!(again.id, AlertId(2));
    let Decision::Record(draft) = book.decide_reinstate(cancelled.id, Some(&cancelled), &operator(), later).unwrap()
    else {
        panic!("a reinstatement is written")
    };
    assert_eq!((draft.alert.status, draft.alert.expires_at), (AlertStatus::Exercise, None));
    book.apply(&draft.into_event(seq + 1));
    assert_eq!(book.region_state(RegionId(3)), RegionState::Clear, "a drill never changes a region's state");
}

#[test]
fn only_an_alert_ended_by_an_all_clear_can_be_reinstated() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let active = run(&mut book, Command::Declare(declaration(3, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    let mut timed = declaration(5, AlertKind::AirRaid);
    timed.expires_at = Some(T0 + time::Duration::hours(1));
    let timed = run(&mut book, Command::Declare(timed), T0, &mut seq).unwrap();
    let at = T0 + time::Duration::hours(1);
    let expired = run(&mut book, Command::Expire { id: timed.id }, at, &mut seq).unwrap();
    let cases = [
        (active.id, Some(&active), AlertError::StillActive { id: active.id }),
        (expired.id, Some(&expired), AlertError::NotCancelled { id: expired.id }),
        (AlertId(99), None, AlertError::NotFound { id: AlertId(99) }),
    ];
    for (id, recorded, expected) in cases {
        assert_eq!(book.decide_reinstate(id, recorded, &operator(), at), Err(expected));
    }
    assert_eq!(
        book.decide(&Command::Reinstate { id: active.id }, &operator(), at),
        Err(AlertError::StillActive { id: active.id }),
        "the command says the same"
    );
}

#[test]
fn reinstating_again_answers_the_alert_that_already_reinstates_it() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let cancelled = declared_then_cancelled(&mut book, declaration(3, AlertKind::AirRaid), &mut seq);
    let at = T0 + time::Duration::hours(1);
    let Decision::Record(draft) = book.decide_reinstate(cancelled.id, Some(&cancelled), &operator(), at).unwrap()
    else {
        panic!("a reinstatement is written")
    };
    let event = draft.into_event(seq + 1);
    book.apply(&event);
    assert_eq!(
        book.decide_reinstate(cancelled.id, Some(&cancelled), &operator(), at),
        Ok(Decision::Unchanged(event.alert))
    );
}

#[test]
fn reinstating_where_the_same_alert_is_active_again_escalates_it_as_a_declaration_would() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let mut red = declaration(3, AlertKind::AirRaid);
    red.threats = vec![Threat::BallisticMissiles];
    let cancelled = declared_then_cancelled(&mut book, red, &mut seq);
    let mut yellow = declaration(3, AlertKind::AirRaid);
    yellow.level = AlertLevel::Yellow;
    yellow.threats = vec![Threat::Drones];
    let active = run(&mut book, Command::Declare(yellow), T0 + time::Duration::hours(1), &mut seq).unwrap();

    let at = T0 + time::Duration::hours(2);
    let Decision::Record(draft) = book.decide_reinstate(cancelled.id, Some(&cancelled), &operator(), at).unwrap()
    else {
        panic!("the escalation is written")
    };
    assert_eq!(draft.kind, EventType::Updated);
    assert_eq!((draft.alert.id, draft.alert.level, draft.alert.reinstates), (active.id, AlertLevel::Red, None));
    assert_eq!(draft.alert.threats, [Threat::Drones, Threat::BallisticMissiles]);
    book.apply(&draft.into_event(seq + 1));
    let again = book.decide_reinstate(cancelled.id, Some(&cancelled), &operator(), at).unwrap();
    assert!(matches!(again, Decision::Unchanged(alert) if alert.id == active.id), "nothing more to add");
}

#[test]
fn a_declaration_carries_the_time_to_shelter_its_region_has_then() {
    let mut book = AlertBook::new(registry());
    let mut seq = 0;
    let none = run(&mut book, Command::Declare(declaration(3, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    assert_eq!(none.shelter_within_s, None, "none configured");
    let mut times = ShelterTimes::default();
    times.set(RegionId(1), Some(120));
    book.set_shelter_times(times);
    let inherited = run(&mut book, Command::Declare(declaration(4, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    assert_eq!(inherited.shelter_within_s, Some(120), "the hromada inherits the oblast's");
    let other = run(&mut book, Command::Declare(declaration(5, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    assert_eq!(other.shelter_within_s, None, "another oblast has none");
    let kept = run(&mut book, Command::Declare(declaration(3, AlertKind::AirRaid)), T0, &mut seq).unwrap();
    assert_eq!(kept.shelter_within_s, None, "an active alert keeps what it was declared with");
}
