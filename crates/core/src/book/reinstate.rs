//! Taking back a mistaken all-clear. An all-clear sent in error is as dangerous as a false
//! alert: people leave their shelters. The cancelled alert is declared again, as a new alert
//! that names it (`reinstates`), in an ordinary `declared` event that every client already
//! treats as a live alert.

use time::OffsetDateTime;

use crate::access::Actor;
use crate::alert::{Alert, AlertId, FinishReason};
use crate::book::{AlertBook, AlertError, Decision, Declaration};
use crate::event::EventType;

impl AlertBook {
    /// Decides a reinstatement of alert `id`. `recorded` is that alert as the log last recorded
    /// it, `None` when the log has no such alert: the book keeps only active alerts, so the
    /// caller (the engine's writer) reads a finished one from the log.
    ///
    /// - Alert `id` is still active: [`AlertError::StillActive`].
    /// - An active alert already reinstates it: that alert, unchanged, so that a repeated
    ///   request never declares twice.
    /// - No such alert: [`AlertError::NotFound`]; one that ended at its expiry rather than by an
    ///   all-clear: [`AlertError::NotCancelled`].
    /// - Otherwise what it was (region, kind, level, status, threats, texts, and its expiry if
    ///   that is still ahead) is declared again, decided like any declaration: a new alert with
    ///   `reinstates`; or, when an alert of the same region, kind and status is active, that
    ///   alert escalated (unchanged when the declaration adds nothing to it).
    pub fn decide_reinstate(
        &self,
        id: AlertId,
        recorded: Option<&Alert>,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> Result<Decision, AlertError> {
        if self.active.contains_key(&id) {
            return Err(AlertError::StillActive { id });
        }
        // Few alerts are active at once and reinstatements are rare: a scan is enough.
        if let Some(reinstated) = self.active.values().find(|alert| alert.reinstates == Some(id)) {
            return Ok(Decision::Unchanged(reinstated.clone()));
        }
        let ended = recorded.ok_or(AlertError::NotFound { id })?;
        match ended.finish_reason {
            Some(FinishReason::Cancelled) => {}
            Some(FinishReason::Expired) => return Err(AlertError::NotCancelled { id }),
            // Active in the log yet not in the book cannot be (the book is the log's fold);
            // it would still be no all-clear to take back.
            None => return Err(AlertError::StillActive { id }),
        }
        let mut decision = self.decide_declare(&declaration_of(ended, now), actor, now)?;
        if let Decision::Record(draft) = &mut decision
            && draft.kind == EventType::Declared
        {
            draft.alert.reinstates = Some(id);
        }
        Ok(decision)
    }
}

/// What `ended` was, to be declared again at `now`; its expiry only if that is still ahead.
fn declaration_of(ended: &Alert, now: OffsetDateTime) -> Declaration {
    Declaration {
        region_id: ended.region_id,
        kind: ended.kind,
        level: ended.level,
        status: ended.status,
        threats: ended.threats.clone(),
        message: ended.message.clone(),
        instruction: ended.instruction.clone(),
        expires_at: ended.expires_at.filter(|expiry| *expiry > now),
    }
}
