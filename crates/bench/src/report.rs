//! One run's figures: built from the clients' results and the server samples, printed for
//! people, and saved as JSON for `tryvoha-bench summary`.

use serde_json::{Value, json};

use crate::fleet::Ready;
use crate::process::Usage;
use crate::target::Published;

/// Server usage at the four points of a run.
pub struct ServerSamples {
    pub idle: Usage,
    pub connected: Usage,
    pub before_messages: Usage,
    pub after_messages: Usage,
}

pub struct Inputs<'a> {
    pub target: &'a str,
    pub workload: &'a str,
    pub transport: &'a str,
    pub label: &'a str,
    pub subscribers: usize,
    pub measured: usize,
    pub clients: usize,
    pub sources: usize,
    pub ready: &'a [Ready],
    pub connect_s: f64,
    /// Connection attempts the kernel dropped on a full listen queue while connecting.
    pub listen_overflows: Option<u64>,
    pub warm_up: &'a Published,
    /// The measured messages, in order, and whether every subscriber had each within the timeout.
    pub published: &'a [(Published, bool)],
    pub server: Option<ServerSamples>,
    /// How tryvoha's own counters grew over the messages (`crate::server_metrics`).
    pub server_metrics: Value,
    pub tcp_kib: [Option<u64>; 2],
    /// CPU used by the clients over the measured messages.
    pub client_cpu_s: f64,
    /// CPU used by the whole machine over the measured messages.
    pub machine_cpu_s: Option<f64>,
    pub message_phase_s: f64,
    pub results: &'a [Value],
}

pub fn build(inputs: &Inputs) -> Value {
    let n = inputs.subscribers;
    let messages = inputs.measured;
    // Latencies per measured message (index 0 is the warm-up), over every client, in ms.
    let per_message: Vec<Vec<f64>> = (1..=messages)
        .map(|seq| {
            let mut all: Vec<f64> = inputs
                .results
                .iter()
                .filter_map(|r| r["latency_us"][seq].as_array())
                .flatten()
                .filter_map(Value::as_u64)
                .map(|us| us as f64 / 1000.0)
                .collect();
            all.sort_by(f64::total_cmp);
            all
        })
        .collect();
    let mut pooled: Vec<f64> = per_message.iter().flatten().copied().collect();
    pooled.sort_by(f64::total_cmp);
    let deliveries = pooled.len();
    let time_to_all: Vec<f64> = sorted(per_message.iter().filter_map(|l| l.last().copied()).collect());
    let first_delivery: Vec<f64> = sorted(per_message.iter().filter_map(|l| l.first().copied()).collect());
    let publish_ms: Vec<f64> = sorted(inputs.published.iter().map(|(p, _)| p.call_ns as f64 / 1e6).collect());
    let sum = |key: &str| inputs.results.iter().filter_map(|r| r[key].as_u64()).sum::<u64>();
    let connected = sum("connected") as usize;

    let server = inputs.server.as_ref().map(|s| {
        let per_sub = |after: u64, before: u64| (after as f64 - before as f64) / connected.max(1) as f64;
        let message_cpu_s = s.after_messages.cpu_seconds_since(&s.before_messages);
        json!({
            "processes": s.connected.processes,
            "cpu_us_per_delivery": message_cpu_s * 1e6 / deliveries.max(1) as f64,
            "cpu_s_messages": message_cpu_s,
            "cpu_s_connect": s.connected.cpu_seconds_since(&s.idle),
            "rss_kib": [s.idle.rss_kib, s.connected.rss_kib, s.after_messages.rss_kib],
            "pss_kib": [s.idle.pss_kib, s.connected.pss_kib, s.after_messages.pss_kib],
            "rss_kib_per_sub": per_sub(s.connected.rss_kib, s.idle.rss_kib),
            "pss_kib_per_sub": per_sub(s.connected.pss_kib, s.idle.pss_kib),
            "rss_kib_per_sub_after": per_sub(s.after_messages.rss_kib, s.idle.rss_kib),
            "pss_kib_per_sub_after": per_sub(s.after_messages.pss_kib, s.idle.pss_kib),
        })
    });
    // A burst: from the first message's publish until the last subscriber has the last one.
    let burst = (inputs.workload == "burst").then(|| {
        let sent = |index: usize| inputs.published.get(index).map(|(p, _)| p.sent_ns as f64 / 1e6);
        let (first, last) = (sent(0), sent(messages.saturating_sub(1)));
        let last_reached = per_message.last().and_then(|l| l.last().copied());
        json!({
            "publish_span_ms": first.zip(last).map(|(a, b)| b - a),
            "until_last_has_last_ms": first.zip(last).zip(last_reached).map(|((a, b), reach)| b - a + reach),
        })
    });
    let tcp_kib_per_connection = match inputs.tcp_kib {
        [Some(before), Some(after)] => json!((after as f64 - before as f64) / connected.max(1) as f64),
        _ => Value::Null,
    };
    json!({
        "target": inputs.target,
        "workload": inputs.workload,
        "transport": inputs.transport,
        "label": inputs.label,
        "n": n,
        "m": messages,
        "clients": inputs.clients,
        "sources": inputs.sources,
        "connected": connected,
        "connect_failed": sum("failed"),
        "connect_s": inputs.connect_s,
        "listen_overflows": inputs.listen_overflows,
        "client_connect_ms": inputs.ready.iter().map(|r| r.connect_ms).collect::<Vec<_>>(),
        "deliveries": deliveries,
        "expected_deliveries": connected * messages,
        "missing": sum("missing"),
        "duplicate": sum("duplicate"),
        "out_of_order": sum("out_of_order"),
        "disconnected": sum("disconnected"),
        "stalled": sum("stalled"),
        "stalled_cut": sum("stalled_cut"),
        "burst": burst,
        "server_metrics": inputs.server_metrics,
        "incomplete_messages": inputs.published.iter().filter(|(_, complete)| !complete).count(),
        "data_bytes": inputs.results.iter().filter_map(|r| r["data_bytes"].as_u64()).max(),
        "latency_ms": {
            "p50": percentile(&pooled, 0.50),
            "p99": percentile(&pooled, 0.99),
            "p999": percentile(&pooled, 0.999),
            "max": pooled.last(),
        },
        "time_to_all_ms": {
            "min": time_to_all.first(),
            "median": median(&time_to_all),
            "max": time_to_all.last(),
            "each": per_message.iter().map(|l| l.last()).collect::<Vec<_>>(),
        },
        "first_delivery_ms": {
            "median": median(&first_delivery),
            "max": first_delivery.last(),
        },
        "per_message_p50_ms": per_message.iter().map(|l| percentile(l, 0.5)).collect::<Vec<_>>(),
        "publish_ms": {
            "warm_up": inputs.warm_up.call_ns as f64 / 1e6,
            "p50": percentile(&publish_ms, 0.5),
            "max": publish_ms.last(),
            "statuses": inputs.published.iter().map(|(p, _)| p.status).collect::<Vec<_>>(),
        },
        "server": server,
        "tcp_kernel_kib_per_connection": tcp_kib_per_connection,
        "client_cpu_s": inputs.client_cpu_s,
        "machine_cpu_s": inputs.machine_cpu_s,
        // Whatever else ran during the messages (another build, other services): noise.
        "other_cpu_s": inputs.machine_cpu_s.map(|machine| {
            let server = inputs.server.as_ref().map_or(0.0, |s| s.after_messages.cpu_seconds_since(&s.before_messages));
            machine - server - inputs.client_cpu_s
        }),
        "message_phase_s": inputs.message_phase_s,
    })
}

/// The report as a few lines of text.
pub fn print(report: &Value) {
    let ms = |v: &Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.1}"));
    let two = |v: &Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.2}"));
    let r = report;
    println!(
        "== {} {} {} N={} M={} ({} clients, {} source addresses) {}",
        r["target"].as_str().unwrap_or("?"),
        r["workload"].as_str().unwrap_or("?"),
        r["transport"].as_str().unwrap_or("?"),
        r["n"],
        r["m"],
        r["clients"],
        r["sources"],
        r["label"].as_str().unwrap_or("")
    );
    println!(
        "connect: {} connected, {} failed, {:.2} s ({} SYNs dropped on a full listen queue)",
        r["connected"],
        r["connect_failed"],
        r["connect_s"].as_f64().unwrap_or(0.0),
        r["listen_overflows"]
    );
    let latency = &r["latency_ms"];
    println!(
        "declare→receive: p50 {} ms, p99 {} ms, p99.9 {} ms, max {} ms ({} of {} deliveries)",
        ms(&latency["p50"]),
        ms(&latency["p99"]),
        ms(&latency["p999"]),
        ms(&latency["max"]),
        r["deliveries"],
        r["expected_deliveries"]
    );
    let all = &r["time_to_all_ms"];
    println!(
        "time until all N: min {} / median {} / max {} ms; first delivery median {} ms",
        ms(&all["min"]),
        ms(&all["median"]),
        ms(&all["max"]),
        ms(&r["first_delivery_ms"]["median"])
    );
    println!(
        "missing {}, duplicate {}, out of order {}, disconnected {}, incomplete messages {}",
        r["missing"], r["duplicate"], r["out_of_order"], r["disconnected"], r["incomplete_messages"]
    );
    if r["stalled"].as_u64().unwrap_or(0) > 0 {
        println!("stalled on purpose: {}, of which cut off by the server: {}", r["stalled"], r["stalled_cut"]);
    }
    if !r["burst"].is_null() {
        println!(
            "burst: published over {} ms; the last subscriber had the last message {} ms after the first was published",
            ms(&r["burst"]["publish_span_ms"]),
            ms(&r["burst"]["until_last_has_last_ms"])
        );
    }
    if r["server_metrics"].as_object().is_some_and(|m| !m.is_empty()) {
        println!("server counters over the messages: {}", r["server_metrics"]);
    }
    let publish = &r["publish_ms"];
    println!(
        "publish call: p50 {} ms, max {} ms (warm-up {} ms), statuses {}",
        ms(&publish["p50"]),
        ms(&publish["max"]),
        ms(&publish["warm_up"]),
        publish["statuses"]
    );
    let server = &r["server"];
    if !server.is_null() {
        println!(
            "server ({} processes): {:.2} µs CPU per delivery ({:.2} s over the messages, {:.2} s to connect)",
            server["processes"],
            server["cpu_us_per_delivery"].as_f64().unwrap_or(0.0),
            server["cpu_s_messages"].as_f64().unwrap_or(0.0),
            server["cpu_s_connect"].as_f64().unwrap_or(0.0)
        );
        println!(
            "server memory per subscriber: RSS {} KiB, PSS {} KiB after connect; RSS {} KiB, PSS {} KiB after the messages",
            two(&server["rss_kib_per_sub"]),
            two(&server["pss_kib_per_sub"]),
            two(&server["rss_kib_per_sub_after"]),
            two(&server["pss_kib_per_sub_after"])
        );
        println!("server KiB idle / connected / after: RSS {} PSS {}", server["rss_kib"], server["pss_kib"]);
    }
    println!(
        "over {:.2} s of messages: clients {:.2} s CPU, whole machine {} s, anything else {} s",
        r["message_phase_s"].as_f64().unwrap_or(0.0),
        r["client_cpu_s"].as_f64().unwrap_or(0.0),
        two(&r["machine_cpu_s"]),
        two(&r["other_cpu_s"])
    );
    println!(
        "kernel TCP memory per connection (both ends): {} KiB; frame data line {} B",
        two(&r["tcp_kernel_kib_per_connection"]),
        r["data_bytes"]
    );
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The middle of sorted values, or the mean of the two middle ones.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let half = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        len if len % 2 == 1 => Some(sorted[half]),
        _ => Some((sorted[half - 1] + sorted[half]) / 2.0),
    }
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), Some(50.0));
        assert_eq!(percentile(&values, 0.99), Some(99.0));
        assert_eq!(percentile(&values, 1.0), Some(100.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(median(&[1.0, 2.0, 4.0, 8.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 4.0]), Some(2.0));
    }
}
