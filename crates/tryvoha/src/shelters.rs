//! `tryvoha shelters import FILE`: checks every row of a GeoJSON or CSV file, then adds them all
//! in one request (all or nothing), or with `--skip-invalid` only the valid ones.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use reqwest::Method;
use serde_json::json;
use tryvoha_geo::read_shelter_file;

use crate::client::{Connection, call};
use crate::rows::good_rows;

#[derive(Subcommand)]
pub enum ShelterCommand {
    /// Import shelters from GeoJSON points or CSV with lat/lon columns (admin).
    Import(ImportArgs),
    /// Report a shelter open, full or closed (responder, operator, admin).
    Status(crate::client::StatusArgs),
}

#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    connection: Connection,
    file: PathBuf,
    /// Import the valid rows and report the others, instead of importing nothing.
    #[arg(long)]
    skip_invalid: bool,
}

pub async fn run(command: ShelterCommand) -> anyhow::Result<()> {
    let args = match command {
        ShelterCommand::Import(args) => args,
        ShelterCommand::Status(args) => return crate::client::shelter_status(args).await,
    };
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let rows = read_shelter_file(&text).with_context(|| format!("{} cannot be read", args.file.display()))?;
    let rows = rows.into_iter().map(|row| (row.number, row.result)).collect();
    let (valid, skipped) = good_rows(rows, "row", args.skip_invalid)?;
    if valid.is_empty() {
        bail!("no valid rows to import");
    }
    let spinner = ProgressBar::new_spinner().with_message(format!("uploading {} shelters", valid.len()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let answer =
        call(&args.connection, Method::POST, "/api/v1/shelters/import", Some(json!({ "shelters": valid }))).await;
    spinner.finish_and_clear();
    let (_, body) = answer?;
    crate::say!(
        "imported {} shelters ({} already present{})",
        body["added"],
        body["unchanged"].as_u64().unwrap_or_default(),
        if skipped == 0 { String::new() } else { format!(", skipped {skipped} invalid rows") }
    );
    Ok(())
}
