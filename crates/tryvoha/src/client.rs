//! The CLI's client subcommands: each is one call to the server's HTTP API (and, where a region
//! is named or printed, one more for the registry's names).

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::region_names::RegionNames;
use crate::say;

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

#[derive(Subcommand)]
pub enum AlertCommand {
    /// Declare an alert for a region.
    Declare {
        #[command(flatten)]
        connection: Connection,
        /// Region: id (14), KATOTTG code or name in Ukrainian or English ("Київська область").
        #[arg(long)]
        region: String,
        /// air_raid, artillery_shelling, urban_fights, chemical or nuclear.
        #[arg(long, default_value = "air_raid")]
        kind: String,
        /// actual, exercise or test.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        fields: AlertFields,
    },
    /// Change an active alert's level, threats, texts or expiry.
    Update {
        #[command(flatten)]
        connection: Connection,
        id: u64,
        #[command(flatten)]
        fields: AlertFields,
    },
    /// Give the all-clear for an alert.
    Cancel {
        #[command(flatten)]
        connection: Connection,
        id: u64,
    },
}

/// What a declaration sets and an update may change.
#[derive(Args)]
pub struct AlertFields {
    /// red or yellow.
    #[arg(long)]
    level: Option<String>,
    /// A threat (drones, ballistic_missiles, ...); repeat for several (an update replaces the list).
    #[arg(long = "threat")]
    threats: Vec<String>,
    #[arg(long)]
    message_uk: Option<String>,
    #[arg(long)]
    message_en: Option<String>,
    /// RFC 3339 time after which the alert ends by itself.
    #[arg(long)]
    expires_at: Option<String>,
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

impl AlertFields {
    /// Adds the fields given to a request body; those not given are left out. A time that is
    /// not RFC 3339 is refused here, in words, before anything is sent.
    fn fill(self, body: &mut Value) -> anyhow::Result<()> {
        if let Some(at) = &self.expires_at
            && OffsetDateTime::parse(at, &Rfc3339).is_err()
        {
            bail!(
                "--expires-at {at:?} is not a time with a zone, such as 2026-03-01T18:00:00Z or 2026-03-01T20:00:00+02:00"
            );
        }
        for (key, value) in [("level", self.level), ("expires_at", self.expires_at)] {
            if let Some(value) = value {
                body[key] = json!(value);
            }
        }
        if !self.threats.is_empty() {
            body["threats"] = json!(self.threats);
        }
        // Only the languages given: `null` for the other would be a wrong type to the server.
        let mut message = serde_json::Map::new();
        for (language, text) in [("uk", self.message_uk), ("en", self.message_en)] {
            if let Some(text) = text {
                message.insert(language.to_owned(), json!(text));
            }
        }
        if !message.is_empty() {
            body["message"] = Value::Object(message);
        }
        Ok(())
    }
}

#[derive(Args)]
pub struct RegionsArgs {
    #[command(flatten)]
    connection: Connection,
    /// oblast, raion or hromada.
    #[arg(long)]
    level: Option<String>,
    /// Show this region (id, KATOTTG code or name) and the regions within it.
    region: Option<String>,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once.
    Create {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        name: String,
        /// admin, operator or reader.
        #[arg(long)]
        role: String,
        /// A region an operator may act in (with its subtree): id, KATOTTG code or name; repeat
        /// for several.
        #[arg(long = "region")]
        regions: Vec<String>,
    },
    List(Connection),
    Revoke {
        #[command(flatten)]
        connection: Connection,
        id: u64,
    },
    /// Create an admin token offline, in the data directory of a stopped server (a lost admin token).
    ResetAdmin(crate::admin_reset::ResetAdminArgs),
}

pub async fn alert(command: AlertCommand) -> anyhow::Result<()> {
    match command {
        AlertCommand::Declare { connection, region, kind, status, fields } => {
            let names = RegionNames::to_resolve(&connection, [&region]).await?;
            let mut body = json!({ "region_id": names.resolve(&region)?, "kind": kind });
            if let Some(status) = status {
                body["status"] = json!(status);
            }
            fields.fill(&mut body)?;
            let (status, alert) = call(&connection, Method::POST, "/api/v1/alerts", Some(body)).await?;
            if connection.json {
                return print_json(&alert);
            }
            say!("{}", declared(status, &alert, &names));
            Ok(())
        }
        AlertCommand::Update { connection, id, fields } => {
            let mut body = json!({});
            fields.fill(&mut body)?;
            let (_, alert) = call(&connection, Method::PATCH, &format!("/api/v1/alerts/{id}"), Some(body)).await?;
            if connection.json {
                return print_json(&alert);
            }
            say!("{}", updated(&alert, &RegionNames::fetch_or_empty(&connection).await));
            Ok(())
        }
        AlertCommand::Cancel { connection, id } => {
            let (_, alert) =
                call(&connection, Method::POST, &format!("/api/v1/alerts/{id}/cancel"), Some(json!({}))).await?;
            if connection.json {
                return print_json(&alert);
            }
            say!("cancelled: {}", alert_line(&alert, &RegionNames::fetch_or_empty(&connection).await));
            Ok(())
        }
    }
}

/// What a declaration did: a new alert, or one already active and what (if anything) it changed.
/// An older server sends no `changed`; then only "already active" can be said.
fn declared(status: StatusCode, alert: &Value, names: &RegionNames) -> String {
    let line = alert_line(alert, names);
    if status == StatusCode::CREATED {
        return format!("declared: {line}");
    }
    match changed(alert) {
        None => format!("already active: {line}"),
        Some(fields) if fields.is_empty() => format!("already active; nothing changed: {line}"),
        Some(fields) => format!("already active; escalated: {}: {line}", fields.join(", ")),
    }
}

/// What an update changed, when the server says.
fn updated(alert: &Value, names: &RegionNames) -> String {
    let line = alert_line(alert, names);
    match changed(alert) {
        None => format!("updated: {line}"),
        Some(fields) if fields.is_empty() => format!("nothing changed: {line}"),
        Some(fields) => format!("updated: {}: {line}", fields.join(", ")),
    }
}

/// The answer's `changed` member: the names of the fields the request changed.
fn changed(alert: &Value) -> Option<Vec<&str>> {
    alert.get("changed")?.as_array().map(|fields| fields.iter().filter_map(Value::as_str).collect())
}

pub async fn alerts(connection: Connection) -> anyhow::Result<()> {
    let (_, body) = call(&connection, Method::GET, "/api/v1/alerts/active", None).await?;
    if connection.json {
        return print_json(&body);
    }
    let alerts = body["alerts"].as_array().cloned().unwrap_or_default();
    if alerts.is_empty() {
        say!("no active alerts");
        return Ok(());
    }
    let names = RegionNames::fetch_or_empty(&connection).await;
    for alert in alerts {
        say!("{}", alert_line(&alert, &names));
    }
    Ok(())
}

pub async fn regions(args: RegionsArgs) -> anyhow::Result<()> {
    let mut query = Vec::new();
    if let Some(level) = &args.level {
        query.push(format!("level={level}"));
    }
    if let Some(region) = &args.region {
        let id = RegionNames::to_resolve(&args.connection, [region]).await?.resolve(region)?;
        let (_, detail) = call(&args.connection, Method::GET, &format!("/api/v1/regions/{id}"), None).await?;
        if !args.connection.json {
            say!("{}", region_line(&detail));
        }
        query.push(format!("parent_id={id}"));
    }
    let (_, body) = call(&args.connection, Method::GET, &format!("/api/v1/regions?{}", query.join("&")), None).await?;
    if args.connection.json {
        return print_json(&body);
    }
    for region in body["regions"].as_array().map(Vec::as_slice).unwrap_or_default() {
        say!("{}", region_line(region));
    }
    Ok(())
}

fn region_line(region: &Value) -> String {
    format!(
        "{:>6}  {:<8} {:<8} {} / {}",
        region["id"],
        text(&region["level"]),
        text(&region["state"]),
        text(&region["name_uk"]),
        text(&region["name_en"])
    )
}

pub async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { connection, name, role, regions } => {
            let names = RegionNames::to_resolve(&connection, &regions).await?;
            let regions = regions.iter().map(|region| names.resolve(region)).collect::<anyhow::Result<Vec<_>>>()?;
            let body = json!({ "name": name, "role": role, "regions": regions });
            let (_, created) = call(&connection, Method::POST, "/api/v1/tokens", Some(body)).await?;
            if connection.json {
                return print_json(&created);
            }
            say!(
                "token {} ({}, regions {}) created; its secret is shown only now:\n\n    {}\n",
                created["id"],
                text(&created["role"]),
                names.labels(&created["regions"]),
                text(&created["token"])
            );
            Ok(())
        }
        TokenCommand::ResetAdmin(args) => crate::admin_reset::run(args),
        TokenCommand::List(connection) => {
            let (_, body) = call(&connection, Method::GET, "/api/v1/tokens", None).await?;
            if connection.json {
                return print_json(&body);
            }
            let names = RegionNames::fetch_or_empty(&connection).await;
            for token in body["tokens"].as_array().map(Vec::as_slice).unwrap_or_default() {
                let revoked = if token["revoked_at"].is_null() { "" } else { "  (revoked)" };
                say!(
                    "{:>4}  {:<8} {}  regions {}{revoked}",
                    token["id"],
                    text(&token["role"]),
                    text(&token["name"]),
                    names.labels(&token["regions"])
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { connection, id } => {
            let (_, token) = call(&connection, Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await?;
            if connection.json {
                return print_json(&token);
            }
            say!("token {} revoked", token["id"]);
            Ok(())
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
    if let Some(token) = &connection.token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.with_context(|| format!("cannot reach the server at {base}"))?;
    let status = response.status();
    let value: Value = response.json().await.with_context(|| format!("the server's answer to {path} is not JSON"))?;
    if !status.is_success() {
        let code = text(&value["code"]);
        let field = value["field"].as_str().map(|f| format!(" (field {f})")).unwrap_or_default();
        bail!("{status}: {}{field} [{code}]", text(&value["detail"]));
    }
    Ok((status, value))
}

fn alert_line(alert: &Value, names: &RegionNames) -> String {
    let finished = alert["finished_at"].as_str().map(|at| format!(" finished {at}")).unwrap_or_default();
    let region = alert["region_id"].as_u64().map_or_else(|| alert["region_id"].to_string(), |id| names.label(id));
    format!(
        "#{} region {region}: {} {} {} since {}{finished}",
        alert["id"],
        text(&alert["kind"]),
        text(&alert["level"]),
        text(&alert["status"]),
        text(&alert["started_at"])
    )
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

    fn names() -> RegionNames {
        RegionNames::from_list(&json!({ "regions": [
            { "id": 31, "level": "oblast", "name_uk": "м. Київ", "name_en": "Kyiv City" }
        ] }))
    }

    fn alert(changed: Option<Value>) -> Value {
        let mut alert = json!({ "id": 7, "region_id": 31, "kind": "air_raid", "level": "red", "status": "actual",
            "started_at": "2026-03-01T18:00:00Z", "finished_at": null });
        if let Some(changed) = changed {
            alert["changed"] = changed;
        }
        alert
    }

    #[test]
    fn a_declaration_says_what_it_changed() {
        let names = names();
        let line = "#7 region 31 м. Київ (Kyiv City): air_raid red actual since 2026-03-01T18:00:00Z";
        assert_eq!(declared(StatusCode::CREATED, &alert(None), &names), format!("declared: {line}"));
        assert_eq!(
            declared(StatusCode::OK, &alert(Some(json!(["level", "threats"]))), &names),
            format!("already active; escalated: level, threats: {line}")
        );
        assert_eq!(
            declared(StatusCode::OK, &alert(Some(json!([]))), &names),
            format!("already active; nothing changed: {line}")
        );
        assert_eq!(declared(StatusCode::OK, &alert(None), &names), format!("already active: {line}"), "older server");
    }

    #[test]
    fn an_update_says_what_it_changed() {
        let names = names();
        assert!(updated(&alert(Some(json!(["level"]))), &names).starts_with("updated: level: #7 region 31 м. Київ"));
        assert!(updated(&alert(Some(json!([]))), &names).starts_with("nothing changed: #7"));
        assert!(updated(&alert(None), &names).starts_with("updated: #7"), "older server");
    }

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

    #[test]
    fn a_bad_expiry_and_the_message_languages_are_handled_before_sending() {
        let fields = |expires_at: &str| AlertFields {
            level: None,
            threats: Vec::new(),
            message_uk: None,
            message_en: Some("Drones".into()),
            expires_at: Some(expires_at.into()),
        };
        let error = fields("tomorrow").fill(&mut json!({})).unwrap_err().to_string();
        assert!(error.starts_with("--expires-at \"tomorrow\" is not a time with a zone"), "{error}");
        let mut body = json!({});
        fields("2026-03-01T20:00:00+02:00").fill(&mut body).unwrap();
        assert_eq!(body["message"], json!({ "en": "Drones" }), "no null for the language not given");
    }
}
