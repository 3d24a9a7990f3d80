//! Which publishes the broker has acknowledged, and so how far the cursor may move.
//!
//! The client numbers publishes (packet ids) in the order they were handed to it, and the broker
//! acknowledges each id (PUBACK). An event counts as delivered once every publish it caused was
//! acknowledged, and the cursor may pass it once every earlier event is delivered too.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use tryvoha_core::Seq;
use tryvoha_live::Frame;

/// What a publish was for, so that its PUBACK can be counted.
pub(crate) struct Tag {
    /// The event that caused it; none for a session's opening documents.
    pub seq: Option<Seq>,
    /// The event's frame, when this is its publish on `events` (counted for its alert).
    pub frame: Option<Arc<Frame>>,
}

impl Tag {
    pub fn opening() -> Tag {
        Tag { seq: None, frame: None }
    }

    pub fn of(seq: Option<Seq>) -> Tag {
        Tag { seq, frame: None }
    }
}

pub(crate) struct Acks {
    /// Publishes handed to the client, in order, not yet given a packet id.
    sent: VecDeque<Tag>,
    /// Publishes given a packet id and waiting for their PUBACK.
    inflight: HashMap<u16, Tag>,
    /// Per event: how many of its publishes wait for a PUBACK.
    waiting: BTreeMap<Seq, usize>,
    /// The last event all of whose publishes were handed to the client.
    last_sent: Seq,
}

impl Acks {
    /// A session that follows the log after `after`.
    pub fn after(after: Seq) -> Acks {
        Acks { sent: VecDeque::new(), inflight: HashMap::new(), waiting: BTreeMap::new(), last_sent: after }
    }

    /// A publish is about to be handed to the client.
    pub fn sending(&mut self, tag: Tag) {
        if let Some(seq) = tag.seq {
            *self.waiting.entry(seq).or_default() += 1;
        }
        self.sent.push_back(tag);
    }

    /// Every publish of event `seq` has been handed to the client.
    pub fn event_sent(&mut self, seq: Seq) {
        self.last_sent = seq;
    }

    pub fn last_sent(&self) -> Seq {
        self.last_sent
    }

    /// The client sent the oldest publish not yet numbered, as packet `pkid`.
    pub fn numbered(&mut self, pkid: u16) {
        if let Some(tag) = self.sent.pop_front() {
            self.inflight.insert(pkid, tag);
        }
    }

    /// The broker acknowledged `pkid`: its tag, if it was ours.
    pub fn acknowledged_packet(&mut self, pkid: u16) -> Option<Tag> {
        let tag = self.inflight.remove(&pkid)?;
        if let Some(seq) = tag.seq
            && let Some(waiting) = self.waiting.get_mut(&seq)
        {
            *waiting -= 1;
            if *waiting == 0 {
                self.waiting.remove(&seq);
            }
        }
        Some(tag)
    }

    /// The last event that, with every earlier one, the broker has in full.
    pub fn acknowledged(&self) -> Seq {
        self.waiting.keys().next().map_or(self.last_sent, |&oldest| oldest - 1)
    }

    /// How many publishes wait for a PUBACK.
    pub fn unacknowledged(&self) -> usize {
        self.sent.len() + self.inflight.len()
    }

    /// The session ended: every publish still waiting, to be counted as failed.
    pub fn abandon(&mut self) -> impl Iterator<Item = Tag> + '_ {
        self.sent.drain(..).chain(self.inflight.drain().map(|(_, tag)| tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Event `seq` published as `count` messages.
    fn event(acks: &mut Acks, seq: Seq, count: usize) {
        for _ in 0..count {
            acks.sending(Tag::of(Some(seq)));
        }
        acks.event_sent(seq);
    }

    #[test]
    fn the_cursor_passes_an_event_only_once_it_and_every_earlier_one_are_acknowledged() {
        let mut acks = Acks::after(4);
        acks.sending(Tag::opening());
        event(&mut acks, 5, 2);
        event(&mut acks, 6, 1);
        assert_eq!(acks.acknowledged(), 4, "nothing acknowledged yet");
        for pkid in 1..=4 {
            acks.numbered(pkid);
        }
        assert!(acks.acknowledged_packet(4).is_some(), "event 6's only publish");
        assert_eq!(acks.acknowledged(), 4, "event 6 is in, but event 5 is not: the cursor waits");
        acks.acknowledged_packet(2);
        assert_eq!(acks.acknowledged(), 4, "half of event 5");
        acks.acknowledged_packet(3);
        assert_eq!(acks.acknowledged(), 6, "5 and 6 in full");
        acks.acknowledged_packet(1);
        assert_eq!(
            (acks.acknowledged(), acks.unacknowledged()),
            (6, 0),
            "the opening documents do not hold the cursor"
        );
        assert!(acks.acknowledged_packet(9).is_none(), "an unknown packet id is not ours");
    }

    #[test]
    fn a_lost_session_abandons_what_waits_and_leaves_the_cursor_where_it_was() {
        let mut acks = Acks::after(0);
        event(&mut acks, 1, 1);
        event(&mut acks, 2, 1);
        acks.numbered(1);
        acks.acknowledged_packet(1);
        acks.numbered(2);
        assert_eq!(acks.acknowledged(), 1);
        assert_eq!(acks.abandon().count(), 1, "event 2's publish never got its PUBACK");
        assert_eq!(acks.unacknowledged(), 0);
        assert_eq!(acks.acknowledged(), 1, "what was abandoned is still not acknowledged");
    }
}
