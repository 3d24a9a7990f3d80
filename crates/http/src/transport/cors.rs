//! Cross-origin use of the API from web pages (CORS), so that others can build pages on it.
//!
//! Reads and streams (`GET`, `HEAD`) are allowed to the configured read origins, by default any
//! (`*`). Writes (`POST`, `PATCH`, `PUT`, `DELETE`) are allowed only to the origins listed for
//! them, by default none: a write needs a bearer token, which a browser never attaches by itself
//! (it is not a cookie), so a foreign page can write only with a token its user pasted in; still,
//! an operator's console is one known page, and listing it is no burden. Credentials
//! (`Access-Control-Allow-Credentials`) are never allowed: the API uses no cookies.
//!
//! The direct SSE path ([`super::sse`]) writes its headers by hand; it takes the same ones as the
//! router's answers, from [`Cors::read_answer_headers`] (see [`super::headers`]).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Headers a page may read from an answer beyond the always-visible ones.
const EXPOSED: &str = "Retry-After, Last-Modified, Location, WWW-Authenticate";
const READ_METHODS: &str = "GET, HEAD";
const WRITE_METHODS: &str = "GET, HEAD, POST, PATCH, PUT, DELETE";
/// How long a browser may remember a preflight's answer.
const PREFLIGHT_MAX_AGE: &str = "86400";

/// Which origins may do what.
#[derive(Clone, Debug)]
pub struct Cors {
    reads: Origins,
    writes: Origins,
}

#[derive(Clone, Debug)]
enum Origins {
    Any,
    Listed(Vec<String>),
}

impl Cors {
    /// Each list holds origins (`https://example.org`, scheme and host, a port if any) or `*`.
    pub fn parse(reads: &[String], writes: &[String]) -> Result<Cors, String> {
        Ok(Cors { reads: Origins::parse(reads)?, writes: Origins::parse(writes)? })
    }

    /// Any page reads; no page writes.
    pub fn default_policy() -> Cors {
        Cors { reads: Origins::Any, writes: Origins::Listed(Vec::new()) }
    }

    /// The `Access-Control-Allow-Origin` value for a read from `origin`, if it may read.
    pub fn read_origin(&self, origin: &[u8]) -> Option<HeaderValue> {
        self.reads.allow(origin)
    }

    fn write_origin(&self, origin: &[u8]) -> Option<HeaderValue> {
        self.writes.allow(origin)
    }

    /// The cross-origin headers of an answer to a read (`GET`, `HEAD`) that came with
    /// `origin`: none for a request without one (not from a browser's cross-origin page).
    pub fn read_answer_headers(&self, origin: Option<&HeaderValue>) -> Vec<(HeaderName, HeaderValue)> {
        origin.map(|origin| answer_headers(self.read_origin(origin.as_bytes()))).unwrap_or_default()
    }
}

/// What marks an answer to a cross-origin request: `Vary: Origin` always (the answer depends
/// on it), and for an `allowed` origin which page may read it and which headers it may see.
fn answer_headers(allowed: Option<HeaderValue>) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![(header::VARY, HeaderValue::from_static("Origin"))];
    if let Some(allowed) = allowed {
        headers.push((header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed));
        headers.push((header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED)));
    }
    headers
}

impl Origins {
    fn parse(items: &[String]) -> Result<Origins, String> {
        if items.iter().any(|item| item.trim() == "*") {
            return Ok(Origins::Any);
        }
        let parse = |item: &String| {
            let origin = item.trim().to_ascii_lowercase();
            let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            match host {
                Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(origin),
                _ => Err(format!("CORS origin {item:?} must be * or scheme://host[:port], without a path")),
            }
        };
        items.iter().map(parse).collect::<Result<_, _>>().map(Origins::Listed)
    }

    fn allow(&self, origin: &[u8]) -> Option<HeaderValue> {
        match self {
            Origins::Any => Some(HeaderValue::from_static("*")),
            Origins::Listed(listed) => {
                let origin = std::str::from_utf8(origin).ok()?;
                listed.iter().any(|o| o.eq_ignore_ascii_case(origin)).then(|| HeaderValue::from_str(origin).ok())?
            }
        }
    }
}

/// Answers preflights and marks answers to allowed cross-origin requests.
pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await; // not a cross-origin request from a browser
    };
    let cors = &state.cors;
    let headers = request.headers();
    if request.method() == Method::OPTIONS
        && let Some(asked) = headers.get(header::ACCESS_CONTROL_REQUEST_METHOD)
        && let Some(answer) = preflight(cors, origin.as_bytes(), asked.as_bytes(), headers)
    {
        return answer;
    }
    let allowed = if matches!(*request.method(), Method::GET | Method::HEAD) {
        cors.read_origin(origin.as_bytes())
    } else {
        cors.write_origin(origin.as_bytes())
    };
    let mut response = next.run(request).await;
    super::headers::set_all(response.headers_mut(), answer_headers(allowed));
    response
}

/// The answer to a preflight that is allowed; `None` lets the router answer (405) as it would.
fn preflight(cors: &Cors, origin: &[u8], asked: &[u8], headers: &HeaderMap) -> Option<Response> {
    let (allowed, methods) = match asked {
        b"GET" | b"HEAD" => (cors.read_origin(origin)?, READ_METHODS),
        b"POST" | b"PATCH" | b"PUT" | b"DELETE" => (cors.write_origin(origin)?, WRITE_METHODS),
        _ => return None,
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
    // The API takes no cookies, so whatever headers a page asks for are harmless to allow:
    // Authorization, Content-Type, Idempotency-Key, Last-Event-ID, If-Modified-Since.
    if let Some(asked_headers) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked_headers.clone());
    }
    out.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(PREFLIGHT_MAX_AGE));
    out.insert(
        header::VARY,
        HeaderValue::from_static("Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
    );
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_origins_are_matched_whole_and_star_allows_any() {
        let cors = Cors::parse(&["https://map.example.org".into()], &["https://console.example.org".into()]).unwrap();
        assert_eq!(cors.read_origin(b"https://map.example.org").unwrap(), "https://map.example.org");
        assert!(cors.read_origin(b"https://map.example.org.evil.test").is_none());
        assert!(cors.write_origin(b"https://map.example.org").is_none());
        assert!(cors.write_origin(b"https://console.example.org").is_some());
        let default = Cors::default_policy();
        assert_eq!(default.read_origin(b"https://anyone.test").unwrap(), "*");
        assert!(default.write_origin(b"https://anyone.test").is_none());
    }

    #[test]
    fn an_origin_with_a_path_is_refused_by_name() {
        let error = Cors::parse(&["https://example.org/app".into()], &[]).unwrap_err();
        assert!(error.contains("https://example.org/app"), "{error}");
        assert!(Cors::parse(&["example.org".into()], &[]).is_err());
    }
}
