//! Pages rendered once per (page, language, log position, minute) and compressed once, then
//! shared: during an attack everyone opens the map at once, and a page compressed per request
//! cost ~5.5 ms of CPU (docs/BENCHMARKS.md) where a shared one costs a copy. The minute bounds
//! how old the times on a page ("since 02:14 (12 min)") get; the scripts tick them anyway.

use axum::body::Bytes;
use tryvoha_core::{Level, RegionId, Seq};
use tryvoha_web::Lang;

use crate::rendered::{RenderFailed, Rendered};
use crate::transport::compression::Precompressed;

/// Which page: one entry per language, log position and minute.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Page {
    Map(Level),
    Region(RegionId),
    Shelters,
    Console,
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PageKey {
    pub page: Page,
    pub lang: Lang,
    pub seq: Seq,
    pub minute: i64,
}

/// The pages of the newest positions: every map level and the console and finder in both
/// languages, and the region pages people open most.
const PAGES_KEPT: usize = 64;

pub struct PageCache {
    rendered: Rendered<PageKey, Precompressed>,
}

impl Default for PageCache {
    fn default() -> PageCache {
        PageCache { rendered: Rendered::new(PAGES_KEPT) }
    }
}

impl PageCache {
    /// The page for `key`, rendered by `render` (on the blocking pool) unless a request already
    /// did, or is doing it now.
    pub(crate) async fn get(
        &self,
        key: PageKey,
        render: impl FnOnce() -> String + Send + 'static,
    ) -> Result<std::sync::Arc<Precompressed>, RenderFailed> {
        self.rendered.get(key, move || encode(render())).await
    }

    /// The page for `key`, from `render` (which does its CPU work off the async workers) unless
    /// a request already made it, or is making it now.
    pub(crate) async fn get_with<E>(
        &self,
        key: PageKey,
        render: impl std::future::Future<Output = Result<Precompressed, E>>,
    ) -> Result<std::sync::Arc<Precompressed>, E> {
        self.rendered.get_with(key, render).await
    }
}

/// A page as sent, made from its HTML.
pub(crate) fn encode(html: String) -> Precompressed {
    Precompressed::new(Bytes::from(html))
}
