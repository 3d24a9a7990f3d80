//! The audit trail: every write the writer applies or refuses, as one structured `tracing`
//! line under the target `tryvoha::audit` (token changes log under the same target in
//! `credentials`). Who (token id and name), what (the command), where (region, alert) and the
//! result (the event's type and sequence number, or the refusal's reason).
//!
//! Lines are written by the writer, not by the caller, so a write whose caller went away is
//! logged all the same.

use tryvoha_core::{Command, RegionId};

use crate::{EngineError, Outcome, Request};

pub(crate) const TARGET: &str = "tryvoha::audit";

/// What a request was, captured before the writer consumes it.
pub(crate) struct Entry {
    token: Option<u64>,
    name: String,
    action: &'static str,
    alert: Option<u64>,
    region: Option<RegionId>,
}

impl Entry {
    pub(crate) fn of(request: &Request) -> Entry {
        let (action, alert, region) = describe(&request.command);
        Entry { token: request.actor.token_id, name: request.actor.name.clone(), action, alert, region }
    }

    pub(crate) fn applied(&self, outcome: &Outcome) {
        let region = self.region.unwrap_or(outcome.alert.region_id).0;
        match &outcome.event {
            Some(event) => tracing::info!(
                target: TARGET,
                token = self.token,
                name = %self.name,
                action = self.action,
                alert = outcome.alert.id.0,
                reinstates = outcome.alert.reinstates.map(|id| id.0),
                region,
                event = event.kind.as_str(),
                seq = event.seq,
                "write applied"
            ),
            None => tracing::info!(
                target: TARGET,
                token = self.token,
                name = %self.name,
                action = self.action,
                alert = outcome.alert.id.0,
                region,
                "write changed nothing (already so, or an idempotent replay)"
            ),
        }
    }

    pub(crate) fn refused(&self, error: &EngineError) {
        self.not_applied(error, "write refused");
    }

    /// One warning line for a write that was not applied, and why.
    fn not_applied(&self, reason: &dyn std::fmt::Display, what: &str) {
        tracing::warn!(
            target: TARGET,
            token = self.token,
            name = %self.name,
            action = self.action,
            alert = self.alert,
            region = self.region.map(|r| r.0),
            reason = %reason,
            "{what}"
        );
    }
}

/// A request dropped before it was decided: its caller was gone or had been told it timed out.
pub(crate) fn dropped(request: &Request) {
    let reason = "the caller stopped waiting (timed out or disconnected) before it was applied";
    Entry::of(request).not_applied(&reason, "write not applied");
}

fn describe(command: &Command) -> (&'static str, Option<u64>, Option<RegionId>) {
    match command {
        Command::Declare(declaration) => ("declare", None, Some(declaration.region_id)),
        Command::Update { id, .. } => ("update", Some(id.0), None),
        Command::Cancel { id } => ("cancel", Some(id.0), None),
        Command::Expire { id } => ("expire", Some(id.0), None),
        Command::Reinstate { id } => ("reinstate", Some(id.0), None),
    }
}
