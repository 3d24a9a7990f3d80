//! `tryvoha regions`.

use clap::Args;
use reqwest::Method;
use serde_json::Value;

use super::{Connection, call, print_json, text};
use crate::region_names::RegionNames;
use crate::say;

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
