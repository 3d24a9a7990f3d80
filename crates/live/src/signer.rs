//! Ed25519 signatures on every frame's JSON.
//!
//! The signed bytes are the frame's JSON *without* its last member, `"sig"`. A frame is written
//! as the payload with `,"sig":{"kid":"…","ed25519":"…"}` spliced in before its closing brace, so
//! a verifier in any language takes the text before the last `,"sig":{`, appends `}`, and checks
//! the base64 signature over those UTF-8 bytes with the key whose id is `kid`
//! (docs/signatures.md). No canonicalisation is needed.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand::Rng as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

const SIG_MEMBER: &str = ",\"sig\":{";

/// The server's key, and the authority in whose name it signs: a signed frame is that
/// authority's word, so frames name it (never the token that acted).
pub struct Signer {
    key: SigningKey,
    key_id: String,
    authority: String,
    /// How many documents this key signed: signing is the costly part of a frame, and each
    /// event is meant to be signed once however many subscribers receive it.
    signed: AtomicU64,
}

/// The authority frames name when none is configured.
pub const DEFAULT_AUTHORITY: &str = "tryvoha";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the JSON has no \"sig\" member at its end")]
    Missing,
    #[error("the \"sig\" member is malformed")]
    Malformed,
    #[error("the key {0} is not known")]
    UnknownKey(String),
    #[error("the signature does not match the content")]
    Mismatch,
}

/// The public half, as served at `/api/v1/keys`.
#[derive(Clone, Debug, Serialize)]
pub struct PublicKey {
    pub kid: String,
    pub algorithm: &'static str,
    /// The 32-byte Ed25519 public key, base64 (standard alphabet, padded).
    pub public_key: String,
}

impl Signer {
    /// Loads the key kept in `path`, creating it (readable by the owner only) on first start.
    pub fn load_or_create(path: &Path) -> std::io::Result<Signer> {
        match std::fs::read_to_string(path) {
            Ok(text) => Signer::from_text(&text)
                .ok_or_else(|| std::io::Error::other(format!("{} is not a base64 Ed25519 seed", path.display()))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                rand::rng().fill_bytes(&mut seed);
                write_private_key_file(path, &STANDARD.encode(seed))?;
                Ok(Signer::from_seed(seed))
            }
            Err(error) => Err(error),
        }
    }

    /// The key as its file holds it: the seed, base64; `None` if it is not one.
    pub fn from_text(text: &str) -> Option<Signer> {
        let seed = STANDARD.decode(text.trim()).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())?;
        Some(Signer::from_seed(seed))
    }

    pub fn from_seed(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let key_id = key_id(&key.verifying_key());
        Signer { key, key_id, authority: DEFAULT_AUTHORITY.to_owned(), signed: AtomicU64::new(0) }
    }

    /// The same key, signing in the name of `authority`.
    pub fn with_authority(self, authority: impl Into<String>) -> Signer {
        Signer { authority: authority.into(), ..self }
    }

    /// Who the public frames say issued the alerts.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            kid: self.key_id.clone(),
            algorithm: "Ed25519",
            public_key: STANDARD.encode(self.key.verifying_key().as_bytes()),
        }
    }

    /// How many documents were signed with this key since it was loaded.
    pub fn signatures(&self) -> u64 {
        self.signed.load(Ordering::Relaxed)
    }

    /// Serializes `value` (a JSON object) and splices its signature in as the last member.
    pub fn sign_json<T: Serialize>(&self, value: &T) -> Vec<u8> {
        self.signed.fetch_add(1, Ordering::Relaxed);
        // Serializing our own types to a Vec cannot fail (no maps with non-string keys).
        let mut json = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        let signature = self.key.sign(&json);
        json.pop(); // the closing brace, put back after the signature
        json.extend_from_slice(SIG_MEMBER.as_bytes());
        json.extend_from_slice(
            format!("\"kid\":\"{}\",\"ed25519\":\"{}\"}}}}", self.key_id, STANDARD.encode(signature.to_bytes()))
                .as_bytes(),
        );
        json
    }

    /// A signature over `bytes` as they are: the key id and the base64 Ed25519 signature, for a
    /// header beside a body (the ukrainealarm-style webhook) rather than inside it.
    pub fn sign_detached(&self, bytes: &[u8]) -> (String, String) {
        self.signed.fetch_add(1, Ordering::Relaxed);
        (self.key_id.clone(), STANDARD.encode(self.key.sign(bytes).to_bytes()))
    }
}

/// Checks a detached signature ([`Signer::sign_detached`]): base64 `signature` over `bytes`
/// by the key whose id is `kid`.
pub fn verify_detached(kid: &str, signature: &str, bytes: &[u8], keys: &[PublicKey]) -> Result<(), SignatureError> {
    let key = keys.iter().find(|k| k.kid == kid).ok_or_else(|| SignatureError::UnknownKey(kid.to_owned()))?;
    let key_bytes: [u8; 32] =
        STANDARD.decode(&key.public_key).ok().and_then(|b| b.try_into().ok()).ok_or(SignatureError::Malformed)?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| SignatureError::Malformed)?;
    let signature: [u8; 64] =
        STANDARD.decode(signature).ok().and_then(|b| b.try_into().ok()).ok_or(SignatureError::Malformed)?;
    key.verify_strict(bytes, &Signature::from_bytes(&signature)).map_err(|_| SignatureError::Mismatch)
}

/// Checks a signed frame's JSON against the known public keys.
pub fn verify_signed_json(json: &str, keys: &[PublicKey]) -> Result<(), SignatureError> {
    let at = json.rfind(SIG_MEMBER).ok_or(SignatureError::Missing)?;
    let payload = format!("{}}}", &json[..at]);
    let sig_object = &json[at + SIG_MEMBER.len() - 1..json.len() - 1];
    #[derive(serde::Deserialize)]
    struct Sig {
        kid: String,
        ed25519: String,
    }
    let sig: Sig = serde_json::from_str(sig_object).map_err(|_| SignatureError::Malformed)?;
    verify_detached(&sig.kid, &sig.ed25519, payload.as_bytes(), keys)
}

/// The first 16 hex digits of the SHA-256 of the public key.
fn key_id(key: &VerifyingKey) -> String {
    Sha256::digest(key.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Writes a new key file readable by its owner only, and syncs it (the server's keys: the
/// signing key here, the VAPID key of Web Push). Refuses to overwrite one.
pub fn write_private_key_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_object_verifies_and_a_tampered_one_does_not() {
        let signer = Signer::from_seed([7; 32]);
        let keys = [signer.public_key()];
        let signed = String::from_utf8(signer.sign_json(&serde_json::json!({ "seq": 5, "type": "declared" }))).unwrap();
        assert!(signed.starts_with("{\"seq\":5,\"type\":\"declared\",\"sig\":{\"kid\":"), "{signed}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&signed).unwrap()["seq"], 5, "still plain JSON");
        assert_eq!(verify_signed_json(&signed, &keys), Ok(()));
        let tampered = signed.replace("\"seq\":5", "\"seq\":6");
        assert_eq!(verify_signed_json(&tampered, &keys), Err(SignatureError::Mismatch));
        let other = Signer::from_seed([8; 32]);
        assert!(matches!(verify_signed_json(&signed, &[other.public_key()]), Err(SignatureError::UnknownKey(_))));
        assert_eq!(verify_signed_json("{\"seq\":5}", &keys), Err(SignatureError::Missing));
    }

    #[test]
    fn the_key_is_created_once_and_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing-key");
        let first = Signer::load_or_create(&path).unwrap();
        let again = Signer::load_or_create(&path).unwrap();
        assert_eq!(first.public_key().public_key, again.public_key().public_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
