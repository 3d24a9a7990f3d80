//! Checking the rows of a file before importing any: a progress bar while checking, every bad
//! row reported with where it is, and the all-or-nothing rule.

use std::fmt::Display;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};

/// Splits checked rows into the good ones and reports of the bad ones (`"{place} {n}: {why}"`,
/// printed to stderr). With bad rows and no `skip_invalid`, refuses: nothing is imported.
/// Returns the good rows and how many were skipped.
pub fn good_rows<T, E: Display>(
    rows: Vec<(usize, Result<T, E>)>,
    place: &str,
    skip_invalid: bool,
) -> anyhow::Result<(Vec<T>, usize)> {
    let progress = ProgressBar::new(rows.len() as u64).with_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} rows")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_message("checking");
    let (mut good, mut problems) = (Vec::with_capacity(rows.len()), Vec::new());
    for (number, result) in rows {
        match result {
            Ok(row) => good.push(row),
            Err(reason) => problems.push(format!("{place} {number}: {reason}")),
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    for problem in &problems {
        eprintln!("{problem}");
    }
    if !problems.is_empty() && !skip_invalid {
        let total = good.len() + problems.len();
        bail!(
            "{} of {total} rows cannot be imported; nothing was imported (--skip-invalid imports the rest)",
            problems.len()
        );
    }
    Ok((good, problems.len()))
}
