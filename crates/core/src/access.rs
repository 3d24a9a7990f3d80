//! Who may do what: roles, region scopes, and the actor recorded on every event.

use serde::{Deserialize, Serialize};

use crate::region::{RegionId, RegionRegistry};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "`admin`: everything, including tokens and the event log. `operator`: declares, updates and cancels alerts inside its region subtrees, and reports incidents and shelter status there. `responder`: reports incidents and shelter status inside its region subtrees (emergency services), and sees non-public incidents. `reader`: reads the APIs that require a token."
    )
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including tokens and the raw event log.
    Admin,
    /// Declares, updates and cancels alerts inside its region subtrees; reports incidents and
    /// shelter status there too.
    Operator,
    /// Emergency services: reports and updates incidents and shelter status inside its region
    /// subtrees; declares no alert.
    Responder,
    /// Reads the APIs that require a token (the compatible APIs).
    Reader,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "responder" => Some(Role::Responder),
            "reader" => Some(Role::Reader),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Responder => "responder",
            Role::Reader => "reader",
        }
    }
}

/// What a token allows: its role and, for operators, the roots of the subtrees it may act in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub regions: Vec<RegionId>,
}

impl Grant {
    pub fn admin() -> Grant {
        Grant { role: Role::Admin, regions: Vec::new() }
    }

    /// May this grant declare, update or cancel an alert for `region`?
    pub fn may_alert(&self, region: RegionId, registry: &RegionRegistry) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Operator => self.within(region, registry),
            Role::Responder | Role::Reader => false,
        }
    }

    /// May this grant report or change an incident, or a shelter's status, in `region`?
    pub fn may_respond(&self, region: RegionId, registry: &RegionRegistry) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Operator | Role::Responder => self.within(region, registry),
            Role::Reader => false,
        }
    }

    /// May this grant see incidents that are not public (and their private fields)?
    pub fn sees_private_incidents(&self) -> bool {
        self.role != Role::Reader
    }

    fn within(&self, region: RegionId, registry: &RegionRegistry) -> bool {
        self.regions.iter().any(|&root| registry.is_within(region, root))
    }
}

/// Who caused an event: a token (by id and name), the admin credential given in the
/// configuration (no id), or the server itself (expiry).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "Who caused an event: in the admin event log (`/api/v1/events`) and the answers to writes, a token (by id and name), the admin token given in the configuration (`token_id` null, `name` \"admin\"), or the server itself when an alert expires (`token_id` null, `name` \"system\"). Everywhere public (streams, alert and region reads) it is the issuing authority instead: `token_id` null and `name` the server's `authority` setting (by default the CAP sender)."
    )
)]
pub struct Actor {
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub token_id: Option<u64>,
    pub name: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor { token_id: None, name: "system".into() }
    }

    pub fn configured_admin() -> Actor {
        Actor { token_id: None, name: "admin".into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> RegionRegistry {
        RegionRegistry::from_csv(
            "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n2,1,raion,,R,R\n\
             3,2,hromada,,H,H\n4,,oblast,,P,P\n",
        )
        .unwrap()
    }

    #[test]
    fn an_operator_may_alert_only_inside_its_subtrees() {
        let registry = registry();
        let operator = Grant { role: Role::Operator, regions: vec![RegionId(2)] };
        assert!(operator.may_alert(RegionId(2), &registry));
        assert!(operator.may_alert(RegionId(3), &registry));
        assert!(!operator.may_alert(RegionId(1), &registry), "not the parent");
        assert!(!operator.may_alert(RegionId(4), &registry), "not another oblast");
    }

    #[test]
    fn responders_report_inside_their_subtrees_and_never_alert() {
        let registry = registry();
        let responder = Grant { role: Role::Responder, regions: vec![RegionId(1)] };
        assert!(responder.may_respond(RegionId(3), &registry));
        assert!(!responder.may_respond(RegionId(4), &registry), "not another oblast");
        assert!(!responder.may_alert(RegionId(3), &registry), "a responder declares no alert");
        let reader = Grant { role: Role::Reader, regions: vec![RegionId(1)] };
        assert!(!reader.may_respond(RegionId(3), &registry) && !reader.sees_private_incidents());
        assert!(responder.sees_private_incidents());
    }

    #[test]
    fn readers_never_alert_and_admins_always_may() {
        let registry = registry();
        let reader = Grant { role: Role::Reader, regions: vec![RegionId(1)] };
        assert!(!reader.may_alert(RegionId(1), &registry));
        assert!(Grant::admin().may_alert(RegionId(4), &registry));
    }
}
