//! Random sequences of incident reports, updates and closures, decided by the domain and by a
//! brute-force model of the rules written separately: the two agree on every step, and what the
//! domain keeps never shows a private-only field on a public incident.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use time::macros::datetime;
use tryvoha_core::*;

#[derive(Clone, Debug)]
enum Step {
    Report {
        public: bool,
        address: bool,
        region: u32,
    },
    /// `address`: set one (`Some(true)`), clear it (`Some(false)`), or leave it.
    Update {
        which: usize,
        status: Option<u8>,
        public: Option<bool>,
        address: Option<bool>,
        people: Option<u32>,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (any::<bool>(), any::<bool>(), prop::sample::select(vec![3u32, 4]))
            .prop_map(|(public, address, region)| Step::Report { public, address, region }),
        (
            0usize..6,
            prop::option::of(0u8..3),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            prop::option::of(0u32..50)
        )
            .prop_map(|(which, status, public, address, people)| Step::Update {
                which,
                status,
                public,
                address,
                people
            }),
    ]
}

fn registry() -> RegionRegistry {
    RegionRegistry::from_csv(
        "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n2,1,raion,,R,R\n3,2,hromada,,H,H\n4,,oblast,,P,P\n",
    )
    .unwrap()
}

/// The model: what each incident is, by the rules as the issue states them.
#[derive(Clone, Debug)]
struct Model {
    status: u8, // 0 active, 1 contained, 2 closed
    public: bool,
    address: bool,
    people: Option<u32>,
}

fn status(n: u8) -> IncidentStatus {
    [IncidentStatus::Active, IncidentStatus::Contained, IncidentStatus::Closed][n as usize]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_domain_decides_as_the_model_does(steps in prop::collection::vec(step(), 1..40)) {
        let registry = registry();
        let grant = Grant { role: Role::Responder, regions: vec![RegionId(1)] };
        let actor = Actor { token_id: Some(1), name: "rescue".into() };
        let now = datetime!(2026-12-02 01:00 UTC);
        let mut kept: Vec<Incident> = Vec::new();
        let mut model: Vec<Model> = Vec::new();
        for step in steps {
            match step {
                Step::Report { public, address, region } => {
                    let report = IncidentReport {
                        kind: IncidentKind::Fire,
                        severity: Severity::Unknown,
                        region_id: RegionId(region),
                        lat: 50.0,
                        lon: 30.0,
                        description: LocalizedText { uk: Some("Пожежа".into()), en: None },
                        people_affected: None,
                        evacuated_to: None,
                        address: address.then(|| "адреса".to_string()),
                        casualty_details: None,
                        public,
                        alert_id: None,
                    };
                    let id = IncidentId(kept.len() as u64 + 1);
                    let decided = incident::report(report, id, actor.clone(), &grant, &registry, now);
                    let accepted = region == 3 && !(public && address);
                    prop_assert_eq!(decided.is_ok(), accepted, "report: {:?}", decided);
                    if let Ok(draft) = decided {
                        kept.push(draft.incident);
                        model.push(Model { status: 0, public, address, people: None });
                    }
                }
                Step::Update { which, status: to, public, address, people } => {
                    if kept.is_empty() {
                        continue;
                    }
                    let index = which % kept.len();
                    let changes = IncidentChanges {
                        status: to.map(status),
                        public,
                        address: address.map(|set| set.then(|| "адреса".to_string())),
                        people_affected: people,
                        ..IncidentChanges::default()
                    };
                    let decided = incident::update(&kept[index], changes, actor.clone(), &grant, &registry, now);
                    let before = model[index].clone();
                    let mut after = before.clone();
                    after.status = to.unwrap_or(before.status);
                    after.public = public.unwrap_or(before.public);
                    after.address = address.unwrap_or(before.address);
                    after.people = people.or(before.people);
                    let accepted = before.status != 2
                        && after.status >= before.status
                        && (after.public || !before.public)
                        && !(after.public && after.address);
                    prop_assert_eq!(decided.is_ok(), accepted, "update {:?} → {:?}: {:?}", before, after, decided);
                    if let Ok(draft) = decided {
                        let changed = after.status != before.status
                            || after.public != before.public
                            || after.address != before.address
                            || after.people != before.people;
                        prop_assert_eq!(draft.is_some(), changed, "an event exactly when something changed");
                        if let Some(draft) = draft {
                            prop_assert_eq!(draft.kind == IncidentEventType::IncidentClosed, after.status == 2);
                            kept[index] = draft.incident;
                            model[index] = after;
                        }
                    }
                }
            }
        }
        for (incident, model) in kept.iter().zip(&model) {
            prop_assert_eq!(incident.status, status(model.status));
            prop_assert_eq!(incident.public, model.public);
            prop_assert_eq!(incident.people_affected, model.people);
            prop_assert!(!(incident.public && incident.address.is_some()), "a public incident never holds an address");
        }
    }
}
