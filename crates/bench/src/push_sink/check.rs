//! What a push service checks of a request (RFC 8030, 8291, 8292), split by cost: `shape` is a
//! few string and length checks done on every request; `verify_vapid` (an ECDSA verification)
//! and `decrypt` (ECDH, HKDF, AES-GCM) cost about as much as the sender spent on the request,
//! so the sink does them on a sample, or it would measure itself rather than the sender.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike as _, ES256PublicKey};
use web_push_native::jwt_simple::claims::{Audiences, NoCustomClaims};
use web_push_native::jwt_simple::common::VerificationOptions;
use web_push_native::jwt_simple::prelude::{Clock, Duration};

use super::keys::BrowserKey;
use super::request::Request;

/// aes128gcm (RFC 8188 §2.1): salt (16), record size (4), key id length (1), key id (the
/// sender's ephemeral P-256 point, 65), then at least a padding delimiter and the tag (17).
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
const MIN_BODY: usize = HEADER_LEN + 17;
/// RFC 8030 §7.2: a push service must accept 4096 bytes of payload; the senders must keep to it.
const MAX_BODY: usize = 4096;
/// RFC 8292 §2: `exp` no more than 24 hours ahead; a minute of slack for clocks and rounding.
const MAX_EXP_AHEAD_S: u64 = 24 * 3600 + 60;

/// Why a request was refused; `vapid` when it was the Authorization header.
pub struct Refusal {
    pub reason: &'static str,
    pub vapid: bool,
}

fn refuse(reason: &'static str) -> Refusal {
    Refusal { reason, vapid: false }
}

fn bad_vapid(reason: &'static str) -> Refusal {
    Refusal { reason, vapid: true }
}

/// The parts of `Authorization: vapid t=<JWT>, k=<key>`.
pub struct Vapid<'a> {
    pub token: &'a str,
    pub key: &'a str,
}

/// Every request: the encoding, `TTL`, the body's aes128gcm header, and the VAPID header's form
/// (a JWT of three base64url parts, a key that is an uncompressed P-256 point).
pub fn shape(request: &Request) -> Result<Vapid<'_>, Refusal> {
    if !request.header("content-encoding").is_some_and(|e| e.eq_ignore_ascii_case("aes128gcm")) {
        return Err(refuse("Content-Encoding is not aes128gcm"));
    }
    if request.header("ttl").and_then(|t| t.parse::<u64>().ok()).is_none() {
        return Err(refuse("no TTL, or not a number"));
    }
    let body = &request.body;
    if body.len() < MIN_BODY || body.len() > MAX_BODY {
        return Err(refuse("the body is not an aes128gcm message of at most 4096 bytes"));
    }
    if body[20] != 65 || body[21] != 0x04 {
        return Err(refuse("the aes128gcm key id is not an uncompressed P-256 point"));
    }
    let Some(authorization) = request.header("authorization") else { return Err(bad_vapid("no Authorization")) };
    let Some((scheme, parameters)) = authorization.split_once(' ') else {
        return Err(bad_vapid("not vapid t=…, k=…"));
    };
    if !scheme.eq_ignore_ascii_case("vapid") {
        return Err(bad_vapid("the Authorization scheme is not vapid"));
    }
    let (mut token, mut key) = (None, None);
    for parameter in parameters.split(',') {
        match parameter.trim().split_once('=') {
            Some(("t", value)) => token = Some(value),
            Some(("k", value)) => key = Some(value.trim_end_matches('=')),
            _ => {}
        }
    }
    let (Some(token), Some(key)) = (token, key) else { return Err(bad_vapid("vapid without t= or k=")) };
    let base64url =
        |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if token.split('.').count() != 3 || !token.split('.').all(base64url) {
        return Err(bad_vapid("t= is not a JWT"));
    }
    match URL_SAFE_NO_PAD.decode(key) {
        Ok(point) if point.len() == 65 && point[0] == 0x04 => Ok(Vapid { token, key }),
        _ => Err(bad_vapid("k= is not an uncompressed P-256 point in base64url")),
    }
}

/// The JWT's ES256 signature by `k`, `aud` exactly `origin` (port included), `exp` ahead but
/// not more than a day, and a `sub` (`mailto:` or `https:`) for the service to write to.
pub fn verify_vapid(vapid: &Vapid<'_>, origin: &str) -> Result<(), Refusal> {
    let point = URL_SAFE_NO_PAD.decode(vapid.key).map_err(|_| bad_vapid("k= is not base64url"))?;
    let key = ES256PublicKey::from_bytes(&point).map_err(|_| bad_vapid("k= is not a P-256 key"))?;
    let options = VerificationOptions {
        // RFC 8292 gives `iat` and `nbf` no meaning; `exp` is checked below, strictly.
        accept_future: true,
        time_tolerance: Some(Duration::from_secs(0)),
        ..VerificationOptions::default()
    };
    let claims = key
        .verify_token::<NoCustomClaims>(vapid.token, Some(options))
        .map_err(|_| bad_vapid("the JWT's signature does not verify with k= (or it expired)"))?;
    match &claims.audiences {
        Some(Audiences::AsString(audience)) if audience == origin => {}
        _ => return Err(bad_vapid("the JWT's aud is not this push service's origin")),
    }
    let now = Clock::now_since_epoch().as_secs();
    match claims.expires_at.map(|exp| exp.as_secs()) {
        Some(exp) if exp > now && exp <= now + MAX_EXP_AHEAD_S => {}
        _ => return Err(bad_vapid("the JWT's exp is not within the next 24 hours")),
    }
    match claims.subject.as_deref() {
        Some(sub) if sub.starts_with("mailto:") || sub.starts_with("https:") => Ok(()),
        _ => Err(bad_vapid("the JWT has no sub (mailto: or https:)")),
    }
}

/// The plaintext, as the browser holding `key` would read it.
pub fn decrypt(body: &[u8], key: &BrowserKey) -> Result<Vec<u8>, String> {
    web_push_native::decrypt(body.to_vec(), &key.secret, &key.auth).map_err(|error| format!("{error:?}"))
}
