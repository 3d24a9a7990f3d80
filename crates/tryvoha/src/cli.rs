//! Command-line arguments and dispatch.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{FlagSettings, RawMqtt, RawPush, RawWebhooks, Settings};
use crate::{client, server, shelters, watch};

#[derive(Parser)]
#[command(name = "tryvoha", version, about = "A public warning system: air-raid alerts per region, durable and live.")]
pub struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Subcommand)]
enum Top {
    /// Run the server (on the embedded store unless --store says otherwise).
    Serve(Box<ServeArgs>),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Declare, update, cancel or reinstate an alert.
    #[command(subcommand)]
    Alert(client::AlertCommand),
    /// List the active alerts.
    Alerts(client::Connection),
    /// List regions with their state.
    Regions(client::RegionsArgs),
    /// Create, list or revoke API tokens (admin).
    #[command(subcommand)]
    Token(client::TokenCommand),
    /// Register, list or remove webhooks, and see their deliveries (admin).
    #[command(subcommand)]
    Webhook(client::WebhookCommand),
    /// Import data into the store the server uses.
    #[command(subcommand)]
    Import(crate::import::ImportCommand),
    /// Move an embedded deployment into a PostgreSQL store for cluster mode, every id kept.
    Migrate(crate::migrate::MigrateArgs),
    /// Report, update or list incidents (responder, operator, admin).
    #[command(subcommand)]
    Incident(client::IncidentCommand),
    /// Manage shelters, and report whether one is open, full or closed tonight.
    #[command(subcommand, visible_alias = "shelter")]
    Shelters(shelters::ShelterCommand),
    /// Print the live stream, resuming after a disconnect.
    Watch(watch::WatchArgs),
    /// Check the signatures of a saved stream or event.
    Verify(watch::VerifyArgs),
    /// Run a siren controller: act on this region's signed commands from MQTT.
    Siren(crate::siren::SirenArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// TOML configuration file (see `tryvoha config example`).
    #[arg(long, env = "TRYVOHA_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "TRYVOHA_LISTEN")]
    listen: Option<String>,
    /// Data directory: the lock file, the signing key and the default store [default: ./tryvoha-data].
    #[arg(long, env = "TRYVOHA_DATA")]
    data: Option<PathBuf>,
    /// Store URL: sqlite:DIR, or postgres://USER@HOST/DATABASE [default: sqlite:DATA].
    #[arg(long, env = "TRYVOHA_STORE")]
    store: Option<String>,
    /// This cluster's name: its schema in PostgreSQL, so that clusters can share a database [default: tryvoha].
    #[arg(long, env = "TRYVOHA_CLUSTER_NAME")]
    cluster_name: Option<String>,
    /// The Ed25519 signing key's file, made if missing; give every node of a cluster the same [default: DATA/signing-key].
    #[arg(long, env = "TRYVOHA_SIGNING_KEY_FILE")]
    signing_key_file: Option<PathBuf>,
    /// Cluster mode: the NATS JetStream server that carries events between nodes, nats://HOST:PORT (needs a PostgreSQL store).
    #[arg(long, env = "TRYVOHA_BUS")]
    bus: Option<String>,
    /// File holding the admin token; TRYVOHA_ADMIN_TOKEN gives the token itself.
    #[arg(long, env = "TRYVOHA_ADMIN_TOKEN_FILE")]
    admin_token_file: Option<PathBuf>,
    /// Region registry CSV to use instead of the bundled registry of Ukraine.
    #[arg(long, env = "TRYVOHA_REGIONS")]
    regions: Option<PathBuf>,
    /// Seconds between heartbeats on idle live streams [default: 15].
    #[arg(long, env = "TRYVOHA_HEARTBEAT_SECS")]
    heartbeat_secs: Option<u64>,
    /// Frames a live subscriber may have queued before it is cut off [default: 1024].
    #[arg(long, env = "TRYVOHA_SUBSCRIBER_QUEUE")]
    subscriber_queue: Option<usize>,
    /// Seconds a live subscriber's socket may take nothing of a waiting frame before the
    /// subscriber, which stopped reading, is disconnected [default: 60].
    #[arg(long, env = "TRYVOHA_STREAM_WRITE_TIMEOUT_SECS")]
    stream_write_timeout_secs: Option<u64>,
    /// Serve the compatible APIs (alerts.in.ua, ukrainealarm) without a token.
    #[arg(long, env = "TRYVOHA_COMPAT_ANONYMOUS", num_args = 0..=1, default_missing_value = "true")]
    compat_anonymous: Option<bool>,
    /// Requests per minute per client on the compatible APIs; 0 = no limit [default: 60].
    #[arg(long, env = "TRYVOHA_COMPAT_RATE_LIMIT")]
    compat_rate_limit: Option<u32>,
    /// The sender of published CAP messages [default: tryvoha].
    #[arg(long, env = "TRYVOHA_CAP_SENDER")]
    cap_sender: Option<String>,
    /// Log lines as `text` or `json` (one object per line) [default: text]; TRYVOHA_LOG filters them.
    #[arg(long, env = "TRYVOHA_LOG_FORMAT")]
    log_format: Option<String>,
    /// Metres within which the nearest shelters are offered, unless a request says [default: 20000].
    #[arg(long, env = "TRYVOHA_SHELTER_MAX_DISTANCE_M")]
    shelter_max_distance_m: Option<u32>,
    /// Base URL of every absolute link the server publishes (Atom feed) [default: http://LISTEN].
    #[arg(long, env = "TRYVOHA_PUBLIC_URL")]
    public_url: Option<String>,
    /// Oldest `sent` accepted on a received CAP message, in seconds [default: 3600].
    #[arg(long, env = "TRYVOHA_CAP_MAX_AGE_SECS")]
    cap_max_age_secs: Option<u64>,
    /// Connections in all; 0 = the open-file limit less 640 kept for the server's own files and
    /// sockets (half, under 1280) [default: 0].
    #[arg(long, env = "TRYVOHA_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Connections per client (address, IPv6 /64); 0 = no cap [default: 2048].
    #[arg(long, env = "TRYVOHA_MAX_CONNECTIONS_PER_CLIENT")]
    max_connections_per_client: Option<usize>,
    /// Requests per minute per client on every endpoint; 0 = no limit [default: 6000].
    #[arg(long, env = "TRYVOHA_RATE_LIMIT")]
    rate_limit: Option<u32>,
    /// Requests a client may make at once before the per-minute rate applies [default: 2000].
    #[arg(long, env = "TRYVOHA_RATE_LIMIT_BURST")]
    rate_limit_burst: Option<u32>,
    /// Proxies whose Forwarded / X-Forwarded-For are believed, comma-separated (10.0.0.0/8,::1).
    #[arg(long, env = "TRYVOHA_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Option<Vec<String>>,
    /// Origins whose pages may read and stream, comma-separated, or * [default: *].
    #[arg(long, env = "TRYVOHA_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Option<Vec<String>>,
    /// Origins whose pages may write with a token, comma-separated [default: none].
    #[arg(long, env = "TRYVOHA_CORS_WRITE_ORIGINS", value_delimiter = ',')]
    cors_write_origins: Option<Vec<String>>,
    /// Who the public outputs say issued the alerts [default: the CAP sender].
    #[arg(long, env = "TRYVOHA_AUTHORITY")]
    authority: Option<String>,
    /// Seconds a stopping server waits for requests in flight and open connections [default: 10].
    #[arg(long, env = "TRYVOHA_DRAIN_SECS")]
    drain_secs: Option<u64>,
    #[command(flatten)]
    mqtt: MqttArgs,
    #[command(flatten)]
    webhooks: WebhookArgs,
    #[command(flatten)]
    push: PushArgs,
}

/// Web Push (docs/push.md).
#[derive(Args)]
struct PushArgs {
    /// Endpoint prefixes taken although not https:// or not public (comma-separated), e.g. a
    /// local test push service: http://localhost:8991/
    #[arg(long, env = "TRYVOHA_PUSH_ALLOW_ENDPOINTS", value_delimiter = ',')]
    push_allow_endpoints: Option<Vec<String>>,
    /// Whom push services may contact about this server: mailto:… or https://…
    #[arg(long, env = "TRYVOHA_PUSH_CONTACT")]
    push_contact: Option<String>,
    /// At most this many push subscriptions; new ones beyond are refused (default 1000000).
    #[arg(long, env = "TRYVOHA_PUSH_MAX_SUBSCRIPTIONS")]
    push_max_subscriptions: Option<usize>,
}

/// The MQTT channel (docs/mqtt.md); off unless --mqtt-url is given.
#[derive(Args)]
struct MqttArgs {
    /// Publish to this broker: mqtt://host:port or mqtts://host:port.
    #[arg(long, env = "TRYVOHA_MQTT_URL")]
    mqtt_url: Option<String>,
    #[arg(long, env = "TRYVOHA_MQTT_USERNAME")]
    mqtt_username: Option<String>,
    /// A file holding the MQTT password (or set TRYVOHA_MQTT_PASSWORD).
    #[arg(long, env = "TRYVOHA_MQTT_PASSWORD_FILE")]
    mqtt_password_file: Option<PathBuf>,
    #[arg(long, env = "TRYVOHA_MQTT_CLIENT_ID")]
    mqtt_client_id: Option<String>,
    /// The topic prefix [default: tryvoha].
    #[arg(long, env = "TRYVOHA_MQTT_PREFIX")]
    mqtt_prefix: Option<String>,
    /// For mqtts://: trust this CA certificate (PEM) instead of the system's trust store.
    #[arg(long, env = "TRYVOHA_MQTT_CA_FILE")]
    mqtt_ca_file: Option<PathBuf>,
    /// Home Assistant discovery for these regions (ids, comma-separated) or all-oblasts.
    #[arg(long, env = "TRYVOHA_MQTT_HA_REGIONS", value_delimiter = ',')]
    mqtt_ha_regions: Option<Vec<String>>,
    /// Home Assistant's discovery prefix [default: homeassistant].
    #[arg(long, env = "TRYVOHA_MQTT_HA_PREFIX")]
    mqtt_ha_prefix: Option<String>,
    /// Regions with sirens (ids, comma-separated): signed commands on real air-raid alerts.
    #[arg(long, env = "TRYVOHA_MQTT_SIRENS", value_delimiter = ',')]
    mqtt_sirens: Option<Vec<u32>>,
    /// How long a siren command is good for after its decision [default: 120].
    #[arg(long, env = "TRYVOHA_MQTT_SIREN_TTL_SECS")]
    mqtt_siren_ttl_secs: Option<u64>,
}

/// Webhooks (docs/webhooks.md).
#[derive(Args)]
struct WebhookArgs {
    /// Private address ranges webhooks may reach (CIDRs, comma-separated), e.g. 127.0.0.0/8.
    #[arg(long, env = "TRYVOHA_WEBHOOK_ALLOW_PRIVATE", value_delimiter = ',')]
    webhook_allow_private: Option<Vec<String>>,
    /// Seconds one event is retried before its endpoint is paused [default: 86400, a day].
    #[arg(long, env = "TRYVOHA_WEBHOOK_RETRY_SECS")]
    webhook_retry_secs: Option<u64>,
}

/// Where an offline command (`token reset-admin`, `import history`) finds the store: the
/// settings `serve` reads for it, from the same flags, variables and file.
#[derive(Args)]
pub struct StoreArgs {
    /// Data directory [default: ./tryvoha-data], as for `serve`.
    #[arg(long, env = "TRYVOHA_DATA")]
    data: Option<PathBuf>,
    /// Store URL [default: sqlite:DATA], as for `serve`.
    #[arg(long, env = "TRYVOHA_STORE")]
    store: Option<String>,
    /// The cluster's name (its PostgreSQL schema) [default: tryvoha], as for `serve`.
    #[arg(long, env = "TRYVOHA_CLUSTER_NAME")]
    cluster_name: Option<String>,
    /// TOML configuration file, as for `serve`.
    #[arg(long, env = "TRYVOHA_CONFIG")]
    config: Option<PathBuf>,
}

impl StoreArgs {
    pub fn load(self) -> anyhow::Result<Settings> {
        Settings::load(FlagSettings {
            data: self.data,
            store: self.store,
            cluster_name: self.cluster_name,
            config: self.config,
            ..FlagSettings::default()
        })
    }
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the example configuration, every option with its default.
    Example,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Top::Serve(args) => {
            let args = *args;
            let flags = FlagSettings {
                config: args.config,
                listen: args.listen,
                data: args.data,
                store: args.store,
                cluster_name: args.cluster_name,
                signing_key_file: args.signing_key_file,
                bus: args.bus,
                // Read from the environment only: a secret on the command line leaks into `ps`.
                admin_token: std::env::var("TRYVOHA_ADMIN_TOKEN").ok().filter(|t| !t.is_empty()),
                admin_token_file: args.admin_token_file,
                regions: args.regions,
                heartbeat_secs: args.heartbeat_secs,
                subscriber_queue: args.subscriber_queue,
                stream_write_timeout_secs: args.stream_write_timeout_secs,
                compat_anonymous: args.compat_anonymous,
                compat_rate_limit: args.compat_rate_limit,
                cap_sender: args.cap_sender,
                log_format: args.log_format,
                shelter_max_distance_m: args.shelter_max_distance_m,
                public_url: args.public_url,
                cap_max_age_secs: args.cap_max_age_secs,
                max_connections: args.max_connections,
                max_connections_per_client: args.max_connections_per_client,
                rate_limit: args.rate_limit,
                rate_limit_burst: args.rate_limit_burst,
                trusted_proxies: args.trusted_proxies,
                cors_origins: args.cors_origins,
                cors_write_origins: args.cors_write_origins,
                authority: args.authority,
                drain_secs: args.drain_secs,
                mqtt: RawMqtt {
                    url: args.mqtt.mqtt_url,
                    username: args.mqtt.mqtt_username,
                    password: std::env::var("TRYVOHA_MQTT_PASSWORD").ok().filter(|p| !p.is_empty()),
                    password_file: args.mqtt.mqtt_password_file,
                    client_id: args.mqtt.mqtt_client_id,
                    prefix: args.mqtt.mqtt_prefix,
                    ca_file: args.mqtt.mqtt_ca_file,
                    ha_regions: args.mqtt.mqtt_ha_regions,
                    ha_discovery_prefix: args.mqtt.mqtt_ha_prefix,
                    sirens: args.mqtt.mqtt_sirens,
                    siren_command_ttl_secs: args.mqtt.mqtt_siren_ttl_secs,
                },
                push: RawPush {
                    allow_endpoints: args.push.push_allow_endpoints,
                    contact: args.push.push_contact,
                    max_subscriptions: args.push.push_max_subscriptions,
                },
                webhooks: RawWebhooks {
                    allow_private: args.webhooks.webhook_allow_private,
                    retry_secs: args.webhooks.webhook_retry_secs,
                },
            };
            server::run_until_signal(Settings::load(flags)?).await
        }
        Top::Config(ConfigCommand::Example) => Ok(crate::output::text(crate::config::EXAMPLE)?),
        Top::Alert(command) => client::alert(command).await,
        Top::Alerts(connection) => client::alerts(connection).await,
        Top::Regions(args) => client::regions(args).await,
        Top::Token(command) => client::token(command).await,
        Top::Webhook(command) => client::webhook(command).await,
        Top::Import(command) => crate::import::run(command),
        Top::Migrate(args) => crate::migrate::run(args),
        Top::Incident(command) => client::incident(command).await,
        Top::Shelters(command) => shelters::run(command).await,
        Top::Watch(args) => watch::watch(args).await,
        Top::Verify(args) => watch::verify(args).await,
        Top::Siren(args) => crate::siren::run(args).await,
    }
}
