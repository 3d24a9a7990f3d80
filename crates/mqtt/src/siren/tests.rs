#![allow(clippy::unwrap_used)]

use super::*;
use crate::fixture::{AT, alert, apply, book};
use tryvoha_live::Signer;

fn signed(signer: &Signer, command: &SirenCommand) -> String {
    String::from_utf8(signer.sign_json(command)).unwrap()
}

fn sound_for(region: u32, counter: u64) -> SirenCommand {
    SirenCommand {
        kind: COMMAND_TYPE.into(),
        region_id: RegionId(region),
        command: SirenAction::Sound,
        counter,
        status: AlertStatus::Actual,
        alert_id: AlertId(1),
        issued_at: AT,
        expires_at: AT + DEFAULT_COMMAND_TTL,
    }
}

#[test]
fn a_real_air_raid_over_a_siren_sounds_it_once_and_the_all_clear_stops_it() {
    let mut book = book();
    let mut sirens = Sirens::new(vec![RegionId(400), RegionId(8)], DEFAULT_COMMAND_TTL);
    let declared = apply(&mut book, 1, alert(1, 4, AlertKind::AirRaid, AlertStatus::Actual), false);
    let commands = sirens.commands(&declared, &book);
    assert_eq!(commands.len(), 1, "only the siren under the oblast: {commands:?}");
    assert_eq!(
        (commands[0].region_id, commands[0].command, commands[0].counter),
        (RegionId(400), SirenAction::Sound, 1)
    );
    assert_eq!(commands[0].expires_at, AT + DEFAULT_COMMAND_TTL);

    let second = apply(&mut book, 2, alert(2, 40, AlertKind::AirRaid, AlertStatus::Actual), false);
    assert!(sirens.commands(&second, &book).is_empty(), "a siren already sounding is not told again");
    let first_ends = apply(&mut book, 3, alert(1, 4, AlertKind::AirRaid, AlertStatus::Actual), true);
    assert!(sirens.commands(&first_ends, &book).is_empty(), "the raion alert still covers it");
    let second_ends = apply(&mut book, 4, alert(2, 40, AlertKind::AirRaid, AlertStatus::Actual), true);
    let stop = sirens.commands(&second_ends, &book);
    assert_eq!(stop.len(), 1);
    assert_eq!((stop[0].command, stop[0].counter), (SirenAction::Stop, 4));
}

#[test]
fn a_new_session_catching_up_commands_the_state_now_under_a_counter_above_what_was_sent() {
    // Event 2 (the all-clear) was published as Stop #2, but its PUBACK was lost with the
    // session; event 3 (a new alert) was committed meanwhile. The next session replays event 2
    // against the book as it is now.
    let mut book = book();
    apply(&mut book, 1, alert(1, 4, AlertKind::AirRaid, AlertStatus::Actual), false);
    let all_clear = apply(&mut book, 2, alert(1, 4, AlertKind::AirRaid, AlertStatus::Actual), true);
    let again = apply(&mut book, 3, alert(2, 4, AlertKind::AirRaid, AlertStatus::Actual), false);
    let mut next_session = Sirens::new(vec![RegionId(400)], DEFAULT_COMMAND_TTL);
    let replayed = next_session.commands(&all_clear, &book);
    assert_eq!(replayed.len(), 1);
    assert_eq!((replayed[0].command, replayed[0].counter, replayed[0].alert_id), (SirenAction::Sound, 3, AlertId(2)));
    let signer = Signer::from_seed([7; 32]);
    let mut guard = SirenGuard::new(RegionId(400), vec![signer.public_key()], Some(2));
    let acted = guard.check(&signed(&signer, &replayed[0]), AT).expect("above the Stop #2 the controller acted on");
    assert_eq!(acted.command, SirenAction::Sound, "the siren sounds for the alert that is on now");
    assert!(next_session.commands(&again, &book).is_empty(), "event 3 is already commanded");
}

#[test]
fn drills_other_kinds_and_alerts_below_a_siren_command_nothing() {
    let mut book = book();
    let mut sirens = Sirens::new(vec![RegionId(40)], DEFAULT_COMMAND_TTL);
    let drill = apply(&mut book, 1, alert(1, 4, AlertKind::AirRaid, AlertStatus::Exercise), false);
    assert!(sirens.commands(&drill, &book).is_empty(), "an exercise never sounds a siren");
    let shelling = apply(&mut book, 2, alert(2, 4, AlertKind::ArtilleryShelling, AlertStatus::Actual), false);
    assert!(sirens.commands(&shelling, &book).is_empty());
    let below = apply(&mut book, 3, alert(3, 400, AlertKind::AirRaid, AlertStatus::Actual), false);
    assert!(sirens.commands(&below, &book).is_empty(), "an alert on one hromada does not sound the raion's siren");
}

#[test]
fn a_controller_acts_on_a_good_command_and_refuses_each_bad_one() {
    let signer = Signer::from_seed([7; 32]);
    let mut guard = SirenGuard::new(RegionId(400), vec![signer.public_key()], None);
    let good = guard.check(&signed(&signer, &sound_for(400, 10)), AT).expect("a good command is acted on");
    assert_eq!((good.command, guard.last_counter()), (SirenAction::Sound, Some(10)));

    let replay = guard.check(&signed(&signer, &sound_for(400, 10)), AT);
    assert_eq!(replay, Err(Refusal::Replayed { last: 10, got: 10 }), "the same command again is a replay");
    let older = guard.check(&signed(&signer, &sound_for(400, 9)), AT);
    assert_eq!(older, Err(Refusal::Replayed { last: 10, got: 9 }));

    let forger = Signer::from_seed([8; 32]);
    let forged = guard.check(&signed(&forger, &sound_for(400, 11)), AT);
    assert!(matches!(forged, Err(Refusal::Signature(_))), "another key: {forged:?}");
    let tampered = signed(&signer, &sound_for(400, 12)).replace("\"sound\"", "\"stop\"");
    assert_eq!(guard.check(&tampered, AT), Err(Refusal::Signature(SignatureError::Mismatch)));

    let elsewhere = guard.check(&signed(&signer, &sound_for(401, 13)), AT);
    assert_eq!(elsewhere, Err(Refusal::OtherRegion { expected: RegionId(400), got: RegionId(401) }));
    let drill = SirenCommand { status: AlertStatus::Exercise, ..sound_for(400, 14) };
    assert_eq!(guard.check(&signed(&signer, &drill), AT), Err(Refusal::NotActual(AlertStatus::Exercise)));
    let late = guard.check(&signed(&signer, &sound_for(400, 15)), AT + DEFAULT_COMMAND_TTL + Duration::seconds(1));
    assert_eq!(late, Err(Refusal::Expired(AT + DEFAULT_COMMAND_TTL)));
    assert_eq!(guard.last_counter(), Some(10), "no refused command moves the counter");

    let next = guard.check(&signed(&signer, &SirenCommand { command: SirenAction::Stop, ..sound_for(400, 16) }), AT);
    assert_eq!(next.map(|c| c.command), Ok(SirenAction::Stop));
}
