use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::macros::datetime;
use tryvoha_core::{Actor, Alert, AlertEvent, AlertId, AlertKind, AlertLevel, AlertStatus, EventType, LocalizedText};
use tryvoha_live::{Signer, verify_signed_json};
use tryvoha_store::{PushFilter, PushSubscription};
use web_push_native::jwt_simple::algorithms::ES256KeyPair;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint as _;

use super::*;

fn event(message: &str, ended: bool) -> AlertEvent {
    let at = datetime!(2026-11-20 01:10 UTC);
    let alert = Alert {
        id: AlertId(7),
        region_id: RegionId(31),
        kind: AlertKind::AirRaid,
        level: AlertLevel::Red,
        status: AlertStatus::Actual,
        threats: vec![],
        message: Some(LocalizedText { uk: Some(message.into()), en: None }),
        instruction: None,
        started_at: at,
        updated_at: at,
        expires_at: None,
        finished_at: ended.then_some(at),
        finish_reason: None,
        declared_by: Actor::system(),
        seq: 3,
        reinstates: None,
        shelter_within_s: None,
    };
    let kind = if ended { EventType::Cancelled } else { EventType::Declared };
    AlertEvent { seq: 3, kind, at, actor: Actor::system(), alert }
}

/// A browser: its key pair and auth secret, and the subscription it would hand the server.
fn browser() -> (web_push_native::p256::SecretKey, [u8; 16], PushSubscription) {
    let secret = web_push_native::p256::SecretKey::from_slice(&[9; 32]).expect("a scalar");
    let auth = [5u8; 16];
    let subscription = PushSubscription {
        id: 1,
        endpoint: "https://push.example/send/abc".into(),
        p256dh: URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes()),
        auth: URL_SAFE_NO_PAD.encode(auth),
        filter: PushFilter { regions: vec![RegionId(31)], kinds: vec![], statuses: vec![], lang: "uk".into() },
        created_at: datetime!(2026-11-20 01:00 UTC),
        delivered: 0,
    };
    (secret, auth, subscription)
}

#[test]
fn the_browser_decrypts_the_events_signed_frame_and_the_service_gets_its_headers() {
    let signer = Signer::from_seed([3; 32]);
    let declared = event("Повітряна тривога", false);
    let frame = signer.sign_json(&declared);
    let message = Message::for_event(&declared, &frame, &signer);
    assert_eq!((message.urgency, message.topic.as_str()), (Urgency::High, "31-air_raid"));
    let vapid = ES256KeyPair::generate();
    let (secret, auth, subscription) = browser();
    let request =
        message.request(&subscription, &vapid, "mailto:ops@example.org", declared.at).expect("built").expect("in time");
    let headers = request.headers();
    assert_eq!(headers["content-encoding"], "aes128gcm");
    assert_eq!(headers["ttl"], "600");
    assert_eq!(headers["urgency"], "high");
    assert_eq!(headers["topic"], "31-air_raid");
    let authorization = headers["authorization"].to_str().expect("text");
    let claims = vapid_claims(authorization, &vapid);
    assert_eq!(claims["aud"], "https://push.example", "the endpoint's origin");
    assert_eq!(claims["sub"], "mailto:ops@example.org");
    let plain =
        web_push_native::decrypt(request.body().clone(), &secret, &Auth::clone_from_slice(&auth)).expect("decrypts");
    assert_eq!(plain, frame, "the same bytes as the SSE data line");

    let ended = event("Відбій", true);
    let message = Message::for_event(&ended, &signer.sign_json(&ended), &signer);
    assert_eq!((message.urgency, message.topic.as_str()), (Urgency::Normal, "31-air_raid"), "replaces its alert");
    assert_eq!(message.ttl_at(ended.at), Some(ALL_CLEAR_TTL));
}

/// The VAPID header's JWT claims, once its signature verified with the key in the header,
/// which must be the server's.
fn vapid_claims(header: &str, vapid: &ES256KeyPair) -> serde_json::Value {
    use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256PublicKey};
    let (token, key) =
        header.strip_prefix("vapid t=").and_then(|rest| rest.split_once(", k=")).expect("vapid t=…, k=…");
    let public = ES256PublicKey::from_bytes(&URL_SAFE_NO_PAD.decode(key).expect("base64url")).expect("a key");
    assert_eq!(public.public_key().to_bytes_uncompressed(), vapid.public_key().public_key().to_bytes_uncompressed());
    public
        .verify_token::<web_push_native::jwt_simple::claims::NoCustomClaims>(token, None)
        .expect("signed by the VAPID key");
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

#[test]
fn the_vapid_audience_keeps_a_non_default_port_and_a_message_past_its_life_is_not_sent() {
    let signer = Signer::from_seed([3; 32]);
    let declared = event("Тривога", false);
    let message = Message::for_event(&declared, &signer.sign_json(&declared), &signer);
    let vapid = ES256KeyPair::generate();
    let (_, _, mut subscription) = browser();
    subscription.endpoint = "http://localhost:8991/notify/abc".into();
    let request =
        message.request(&subscription, &vapid, "mailto:ops@example.org", declared.at).expect("built").expect("in time");
    let claims = vapid_claims(request.headers()["authorization"].to_str().expect("text"), &vapid);
    assert_eq!(claims["aud"], "http://localhost:8991");
    let later = declared.at + time::Duration::minutes(7);
    let late =
        message.request(&subscription, &vapid, "mailto:ops@example.org", later).expect("built").expect("in time");
    assert_eq!(late.headers()["ttl"], "180", "only what is left of its ten minutes");
    let expired = message.request(&subscription, &vapid, "mailto:ops@example.org", declared.at + ALERT_TTL);
    assert!(expired.expect("no error").is_none(), "an alert ten minutes old is not pushed");
}

#[test]
fn a_frame_too_big_for_a_push_becomes_a_signed_short_frame() {
    let signer = Signer::from_seed([3; 32]);
    let mut long = event(&"Т".repeat(1900), false);
    long.alert.shelter_within_s = Some(90);
    let frame = signer.sign_json(&long);
    assert!(frame.len() > MAX_PLAINTEXT, "{} bytes", frame.len());
    let message = Message::for_event(&long, &frame, &signer);
    assert!(message.body.len() <= MAX_PLAINTEXT);
    let text = String::from_utf8(message.body.clone()).expect("UTF-8");
    verify_signed_json(&text, &[signer.public_key()]).expect("signed like every frame");
    let short: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        (short["short"].as_bool(), short["seq"].as_u64(), short["alert"]["region_id"].as_u64()),
        (Some(true), Some(3), Some(31))
    );
    assert_eq!(short["alert"]["shelter_within_s"], 90, "the time to shelter is kept: the notification says it");
}
