//! `tryvoha token create|list|revoke|reset-admin`.

use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use super::{Connection, call, print_json, text};
use crate::region_names::RegionNames;
use crate::say;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once.
    Create {
        #[command(flatten)]
        connection: Connection,
        #[arg(long)]
        name: String,
        /// admin, operator, responder or reader.
        #[arg(long)]
        role: String,
        /// A region an operator or responder may act in (with its subtree): id, KATOTTG code or name; repeat
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
