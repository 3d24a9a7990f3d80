//! The web pages people open: the live map (`/`), a region's page (`/regions/{id}`), the
//! shelter finder (`/shelters`) and the operator console (`/console`).
//!
//! Every page is rendered here, on the server, with the current state in it: a phone on a weak
//! link sees which regions are under alert before any script runs. The scripts (`assets/`, no
//! framework, no library) keep the page live from the event stream and drive the console
//! through the same API everyone uses. No I/O here: the HTTP layer hands in the book, the
//! history and the shelters, and serves what comes out.
//!
//! Everything from outside (operators' texts, CAP messages, names) is escaped ([`html`]); the
//! pages run under a Content-Security-Policy without inline scripts (`csp`).

pub mod alerts;
pub mod assets;
pub mod charts;
pub mod console_page;
pub mod html;
pub mod incidents;
pub mod kyiv;
pub mod lang;
pub mod layout;
pub mod map_page;
pub mod pwa;
pub mod region_page;
pub mod report_page;
pub mod shelters_page;
pub mod svg;

use tryvoha_core::{Level, RegionId, RegionRegistry};

pub use assets::{Asset, Assets};
pub use lang::Lang;
pub use layout::Context;
pub use svg::MapGeometry;

/// The policy every page and asset is served with: scripts and styles only from this server,
/// no inline script, no framing (a page that cannot be framed cannot be clicked through).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What the pages are made from, built once at start.
pub struct Web {
    pub geometry: MapGeometry,
    pub assets: Assets,
    /// `/manifest.webmanifest` and `/sw.js`, made from this build's assets.
    pub manifest: Asset,
    pub service_worker: Asset,
}

impl Web {
    /// From the registry and each level's simplified boundaries (GeoJSON geometry text by region).
    pub fn new(registry: &RegionRegistry, layers: &[(Level, Vec<(RegionId, String)>)]) -> Web {
        let assets = Assets::new(region_table(registry));
        let manifest = Asset::fixed("manifest.webmanifest", "application/manifest+json", pwa::manifest(&assets).into());
        let service_worker =
            Asset::fixed("sw.js", "text/javascript; charset=utf-8", pwa::service_worker(&assets).into());
        Web { geometry: MapGeometry::new(layers), assets, manifest, service_worker }
    }
}

/// `{"<id>": [parent or null, level, name_uk, name_en, code or null], …}`: what the scripts
/// need to work out a region's state from events, and to name it.
fn region_table(registry: &RegionRegistry) -> Vec<u8> {
    let table: serde_json::Map<String, serde_json::Value> = registry
        .all()
        .iter()
        .map(|r| (r.id.to_string(), serde_json::json!([r.parent_id, r.level.as_str(), r.name_uk, r.name_en, r.code])))
        .collect();
    serde_json::to_vec(&table).unwrap_or_default()
}
