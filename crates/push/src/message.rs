//! One push message: what is encrypted (the event's signed frame, or a signed short frame when
//! the frame would not fit), and the headers a push service acts on (RFC 8030): `TTL`,
//! `Urgency`, `Topic`; then the request, encrypted (RFC 8291) and VAPID-signed (RFC 8292).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use time::OffsetDateTime;
use tryvoha_core::{AlertEvent, AlertId, AlertKind, AlertLevel, AlertStatus, RegionId, Seq, Threat};
use tryvoha_live::Signer;
use tryvoha_store::PushSubscription;
use web_push_native::jwt_simple::algorithms::ES256KeyPair;
use web_push_native::{Auth, WebPushBuilder};

/// The most a push service must accept, 4096 bytes, less the aes128gcm header (86), the tag
/// (16) and the padding delimiter (1).
pub const MAX_PLAINTEXT: usize = 3993;
/// A stale alert misleads: an undelivered one is dropped after minutes; an all-clear may wait
/// longer (a phone that wakes an hour later should still learn the alert is over).
pub const ALERT_TTL: Duration = Duration::from_secs(10 * 60);
pub const ALL_CLEAR_TTL: Duration = Duration::from_secs(60 * 60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urgency {
    High,
    Normal,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::High => "high",
            Urgency::Normal => "normal",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Message {
    pub body: Vec<u8>,
    pub urgency: Urgency,
    /// When the message stops being worth delivering: the event's time plus its lifetime. A
    /// message sent late (after an outage) carries only what is left of it as its `TTL`.
    pub expires_at: OffsetDateTime,
    /// One per region and kind (and drill status): a newer message replaces an undelivered
    /// older one about the same thing (the all-clear its alert), and never one about another
    /// alert on the region, nor a real alert by a drill.
    pub topic: String,
}

/// `<region>-<kind>`, with `-exercise` or `-test` for a drill: at most 32 characters of the
/// URL-safe base64 alphabet, as RFC 8030 asks.
fn topic(alert: &tryvoha_core::Alert) -> String {
    let drill = match alert.status {
        AlertStatus::Actual => "",
        AlertStatus::Exercise => "-exercise",
        AlertStatus::Test => "-test",
    };
    let topic = format!("{}-{}{drill}", alert.region_id.0, alert.kind.as_str());
    topic.chars().take(32).collect()
}

/// The frame without the texts, for when the whole frame would not fit: enough to notify and to
/// open the region page, signed like every frame.
#[derive(Serialize)]
struct ShortFrame {
    seq: Seq,
    #[serde(rename = "type")]
    kind: &'static str,
    short: bool,
    alert: ShortAlert,
}

#[derive(Serialize)]
struct ShortAlert {
    id: AlertId,
    region_id: RegionId,
    kind: AlertKind,
    level: AlertLevel,
    status: AlertStatus,
    threats: Vec<Threat>,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    finished_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shelter_within_s: Option<u32>,
}

impl Message {
    /// The message for `event`, whose signed frame is `frame` (the SSE `data:` bytes).
    pub fn for_event(event: &AlertEvent, frame: &[u8], signer: &Signer) -> Message {
        let alert = &event.alert;
        let ended = alert.finished_at.is_some();
        let body = if frame.len() <= MAX_PLAINTEXT {
            frame.to_vec()
        } else {
            signer.sign_json(&ShortFrame {
                seq: event.seq,
                kind: event.kind.as_str(),
                short: true,
                alert: ShortAlert {
                    id: alert.id,
                    region_id: alert.region_id,
                    kind: alert.kind,
                    level: alert.level,
                    status: alert.status,
                    threats: alert.threats.clone(),
                    started_at: alert.started_at,
                    finished_at: alert.finished_at,
                    shelter_within_s: alert.shelter_within_s,
                },
            })
        };
        Message {
            body,
            urgency: if ended { Urgency::Normal } else { Urgency::High },
            expires_at: event.at + if ended { ALL_CLEAR_TTL } else { ALERT_TTL },
            topic: topic(alert),
        }
    }

    /// What is left of the message's life at `now`; `None` once it expired (it is not sent).
    pub fn ttl_at(&self, now: OffsetDateTime) -> Option<Duration> {
        let left = self.expires_at - now;
        (left >= time::Duration::SECOND).then(|| Duration::from_secs(left.whole_seconds() as u64))
    }

    /// The request to `subscription`'s push service at `now`: encrypted to its keys, signed
    /// with the VAPID key on behalf of `contact` (`mailto:` or `https:`); `None` once expired.
    pub fn request(
        &self,
        subscription: &PushSubscription,
        vapid: &ES256KeyPair,
        contact: &str,
        now: OffsetDateTime,
    ) -> Result<Option<http::Request<Vec<u8>>>, String> {
        let Some(authorization) = self.authorization(&subscription.endpoint, vapid, contact, now)? else {
            return Ok(None);
        };
        self.request_with(subscription, &authorization, now)
    }

    /// The VAPID `Authorization` for the push service of `endpoint`, valid for the rest of the
    /// message's life: one per service and message, shared by all its requests rather than an
    /// ES256 signature per request.
    pub fn authorization(
        &self,
        endpoint: &str,
        vapid: &ES256KeyPair,
        contact: &str,
        now: OffsetDateTime,
    ) -> Result<Option<http::HeaderValue>, String> {
        let Some(ttl) = self.ttl_at(now) else { return Ok(None) };
        let endpoint: http::Uri = endpoint.parse().map_err(|_| "the endpoint is not a URI".to_owned())?;
        vapid_authorization(&endpoint, vapid, contact, ttl).map(Some)
    }

    /// [`Message::request`] with the service's `authorization` made already.
    pub fn request_with(
        &self,
        subscription: &PushSubscription,
        authorization: &http::HeaderValue,
        now: OffsetDateTime,
    ) -> Result<Option<http::Request<Vec<u8>>>, String> {
        let Some(ttl) = self.ttl_at(now) else { return Ok(None) };
        let endpoint: http::Uri = subscription.endpoint.parse().map_err(|_| "the endpoint is not a URI".to_owned())?;
        let key = URL_SAFE_NO_PAD.decode(&subscription.p256dh).map_err(|_| "p256dh is not base64url".to_owned())?;
        let key = web_push_native::p256::PublicKey::from_sec1_bytes(&key).map_err(|_| "p256dh is no P-256 key")?;
        let auth = URL_SAFE_NO_PAD.decode(&subscription.auth).map_err(|_| "auth is not base64url".to_owned())?;
        if auth.len() != 16 {
            return Err("auth is not 16 bytes".into());
        }
        let mut request = WebPushBuilder::new(endpoint, key, Auth::clone_from_slice(&auth))
            .with_valid_duration(ttl)
            .build(self.body.clone())
            .map_err(|error| format!("cannot encrypt: {error}"))?;
        let headers = request.headers_mut();
        headers.insert("authorization", authorization.clone());
        headers.insert("urgency", http::HeaderValue::from_static(self.urgency.as_str()));
        headers.insert("topic", http::HeaderValue::try_from(&self.topic).map_err(|_| "a bad topic")?);
        Ok(Some(request))
    }
}

/// `vapid t=<JWT>, k=<public key>` (RFC 8292), the JWT's `aud` the endpoint's origin *with*
/// its port (web-push-native's own drops it), `exp` the message's remaining life (at most a
/// day), `sub` the contact.
fn vapid_authorization(
    endpoint: &http::Uri,
    vapid: &ES256KeyPair,
    contact: &str,
    ttl: Duration,
) -> Result<http::HeaderValue, String> {
    use web_push_native::jwt_simple::algorithms::{ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike};
    use web_push_native::jwt_simple::claims::Claims;
    let scheme = endpoint.scheme_str().ok_or("the endpoint has no scheme")?;
    let authority = endpoint.authority().ok_or("the endpoint has no host")?;
    let default_port = if scheme == "https" { 443 } else { 80 };
    let origin = match authority.port_u16() {
        Some(port) if port != default_port => format!("{scheme}://{}:{port}", authority.host()),
        _ => format!("{scheme}://{}", authority.host()),
    };
    let life = ttl.clamp(Duration::from_secs(60), Duration::from_secs(24 * 3600));
    let claims = Claims::create(life.into()).with_audience(origin).with_subject(contact);
    let token = vapid.sign(claims).map_err(|error| format!("cannot sign the VAPID token: {error}"))?;
    let key = URL_SAFE_NO_PAD.encode(vapid.public_key().public_key().to_bytes_uncompressed());
    http::HeaderValue::try_from(format!("vapid t={token}, k={key}")).map_err(|_| "a bad VAPID header".to_owned())
}

#[cfg(test)]
mod tests;
