//! The files the pages load: styles, scripts and the region table, in the binary. Each is served
//! under a name that carries a hash of its bytes (`map.3f9c2a1b.js`), so it can be cached for a
//! year and a new build is never mixed with an old one's files.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

pub struct Asset {
    /// The name a page links to, hash included.
    pub path: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    /// A strong validator: the hash in quotes.
    pub etag: String,
}

impl Asset {
    /// A file served under a fixed name (`/sw.js`), with its hash as the ETag to revalidate by.
    pub fn fixed(path: &str, content_type: &'static str, bytes: Vec<u8>) -> Asset {
        Asset { path: path.to_owned(), content_type, etag: format!("\"{}\"", short_hash(&bytes)), bytes }
    }
}

fn short_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().take(5).map(|b| format!("{b:02x}")).collect()
}

/// Every asset by the name it is served under, and the served name of each logical name.
pub struct Assets {
    by_path: HashMap<String, Asset>,
    served: HashMap<&'static str, String>,
}

/// The files in the repository, by logical name.
const FILES: [(&str, &str, &[u8]); 9] = [
    ("app.css", "text/css; charset=utf-8", include_bytes!("../assets/app.css")),
    ("live.js", "text/javascript; charset=utf-8", include_bytes!("../assets/live.js")),
    ("map.js", "text/javascript; charset=utf-8", include_bytes!("../assets/map.js")),
    ("shelters.js", "text/javascript; charset=utf-8", include_bytes!("../assets/shelters.js")),
    ("console.js", "text/javascript; charset=utf-8", include_bytes!("../assets/console.js")),
    ("push.js", "text/javascript; charset=utf-8", include_bytes!("../assets/push.js")),
    ("icon.svg", "image/svg+xml", include_bytes!("../assets/icon.svg")),
    // Drawn by tools/build_app_icons.py, for the home screen (manifest.webmanifest).
    ("icon-192.png", "image/png", include_bytes!("../assets/icon-192.png")),
    ("icon-512.png", "image/png", include_bytes!("../assets/icon-512.png")),
];

impl Assets {
    /// The bundled files, and `regions.json` (the registry as the scripts read it: made at start
    /// from the registry the server runs with).
    pub fn new(regions_json: Vec<u8>) -> Assets {
        let mut assets = Assets { by_path: HashMap::new(), served: HashMap::new() };
        for (name, content_type, bytes) in FILES {
            assets.add(name, content_type, bytes.to_vec());
        }
        assets.add("regions.json", "application/json", regions_json);
        assets
    }

    fn add(&mut self, name: &'static str, content_type: &'static str, bytes: Vec<u8>) {
        let hash = short_hash(&bytes);
        let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
        let path = format!("{stem}.{hash}.{extension}");
        self.served.insert(name, format!("/assets/{path}"));
        let etag = format!("\"{hash}\"");
        self.by_path.insert(path.clone(), Asset { path, content_type, bytes, etag });
    }

    /// The URL a page uses for a logical name (`map.js` → `/assets/map.3f9c2a1b.js`).
    pub fn url(&self, name: &str) -> &str {
        self.served.get(name).map(String::as_str).unwrap_or("/assets/missing")
    }

    /// Every asset's served URL, sorted.
    pub fn urls(&self) -> Vec<&str> {
        let mut urls: Vec<&str> = self.served.values().map(String::as_str).collect();
        urls.sort_unstable();
        urls
    }

    /// The asset served under `path` (the part after `/assets/`).
    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.by_path.get(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_asset_is_served_under_a_name_that_changes_with_its_bytes() {
        let one = Assets::new(b"[1]".to_vec());
        let other = Assets::new(b"[2]".to_vec());
        assert_ne!(one.url("regions.json"), other.url("regions.json"));
        assert_eq!(one.url("map.js"), other.url("map.js"));
        let served = one.url("map.js").strip_prefix("/assets/").unwrap();
        let asset = one.get(served).unwrap();
        assert!(served.starts_with("map.") && served.ends_with(".js") && served.len() == "map..js".len() + 10);
        assert_eq!(asset.bytes, include_bytes!("../assets/map.js"));
        assert!(asset.content_type.starts_with("text/javascript"));
    }
}
