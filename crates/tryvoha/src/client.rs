//! The CLI's client subcommands: each is one call to the server's HTTP API.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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
        /// Region id (e.g. 14 for Kyiv oblast).
        #[arg(long)]
        region: u32,
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

impl AlertFields {
    /// Adds the fields given to a request body; those not given are left out.
    fn fill(self, body: &mut Value) {
        for (key, value) in [("level", self.level), ("expires_at", self.expires_at)] {
            if let Some(value) = value {
                body[key] = json!(value);
            }
        }
        if !self.threats.is_empty() {
            body["threats"] = json!(self.threats);
        }
        if self.message_uk.is_some() || self.message_en.is_some() {
            body["message"] = json!({ "uk": self.message_uk, "en": self.message_en });
        }
    }
}

#[derive(Args)]
pub struct RegionsArgs {
    #[command(flatten)]
    connection: Connection,
    /// oblast, raion or hromada.
    #[arg(long)]
    level: Option<String>,
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
        /// A region an operator may act in (with its subtree); repeat for several.
        #[arg(long = "region")]
        regions: Vec<u32>,
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
            let mut body = json!({ "region_id": region, "kind": kind });
            if let Some(status) = status {
                body["status"] = json!(status);
            }
            fields.fill(&mut body);
            let (status, alert) = call(&connection, Method::POST, "/api/v1/alerts", Some(body)).await?;
            if connection.json {
                return print_json(&alert);
            }
            let verb = if status == StatusCode::CREATED { "declared" } else { "already active" };
            println!("{verb}: {}", alert_line(&alert));
            Ok(())
        }
        AlertCommand::Update { connection, id, fields } => {
            let mut body = json!({});
            fields.fill(&mut body);
            let (_, alert) = call(&connection, Method::PATCH, &format!("/api/v1/alerts/{id}"), Some(body)).await?;
            if connection.json {
                return print_json(&alert);
            }
            println!("updated: {}", alert_line(&alert));
            Ok(())
        }
        AlertCommand::Cancel { connection, id } => {
            let (_, alert) =
                call(&connection, Method::POST, &format!("/api/v1/alerts/{id}/cancel"), Some(json!({}))).await?;
            if connection.json {
                return print_json(&alert);
            }
            println!("cancelled: {}", alert_line(&alert));
            Ok(())
        }
    }
}

pub async fn alerts(connection: Connection) -> anyhow::Result<()> {
    let (_, body) = call(&connection, Method::GET, "/api/v1/alerts/active", None).await?;
    if connection.json {
        return print_json(&body);
    }
    let alerts = body["alerts"].as_array().cloned().unwrap_or_default();
    if alerts.is_empty() {
        println!("no active alerts");
    }
    for alert in alerts {
        println!("{}", alert_line(&alert));
    }
    Ok(())
}

pub async fn regions(args: RegionsArgs) -> anyhow::Result<()> {
    let path = match &args.level {
        Some(level) => format!("/api/v1/regions?level={level}"),
        None => "/api/v1/regions".into(),
    };
    let (_, body) = call(&args.connection, Method::GET, &path, None).await?;
    if args.connection.json {
        return print_json(&body);
    }
    for region in body["regions"].as_array().cloned().unwrap_or_default() {
        println!(
            "{:>6}  {:<8} {:<8} {} / {}",
            region["id"],
            text(&region["level"]),
            text(&region["state"]),
            text(&region["name_uk"]),
            text(&region["name_en"])
        );
    }
    Ok(())
}

pub async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { connection, name, role, regions } => {
            let body = json!({ "name": name, "role": role, "regions": regions });
            let (_, created) = call(&connection, Method::POST, "/api/v1/tokens", Some(body)).await?;
            if connection.json {
                return print_json(&created);
            }
            println!(
                "token {} ({}) created; its secret is shown only now:\n\n    {}\n",
                created["id"],
                text(&created["role"]),
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
            for token in body["tokens"].as_array().cloned().unwrap_or_default() {
                let revoked = if token["revoked_at"].is_null() { "" } else { "  (revoked)" };
                println!(
                    "{:>4}  {:<8} {}  regions {}{revoked}",
                    token["id"],
                    text(&token["role"]),
                    text(&token["name"]),
                    token["regions"]
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { connection, id } => {
            let (_, token) = call(&connection, Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await?;
            if connection.json {
                return print_json(&token);
            }
            println!("token {} revoked", token["id"]);
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
    let url = format!("{}{path}", connection.server.trim_end_matches('/'));
    let mut request = reqwest::Client::new().request(method, &url);
    if let Some(token) = &connection.token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.with_context(|| format!("cannot reach the server at {}", connection.server))?;
    let status = response.status();
    let value: Value = response.json().await.with_context(|| format!("the server's answer to {path} is not JSON"))?;
    if !status.is_success() {
        let code = text(&value["code"]);
        let field = value["field"].as_str().map(|f| format!(" (field {f})")).unwrap_or_default();
        bail!("{status}: {}{field} [{code}]", text(&value["detail"]));
    }
    Ok((status, value))
}

fn alert_line(alert: &Value) -> String {
    let finished = alert["finished_at"].as_str().map(|at| format!(" finished {at}")).unwrap_or_default();
    format!(
        "#{} region {} {} {} {} since {}{finished}",
        alert["id"],
        alert["region_id"],
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
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
