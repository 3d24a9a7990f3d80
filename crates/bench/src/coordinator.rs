//! One run: connect N subscribers through client processes, publish a warm-up and M measured
//! messages, sample the server, and report. `workload=fanout` (the default) publishes each
//! message once every subscriber has the one before; `workload=burst` publishes the M messages
//! evenly over `burst_ms` without waiting; `workload=storm-prepare|storm` are the two halves of
//! a reconnect storm (`crate::storm`).

use std::time::Duration;

use anyhow::Context;

use crate::args::Args;
use crate::client::Transport;
use crate::fleet::{self, Fleet};
use crate::report::{self, Inputs, ServerSamples};
use crate::sys::monotonic_ns;
use crate::target::{Published, Publisher, PublisherPlan, Target, subscribe_path};
use crate::{process, server_metrics, storm};

/// The most connections one client process holds: the fd limit here is 20,000 per process.
const MAX_PER_CLIENT: usize = 9_500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    Fanout,
    Burst,
    StormPrepare,
    Storm,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Fanout => "fanout",
            Workload::Burst => "burst",
            Workload::StormPrepare => "storm-prepare",
            Workload::Storm => "storm",
        }
    }
}

pub struct Settings {
    pub workload: Workload,
    pub transport: Transport,
    pub target: Target,
    pub server: String,
    /// Where the subscribers connect: `server` unless `subscribe_to=` names several (the nodes
    /// of a cluster; the clients are spread over them in turn).
    pub subscribe_to: Vec<String>,
    pub server_pid: Option<u32>,
    pub subscribers: usize,
    pub measured: usize,
    pub clients: usize,
    pub sources: usize,
    pub concurrency: usize,
    pub gap: Duration,
    /// `workload=burst`: the M messages are spread evenly over this.
    pub burst: Duration,
    /// Every this-many-th subscriber stops reading (0: none).
    pub stall_every: usize,
    /// `workload=storm`: the event the subscribers resume after, and the run that declared it.
    pub after: Option<u64>,
    pub run: Option<String>,
    pub settle: Duration,
    pub message_timeout: Duration,
    pub connect_timeout: Duration,
    pub oblasts: Vec<u32>,
    pub payload_bytes: usize,
    pub label: String,
    pub out: Option<String>,
}

impl Settings {
    fn parse(args: &Args) -> anyhow::Result<Settings> {
        let workload = match args.text("workload").unwrap_or("fanout") {
            "fanout" => Workload::Fanout,
            "burst" => Workload::Burst,
            "storm-prepare" => Workload::StormPrepare,
            "storm" => Workload::Storm,
            other => anyhow::bail!("workload={other}: expected fanout, burst, storm-prepare or storm"),
        };
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
        let oblasts = args.text("oblast").unwrap_or("14").split(',').map(str::parse).collect::<Result<_, _>>();
        let settings = Settings {
            workload,
            transport: Transport::parse(args.text("transport").unwrap_or("sse"))?,
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
            burst: Duration::from_millis(args.number("burst_ms", 1000)?),
            stall_every: args.number("stall_every", 0)?,
            after: args.text("after").map(str::parse).transpose().context("after= is not an event id")?,
            run: args.text("run").map(str::to_string),
            settle: Duration::from_millis(args.number("settle_ms", 1000)?),
            message_timeout: Duration::from_secs(args.number("message_timeout_s", 30)?),
            connect_timeout: Duration::from_secs(args.number("connect_timeout_s", 120)?),
            oblasts: oblasts.context("oblast= is not a list of region ids")?,
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
    match settings.workload {
        Workload::StormPrepare => return storm::prepare(&settings).await,
        Workload::Storm => return storm::resume(&settings).await,
        Workload::Fanout | Workload::Burst => {}
    }
    let run = run_name();
    let channel = format!("bench-{run}");
    let mut publisher = open_publisher(&settings, &run, &channel, settings.measured + 1).await?;
    let sample = || settings.server_pid.map(process::sample).transpose();
    let idle = sample()?;
    let tcp_idle = process::tcp_socket_kib();

    let common = [
        ("path", subscribe_path(settings.target, settings.transport, &settings.oblasts, &channel)),
        ("transport", settings.transport.name().to_string()),
        ("stall_every", settings.stall_every.to_string()),
        ("sources", settings.sources.to_string()),
        ("run", run.clone()),
        ("messages", (settings.measured + 1).to_string()),
        ("concurrency", (settings.concurrency / settings.clients).max(1).to_string()),
        ("connect_timeout_s", settings.connect_timeout.as_secs().to_string()),
    ];
    let overflows_before = process::listen_overflows();
    let connect_started = monotonic_ns();
    let mut fleet = spawn_fleet(&settings, &common)?;
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
    let metrics_before = server_metrics::fetch(&settings).await;
    let before_messages = sample()?;
    let clients_before = fleet.cpu_seconds();
    let machine_before = process::machine_busy_seconds();
    let phase_started = monotonic_ns();
    let published = match settings.workload {
        Workload::Burst => publish_burst(&settings, &mut publisher, &mut fleet).await?,
        _ => publish_one_by_one(&settings, &mut publisher, &mut fleet).await?,
    };
    let message_phase_s = (monotonic_ns() - phase_started) as f64 / 1e9;
    let after_messages = sample()?;
    let machine_after = process::machine_busy_seconds();
    let client_cpu_s = fleet.cpu_seconds() - clients_before;
    let metrics_after = server_metrics::fetch(&settings).await;
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
        workload: settings.workload.name(),
        transport: settings.transport.name(),
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
        server_metrics: server_metrics::delta(&metrics_before, &metrics_after),
        tcp_kib: [tcp_idle, tcp_connected],
        client_cpu_s,
        machine_cpu_s: machine_after.zip(machine_before).map(|(after, before)| after - before),
        message_phase_s,
        results: &results,
    });
    report::print(&report);
    save(&settings, &report)
}

/// Each message once every subscriber that reads has the one before: bursts never overlap.
async fn publish_one_by_one(
    settings: &Settings,
    publisher: &mut Publisher,
    fleet: &mut Fleet,
) -> anyhow::Result<Vec<(Published, bool)>> {
    let mut published = Vec::with_capacity(settings.measured);
    for seq in 1..=settings.measured as u32 {
        let call = publisher.publish(seq).await?;
        let complete = fleet.wait_have(seq, settings.message_timeout).await?;
        if !complete {
            eprintln!("bench: message {seq} did not reach every subscriber within {:?}", settings.message_timeout);
        }
        published.push((call, complete));
        tokio::time::sleep(settings.gap).await;
    }
    Ok(published)
}

/// The M messages at even intervals over `burst` (or as fast as the server answers, if that
/// is slower), then a wait for the last: each is complete if the last reached everyone (the
/// clients' counts say whether any earlier one is missing).
async fn publish_burst(
    settings: &Settings,
    publisher: &mut Publisher,
    fleet: &mut Fleet,
) -> anyhow::Result<Vec<(Published, bool)>> {
    let started = tokio::time::Instant::now();
    let interval = settings.burst / settings.measured.max(1) as u32;
    let mut calls = Vec::with_capacity(settings.measured);
    for seq in 1..=settings.measured as u32 {
        tokio::time::sleep_until(started + interval * (seq - 1)).await;
        calls.push(publisher.publish(seq).await?);
    }
    let last = settings.measured as u32;
    let complete = fleet.wait_have(last, settings.message_timeout).await?;
    if !complete {
        eprintln!("bench: the burst's last message did not reach everyone within {:?}", settings.message_timeout);
    }
    Ok(calls.into_iter().map(|call| (call, complete)).collect())
}

pub fn run_name() -> String {
    format!("{}x{}", std::process::id(), monotonic_ns() % 1_000_000_000)
}

pub async fn open_publisher(
    settings: &Settings,
    run: &str,
    channel: &str,
    messages: usize,
) -> anyhow::Result<Publisher> {
    let token = match settings.target {
        Target::Tryvoha => {
            std::env::var("TRYVOHA_ADMIN_TOKEN").context("TRYVOHA_ADMIN_TOKEN must hold the admin token")?
        }
        Target::Nchan | Target::Floor => String::new(),
    };
    Publisher::open(PublisherPlan {
        target: settings.target,
        address: &settings.server,
        run,
        channel,
        token,
        oblasts: &settings.oblasts,
        messages,
        payload_bytes: settings.payload_bytes,
    })
    .await
}

/// The client processes, each with its share of `n` and the arguments in `common`.
pub fn spawn_fleet(settings: &Settings, common: &[(&str, String)]) -> anyhow::Result<Fleet> {
    let program = std::env::current_exe().context("cannot find this program to start clients")?;
    let shares = fleet::shares(settings.subscribers, settings.clients);
    Fleet::spawn(&program, &shares, &settings.subscribe_to, common, settings.measured + 1)
}

pub fn save(settings: &Settings, report: &serde_json::Value) -> anyhow::Result<()> {
    if let Some(path) = &settings.out {
        std::fs::write(path, format!("{report}\n")).with_context(|| format!("cannot write {path}"))?;
    }
    Ok(())
}
