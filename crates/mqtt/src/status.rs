//! What the publisher reports to `/metrics`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// The publisher's state, kept in atomics that the publisher moves and `/metrics` reads.
#[derive(Default)]
pub struct MqttStatus {
    pub connected: AtomicBool,
    pub sessions: AtomicU64,
    /// The last sequence number every publish of which the broker acknowledged.
    pub acknowledged: AtomicU64,
    pub published: AtomicU64,
}

impl MqttStatus {
    pub fn render_metrics(&self) -> String {
        format!(
            "# HELP tryvoha_mqtt_connected Whether the MQTT publisher is connected to its broker.\n\
             # TYPE tryvoha_mqtt_connected gauge\ntryvoha_mqtt_connected {}\n\
             # HELP tryvoha_mqtt_sessions_total Connections the MQTT publisher made.\n\
             # TYPE tryvoha_mqtt_sessions_total counter\ntryvoha_mqtt_sessions_total {}\n\
             # HELP tryvoha_mqtt_acknowledged_seq The last event every MQTT publish of which the broker acknowledged.\n\
             # TYPE tryvoha_mqtt_acknowledged_seq gauge\ntryvoha_mqtt_acknowledged_seq {}\n\
             # HELP tryvoha_mqtt_published_total Messages published (QoS 1) to the broker.\n\
             # TYPE tryvoha_mqtt_published_total counter\ntryvoha_mqtt_published_total {}\n",
            u8::from(self.connected.load(Relaxed)),
            self.sessions.load(Relaxed),
            self.acknowledged.load(Relaxed),
            self.published.load(Relaxed),
        )
    }
}
