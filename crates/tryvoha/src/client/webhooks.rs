//! `tryvoha webhook add|list|remove|deliveries` (admin).

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Connection, call, print_json, text};
use crate::region_names::RegionNames;
use crate::say;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint; its secret is printed once.
    Add {
        #[command(flatten)]
        connection: Connection,
        /// Where to POST each event: https://… (http:// only into an allowed private range).
        url: String,
        /// Events on this region (id, KATOTTG code or name), its ancestors and descendants;
        /// repeat for several. Every region without one.
        #[arg(long = "region")]
        regions: Vec<String>,
        /// air_raid, artillery_shelling, …; repeat for several. Every kind without one.
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// actual, exercise or test; repeat for several. Every status without one.
        #[arg(long = "status")]
        statuses: Vec<String>,
    },
    List(Connection),
    Remove {
        #[command(flatten)]
        connection: Connection,
        id: u64,
    },
    /// The recent delivery attempts of an endpoint, newest first.
    Deliveries {
        #[command(flatten)]
        connection: Connection,
        id: u64,
    },
}

pub async fn webhook(command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add { connection, url, regions, kinds, statuses } => {
            let names = RegionNames::to_resolve(&connection, &regions).await?;
            let regions = regions.iter().map(|region| names.resolve(region)).collect::<anyhow::Result<Vec<_>>>()?;
            let body = json!({ "url": url, "regions": regions, "kinds": kinds, "statuses": statuses });
            let (_, created) = call(&connection, Method::POST, "/api/v1/webhooks", Some(body)).await?;
            if connection.json {
                return print_json(&created);
            }
            say!(
                "webhook {} to {} registered; its signing secret is shown only now:\n\n    {}\n",
                created["id"],
                text(&created["url"]),
                text(&created["secret"])
            );
            Ok(())
        }
        WebhookCommand::List(connection) => {
            let (_, body) = call(&connection, Method::GET, "/api/v1/webhooks", None).await?;
            if connection.json {
                return print_json(&body);
            }
            let names = RegionNames::fetch_or_empty(&connection).await;
            for webhook in body["webhooks"].as_array().map(Vec::as_slice).unwrap_or_default() {
                let state = match &webhook["paused"] {
                    Value::Null => format!("at event {}", webhook["acknowledged_seq"]),
                    paused => format!("PAUSED since {}: {}", text(&paused["at"]), text(&paused["reason"])),
                };
                say!(
                    "{:>4}  {}  regions {}  {state}",
                    webhook["id"].as_u64().unwrap_or_default(),
                    text(&webhook["url"]),
                    names.labels(&webhook["regions"])
                );
            }
            Ok(())
        }
        WebhookCommand::Remove { connection, id } => {
            call(&connection, Method::DELETE, &format!("/api/v1/webhooks/{id}"), None).await?;
            if connection.json {
                return print_json(&json!({ "removed": id }));
            }
            say!("webhook {id} removed");
            Ok(())
        }
        WebhookCommand::Deliveries { connection, id } => {
            let (_, body) = call(&connection, Method::GET, &format!("/api/v1/webhooks/{id}/deliveries"), None).await?;
            if connection.json {
                return print_json(&body);
            }
            for attempt in body["deliveries"].as_array().map(Vec::as_slice).unwrap_or_default() {
                let outcome = match (&attempt["status"], &attempt["error"]) {
                    (Value::Number(status), _) => format!("answered {status}"),
                    (_, error) => text(error).to_owned(),
                };
                say!(
                    "{}  event {:>6}  {:>8.1} ms  {outcome}",
                    text(&attempt["at"]),
                    attempt["seq"].as_u64().unwrap_or_default(),
                    attempt["latency_ms"].as_f64().unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}
