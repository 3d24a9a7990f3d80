//! `tryvoha import history FILE.csv`: the public air-raid history into the store the server
//! uses (it may run meanwhile: the store serializes the writes). All rows are checked first; with any bad row nothing is imported unless
//! `--skip-invalid`. Re-importing adds nothing (rows are keyed by region and start).

use std::path::PathBuf;

use crate::cli::StoreArgs;
use crate::rows::good_rows;
use crate::store_url::{IfMissing, open_store};
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use tryvoha_history::{HistoryNames, read_dataset};

/// The names the history datasets use for each unit (tools/build_history_names.py).
const HISTORY_NAMES: &str = include_str!("../../../data/regions/ukraine-history-names.csv");

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import alert history (official_data_en.csv, official_data_uk.csv or volunteer_data_en.csv).
    History(HistoryArgs),
}

#[derive(Args)]
pub struct HistoryArgs {
    file: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
    /// Import the valid rows and report the others, instead of importing nothing.
    #[arg(long)]
    skip_invalid: bool,
}

pub fn run(command: ImportCommand) -> anyhow::Result<()> {
    let ImportCommand::History(args) = command;
    let settings = args.store.load()?;
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let names = HistoryNames::from_csv(HISTORY_NAMES).context("the bundled history names are broken")?;
    let rows = read_dataset(&text, &names).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;

    for row in &rows {
        if let Some(warning) = &row.warning {
            eprintln!("line {}: warning: {warning}", row.line);
        }
    }
    let rows = rows.into_iter().map(|row| (row.line, row.result)).collect();
    let (records, skipped) = good_rows(rows, "line", args.skip_invalid)?;
    let store = open_store(&settings.store, IfMissing::Create)?;
    let spinner = ProgressBar::new_spinner().with_message(format!("writing {} records", records.len()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let added = store.import_history(&records).context("the import failed; nothing was imported")?;
    spinner.finish_and_clear();
    crate::say!(
        "imported {added} alerts ({} already present{})",
        records.len() - added,
        if skipped == 0 { String::new() } else { format!(", {skipped} invalid rows skipped") }
    );
    Ok(())
}
