//! tryvoha's own counters around a phase of a run, from `GET /metrics`: how many frames it
//! signed (each event is meant to be signed once, however many subscribers get it) and how
//! many slow subscribers it cut off. Other servers have no such counters: an empty map.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::coordinator::Settings;
use crate::http;
use crate::target::Target;

/// The counters read, as they are named in `/metrics`.
const COUNTERS: [&str; 6] = [
    "tryvoha_frames_signed_total",
    "tryvoha_catch_up_reads_total",
    "tryvoha_slow_subscribers_cut_total",
    "tryvoha_stalled_subscribers_cut_total",
    "tryvoha_lagged_subscribers_cut_total",
    "tryvoha_events_delivered_total",
];

pub type Counters = BTreeMap<String, f64>;

pub async fn fetch(settings: &Settings) -> Counters {
    if settings.target != Target::Tryvoha {
        return Counters::new();
    }
    match read(&settings.server).await {
        Ok(counters) => counters,
        Err(error) => {
            eprintln!("bench: cannot read /metrics: {error:#}");
            Counters::new()
        }
    }
}

async fn read(server: &str) -> anyhow::Result<Counters> {
    let mut connection = http::Connection::open(server).await?;
    let response = connection.send("GET", "/metrics", &[], b"").await?;
    anyhow::ensure!(response.status == 200, "/metrics answered {}", response.status);
    Ok(parse(&String::from_utf8_lossy(&response.body)))
}

fn parse(text: &str) -> Counters {
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(name, _)| COUNTERS.contains(name))
        .filter_map(|(name, value)| Some((name.to_string(), value.trim().parse().ok()?)))
        .collect()
}

/// How much each counter grew between the two readings (`null` when either is missing).
pub fn delta(before: &Counters, after: &Counters) -> Value {
    let grown: serde_json::Map<String, Value> = COUNTERS
        .iter()
        .map(|name| {
            let value = before.get(*name).zip(after.get(*name)).map(|(b, a)| a - b);
            (name.to_string(), json!(value))
        })
        .collect();
    Value::Object(grown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_and_subtracted() {
        let before = parse("# HELP x\ntryvoha_frames_signed_total 10\ntryvoha_subscribers{transport=\"sse\"} 3\n");
        let after = parse("tryvoha_frames_signed_total 31\ntryvoha_slow_subscribers_cut_total 4\n");
        let grown = delta(&before, &after);
        assert_eq!(grown["tryvoha_frames_signed_total"], json!(21.0));
        assert_eq!(grown["tryvoha_slow_subscribers_cut_total"], Value::Null);
    }
}
