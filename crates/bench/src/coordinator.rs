//! One run: connect N subscribers through client processes, publish a warm-up and M measured
//! messages one burst at a time, sample the server, and report.

use std::time::Duration;

use anyhow::Context;

use crate::args::Args;
use crate::fleet::{self, Fleet};
use crate::process;
use crate::report::{self, Inputs, ServerSamples};
use crate::sys::monotonic_ns;
use crate::target::{Publisher, PublisherPlan, Target, subscribe_path};

/// The most connections one client process holds: the fd limit here is 20,000 per process.
const MAX_PER_CLIENT: usize = 9_500;

struct Settings {
    target: Target,
    server: String,
    /// Where the subscribers connect: `server` unless `subscribe_to=` names several (the nodes
    /// of a cluster; the clients are spread over them in turn).
    subscribe_to: Vec<String>,
    server_pid: Option<u32>,
    subscribers: usize,
    measured: usize,
    clients: usize,
    sources: usize,
    concurrency: usize,
    gap: Duration,
    settle: Duration,
    message_timeout: Duration,
    connect_timeout: Duration,
    oblast: u32,
    payload_bytes: usize,
    label: String,
    out: Option<String>,
}

impl Settings {
    fn parse(args: &Args) -> anyhow::Result<Settings> {
        let target = Target::parse(args.required("target")?)?;
        let subscribers: usize = args.number("n", 10_000)?;
        let clients = args.number("clients", subscribers.div_ceil(MAX_PER_CLIENT).max(1))?;
        anyhow::ensure!(subscribers > 0 && clients > 0, "n and clients must be positive");
        anyhow::ensure!(clients <= subscribers, "more clients than subscribers: some would hold nothing");
        anyhow::ensure!(
            subscribers.div_ceil(clients) <= MAX_PER_CLIENT,
            "{clients} clients for {subscribers} subscribers is over {MAX_PER_CLIENT} connections each"
        );
        let sources = args.number("sources", 4usize)?;
        anyhow::ensure!((1..=250).contains(&sources), "sources= must be 1..=250");
        let server = args.text("server").unwrap_or(target.default_address()).to_string();
        let subscribe_to = match args.text("subscribe_to") {
            Some(list) => list.split(',').filter(|a| !a.is_empty()).map(str::to_string).collect(),
            None => vec![server.clone()],
        };
        anyhow::ensure!(
            clients % subscribe_to.len() == 0,
            "{clients} clients do not spread evenly over {} servers: set clients=",
            subscribe_to.len()
        );
        let settings = Settings {
            target,
            server,
            subscribe_to,
            server_pid: args.text("server_pid").map(str::parse).transpose().context("server_pid= is not a pid")?,
            subscribers,
            measured: args.number("m", 20)?,
            clients,
            sources,
            concurrency: args.number("concurrency", 256)?,
            gap: Duration::from_millis(args.number("gap_ms", 100)?),
            settle: Duration::from_millis(args.number("settle_ms", 1000)?),
            message_timeout: Duration::from_secs(args.number("message_timeout_s", 30)?),
            connect_timeout: Duration::from_secs(args.number("connect_timeout_s", 120)?),
            oblast: args.number("oblast", 14)?,
            payload_bytes: args.number("payload", 590)?,
            label: args.text("label").unwrap_or_default().to_string(),
            out: args.text("out").map(str::to_string),
        };
        args.reject_unknown()?;
        Ok(settings)
    }
}

pub async fn run(args: &Args) -> anyhow::Result<()> {
    let settings = Settings::parse(args)?;
    let run = format!("{}x{}", std::process::id(), monotonic_ns() % 1_000_000_000);
    let channel = format!("bench-{run}");
    let token = match settings.target {
        Target::Tryvoha => {
            std::env::var("TRYVOHA_ADMIN_TOKEN").context("TRYVOHA_ADMIN_TOKEN must hold the admin token")?
        }
        Target::Nchan => String::new(),
    };
    let mut publisher = Publisher::open(PublisherPlan {
        target: settings.target,
        address: &settings.server,
        run: &run,
        channel: &channel,
        token,
        oblast: settings.oblast,
        messages: settings.measured + 1,
        payload_bytes: settings.payload_bytes,
    })
    .await?;
    let sample = || settings.server_pid.map(process::sample).transpose();
    let idle = sample()?;
    let tcp_idle = process::tcp_socket_kib();

    let program = std::env::current_exe().context("cannot find this program to start clients")?;
    let shares = fleet::shares(settings.subscribers, settings.clients);
    let common = [
        ("path", subscribe_path(settings.target, settings.oblast, &channel)),
        ("sources", settings.sources.to_string()),
        ("run", run.clone()),
        ("messages", (settings.measured + 1).to_string()),
        ("concurrency", (settings.concurrency / settings.clients).max(1).to_string()),
        ("connect_timeout_s", settings.connect_timeout.as_secs().to_string()),
    ];
    let overflows_before = process::listen_overflows();
    let connect_started = monotonic_ns();
    let mut fleet = Fleet::spawn(&program, &shares, &settings.subscribe_to, &common, settings.measured + 1)?;
    let ready = fleet.wait_ready(settings.connect_timeout).await?;
    let connect_s = (monotonic_ns() - connect_started) as f64 / 1e9;
    let listen_overflows = process::listen_overflows().zip(overflows_before).map(|(after, before)| after - before);
    let failed: usize = ready.iter().map(|r| r.failed).sum();
    let subscribed: usize = ready.iter().map(|r| r.connected).sum();
    eprintln!("bench: {subscribed} subscribers connected in {connect_s:.2} s ({failed} failed)");
    // Let the accept backlog and the servers' own bookkeeping settle before measuring memory.
    tokio::time::sleep(settings.settle).await;
    let connected = sample()?;
    let tcp_connected = process::tcp_socket_kib();

    let warm_up = publisher.publish(0).await?;
    if !fleet.wait_have(0, settings.message_timeout).await? {
        eprintln!("bench: the warm-up did not reach every subscriber within {:?}", settings.message_timeout);
    }
    tokio::time::sleep(settings.gap).await;
    let before_messages = sample()?;
    let clients_before = fleet.cpu_seconds();
    let machine_before = process::machine_busy_seconds();
    let phase_started = monotonic_ns();
    let mut published = Vec::with_capacity(settings.measured);
    for seq in 1..=settings.measured as u32 {
        let call = publisher.publish(seq).await?;
        // Bursts never overlap: the next message waits until everyone has this one.
        let complete = fleet.wait_have(seq, settings.message_timeout).await?;
        if !complete {
            eprintln!("bench: message {seq} did not reach every subscriber within {:?}", settings.message_timeout);
        }
        published.push((call, complete));
        tokio::time::sleep(settings.gap).await;
    }
    let message_phase_s = (monotonic_ns() - phase_started) as f64 / 1e9;
    let after_messages = sample()?;
    let machine_after = process::machine_busy_seconds();
    let client_cpu_s = fleet.cpu_seconds() - clients_before;
    let results = fleet.finish(Duration::from_secs(60)).await?;
    if let Err(error) = publisher.clean_up().await {
        eprintln!("bench: cleaning up the declared alerts failed: {error:#}");
    }

    let server = match (idle, connected, before_messages, after_messages) {
        (Some(idle), Some(connected), Some(before_messages), Some(after_messages)) => {
            Some(ServerSamples { idle, connected, before_messages, after_messages })
        }
        _ => None,
    };
    let report = report::build(&Inputs {
        target: settings.target.name(),
        label: &settings.label,
        subscribers: settings.subscribers,
        measured: settings.measured,
        clients: settings.clients,
        sources: settings.sources,
        ready: &ready,
        connect_s,
        listen_overflows,
        warm_up: &warm_up,
        published: &published,
        server,
        tcp_kib: [tcp_idle, tcp_connected],
        client_cpu_s,
        machine_cpu_s: machine_after.zip(machine_before).map(|(after, before)| after - before),
        message_phase_s,
        results: &results,
    });
    report::print(&report);
    if let Some(path) = &settings.out {
        std::fs::write(path, format!("{report}\n")).with_context(|| format!("cannot write {path}"))?;
    }
    Ok(())
}
