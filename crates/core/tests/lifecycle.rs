//! Property tests of the alert lifecycle: random sequences of declare / update / cancel /
//! expire / reinstate never reach an invalid state, and the incrementally kept region states always equal a
//! brute-force recomputation from the list of active alerts.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use proptest::prelude::*;
use time::{Duration, OffsetDateTime, macros::datetime};
use tryvoha_core::*;

const T0: OffsetDateTime = datetime!(2026-11-27 00:00 UTC);

/// Two oblasts, each with two raions of two hromadas: enough shape for every state.
fn registry() -> Arc<RegionRegistry> {
    let mut csv = String::from("id,parent_id,level,katottg,name_uk,name_en\n");
    for oblast in [1u32, 2] {
        csv += &format!("{oblast},,oblast,,O{oblast},O{oblast}\n");
        for raion in 0..2 {
            let raion_id = oblast * 10 + raion;
            csv += &format!("{raion_id},{oblast},raion,,R{raion_id},R{raion_id}\n");
            for hromada in 0..2 {
                let id = raion_id * 10 + hromada;
                csv += &format!("{id},{raion_id},hromada,,H{id},H{id}\n");
            }
        }
    }
    Arc::new(RegionRegistry::from_csv(&csv).unwrap())
}

#[derive(Clone, Debug)]
enum Step {
    Declare {
        region_index: usize,
        kind: AlertKind,
        status: AlertStatus,
        level: AlertLevel,
        threats: Vec<Threat>,
        expires_in: Option<i64>,
    },
    Update {
        alert_pick: usize,
        level: AlertLevel,
    },
    Cancel {
        alert_pick: usize,
    },
    Expire {
        alert_pick: usize,
    },
    Reinstate {
        alert_pick: usize,
    },
    Wait {
        minutes: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..14usize, prop::sample::select(AlertKind::ALL.to_vec()),
              prop::sample::select(AlertStatus::ALL.to_vec()), prop::sample::select(AlertLevel::ALL.to_vec()),
              prop::sample::subsequence(Threat::ALL.to_vec(), 0..3), prop::option::of(1..120i64))
            .prop_map(|(region_index, kind, status, level, threats, expires_in)| {
                Step::Declare { region_index, kind, status, level, threats, expires_in }
            }),
        1 => (0..50usize, prop::sample::select(AlertLevel::ALL.to_vec()))
            .prop_map(|(alert_pick, level)| Step::Update { alert_pick, level }),
        2 => (0..50usize).prop_map(|alert_pick| Step::Cancel { alert_pick }),
        1 => (0..50usize).prop_map(|alert_pick| Step::Expire { alert_pick }),
        1 => (0..50usize).prop_map(|alert_pick| Step::Reinstate { alert_pick }),
        1 => (1..90i64).prop_map(|minutes| Step::Wait { minutes }),
    ]
}

fn brute_force_state(registry: &RegionRegistry, active: &[Alert], region: RegionId) -> RegionState {
    let real: Vec<_> = active.iter().filter(|a| a.status == AlertStatus::Actual).collect();
    if real.iter().any(|a| registry.is_within(region, a.region_id)) {
        RegionState::Alert
    } else if real.iter().any(|a| a.region_id != region && registry.is_within(a.region_id, region)) {
        RegionState::Partial
    } else {
        RegionState::Clear
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_command_sequence_keeps_the_book_consistent(steps in prop::collection::vec(step(), 1..60)) {
        let registry = registry();
        let regions: Vec<RegionId> = registry.all().iter().map(|r| r.id).collect();
        let mut book = AlertBook::new(registry.clone());
        let actor = Actor { token_id: Some(1), name: "op".into() };
        let (mut now, mut seq, mut issued) = (T0, 0u64, Vec::<AlertId>::new());
        let mut finished = HashSet::new();
        // Each alert as the log last recorded it: what the writer hands a reinstatement.
        let mut records = HashMap::<AlertId, Alert>::new();
        for step in steps {
            let command = match step {
                Step::Wait { minutes } => { now += Duration::minutes(minutes); continue; }
                Step::Declare { region_index, kind, status, level, threats, expires_in } => Command::Declare(Declaration {
                    region_id: regions[region_index % regions.len()], kind, level, status,
                    threats, message: None, instruction: None,
                    expires_at: expires_in.map(|m| now + Duration::minutes(m)),
                }),
                Step::Update { alert_pick, level } if !issued.is_empty() => Command::Update {
                    id: issued[alert_pick % issued.len()],
                    changes: AlertChanges { level: Some(level), ..Default::default() },
                },
                Step::Cancel { alert_pick } if !issued.is_empty() => Command::Cancel { id: issued[alert_pick % issued.len()] },
                Step::Expire { alert_pick } if !issued.is_empty() => Command::Expire { id: issued[alert_pick % issued.len()] },
                Step::Reinstate { alert_pick } if !issued.is_empty() => Command::Reinstate { id: issued[alert_pick % issued.len()] },
                _ => continue,
            };
            // The alert a declaration would meet: it must come out at least as severe, with at
            // least its threats and every threat declared (an escalation, never a swallow).
            let met = match &command {
                Command::Declare(d) => book
                    .active()
                    .find(|a| (a.region_id, a.kind, a.status) == (d.region_id, d.kind, d.status))
                    .cloned()
                    .map(|alert| (alert, d.clone())),
                _ => None,
            };
            let decision = match &command {
                Command::Reinstate { id } => book.decide_reinstate(*id, records.get(id), &actor, now),
                command => book.decide(command, &actor, now),
            };
            if let (Some((before, declared)), Ok(decision)) = (&met, &decision) {
                let after = match decision {
                    Decision::Record(draft) => {
                        prop_assert_eq!(draft.kind, EventType::Updated);
                        prop_assert!(!changed_fields(before, &draft.alert).is_empty());
                        &draft.alert
                    }
                    Decision::Unchanged(alert) => alert,
                };
                prop_assert_eq!(after.id, before.id);
                let red = before.level == AlertLevel::Red || declared.level == AlertLevel::Red;
                prop_assert_eq!(after.level == AlertLevel::Red, red, "the higher level, never lowered");
                for threat in before.threats.iter().chain(&declared.threats) {
                    prop_assert!(after.threats.contains(threat), "the union of threats");
                }
            }
            match decision {
                Ok(Decision::Record(draft)) => {
                    seq += 1;
                    let event = draft.into_event(seq);
                    prop_assert_eq!(event.alert.seq, seq);
                    match event.kind {
                        EventType::Declared => {
                            prop_assert!(!issued.contains(&event.alert.id), "ids are never reused");
                            issued.push(event.alert.id);
                            if let Some(ended) = event.alert.reinstates {
                                prop_assert_eq!(records[&ended].finish_reason, Some(FinishReason::Cancelled));
                                prop_assert!(!book.active().any(|a| a.reinstates == Some(ended)), "reinstated once");
                            }
                        }
                        EventType::Cancelled | EventType::Expired => {
                            prop_assert!(event.alert.finished_at.is_some());
                            prop_assert!(finished.insert(event.alert.id), "an alert finishes once");
                        }
                        EventType::Updated => prop_assert!(event.alert.is_active()),
                    }
                    book.apply(&event);
                    records.insert(event.alert.id, event.alert);
                }
                Ok(Decision::Unchanged(alert)) => prop_assert!(alert.is_active()),
                Err(AlertError::AlreadyFinished { id }) => prop_assert!(finished.contains(&id)),
                Err(AlertError::NotYetExpired { id }) => {
                    let alert = book.get(id).expect("only active alerts are not yet expired");
                    prop_assert!(alert.expires_at.is_none_or(|e| e > now));
                }
                Err(AlertError::StillActive { id }) => prop_assert!(book.get(id).is_some()),
                Err(AlertError::NotCancelled { id }) => {
                    prop_assert_eq!(records[&id].finish_reason, Some(FinishReason::Expired));
                }
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
            let active: Vec<Alert> = book.active().cloned().collect();
            let mut keys = HashSet::new();
            for alert in &active {
                prop_assert!(alert.finished_at.is_none());
                prop_assert!(!finished.contains(&alert.id));
                prop_assert!(keys.insert((alert.region_id, alert.kind, alert.status)), "one active alert per region, kind and status");
            }
            for &region in &regions {
                prop_assert_eq!(book.region_state(region), brute_force_state(&registry, &active, region), "region {}", region);
            }
        }
    }
}
