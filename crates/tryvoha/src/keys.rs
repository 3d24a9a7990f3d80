//! The server's keys: the Ed25519 key every frame is signed with, and the VAPID key of Web Push.
//! Each is kept in a file (made on the first start). On a store shared by a cluster the store
//! keeps the cluster's key: the first node to start offers its file's, and every node uses the
//! key kept, so that a frame verifies, and a browser's subscription works, whichever node served
//! it (docs/DEPLOYMENT.md).

use std::path::Path;

use anyhow::Context;
use tryvoha_live::Signer;
use tryvoha_push::VapidKey;
use tryvoha_store::{KeyStore, Store};

/// The names the cluster keeps its keys under.
pub const SIGNING: &str = "signing";
pub const VAPID: &str = "vapid";
/// The keys' files in the data directory (the signing key's may be put elsewhere).
pub const SIGNING_FILE: &str = "signing-key";
pub const VAPID_FILE: &str = "vapid-key";

/// The signing key: the file's, or on a shared store the cluster's.
pub fn signer(store: &dyn Store, shared: bool, path: &Path) -> anyhow::Result<Signer> {
    let signer = Signer::load_or_create(path).with_context(|| format!("cannot load {}", path.display()))?;
    if !shared {
        return Ok(signer);
    }
    let kept = cluster_text(store, SIGNING, path)?;
    Signer::from_text(&kept).context("the cluster's signing key in the store is not an Ed25519 seed")
}

/// The VAPID key: the file's, or on a shared store the cluster's.
pub fn vapid(store: &dyn Store, shared: bool, path: &Path) -> anyhow::Result<VapidKey> {
    let vapid =
        VapidKey::load_or_create(path).map_err(|error| anyhow::anyhow!("cannot load {}: {error}", path.display()))?;
    if !shared {
        return Ok(vapid);
    }
    let kept = cluster_text(store, VAPID, path)?;
    VapidKey::from_text(&kept).map_err(|error| anyhow::anyhow!("the cluster's VAPID key in the store: {error}"))
}

/// The file's key offered to the store; the key the store keeps, as text.
fn cluster_text(store: &dyn Store, name: &str, path: &Path) -> anyhow::Result<String> {
    let own = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let own = own.trim();
    let kept = store
        .offer_cluster_key(name, own.as_bytes())
        .with_context(|| format!("cannot read the cluster's {name} key"))?;
    let kept = String::from_utf8(kept).with_context(|| format!("the cluster's {name} key in the store is not text"))?;
    if kept != own {
        tracing::info!(key = name, file = %path.display(), "the cluster keeps another key than this node's file; using the cluster's");
    }
    Ok(kept)
}

/// A deployment's keys as the cluster would keep them, for `tryvoha migrate`: by name, the key
/// of each file. The signing key must be there and be one (every server that ever started made
/// it: without it the cluster would sign with another, and every frame signed before would stop
/// verifying); a VAPID key file that is missing is left out.
pub fn files_to_carry(signing: &Path, vapid: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
    let signing_key = std::fs::read_to_string(signing).with_context(|| {
        format!(
            "cannot read the signing key {}: give the file `serve` used (--signing-key-file, TRYVOHA_SIGNING_KEY_FILE or \
             signing_key_file in --config)",
            signing.display()
        )
    })?;
    let signing_key = signing_key.trim().to_owned();
    Signer::from_text(&signing_key).with_context(|| format!("{} holds no Ed25519 signing key", signing.display()))?;
    let mut keys = vec![(SIGNING, signing_key)];
    match std::fs::read_to_string(vapid) {
        Ok(text) => {
            let text = text.trim().to_owned();
            VapidKey::from_text(&text).map_err(|error| anyhow::anyhow!("{}: {error}", vapid.display()))?;
            keys.push((VAPID, text));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", vapid.display())),
    }
    Ok(keys)
}

/// Refuses when the store already keeps another key under one of these names: its nodes signed
/// with it, and a frame signed with the files' key would no longer verify (or the reverse).
pub fn check_carry(store: &dyn KeyStore, keys: &[(&'static str, String)]) -> anyhow::Result<()> {
    for (name, key) in keys {
        let kept = store.cluster_key(name).with_context(|| format!("cannot read the cluster's {name} key"))?;
        if kept.is_some_and(|kept| kept != key.as_bytes()) {
            anyhow::bail!(
                "the target already keeps another {name} key (a node was started on it before the migration?); \
                 nothing was migrated. Migrate into a new --cluster-name, or drop the target's schema first"
            );
        }
    }
    Ok(())
}

/// Stores the keys as the cluster's (after [`check_carry`]); fails if another was stored
/// meanwhile (a node started during the migration).
pub fn carry(store: &dyn KeyStore, keys: &[(&'static str, String)]) -> anyhow::Result<()> {
    for (name, key) in keys {
        let kept =
            store.offer_cluster_key(name, key.as_bytes()).with_context(|| format!("cannot store the {name} key"))?;
        if kept != key.as_bytes() {
            anyhow::bail!("a node stored another {name} key during the migration; stop the nodes and start again");
        }
    }
    Ok(())
}
