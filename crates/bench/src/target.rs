//! The servers under test: how to subscribe and how to publish to each.
//!
//! tryvoha: subscribers stream `GET /api/v1/stream?regions=<oblasts>` (or the WebSocket
//! `/api/v1/ws`); each message is a declaration `POST /api/v1/alerts` on a different hromada of
//! those oblasts (a second declaration of the same region and kind would make no event),
//! answered once it is durable.
//! nchan, and the floor (`crate::floor`): subscribers stream `GET /sub/<channel>` (SSE or
//! WebSocket) and messages are `POST /pub/<channel>`, padded to the size of tryvoha's event so
//! every server moves the same bytes.

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::client::Transport;
use crate::http;
use crate::stream::message_text;
use crate::sys::monotonic_ns;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Tryvoha,
    Nchan,
    Floor,
}

impl Target {
    pub fn parse(text: &str) -> anyhow::Result<Target> {
        match text {
            "tryvoha" => Ok(Target::Tryvoha),
            "nchan" => Ok(Target::Nchan),
            "floor" => Ok(Target::Floor),
            _ => bail!("target={text}: expected tryvoha, nchan or floor"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Tryvoha => "tryvoha",
            Target::Nchan => "nchan",
            Target::Floor => "floor",
        }
    }

    pub fn default_address(self) -> &'static str {
        match self {
            Target::Tryvoha => "127.0.0.1:8080",
            Target::Nchan => "127.0.0.1:8090",
            Target::Floor => "127.0.0.1:8070",
        }
    }
}

/// Where subscribers of one run connect.
pub fn subscribe_path(target: Target, transport: Transport, oblasts: &[u32], channel: &str) -> String {
    let regions: Vec<String> = oblasts.iter().map(u32::to_string).collect();
    match (target, transport) {
        (Target::Tryvoha, Transport::Sse) => format!("/api/v1/stream?regions={}", regions.join(",")),
        (Target::Tryvoha, Transport::WebSocket) => format!("/api/v1/ws?regions={}", regions.join(",")),
        (Target::Nchan | Target::Floor, _) => format!("/sub/{channel}"),
    }
}

/// One publish call as the publisher saw it.
pub struct Published {
    pub status: u16,
    /// When the request was about to be written (`CLOCK_MONOTONIC`), and how long it took.
    pub sent_ns: u64,
    pub call_ns: u64,
    /// tryvoha: the sequence number of the event this declaration wrote (its SSE `id`).
    pub event_seq: Option<u64>,
}

pub struct Publisher {
    target: Target,
    connection: http::Connection,
    address: String,
    run: String,
    token: String,
    channel: String,
    /// tryvoha: the hromada declared for each message.
    regions: Vec<u32>,
    /// tryvoha: the alerts declared, to cancel after the run.
    alerts: Vec<u64>,
    payload_bytes: usize,
}

pub struct PublisherPlan<'a> {
    pub target: Target,
    pub address: &'a str,
    pub run: &'a str,
    pub channel: &'a str,
    pub token: String,
    pub oblasts: &'a [u32],
    pub messages: usize,
    pub payload_bytes: usize,
}

impl Publisher {
    pub async fn open(plan: PublisherPlan<'_>) -> anyhow::Result<Publisher> {
        let mut connection = http::Connection::open(plan.address).await?;
        let regions = match plan.target {
            Target::Tryvoha => hromadas_of(&mut connection, plan.oblasts, plan.messages).await?,
            Target::Nchan | Target::Floor => Vec::new(),
        };
        Ok(Publisher {
            target: plan.target,
            connection,
            address: plan.address.to_string(),
            run: plan.run.to_string(),
            token: plan.token,
            channel: plan.channel.to_string(),
            regions,
            alerts: Vec::new(),
            payload_bytes: plan.payload_bytes,
        })
    }

    /// Publishes message `seq`, stamped with the time just before the request is written.
    pub async fn publish(&mut self, seq: u32) -> anyhow::Result<Published> {
        let sent_ns = monotonic_ns();
        let text = message_text(&self.run, seq, sent_ns);
        let response = match self.target {
            Target::Tryvoha => {
                let region = *self.regions.get(seq as usize).context("more messages than hromadas")?;
                let body = json!({"region_id": region, "kind": "air_raid", "message": {"en": text}});
                let authorization = format!("Bearer {}", self.token);
                let headers = [("Authorization", authorization.as_str()), ("Content-Type", "application/json")];
                self.connection.send("POST", "/api/v1/alerts", &headers, body.to_string().as_bytes()).await?
            }
            Target::Nchan | Target::Floor => {
                let body = padded_body(&text, self.payload_bytes);
                let headers = [("Content-Type", "application/json"), ("X-EventSource-Event", "declared")];
                let path = format!("/pub/{}", self.channel);
                // nginx closes a connection that sent nothing for a minute (while subscribers
                // connect); a message that found it closed goes again on a new one.
                match self.connection.send("POST", &path, &headers, body.as_bytes()).await {
                    Ok(response) => response,
                    Err(_) => {
                        self.connection = http::Connection::open(&self.address).await?;
                        self.connection.send("POST", &path, &headers, body.as_bytes()).await?
                    }
                }
            }
        };
        let call_ns = monotonic_ns() - sent_ns;
        let mut event_seq = None;
        if self.target == Target::Tryvoha && response.status == 201 {
            let alert: Value = serde_json::from_slice(&response.body).context("the declare answer is not JSON")?;
            self.alerts.extend(alert["id"].as_u64());
            event_seq = alert["seq"].as_u64();
        }
        Ok(Published { status: response.status, sent_ns, call_ns, event_seq })
    }

    /// Gives the all-clear for every alert this run declared, so the next run on the same
    /// server starts from no active alert (nchan channels are fresh per run instead).
    pub async fn clean_up(&mut self) -> anyhow::Result<()> {
        let authorization = format!("Bearer {}", self.token);
        for id in std::mem::take(&mut self.alerts) {
            let path = format!("/api/v1/alerts/{id}/cancel");
            let response =
                self.connection.send("POST", &path, &[("Authorization", authorization.as_str())], b"").await?;
            anyhow::ensure!(response.status == 200, "cancelling alert {id} answered {}", response.status);
        }
        Ok(())
    }
}

/// An alert-like JSON document carrying `text`, padded with spaces to `size` bytes.
fn padded_body(text: &str, size: usize) -> String {
    let body = format!("{{\"type\":\"declared\",\"message\":{{\"en\":\"{text}\"}},\"pad\":\"\"}}");
    let pad = size.saturating_sub(body.len());
    format!("{{\"type\":\"declared\",\"message\":{{\"en\":\"{text}\"}},\"pad\":\"{}\"}}", " ".repeat(pad))
}

/// The first `count` hromadas of `oblasts`, in registry order.
async fn hromadas_of(connection: &mut http::Connection, oblasts: &[u32], count: usize) -> anyhow::Result<Vec<u32>> {
    let mut raion_ids: Vec<u64> = Vec::new();
    for oblast in oblasts {
        let raions = region_list(connection, &format!("/api/v1/regions?level=raion&parent_id={oblast}")).await?;
        raion_ids.extend(raions.iter().filter_map(|r| r["id"].as_u64()));
    }
    let hromadas = region_list(connection, "/api/v1/regions?level=hromada").await?;
    let ids: Vec<u32> = hromadas
        .iter()
        .filter(|r| r["parent_id"].as_u64().is_some_and(|p| raion_ids.contains(&p)))
        .filter_map(|r| r["id"].as_u64().and_then(|id| u32::try_from(id).ok()))
        .take(count)
        .collect();
    anyhow::ensure!(ids.len() == count, "regions {oblasts:?} have {} hromadas, {count} are needed", ids.len());
    Ok(ids)
}

async fn region_list(connection: &mut http::Connection, path: &str) -> anyhow::Result<Vec<Value>> {
    let response = connection.send("GET", path, &[], b"").await?;
    anyhow::ensure!(response.status == 200, "GET {path} answered {}", response.status);
    let document: Value = serde_json::from_slice(&response.body).context("the region list is not JSON")?;
    match document["regions"].as_array() {
        Some(regions) => Ok(regions.clone()),
        None => bail!("GET {path}: no regions array"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nchan_body_is_padded_to_the_asked_size() {
        let body = padded_body("bench run=a seq=1 t=2", 300);
        assert_eq!(body.len(), 300);
        assert!(serde_json::from_str::<Value>(&body).is_ok());
    }
}
