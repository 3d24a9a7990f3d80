//! `/history.csv` and `/history.json`: finished alerts, oldest first, a page at a time.
//!
//! A page is at most `limit` records after `cursor`. Where it ends is asked of the store first
//! (an index walk), so the next page's cursor goes out in the headers before the body; then the
//! body is written chunk by chunk, each chunk read from the store only when the client took the
//! one before. A slow or stalled reader costs the server one chunk and the socket's buffers, and
//! holds no store connection while it does not read.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use time::OffsetDateTime;
use tryvoha_core::{RegionId, RegionRegistry};
use tryvoha_engine::EngineError;
use tryvoha_store::{HistoryOrder, HistoryPosition, HistoryQuery, HistoryRecord};

use super::{parse_sources, range};

mod render;

use crate::body::is_storable;
use crate::problem::ApiError;
pub(super) use render::Renderer;
pub(crate) use render::Row;

/// Records in a page when the request names no `limit`.
pub const DEFAULT_LIMIT: usize = 1_000;
/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 10_000;
/// Records read from the store for one chunk of the body: what the server holds per reader.
pub const CHUNK: usize = 250;

/// Unknown parameters are ignored (a cache-buster such as `?_=1` is harmless).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    #[param(example = "14,31")]
    regions: Option<String>,
    /// RFC 3339; default: everything recorded.
    #[param(format = DateTime)]
    from: Option<String>,
    /// RFC 3339; default: now.
    #[param(format = DateTime)]
    to: Option<String>,
    /// Comma-separated sources: live, official, volunteer, volunteer-naive.
    #[param(example = "official")]
    source: Option<String>,
    /// Records in this page, oldest first.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 10000, default = 1000)]
    limit: Option<usize>,
    /// Continue after the page that gave this cursor (its `next`, `Next-Cursor` header or `Link`); opaque: pass it
    /// back as it was given, with the same other parameters.
    #[param(example = "h1.186c1d2e400.10000000002")]
    cursor: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Format {
    Json,
    Csv,
}

/// One page of the export, checked and located, ready to stream.
pub(super) struct Page {
    /// Filters and range; `after` is the request's cursor.
    query: HistoryQuery,
    /// The last record of this page, if it has any.
    through: Option<HistoryPosition>,
    /// The cursor of the next page, when records follow this one.
    next: Option<String>,
    /// The next page's query string (the request's own parameters and the next cursor).
    next_query: Option<String>,
}

impl Page {
    pub(super) async fn locate(
        engine: &tryvoha_engine::Engine,
        registry: &RegionRegistry,
        request: &ExportQuery,
    ) -> Result<Page, ApiError> {
        let (from, to) = range(&request.from, &request.to, engine.now())?;
        let regions = request.regions.as_deref().map(|list| region_list(registry, list)).transpose()?;
        let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::invalid_query("limit", format!("limit must be 1 to {MAX_LIMIT}")));
        }
        let after = request.cursor.as_deref().map(parse_cursor).transpose()?;
        let query = HistoryQuery {
            regions,
            sources: parse_sources(&request.source)?,
            from: Some(from),
            to: Some(to),
            order: HistoryOrder::Started,
            after,
            through: None,
            limit: None,
        };
        let end = engine.history_page_end(query.clone(), limit).await?;
        let next = end.filter(|end| end.more).map(|end| cursor(end.last));
        let next_query = next.as_deref().map(|next| next_query(request, next));
        Ok(Page { query, through: end.map(|end| end.last), next, next_query })
    }

    /// The answer: headers naming the next page, and the body streamed from the store.
    pub(super) fn respond(
        self,
        engine: tryvoha_engine::Engine,
        registry: Arc<RegionRegistry>,
        format: Format,
        path: &str,
    ) -> Response {
        let mut headers = vec![(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()))];
        if format == Format::Csv {
            headers.push((
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"tryvoha-history.csv\""),
            ));
        }
        if let (Some(next), Some(next_query)) = (&self.next, &self.next_query) {
            if let Ok(link) = HeaderValue::from_str(&format!("<{path}?{next_query}>; rel=\"next\"")) {
                headers.push((header::LINK, link));
            }
            if let Ok(cursor) = HeaderValue::from_str(next) {
                headers.push((header::HeaderName::from_static("next-cursor"), cursor));
            }
        }
        let (query, through, next) = (self.query, self.through, self.next);
        // An empty page has nothing to read; otherwise reading starts at the request's cursor.
        let start = through.map(|_| query.after);
        let fetch = move |after: Option<HistoryPosition>| {
            let engine = engine.clone();
            let query = HistoryQuery { after, through, limit: Some(CHUNK), ..query.clone() };
            async move { engine.history(query).await }
        };
        let chunks = chunks(fetch, start, through, Renderer { registry, format }, next);
        let mut response = Body::from_stream(chunks).into_response();
        response.headers_mut().extend(headers);
        response
    }
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// The body: the opening, then the records a chunk at a time (`fetch` is called for the next
/// chunk only when the previous one was taken), then the closing with the next cursor.
///
/// `start`: `Some(after)` to read from `after` (the page's cursor is in `fetch`'s query),
/// `None` for an empty page. A store error ends the body early (the client sees a cut
/// connection, never a short page that looks whole).
pub(super) fn chunks<F, Fut>(
    fetch: F,
    start: Option<Option<HistoryPosition>>,
    through: Option<HistoryPosition>,
    renderer: Renderer,
    next: Option<String>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static
where
    F: FnMut(Option<HistoryPosition>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Vec<HistoryRecord>, EngineError>> + Send,
{
    enum Step {
        Open,
        Rows { after: Option<HistoryPosition>, first: bool },
        Close,
        Done,
    }
    let state = (Step::Open, fetch, renderer, next, start);
    futures_util::stream::unfold(state, move |(step, mut fetch, renderer, next, start)| async move {
        match step {
            Step::Open => {
                let step = match start {
                    Some(after) => Step::Rows { after, first: true },
                    None => Step::Close,
                };
                let opening = renderer.opening();
                Some((Ok(opening), (step, fetch, renderer, next, start)))
            }
            Step::Rows { after, first } => match fetch(after).await {
                Ok(records) => {
                    let last = records.last().map(HistoryRecord::position);
                    let ended = records.len() < CHUNK || last.is_none() || last == through;
                    let (bytes, wrote) = renderer.rows(&records, first);
                    let first = first && !wrote;
                    let step = if ended { Step::Close } else { Step::Rows { after: last, first } };
                    Some((Ok(bytes), (step, fetch, renderer, next, start)))
                }
                Err(error) => {
                    tracing::error!(error = %error, "the history export failed mid-body; the connection is cut");
                    Some((Err(std::io::Error::other(error.to_string())), (Step::Done, fetch, renderer, next, start)))
                }
            },
            Step::Close => {
                let closing = renderer.closing(next.as_deref());
                Some((Ok(closing), (Step::Done, fetch, renderer, next, start)))
            }
            Step::Done => None,
        }
    })
    // The compression layer may ask again after the end; a fused stream answers it.
    .fuse()
    .boxed()
}

pub(crate) fn region_list(registry: &RegionRegistry, list: &str) -> Result<Vec<RegionId>, ApiError> {
    list.split(',')
        .map(|item| {
            let id = item.trim().parse().ok().map(RegionId).filter(|id| registry.get(*id).is_some());
            id.ok_or_else(|| ApiError::invalid_query("regions", format!("{item:?} is not a region id")))
        })
        .collect()
}

/// A position as the client sees it: opaque, but short and safe in a URL (`h1.` + the start in
/// unix milliseconds and the id, in hexadecimal).
pub(crate) fn cursor(position: HistoryPosition) -> String {
    let millis = (position.started_at.unix_timestamp_nanos() / 1_000_000) as i64;
    format!("h1.{millis:x}.{:x}", position.id)
}

pub(crate) fn parse_cursor(text: &str) -> Result<HistoryPosition, ApiError> {
    let bad = || ApiError::invalid_query("cursor", "cursor must be the `next` of an earlier page, as it was given");
    let rest = text.strip_prefix("h1.").ok_or_else(bad)?;
    let (millis, id) = rest.split_once('.').ok_or_else(bad)?;
    let millis = i64::from_str_radix(millis, 16).map_err(|_| bad())?;
    // Every record id fits the store's integers: a larger one would reach the store as a fault
    // of the storage (PostgreSQL) or as another id (SQLite), not as a cursor nobody gave.
    let id = u64::from_str_radix(id, 16).ok().filter(|&id| is_storable(id)).ok_or_else(bad)?;
    let started_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).map_err(|_| bad())?;
    Ok(HistoryPosition { started_at, id })
}

/// The request's own parameters with the next cursor in place of its own.
fn next_query(request: &ExportQuery, next: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    let given = [
        ("regions", request.regions.as_deref()),
        ("from", request.from.as_deref()),
        ("to", request.to.as_deref()),
        ("source", request.source.as_deref()),
    ];
    for (name, value) in given {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    if let Some(limit) = request.limit {
        query.append_pair("limit", &limit.to_string());
    }
    query.append_pair("cursor", next);
    query.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use time::macros::datetime;
    use tryvoha_core::{AlertKind, AlertLevel, AlertStatus};

    use super::render::COLUMNS;
    use super::*;

    fn record(n: u64) -> HistoryRecord {
        let started_at = datetime!(2023-06-01 10:00 UTC) + time::Duration::minutes(n as i64);
        HistoryRecord {
            id: n,
            region_id: RegionId(1),
            kind: AlertKind::AirRaid,
            level: AlertLevel::Red,
            status: AlertStatus::Actual,
            started_at,
            finished_at: started_at + time::Duration::minutes(30),
            source: "official".into(),
        }
    }

    fn registry() -> Arc<RegionRegistry> {
        Arc::new(
            RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,Область,Oblast\n")
                .unwrap(),
        )
    }

    /// A store of `total` records, paged as the engine would, counting the reads.
    fn store(
        total: u64,
        reads: Arc<Mutex<usize>>,
    ) -> impl FnMut(Option<HistoryPosition>) -> futures_util::future::Ready<Result<Vec<HistoryRecord>, EngineError>>
    + Send
    + 'static {
        move |after| {
            *reads.lock().unwrap() += 1;
            let from = after.map_or(0, |p| p.id + 1);
            futures_util::future::ready(Ok((from..total).take(CHUNK).map(record).collect()))
        }
    }

    #[tokio::test]
    async fn the_body_reads_the_store_only_as_fast_as_the_client_takes_it() {
        let total = CHUNK as u64 * 4 + 7;
        let reads = Arc::new(Mutex::new(0));
        let renderer = Renderer { registry: registry(), format: Format::Json };
        let through = Some(record(total - 1).position());
        let mut body = chunks(store(total, reads.clone()), Some(None), through, renderer, Some("h1.n".into()));
        body.next().await.unwrap().unwrap();
        assert_eq!(*reads.lock().unwrap(), 0, "the opening needs no store read");
        let first = body.next().await.unwrap().unwrap();
        assert_eq!(*reads.lock().unwrap(), 1, "one chunk read for one chunk taken");
        assert!(first.len() < CHUNK * 400, "a chunk holds at most {CHUNK} records");
        // A client that stops reading here leaves the rest unread: nothing else was fetched.
        let mut all = b"{\"alerts\":[".to_vec();
        all.extend_from_slice(&first);
        while let Some(chunk) = body.next().await {
            all.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(*reads.lock().unwrap(), 5, "every chunk read once");
        let json: serde_json::Value = serde_json::from_slice(&all).unwrap();
        assert_eq!(json["alerts"].as_array().unwrap().len() as u64, total);
        assert_eq!(json["next"], "h1.n");
    }

    #[tokio::test]
    async fn an_empty_csv_page_is_its_header_alone() {
        let reads = Arc::new(Mutex::new(0));
        let renderer = Renderer { registry: registry(), format: Format::Csv };
        let body: Vec<_> = chunks(store(0, reads.clone()), None, None, renderer, None).collect().await;
        let text: String = body.into_iter().map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap()).collect();
        assert_eq!(text, format!("{COLUMNS}\n"));
        assert_eq!(*reads.lock().unwrap(), 0);
    }

    #[test]
    fn a_cursor_reads_back_as_its_position_and_a_made_up_one_is_refused() {
        let position = record(12).position();
        assert_eq!(parse_cursor(&cursor(position)).unwrap(), position);
        // "h1.0.ffffffffffffffff" was found by the query fuzz target (crates/http/fuzz): an id
        // past i64::MAX, which no record has.
        for bad in ["", "h1.", "h1.zz.1", "12.3", "h1.1.2.3", "h1.0.ffffffffffffffff", "h1.0.8000000000000000"] {
            assert_eq!(parse_cursor(bad).unwrap_err().field.as_deref(), Some("cursor"), "{bad:?}");
        }
    }
}
