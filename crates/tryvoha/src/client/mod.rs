//! The CLI's client subcommands: each is one call to the server's HTTP API (and, where a region
//! is named or printed, one more for the registry's names). `alerts`, `regions` and `tokens`
//! hold the subcommands; this module the connection and the one way a request is sent.

mod alerts;
mod incidents;
mod regions;
mod tokens;
mod webhooks;

use anyhow::{Context, bail};
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::say;

pub use alerts::{AlertCommand, alert, alerts};
pub use incidents::{IncidentCommand, StatusArgs, incident, shelter_status};
pub use regions::{RegionsArgs, regions};
pub use tokens::{TokenCommand, token};
pub use webhooks::{WebhookCommand, webhook};

#[derive(Args, Clone)]
pub struct Connection {
    /// Server base URL.
    #[arg(long, env = "TRYVOHA_SERVER", default_value = "http://127.0.0.1:8080", global = true)]
    pub server: String,
    /// API token.
    #[arg(long, env = "TRYVOHA_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// Print the server's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

impl Connection {
    /// The server's base URL, without a trailing slash. `host:port` means `http://host:port`.
    pub fn base_url(&self) -> anyhow::Result<String> {
        server_url(&self.server)
    }
}

/// `--server` as a base URL: `http://` is assumed without a scheme; anything that is still not an
/// http(s) URL is refused with a sentence rather than a parser's message.
fn server_url(said: &str) -> anyhow::Result<String> {
    let said = said.trim();
    let with_scheme = if said.contains("://") { said.to_owned() } else { format!("http://{said}") };
    let url = reqwest::Url::parse(&with_scheme).ok().filter(|url| url.host_str().is_some_and(|h| !h.is_empty()));
    match url {
        Some(url) if matches!(url.scheme(), "http" | "https") => Ok(with_scheme.trim_end_matches('/').to_owned()),
        Some(url) => bail!("--server {said:?}: the scheme {:?} is not http or https", url.scheme()),
        None => {
            bail!("--server {said:?} is not a server address; give one like http://127.0.0.1:8080 or localhost:8080")
        }
    }
}

/// Sends one request; a problem document from the server becomes an error with its detail.
pub async fn call(
    connection: &Connection,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    let base = connection.base_url()?;
    let url = format!("{base}{path}");
    let mut request = crate::tls::http_client()?.request(method, &url);
    // An empty TRYVOHA_TOKEN is no token: a request that anyone may make is made as anyone.
    if let Some(token) = connection.token.as_deref().filter(|token| !token.trim().is_empty()) {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.with_context(|| format!("cannot reach the server at {base}"))?;
    let status = response.status();
    // 204 No Content (a removal) has no body to read.
    let value: Value = if status == StatusCode::NO_CONTENT {
        Value::Null
    } else {
        response.json().await.with_context(|| format!("the server's answer to {path} is not JSON"))?
    };
    if !status.is_success() {
        let code = text(&value["code"]);
        let field = value["field"].as_str().map(|f| format!(" (field {f})")).unwrap_or_default();
        bail!("{status}: {}{field} [{code}]", text(&value["detail"]));
    }
    Ok((status, value))
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    say!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_without_a_scheme_is_http_and_nonsense_is_a_sentence() {
        assert_eq!(server_url("localhost:8080").unwrap(), "http://localhost:8080");
        assert_eq!(server_url("https://warn.example.org/").unwrap(), "https://warn.example.org");
        assert_eq!(server_url("127.0.0.1:9000").unwrap(), "http://127.0.0.1:9000");
        let error = server_url("ftp://host").unwrap_err().to_string();
        assert!(error.contains("not http or https"), "{error}");
        let error = server_url("http://").unwrap_err().to_string();
        assert!(error.contains("is not a server address"), "{error}");
        let error = server_url("local host:80").unwrap_err().to_string();
        assert!(error.contains("is not a server address"), "{error}");
    }
}
