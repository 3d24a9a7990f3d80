//! A frame: one event, serialized and signed once, shared by every subscriber.

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use time::OffsetDateTime;
use tryvoha_core::{Alert, AlertBook, Event, RegionId, RegionState, Seq};
use tryvoha_deliveries::{AlertDeliveries, Channel, LatencyCounts, Ledger};

use crate::filter::Filter;
use crate::metrics::Transport;
use crate::signer::Signer;
use crate::websocket;

#[derive(Debug)]
pub struct Frame {
    /// The SSE `id`: the event's sequence number, or for a snapshot or reset the last sequence
    /// number it reflects.
    pub seq: Seq,
    /// The SSE `event` name, also the JSON's `type`.
    pub name: &'static str,
    /// The signed JSON: the WebSocket text and the SSE `data`.
    pub json: Bytes,
    /// The whole SSE frame, `id:`, `event:`, `data:` and the blank line.
    pub sse: Bytes,
    /// The whole WebSocket text frame: its header, then the JSON (which `json` shares).
    pub websocket: Bytes,
    /// When the event was decided: the start of the declare→delivered latency.
    pub decided_at: OffsetDateTime,
    /// The counts of the alert this event is about, which every channel that delivers the
    /// frame adds to; none for a snapshot or reset.
    pub deliveries: Option<Arc<AlertDeliveries>>,
}

/// The current state for a subscriber that has nothing yet (`snapshot`) or whose resume point
/// the log cannot serve (`reset`).
#[derive(Serialize)]
struct StateDocument {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: Seq,
    /// The regions asked for, or without a region filter every region that is not clear.
    regions: Vec<RegionStatus>,
    /// Active alerts that match the filter, as published (declared by the authority).
    alerts: Vec<Alert>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requested_after: Option<Seq>,
}

#[derive(Serialize)]
struct RegionStatus {
    id: RegionId,
    state: RegionState,
}

impl Frame {
    /// The event as the public sees it: the signer's authority in place of the token that acted
    /// (the admin event log keeps who acted). One frame per event, shared by every subscriber.
    pub fn event(event: &Event, signer: &Signer) -> Frame {
        let json = signer.sign_json(&event.published_by(signer.authority()));
        Frame::new(event.seq(), event.name(), json, event.at())
    }

    /// [`Frame::event`] counting its deliveries in `ledger` under the event's alert (an alert's
    /// event; the others count nowhere).
    pub fn counted_event(event: &Event, signer: &Signer, ledger: &Ledger) -> Frame {
        let deliveries = event.as_alert().map(|event| ledger.alert(event.alert.id));
        Frame { deliveries, ..Frame::event(event, signer) }
    }

    /// The bytes a stream of `transport` writes for this frame.
    pub fn bytes(&self, transport: Transport) -> &Bytes {
        match transport {
            Transport::Sse => &self.sse,
            Transport::WebSocket => &self.websocket,
        }
    }

    /// A channel begins delivering this frame (an event's frame counts for its alert).
    pub fn attempted(&self, channel: Channel) {
        if let Some(deliveries) = &self.deliveries {
            deliveries.attempted(channel);
        }
    }

    /// A channel delivered this frame: counted with its latency since the decision.
    pub fn delivered(&self, channel: Channel) {
        if let Some(deliveries) = &self.deliveries {
            let latency = (OffsetDateTime::now_utc() - self.decided_at).try_into().unwrap_or_default();
            deliveries.delivered(channel, latency);
        }
    }

    /// Deliveries of this frame counted elsewhere, each attempted and made ([`LatencyCounts`]).
    pub fn delivered_all(&self, channel: Channel, counts: &LatencyCounts) {
        if let Some(deliveries) = &self.deliveries {
            deliveries.delivered_all(channel, counts);
        }
    }

    pub fn failed(&self, channel: Channel) {
        if let Some(deliveries) = &self.deliveries {
            deliveries.failed(channel);
        }
    }

    /// Not sent: the message's life was over first.
    pub fn expired(&self, channel: Channel) {
        if let Some(deliveries) = &self.deliveries {
            deliveries.expired(channel);
        }
    }

    /// The recipient is gone (404/410) and was removed.
    pub fn pruned(&self, channel: Channel) {
        if let Some(deliveries) = &self.deliveries {
            deliveries.pruned(channel);
        }
    }

    pub fn snapshot(book: &AlertBook, filter: &Filter, signer: &Signer, now: OffsetDateTime) -> Frame {
        Frame::state("snapshot", book, filter, None, signer, now)
    }

    pub fn reset(
        book: &AlertBook,
        filter: &Filter,
        requested_after: Seq,
        signer: &Signer,
        now: OffsetDateTime,
    ) -> Frame {
        Frame::state("reset", book, filter, Some(requested_after), signer, now)
    }

    fn state(
        kind: &'static str,
        book: &AlertBook,
        filter: &Filter,
        requested_after: Option<Seq>,
        signer: &Signer,
        now: OffsetDateTime,
    ) -> Frame {
        let registry = book.registry();
        let regions = if filter.regions.is_empty() {
            registry
                .all()
                .iter()
                .map(|r| RegionStatus { id: r.id, state: book.region_state(r.id) })
                .filter(|r| r.state != RegionState::Clear)
                .collect()
        } else {
            filter.regions.iter().map(|&id| RegionStatus { id, state: book.region_state(id) }).collect()
        };
        let alerts =
            book.active().filter(|a| filter.matches(a, registry)).map(|a| a.published_by(signer.authority())).collect();
        let document = StateDocument { kind, seq: book.last_seq(), regions, alerts, requested_after };
        Frame::new(book.last_seq(), kind, signer.sign_json(&document), now)
    }

    pub(crate) fn new(seq: Seq, name: &'static str, json: Vec<u8>, decided_at: OffsetDateTime) -> Frame {
        let mut sse = Vec::with_capacity(json.len() + 40);
        sse.extend_from_slice(format!("id: {seq}\nevent: {name}\ndata: ").as_bytes());
        sse.extend_from_slice(&json);
        sse.extend_from_slice(b"\n\n");
        let websocket = Bytes::from(websocket::frame(websocket::TEXT, &json));
        let json = websocket.slice(websocket.len() - json.len()..);
        Frame { seq, name, json, sse: Bytes::from(sse), websocket, decided_at, deliveries: None }
    }
}
