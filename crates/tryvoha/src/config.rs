//! Server settings. Precedence, lowest to highest: compiled-in defaults, the TOML file
//! (`--config`), `TRYVOHA_*` environment variables, command-line flags. Clap folds the last two
//! (a flag beats its variable); [`Settings::resolve`] lays them over the file and the defaults.
//!
//! Loading has no side effects: nothing is created until the server starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::store_url::StoreUrl;
use tryvoha_postgres::SchemaName;

mod channels;

pub use channels::{HaRegions, MqttChannel, PushSettings, RawMqtt, RawPush, RawWebhooks, WebhookSettings};

pub const EXAMPLE: &str = include_str!("../../../config/example.toml");
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA: &str = "./tryvoha-data";
pub const DEFAULT_HEARTBEAT_SECS: u64 = 15;
pub const DEFAULT_SUBSCRIBER_QUEUE: usize = 1024;
pub const DEFAULT_STREAM_WRITE_TIMEOUT_SECS: u64 = 60;
pub const DEFAULT_COMPAT_RATE_LIMIT: u32 = 60;
pub const DEFAULT_SHELTER_MAX_DISTANCE_M: u32 = 20_000;
pub const DEFAULT_CAP_MAX_AGE_SECS: u64 = 3600;
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 2048;
pub const DEFAULT_RATE_LIMIT: u32 = 6000;
pub const DEFAULT_RATE_LIMIT_BURST: u32 = 2000;
pub const DEFAULT_DRAIN_SECS: u64 = 10;

/// Phase one: what one source said, every field optional. The same shape serves the TOML file
/// and the flags with their environment variables; [`RawSettings::over`] lays one over another.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    /// The config file itself: a flag only.
    #[serde(skip)]
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    /// A store URL (`crate::store_url`); `sqlite:` and `data` unless said.
    pub store: Option<String>,
    /// The cluster's name: its PostgreSQL schema (and, in cluster mode, its JetStream stream).
    pub cluster_name: Option<String>,
    /// The Ed25519 signing key's file; `signing-key` in the data directory unless said.
    pub signing_key_file: Option<PathBuf>,
    /// The cluster bus, `nats://HOST:PORT`: cluster mode, with a PostgreSQL store.
    pub bus: Option<String>,
    /// The secret itself: from the environment only, never from a file or a flag (they leak).
    #[serde(skip)]
    pub admin_token: Option<String>,
    pub admin_token_file: Option<PathBuf>,
    pub regions: Option<PathBuf>,
    pub heartbeat_secs: Option<u64>,
    pub subscriber_queue: Option<usize>,
    pub stream_write_timeout_secs: Option<u64>,
    pub compat_anonymous: Option<bool>,
    pub compat_rate_limit: Option<u32>,
    pub cap_sender: Option<String>,
    pub log_format: Option<String>,
    pub shelter_max_distance_m: Option<u32>,
    pub public_url: Option<String>,
    pub cap_max_age_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_connections_per_client: Option<usize>,
    pub rate_limit: Option<u32>,
    pub rate_limit_burst: Option<u32>,
    pub trusted_proxies: Option<Vec<String>>,
    pub cors_origins: Option<Vec<String>>,
    pub cors_write_origins: Option<Vec<String>>,
    pub authority: Option<String>,
    pub drain_secs: Option<u64>,
    #[serde(default)]
    pub mqtt: RawMqtt,
    #[serde(default)]
    pub webhooks: RawWebhooks,
    #[serde(default)]
    pub push: RawPush,
}

/// What the flags and environment said.
pub type FlagSettings = RawSettings;
/// What the file said.
pub type FileSettings = RawSettings;

impl RawSettings {
    /// `self` where it says something, `lower` elsewhere.
    pub fn over(self, lower: RawSettings) -> RawSettings {
        RawSettings {
            config: self.config.or(lower.config),
            listen: self.listen.or(lower.listen),
            data: self.data.or(lower.data),
            store: self.store.or(lower.store),
            cluster_name: self.cluster_name.or(lower.cluster_name),
            signing_key_file: self.signing_key_file.or(lower.signing_key_file),
            bus: self.bus.or(lower.bus),
            admin_token: self.admin_token.or(lower.admin_token),
            admin_token_file: self.admin_token_file.or(lower.admin_token_file),
            regions: self.regions.or(lower.regions),
            heartbeat_secs: self.heartbeat_secs.or(lower.heartbeat_secs),
            subscriber_queue: self.subscriber_queue.or(lower.subscriber_queue),
            stream_write_timeout_secs: self.stream_write_timeout_secs.or(lower.stream_write_timeout_secs),
            compat_anonymous: self.compat_anonymous.or(lower.compat_anonymous),
            compat_rate_limit: self.compat_rate_limit.or(lower.compat_rate_limit),
            cap_sender: self.cap_sender.or(lower.cap_sender),
            public_url: self.public_url.or(lower.public_url),
            cap_max_age_secs: self.cap_max_age_secs.or(lower.cap_max_age_secs),
            log_format: self.log_format.or(lower.log_format),
            shelter_max_distance_m: self.shelter_max_distance_m.or(lower.shelter_max_distance_m),
            max_connections: self.max_connections.or(lower.max_connections),
            max_connections_per_client: self.max_connections_per_client.or(lower.max_connections_per_client),
            rate_limit: self.rate_limit.or(lower.rate_limit),
            rate_limit_burst: self.rate_limit_burst.or(lower.rate_limit_burst),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            cors_origins: self.cors_origins.or(lower.cors_origins),
            cors_write_origins: self.cors_write_origins.or(lower.cors_write_origins),
            authority: self.authority.or(lower.authority),
            drain_secs: self.drain_secs.or(lower.drain_secs),
            mqtt: self.mqtt.over(lower.mqtt),
            webhooks: self.webhooks.over(lower.webhooks),
            push: self.push.over(lower.push),
        }
    }
}

/// Phase two: validated and complete.
pub struct Settings {
    pub listen: SocketAddr,
    /// The server's own directory: its lock file and signing key, and by default its database.
    pub data: PathBuf,
    /// Where the log and everything beside it are kept (for PostgreSQL, in the schema named
    /// by `cluster_name`).
    pub store: StoreUrl,
    /// Names this cluster where several share servers: its PostgreSQL schema (and, in cluster
    /// mode, its JetStream stream).
    pub cluster_name: SchemaName,
    /// The key every frame is signed with. The nodes of a cluster are given the same file, so
    /// that a frame verifies whichever node served it.
    pub signing_key_file: PathBuf,
    /// The NATS JetStream server that carries events between the nodes (cluster mode); none:
    /// the nodes of a PostgreSQL store follow it by reading the log every half second.
    pub bus: Option<String>,
    pub admin_token: Option<Secret>,
    pub regions: Option<PathBuf>,
    pub heartbeat: std::time::Duration,
    pub subscriber_queue: usize,
    /// How long a live subscriber's socket may take nothing of a waiting frame.
    pub stream_write_timeout: std::time::Duration,
    /// Serve the compatible APIs without a token.
    pub compat_anonymous: bool,
    /// Requests per minute per client on the compatible APIs; 0 = no limit.
    pub compat_rate_limit: u32,
    /// The `sender` of published CAP messages.
    pub cap_sender: String,
    /// Who the public outputs say issued the alerts (never the token that acted).
    pub authority: String,
    /// How far the nearest shelters may be, unless a request says (`max_distance_m`).
    pub shelter_max_distance_m: u32,
    /// How log lines are written to stderr (`TRYVOHA_LOG` filters them).
    pub log_format: LogFormat,
    /// The base of every absolute link the server publishes (the Atom feed), without a
    /// trailing `/`; `None`: `http://` and the address the server listens on.
    pub public_url: Option<String>,
    /// How old a received CAP message's `sent` may be.
    pub cap_max_age: std::time::Duration,
    /// Connection caps, rate limits, trusted proxies (docs/limits.md).
    pub limits: tryvoha_http::LimitSettings,
    /// Which web pages may read and write (docs/limits.md).
    pub cors: tryvoha_http::Cors,
    /// How long a stopping server waits for its requests in flight and its connections to end.
    pub drain_deadline: std::time::Duration,
    /// The MQTT channel, when a broker is configured.
    pub mqtt: Option<MqttChannel>,
    pub webhooks: WebhookSettings,
    pub push: PushSettings,
}

/// `text` for people, `json` (one object per line) for log collectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A secret that `Debug` never prints.
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Settings {
    pub fn load(flags: FlagSettings) -> anyhow::Result<Settings> {
        let file = match &flags.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        Settings::resolve(flags, file)
    }

    pub fn resolve(flags: FlagSettings, file: FileSettings) -> anyhow::Result<Settings> {
        let said = flags.over(file);
        let listen_text = said.listen.unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_text
            .parse()
            .with_context(|| format!("listen address {listen_text:?} is not HOST:PORT (e.g. 127.0.0.1:8080)"))?;
        let admin_token = match (said.admin_token, said.admin_token_file) {
            (Some(token), _) => Some(token),
            (None, Some(path)) => Some(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("reading the admin token file {}", path.display()))?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => None,
        };
        if admin_token.as_deref().is_some_and(|t| t.len() < 16) {
            bail!("the admin token must be at least 16 characters");
        }
        let heartbeat_secs = said.heartbeat_secs.unwrap_or(DEFAULT_HEARTBEAT_SECS);
        if !(1..=3600).contains(&heartbeat_secs) {
            bail!("heartbeat_secs must be 1 to 3600, not {heartbeat_secs}");
        }
        let stream_write_timeout_secs = said.stream_write_timeout_secs.unwrap_or(DEFAULT_STREAM_WRITE_TIMEOUT_SECS);
        if !(1..=3600).contains(&stream_write_timeout_secs) {
            bail!("stream_write_timeout_secs must be 1 to 3600, not {stream_write_timeout_secs}");
        }
        let subscriber_queue = said.subscriber_queue.unwrap_or(DEFAULT_SUBSCRIBER_QUEUE);
        if !(1..=1_000_000).contains(&subscriber_queue) {
            bail!("subscriber_queue must be 1 to 1000000, not {subscriber_queue}");
        }
        let cap_sender = said.cap_sender.unwrap_or_else(|| "tryvoha".into());
        if cap_sender.is_empty() || cap_sender.contains([' ', ',', '<', '&']) {
            bail!("cap_sender {cap_sender:?} must be non-empty without spaces, commas, < or &");
        }
        let limits = tryvoha_http::LimitSettings {
            max_connections: said.max_connections.unwrap_or(0),
            max_connections_per_client: said.max_connections_per_client.unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_CLIENT),
            requests_per_minute: said.rate_limit.unwrap_or(DEFAULT_RATE_LIMIT),
            request_burst: said.rate_limit_burst.unwrap_or(DEFAULT_RATE_LIMIT_BURST),
            trusted_proxies: tryvoha_http::TrustedProxies::parse(&said.trusted_proxies.unwrap_or_default())
                .map_err(anyhow::Error::msg)?,
        };
        let cors = tryvoha_http::Cors::parse(
            &said.cors_origins.unwrap_or_else(|| vec!["*".into()]),
            &said.cors_write_origins.unwrap_or_default(),
        )
        .map_err(anyhow::Error::msg)?;
        let log_format = match said.log_format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("log_format must be \"text\" or \"json\", not {other:?}"),
        };
        let shelter_max_distance_m = said.shelter_max_distance_m.unwrap_or(DEFAULT_SHELTER_MAX_DISTANCE_M);
        if !(1..=20_000_000).contains(&shelter_max_distance_m) {
            bail!("shelter_max_distance_m must be 1 to 20000000 metres, not {shelter_max_distance_m}");
        }
        let public_url = said.public_url.map(|url| check_public_url(&url)).transpose()?;
        let cap_max_age_secs = said.cap_max_age_secs.unwrap_or(DEFAULT_CAP_MAX_AGE_SECS);
        if !(60..=7 * 24 * 3600).contains(&cap_max_age_secs) {
            bail!("cap_max_age_secs must be 60 to 604800 (a week), not {cap_max_age_secs}");
        }
        let authority = said.authority.map(|a| a.trim().to_owned()).unwrap_or_else(|| cap_sender.clone());
        if authority.is_empty() || authority.chars().count() > 200 {
            bail!("authority must be 1 to 200 characters, not {authority:?}");
        }
        let drain_secs = said.drain_secs.unwrap_or(DEFAULT_DRAIN_SECS);
        if !(1..=3600).contains(&drain_secs) {
            bail!("drain_secs must be 1 to 3600, not {drain_secs}");
        }
        let mqtt = channels::resolve_mqtt(said.mqtt)?;
        let webhooks = channels::resolve_webhooks(said.webhooks)?;
        let push = channels::resolve_push(said.push)?;
        let data: PathBuf = said.data.unwrap_or_else(|| DEFAULT_DATA.into());
        let cluster_name = match said.cluster_name {
            Some(name) => SchemaName::parse(&name).context("the setting cluster_name (--cluster-name)")?,
            None => SchemaName::default(),
        };
        let store = match said.store {
            Some(url) => StoreUrl::parse(&url)?.in_cluster(&cluster_name),
            None => StoreUrl::in_data_directory(&data),
        };
        let signing_key_file = said.signing_key_file.unwrap_or_else(|| data.join(crate::keys::SIGNING_FILE));
        let bus = said.bus.map(|url| url.trim().to_owned()).filter(|url| !url.is_empty());
        if let Some(url) = &bus {
            if !url.starts_with("nats://") && !url.starts_with("tls://") {
                bail!("bus {url:?} must be a NATS URL, nats://HOST:PORT (--bus, TRYVOHA_BUS)");
            }
            if !matches!(store, StoreUrl::Postgres { .. }) {
                bail!(
                    "bus (--bus) joins nodes that share a PostgreSQL store; the store is {store}, which one server \
                     keeps to itself (set --store postgres://…)"
                );
            }
        }
        Ok(Settings {
            listen,
            data,
            store,
            cluster_name,
            signing_key_file,
            bus,
            admin_token: admin_token.map(Secret),
            regions: said.regions,
            heartbeat: std::time::Duration::from_secs(heartbeat_secs),
            subscriber_queue,
            stream_write_timeout: std::time::Duration::from_secs(stream_write_timeout_secs),
            compat_anonymous: said.compat_anonymous.unwrap_or(false),
            compat_rate_limit: said.compat_rate_limit.unwrap_or(DEFAULT_COMPAT_RATE_LIMIT),
            cap_sender,
            log_format,
            shelter_max_distance_m,
            public_url,
            cap_max_age: std::time::Duration::from_secs(cap_max_age_secs),
            limits,
            cors,
            authority,
            drain_deadline: std::time::Duration::from_secs(drain_secs),
            mqtt,
            webhooks,
            push,
        })
    }
}

/// `http(s)://host[:port][/path]`, kept without its trailing `/`; it is pasted in front of paths
/// in XML attributes, so nothing that could break out of one.
fn check_public_url(url: &str) -> anyhow::Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let host = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    let fine = host.is_some_and(|h| {
        !h.is_empty() && !h.starts_with('/') && h.chars().all(|c| c.is_ascii_graphic() && !"\"'<>\\`{}|^?#".contains(c))
    });
    if !fine {
        bail!("public_url {url:?} must be http:// or https:// and a host, e.g. https://alerts.example.org");
    }
    Ok(trimmed.to_owned())
}

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing the config file {}", path.display()))
}

#[cfg(test)]
mod tests;
