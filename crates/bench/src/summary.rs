//! `tryvoha-bench summary dir=DIR[,DIR…] [quiet_cpu_s=0.5]`: the saved reports of several runs
//! as Markdown tables, with tryvoha's figures divided by nchan's and by the floor's (and
//! nchan's by the floor's) for each pair of runs of the same size and label. With several directories, each label is prefixed with its directory's
//! name. A pair is *noisy* when, during either run's messages, anything besides the server and
//! the clients used more than `quiet_cpu_s` CPU seconds; medians are given over all pairs and
//! over the quiet ones.

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use crate::args::Args;
use crate::report::median;

pub fn run(args: &Args) -> anyhow::Result<()> {
    let dirs: Vec<&str> = args.required("dir")?.split(',').filter(|d| !d.is_empty()).collect();
    let quiet_cpu_s: f64 = args.number("quiet_cpu_s", 0.5)?;
    args.reject_unknown()?;
    let mut reports = Vec::new();
    for dir in &dirs {
        let prefix = Path::new(dir).file_name().and_then(|n| n.to_str()).unwrap_or(dir);
        for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {dir}"))? {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let mut report: Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
            if dirs.len() > 1 {
                let label = format!("{prefix}/{}", report["label"].as_str().unwrap_or(""));
                report["label"] = Value::String(label);
            }
            reports.push(report);
        }
    }
    reports.sort_by_key(|r| (r["n"].as_u64(), r["label"].as_str().map(str::to_string), target(r).to_string()));
    print_runs(&reports);
    for (ours, theirs) in [("tryvoha", "nchan"), ("tryvoha", "floor"), ("nchan", "floor")] {
        print_ratios(&reports, ours, theirs, quiet_cpu_s);
    }
    print_memory_slopes(&reports);
    Ok(())
}

fn print_runs(reports: &[Value]) {
    println!(
        "| N | run | server | connect s (SYNs dropped) | p50 ms | p99 ms | max ms | time-to-all min / median / max ms | first delivery median ms | publish call p50 ms | missing / dup / out-of-order | CPU µs per delivery | PSS KiB per sub (connected → after msgs) | RSS KiB per sub (connected → after msgs) | other CPU s during msgs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        let s = &r["server"];
        println!(
            "| {} | {} | {} | {} ({}) | {} | {} | {} | {} / {} / {} | {} | {} | {} / {} / {} | {} | {} → {} | {} → {} | {} |",
            r["n"],
            r["label"].as_str().unwrap_or(""),
            target(r),
            fixed(&r["connect_s"], 2),
            r["listen_overflows"],
            fixed(&r["latency_ms"]["p50"], 1),
            fixed(&r["latency_ms"]["p99"], 1),
            fixed(&r["latency_ms"]["max"], 1),
            fixed(&r["time_to_all_ms"]["min"], 1),
            fixed(&r["time_to_all_ms"]["median"], 1),
            fixed(&r["time_to_all_ms"]["max"], 1),
            fixed(&r["first_delivery_ms"]["median"], 2),
            fixed(&r["publish_ms"]["p50"], 1),
            r["missing"],
            r["duplicate"],
            r["out_of_order"],
            fixed(&s["cpu_us_per_delivery"], 1),
            fixed(&s["pss_kib_per_sub"], 1),
            fixed(&s["pss_kib_per_sub_after"], 1),
            fixed(&s["rss_kib_per_sub"], 1),
            fixed(&s["rss_kib_per_sub_after"], 1),
            fixed(&r["other_cpu_s"], 2),
        );
    }
}

/// The figures compared, as (heading, path into the report).
const RATIOS: [(&str, &[&str]); 4] = [
    ("time-to-all median", &["time_to_all_ms", "median"]),
    ("p50 latency", &["latency_ms", "p50"]),
    ("PSS per subscriber after msgs", &["server", "pss_kib_per_sub_after"]),
    ("CPU per delivery", &["server", "cpu_us_per_delivery"]),
];

fn print_ratios(reports: &[Value], ours_name: &str, theirs_name: &str, quiet_cpu_s: f64) {
    let has = |name: &str| reports.iter().any(|r| target(r) == name);
    if !has(ours_name) || !has(theirs_name) {
        return;
    }
    println!();
    let headings: Vec<&str> = RATIOS.iter().map(|(heading, _)| *heading).collect();
    println!("| N | run | {ours_name} ÷ {theirs_name}: {} |", headings.join(" | "));
    println!("|---|---|{}", "---|".repeat(RATIOS.len()));
    // Medians per size and transport (reports from before the WebSocket runs have none: SSE).
    let transport = |r: &Value| r["transport"].as_str().unwrap_or("sse").to_string();
    let mut groups: Vec<(u64, String)> =
        reports.iter().filter_map(|r| Some((r["n"].as_u64()?, transport(r)))).collect();
    groups.sort();
    groups.dedup();
    for (n, group_transport) in groups {
        let mut all: Vec<Vec<f64>> = vec![Vec::new(); RATIOS.len()];
        let mut quiet: Vec<Vec<f64>> = vec![Vec::new(); RATIOS.len()];
        let of_size: Vec<&Value> =
            reports.iter().filter(|r| r["n"].as_u64() == Some(n) && transport(r) == group_transport).collect();
        let mut labels: Vec<&str> = of_size.iter().filter_map(|r| r["label"].as_str()).collect();
        labels.dedup();
        for label in labels {
            let find = |name: &str| of_size.iter().find(|r| r["label"].as_str() == Some(label) && target(r) == name);
            let (Some(ours), Some(theirs)) = (find(ours_name), find(theirs_name)) else { continue };
            let other = |r: &Value| r["other_cpu_s"].as_f64().unwrap_or(f64::INFINITY);
            let noisy = other(ours).max(other(theirs)) > quiet_cpu_s;
            let mut cells = Vec::new();
            for (index, (_, path)) in RATIOS.iter().enumerate() {
                let Some(value) = ratio(ours, theirs, path) else {
                    cells.push("-".to_string());
                    continue;
                };
                all[index].push(value);
                if !noisy {
                    quiet[index].push(value);
                }
                cells.push(format!("{value:.2}×"));
            }
            let mark = if noisy { " (noisy)" } else { "" };
            println!("| {n} | {label}{mark} | {} |", cells.join(" | "));
        }
        for (name, figures) in [("median, all pairs", &mut all), ("median, quiet pairs", &mut quiet)] {
            let count = figures.first().map_or(0, Vec::len);
            let medians: Vec<String> = figures
                .iter_mut()
                .map(|values| {
                    values.sort_by(f64::total_cmp);
                    median(values).map_or("-".to_string(), |m| format!("**{m:.2}×**"))
                })
                .collect();
            println!("| {n} | {group_transport} {name} ({count}) | {} |", medians.join(" | "));
        }
    }
}

fn ratio(ours: &Value, theirs: &Value, path: &[&str]) -> Option<f64> {
    let get = |report: &Value| path.iter().fold(report, |value, key| &value[*key]).as_f64();
    let (ours, theirs) = (get(ours)?, get(theirs)?);
    (theirs != 0.0).then(|| ours / theirs)
}

fn target(report: &Value) -> &str {
    report["target"].as_str().unwrap_or("?")
}

fn fixed(value: &Value, decimals: usize) -> String {
    value.as_f64().map_or("-".to_string(), |x| format!("{x:.decimals$}"))
}

/// Memory per subscriber from the difference between the smallest and the largest run of one
/// server and label: unlike "after connect minus idle", it does not depend on how much memory
/// the allocator already had free at start-up, which new connections reuse before growing.
fn print_memory_slopes(reports: &[Value]) {
    println!();
    println!(
        "| server | run | sizes | RSS KiB per extra sub (connected / after msgs) | PSS KiB per extra sub (connected / after msgs) |"
    );
    println!("|---|---|---|---|---|");
    let mut groups: Vec<(&str, &str)> =
        reports.iter().map(|r| (target(r), r["label"].as_str().unwrap_or(""))).collect();
    groups.sort();
    groups.dedup();
    for (server, label) in groups {
        let mut runs: Vec<&Value> =
            reports.iter().filter(|r| target(r) == server && r["label"].as_str().unwrap_or("") == label).collect();
        runs.sort_by_key(|r| r["n"].as_u64());
        let (Some(small), Some(large)) = (runs.first(), runs.last()) else { continue };
        let (Some(n_small), Some(n_large)) = (small["n"].as_f64(), large["n"].as_f64()) else { continue };
        if n_large <= n_small {
            continue;
        }
        let slope = |kind: &str, at: usize| {
            let kib = |r: &Value| r["server"][kind][at].as_f64();
            match (kib(small), kib(large)) {
                (Some(a), Some(b)) => format!("{:.1}", (b - a) / (n_large - n_small)),
                _ => "-".to_string(),
            }
        };
        println!(
            "| {server} | {label} | {n_small}→{n_large} | {} / {} | {} / {} |",
            slope("rss_kib", 1),
            slope("rss_kib", 2),
            slope("pss_kib", 1),
            slope("pss_kib", 2)
        );
    }
}
