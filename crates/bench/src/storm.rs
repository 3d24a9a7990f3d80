//! A reconnect storm, in two halves with a server restart between them (bench/live_load.sh):
//!
//! - `workload=storm-prepare`: declares a warm-up and M more messages with nobody listening,
//!   and prints `run=<run> after=<id>`, the id of the warm-up's event: where subscribers that
//!   had seen it, and then lost their connection, resume from;
//! - `workload=storm run=<run> after=<id>`: N subscribers reconnect at once, each with
//!   `Last-Event-ID: <id>`, and must get the M messages they missed, in order, each once.
//!
//! The report: the time from the first reconnect until every subscriber has the last message,
//! gaps, duplicates, and how many frames the server signed meanwhile (M, if the missed events
//! are signed once and shared; N × M if each subscriber's catch-up signed its own).

use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};

use crate::coordinator::{Settings, open_publisher, run_name, save, spawn_fleet};
use crate::sys::monotonic_ns;
use crate::target::{Target, subscribe_path};
use crate::{process, server_metrics};

pub async fn prepare(settings: &Settings) -> anyhow::Result<()> {
    anyhow::ensure!(settings.target == Target::Tryvoha, "a reconnect storm resumes tryvoha's log: target=tryvoha");
    let run = run_name();
    let mut publisher = open_publisher(settings, &run, "", settings.measured + 1).await?;
    let mut after = None;
    for seq in 0..=settings.measured as u32 {
        let published = publisher.publish(seq).await?;
        anyhow::ensure!(published.status == 201, "declaration {seq} answered {}", published.status);
        if seq == 0 {
            after = published.event_seq;
        }
    }
    let after = after.context("the warm-up's answer has no seq")?;
    println!("run={run} after={after}");
    Ok(())
}

pub async fn resume(settings: &Settings) -> anyhow::Result<()> {
    let run = settings.run.clone().context("workload=storm needs run= (from storm-prepare)")?;
    let after = settings.after.context("workload=storm needs after= (from storm-prepare)")?;
    let sample = || settings.server_pid.map(process::sample).transpose();
    let idle = sample()?;
    let metrics_before = server_metrics::fetch(settings).await;
    let common = [
        ("path", subscribe_path(settings.target, settings.transport, &settings.oblasts, "")),
        ("transport", settings.transport.name().to_string()),
        ("last_event_id", after.to_string()),
        ("from", "1".to_string()),
        ("sources", settings.sources.to_string()),
        ("run", run),
        ("messages", (settings.measured + 1).to_string()),
        // At once: every subscriber of a client connects without waiting for the others.
        ("concurrency", settings.subscribers.div_ceil(settings.clients).to_string()),
        ("connect_timeout_s", settings.connect_timeout.as_secs().to_string()),
    ];
    let overflows_before = process::listen_overflows();
    let started = monotonic_ns();
    let mut fleet = spawn_fleet(settings, &common)?;
    let ready = fleet.wait_ready(settings.connect_timeout).await?;
    let connected_s = (monotonic_ns() - started) as f64 / 1e9;
    let complete = fleet.wait_have(settings.measured as u32, settings.message_timeout).await?;
    let caught_up_s = (monotonic_ns() - started) as f64 / 1e9;
    // What else might arrive (a duplicate, a message out of order) has a moment to show.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_storm = sample()?;
    let metrics_after = server_metrics::fetch(settings).await;
    let results = fleet.finish(Duration::from_secs(60)).await?;
    let sum = |key: &str| results.iter().filter_map(|r| r[key].as_u64()).sum::<u64>();
    let connected = sum("connected");
    let server = idle.zip(after_storm).map(|(idle, after)| {
        json!({
            "cpu_s": after.cpu_seconds_since(&idle),
            "rss_kib": [idle.rss_kib, after.rss_kib],
            "rss_kib_per_sub": (after.rss_kib as f64 - idle.rss_kib as f64) / connected.max(1) as f64,
        })
    });
    let report = json!({
        "target": settings.target.name(),
        "workload": settings.workload.name(),
        "transport": settings.transport.name(),
        "label": settings.label,
        "n": settings.subscribers,
        "m": settings.measured,
        "after": after,
        "connected": connected,
        "connect_failed": sum("failed"),
        "listen_overflows": process::listen_overflows().zip(overflows_before).map(|(a, b)| a - b),
        "all_connected_s": connected_s,
        "client_connect_ms": ready.iter().map(|r| r.connect_ms).collect::<Vec<_>>(),
        "complete": complete,
        "caught_up_s": caught_up_s,
        "expected_deliveries": connected * settings.measured as u64,
        "missing": sum("missing"),
        "duplicate": sum("duplicate"),
        "out_of_order": sum("out_of_order"),
        "disconnected": sum("disconnected"),
        "server": server,
        "server_metrics": server_metrics::delta(&metrics_before, &metrics_after),
    });
    print(&report);
    save(settings, &report)
}

fn print(r: &Value) {
    println!(
        "== storm {} N={} M={} {}",
        r["target"].as_str().unwrap_or("?"),
        r["n"],
        r["m"],
        r["label"].as_str().unwrap_or("")
    );
    println!(
        "{} reconnected with Last-Event-ID {} ({} failed, {} SYNs dropped), all connected after {:.2} s",
        r["connected"],
        r["after"],
        r["connect_failed"],
        r["listen_overflows"],
        r["all_connected_s"].as_f64().unwrap_or(0.0)
    );
    println!(
        "every subscriber had the last missed message after {:.2} s (complete: {}); missing {}, duplicate {}, out of order {}, disconnected {}",
        r["caught_up_s"].as_f64().unwrap_or(0.0),
        r["complete"],
        r["missing"],
        r["duplicate"],
        r["out_of_order"],
        r["disconnected"]
    );
    println!("server counters over the storm: {}; server {}", r["server_metrics"], r["server"]);
}
