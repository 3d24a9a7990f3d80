//! The sink's checks against requests made as a sender makes them (web-push-native encrypts,
//! the VAPID JWT signed as tryvoha signs it), and each kind of bad request it must refuse.

use tokio::io::BufReader;
use web_push_native::jwt_simple::algorithms::{ECDSAP256KeyPairLike as _, ECDSAP256PublicKeyLike as _, ES256KeyPair};
use web_push_native::jwt_simple::claims::Claims;
use web_push_native::jwt_simple::prelude::Duration;
use web_push_native::p256::SecretKey;
use web_push_native::{Auth, WebPushBuilder};

use super::check;
use super::keys::BrowserKey;
use super::request::{self, Request};

const ORIGIN: &str = "http://127.0.0.1:8991";

fn browser() -> BrowserKey {
    BrowserKey { secret: SecretKey::from_slice(&[7; 32]).expect("a scalar"), auth: Auth::clone_from_slice(&[9; 16]) }
}

/// `vapid t=…, k=…` with the JWT signed by `signer` but `k` naming `named`.
fn vapid(signer: &ES256KeyPair, named: &ES256KeyPair, audience: &str, life: Duration) -> String {
    let claims = Claims::create(life).with_audience(audience).with_subject("mailto:test@tryvoha.invalid");
    let token = signer.sign(claims).expect("signed");
    let key = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        named.public_key().public_key().to_bytes_uncompressed(),
    );
    format!("vapid t={token}, k={key}")
}

/// A push request to `/push/3` as a sender would make it, with `authorization`.
fn pushed(plaintext: &[u8], authorization: &str) -> Request {
    let key = browser();
    let built =
        WebPushBuilder::new(format!("{ORIGIN}/push/3").parse().expect("a URI"), key.secret.public_key(), key.auth)
            .build(plaintext.to_vec())
            .expect("encrypted");
    let mut headers: Vec<(String, String)> =
        built.headers().iter().map(|(n, v)| (n.as_str().to_string(), v.to_str().expect("text").to_string())).collect();
    headers.push(("authorization".into(), authorization.into()));
    Request { method: "POST".into(), path: "/push/3".into(), headers, body: built.body().clone() }
}

#[test]
fn a_good_request_passes_every_check_and_decrypts() {
    let pair = ES256KeyPair::generate();
    let request = pushed(b"{\"seq\":1}", &vapid(&pair, &pair, ORIGIN, Duration::from_mins(10)));
    let shape = check::shape(&request).ok().expect("the shape is right");
    assert!(check::verify_vapid(&shape, ORIGIN).is_ok());
    assert_eq!(check::decrypt(&request.body, &browser()).expect("decrypts"), b"{\"seq\":1}");
}

#[test]
fn vapid_signed_by_another_key_for_another_origin_or_expired_is_refused() {
    let (pair, other) = (ES256KeyPair::generate(), ES256KeyPair::generate());
    for (authorization, why) in [
        (vapid(&other, &pair, ORIGIN, Duration::from_mins(10)), "signed by a key other than k"),
        (vapid(&pair, &pair, "http://127.0.0.1", Duration::from_mins(10)), "aud without the port"),
        (vapid(&pair, &pair, ORIGIN, Duration::from_secs(0)), "exp now, not ahead"),
        (vapid(&pair, &pair, ORIGIN, Duration::from_days(2)), "exp two days ahead"),
    ] {
        let request = pushed(b"x", &authorization);
        let shape = check::shape(&request).ok().expect("the shape is right");
        let refusal = check::verify_vapid(&shape, ORIGIN).err().unwrap_or_else(|| panic!("accepted: {why}"));
        assert!(refusal.vapid, "{why}");
    }
}

#[test]
fn a_malformed_request_is_refused_before_any_costly_check() {
    let pair = ES256KeyPair::generate();
    let good = vapid(&pair, &pair, ORIGIN, Duration::from_mins(10));
    let without = |name: &str| {
        let mut request = pushed(b"x", &good);
        request.headers.retain(|(n, _)| n != name);
        request
    };
    for (request, vapid, why) in [
        (without("ttl"), false, "no TTL"),
        (without("content-encoding"), false, "no Content-Encoding"),
        (without("authorization"), true, "no Authorization"),
        (pushed(b"x", "WebPush abc"), true, "another scheme"),
        (pushed(b"x", &good.replace("k=B", "k=A")), true, "k not an uncompressed point"),
        (pushed(b"x", &good.replacen('.', "", 1)), true, "t not a JWT"),
    ] {
        let refusal = check::shape(&request).err().unwrap_or_else(|| panic!("accepted: {why}"));
        assert_eq!(refusal.vapid, vapid, "{why}");
    }
    let mut truncated = pushed(b"x", &good);
    truncated.body.truncate(90);
    assert!(check::shape(&truncated).is_err(), "a body shorter than the aes128gcm header and tag");
}

#[tokio::test]
async fn keep_alive_requests_are_read_one_after_another() {
    let wire = b"POST /push/1 HTTP/1.1\r\nContent-Length: 3\r\nTTL: 60\r\n\r\nabcGET /stats HTTP/1.1\r\n\r\n";
    let mut reader = BufReader::new(&wire[..]);
    let mut line = Vec::new();
    let first = request::read(&mut reader, &mut line).await.ok().flatten().expect("a request");
    assert_eq!((first.method.as_str(), first.path.as_str(), first.header("ttl")), ("POST", "/push/1", Some("60")));
    assert_eq!(first.body, b"abc");
    let second = request::read(&mut reader, &mut line).await.ok().flatten().expect("a second request");
    assert_eq!((second.method.as_str(), second.path.as_str()), ("GET", "/stats"));
    assert!(matches!(request::read(&mut reader, &mut line).await, Ok(None)), "the end of the stream");

    let chunked = b"POST /push/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    assert!(request::read(&mut BufReader::new(&chunked[..]), &mut line).await.is_err());
}
