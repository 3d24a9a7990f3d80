//! The browsers' keys the sink decrypts with. A real push service never sees them; the sink
//! must, to check that what it accepted is readable by the browser it was for.
//!
//! A benchmark with 100,000 subscriptions needs no 100,000 key pairs: `tryvoha-bench push-keys
//! out=FILE [count=8]` writes `count` fresh ones, and the subscription whose endpoint is
//! `/push/<i>` uses `keys[i % count]`. The driver (bench/push.py) makes the subscriptions from
//! the same file, so sender, store and sink agree without anything shared but the file.
//!
//! The file: `{"rule": …, "keys": [{"private": b64u(32), "p256dh": b64u(65), "auth": b64u(16)}]}`.

use std::io::Read as _;

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use web_push_native::Auth;
use web_push_native::jwt_simple::algorithms::ES256KeyPair;
use web_push_native::p256::SecretKey;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint as _;

use crate::args::Args;

/// One browser: its P-256 key pair and its 16-byte auth secret.
pub struct BrowserKey {
    pub secret: SecretKey,
    pub auth: Auth,
}

/// `push-keys out=FILE [count=8]`.
pub fn write(args: &Args) -> anyhow::Result<()> {
    let out = args.required("out")?.to_string();
    let count: usize = args.number("count", 8)?;
    args.reject_unknown()?;
    anyhow::ensure!(count > 0, "count= must be at least 1");
    let mut keys = Vec::with_capacity(count);
    for _ in 0..count {
        // jwt-simple's generator is the one random P-256 key maker the tree already has.
        let private = ES256KeyPair::generate().to_bytes();
        let secret = SecretKey::from_slice(&private).context("a generated key is no P-256 scalar")?;
        let mut auth = [0u8; 16];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut random| random.read_exact(&mut auth))
            .context("cannot read /dev/urandom")?;
        keys.push(json!({
            "private": URL_SAFE_NO_PAD.encode(&private),
            "p256dh": URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes()),
            "auth": URL_SAFE_NO_PAD.encode(auth),
        }));
    }
    let file = json!({ "rule": "the endpoint /push/<i> uses keys[i % len]", "keys": keys });
    std::fs::write(&out, serde_json::to_string_pretty(&file)? + "\n").with_context(|| format!("cannot write {out}"))
}

/// The keys in `path`, in order.
pub fn read(path: &str) -> anyhow::Result<Vec<BrowserKey>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let file: Value = serde_json::from_str(&text).with_context(|| format!("{path} is not JSON"))?;
    let Some(entries) = file["keys"].as_array() else { bail!("{path} has no \"keys\" list") };
    let decode = |entry: &Value, field: &str| -> anyhow::Result<Vec<u8>> {
        let text = entry[field].as_str().with_context(|| format!("{path}: a key without {field}"))?;
        URL_SAFE_NO_PAD.decode(text).with_context(|| format!("{path}: {field} is not base64url"))
    };
    let mut keys = Vec::with_capacity(entries.len());
    for entry in entries {
        let secret = SecretKey::from_slice(&decode(entry, "private")?).context("a private key is no P-256 scalar")?;
        let auth = decode(entry, "auth")?;
        anyhow::ensure!(auth.len() == 16, "{path}: an auth secret is not 16 bytes");
        let p256dh = decode(entry, "p256dh")?;
        anyhow::ensure!(
            p256dh == secret.public_key().to_encoded_point(false).as_bytes(),
            "{path}: a p256dh is not the public half of its private key"
        );
        keys.push(BrowserKey { secret, auth: Auth::clone_from_slice(&auth) });
    }
    anyhow::ensure!(!keys.is_empty(), "{path} holds no keys");
    Ok(keys)
}
