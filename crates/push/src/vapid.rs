//! The server's VAPID key (RFC 8292): an ES256 key pair kept in the data directory, whose public
//! half browsers subscribe with (`applicationServerKey`) and push services check every request
//! against.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};

pub struct VapidKey {
    pair: ES256KeyPair,
}

impl VapidKey {
    /// The key kept in `path`, made (readable by the owner only) on first start.
    pub fn load_or_create(path: &Path) -> std::io::Result<VapidKey> {
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {what}", path.display()));
        match std::fs::read_to_string(path) {
            Ok(text) => VapidKey::from_text(&text).map_err(bad),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let pair = ES256KeyPair::generate();
                tryvoha_live::write_private_key_file(path, &URL_SAFE_NO_PAD.encode(pair.to_bytes()))?;
                Ok(VapidKey { pair })
            }
            Err(error) => Err(error),
        }
    }

    /// The key as its file holds it: the private scalar, base64url.
    pub fn from_text(text: &str) -> Result<VapidKey, &'static str> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| "not base64url")?;
        let pair = ES256KeyPair::from_bytes(&bytes).map_err(|_| "not a P-256 private key")?;
        Ok(VapidKey { pair })
    }

    pub fn pair(&self) -> &ES256KeyPair {
        &self.pair
    }

    /// The public key as browsers take it: the uncompressed P-256 point, base64url.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().public_key().to_bytes_uncompressed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_and_read_back_the_same() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("vapid-key");
        let made = VapidKey::load_or_create(&path).expect("made");
        let public = made.public_key();
        assert_eq!(URL_SAFE_NO_PAD.decode(&public).expect("base64url").len(), 65, "an uncompressed P-256 point");
        assert_eq!(VapidKey::load_or_create(&path).expect("read").public_key(), public);
    }
}
