//! `tryvoha watch` prints the live stream and resumes after a disconnect; `tryvoha verify`
//! checks the signatures of a saved stream or event.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;
use tryvoha_live::sse::{SseMessage, SseParser};
use tryvoha_live::{PublicKey, verify_signed_json};

use crate::client::Connection;
use crate::region_names::RegionNames;
use crate::say;

#[derive(Args)]
pub struct WatchArgs {
    #[command(flatten)]
    connection: Connection,
    /// Regions, comma-separated: ids, KATOTTG codes or names (a region also hears its ancestors'
    /// and descendants' alerts).
    #[arg(long)]
    regions: Option<String>,
    /// Alert kinds, comma-separated.
    #[arg(long)]
    kinds: Option<String>,
    /// Statuses, comma-separated (actual, exercise, test).
    #[arg(long)]
    status: Option<String>,
    /// Start after this sequence number instead of with a snapshot.
    #[arg(long)]
    after: Option<u64>,
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    connection: Connection,
    /// A saved SSE stream, or JSON lines (one frame's data per line); `-` reads standard input.
    file: PathBuf,
    /// The keys document (as served at /api/v1/keys) to verify offline; without it the keys
    /// are fetched from --server.
    #[arg(long)]
    keys: Option<PathBuf>,
}

pub async fn watch(args: WatchArgs) -> anyhow::Result<()> {
    // The names print next to ids; without them (a server not up yet) the ids still print.
    let names = match RegionNames::fetch(&args.connection).await {
        Ok(names) => Some(names),
        Err(_) if args.regions.as_deref().is_none_or(|r| r.split(',').all(|id| id.trim().parse::<u64>().is_ok())) => {
            None
        }
        Err(error) => return Err(error.context("region names need the server's registry")),
    };
    let regions = match (&args.regions, &names) {
        (Some(said), Some(names)) => Some(
            said.split(',')
                .map(|region| names.resolve(region).map(|id| id.to_string()))
                .collect::<anyhow::Result<Vec<_>>>()?
                .join(","),
        ),
        (said, _) => said.clone(),
    };
    let mut query = Vec::new();
    for (name, value) in [("regions", &regions), ("kinds", &args.kinds), ("status", &args.status)] {
        if let Some(value) = value {
            query.push(format!("{name}={value}"));
        }
    }
    let url = format!("{}/api/v1/stream?{}", args.connection.base_url()?, query.join("&"));
    let client = crate::tls::http_client()?;
    let mut last_id = args.after;
    let mut backoff = Duration::from_millis(500);
    loop {
        match stream_once(&client, &url, &mut last_id, args.connection.json, names.as_ref()).await {
            Ok(StreamEnd::Refused(message)) => bail!(message),
            Ok(StreamEnd::Closed) => eprintln!("stream closed; resuming after {}", describe(last_id)),
            // Nobody reads any more (`tryvoha watch | head`): stop, do not resume.
            Err(error) if crate::output::is_broken_pipe(&error) => return Err(error),
            Err(error) => eprintln!("stream interrupted ({error:#}); resuming after {}", describe(last_id)),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

enum StreamEnd {
    Closed,
    /// The server answered with an error: retrying would not help.
    Refused(String),
}

async fn stream_once(
    client: &reqwest::Client,
    url: &str,
    last_id: &mut Option<u64>,
    json: bool,
    names: Option<&RegionNames>,
) -> anyhow::Result<StreamEnd> {
    let mut request = client.get(url).header("accept", "text/event-stream");
    if let Some(id) = last_id {
        request = request.header("last-event-id", id.to_string());
    }
    let mut response = request.send().await.context("cannot reach the server")?;
    if !response.status().is_success() {
        let problem: Value = response.json().await.unwrap_or_default();
        return Ok(StreamEnd::Refused(format!(
            "the server refused the stream: {}",
            problem["detail"].as_str().unwrap_or("?")
        )));
    }
    let mut parser = SseParser::default();
    while let Some(chunk) = response.chunk().await.context("reading the stream")? {
        for frame in parser.push(&chunk) {
            if json {
                say!("{}", frame.data);
            } else {
                say!("{}", render(&frame, names));
            }
            if let Some(id) = frame.id.as_deref().and_then(|id| id.parse().ok()) {
                *last_id = Some(id);
            }
        }
    }
    Ok(StreamEnd::Closed)
}

fn describe(last_id: Option<u64>) -> String {
    last_id.map_or_else(|| "the start".to_owned(), |id| format!("event {id}"))
}

/// One line per frame for people: what happened where, with drills marked.
fn render(frame: &SseMessage, names: Option<&RegionNames>) -> String {
    let data: Value = serde_json::from_str(&frame.data).unwrap_or_default();
    let id = frame.id.as_deref().unwrap_or("-");
    match frame.event.as_str() {
        "snapshot" | "reset" => {
            let regions: Vec<String> = data["regions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| format!("{}={}", r["id"], r["state"].as_str().unwrap_or("?")))
                .collect();
            let alerts = data["alerts"].as_array().map_or(0, Vec::len);
            format!("[{id}] {}: {alerts} active alerts; {}", frame.event, regions.join(" "))
        }
        _ => {
            let alert = &data["alert"];
            let status = match alert["status"].as_str() {
                Some("actual") | None => String::new(),
                Some(other) => format!(" [{}]", other.to_uppercase()),
            };
            let region = match (names, alert["region_id"].as_u64()) {
                (Some(names), Some(region)) => names.label(region),
                _ => alert["region_id"].to_string(),
            };
            format!(
                "[{id}] {} #{} region {region}: {} {}{status} at {}",
                frame.event,
                alert["id"],
                alert["kind"].as_str().unwrap_or("?"),
                alert["level"].as_str().unwrap_or("?"),
                data["at"].as_str().unwrap_or("?"),
            )
        }
    }
}

pub async fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?
    };
    let keys_document: Value = match &args.keys {
        Some(path) => {
            serde_json::from_str(&std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?)
                .context("the keys file is not JSON")?
        }
        None => {
            let url = format!("{}/api/v1/keys", args.connection.base_url()?);
            crate::tls::http_client()?
                .get(&url)
                .send()
                .await
                .context("fetching the server's keys")?
                .json()
                .await
                .context("the keys are not JSON")?
        }
    };
    let keys = parse_keys(&keys_document)?;
    let (mut good, mut bad) = (0, 0);
    for data in signed_texts(&text) {
        let seq = serde_json::from_str::<Value>(data).ok().and_then(|v| v["seq"].as_u64());
        let label = seq.map_or_else(|| "frame".to_owned(), |s| format!("seq {s}"));
        match verify_signed_json(data, &keys) {
            Ok(()) => good += 1,
            Err(error) => {
                bad += 1;
                say!("FAIL {label}: {error}");
            }
        }
    }
    say!("{good} verified, {bad} failed");
    match (good, bad) {
        (0, 0) => bail!("no signed frames found"),
        (_, 0) => Ok(()),
        _ => bail!("{bad} frames did not verify"),
    }
}

/// The JSON texts to check: `data:` lines of an SSE capture, or lines that are JSON objects.
fn signed_texts(text: &str) -> Vec<&str> {
    text.lines()
        .map(|line| line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")).unwrap_or(line).trim_end())
        .filter(|line| line.starts_with('{'))
        .collect()
}

fn parse_keys(document: &Value) -> anyhow::Result<Vec<PublicKey>> {
    let keys: Vec<PublicKey> = document["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| {
            Some(PublicKey {
                kid: k["kid"].as_str()?.to_owned(),
                algorithm: "Ed25519",
                public_key: k["public_key"].as_str()?.to_owned(),
            })
        })
        .collect();
    if keys.is_empty() {
        bail!("the keys document has no keys");
    }
    Ok(keys)
}
