//! Command-line arguments and dispatch.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{FlagSettings, Settings};
use crate::{client, server, shelters, watch};

#[derive(Parser)]
#[command(name = "tryvoha", version, about = "A public warning system: air-raid alerts per region, durable and live.")]
pub struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Subcommand)]
enum Top {
    /// Run the server on the embedded store.
    Serve(ServeArgs),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Declare, update or cancel an alert.
    #[command(subcommand)]
    Alert(client::AlertCommand),
    /// List the active alerts.
    Alerts(client::Connection),
    /// List regions with their state.
    Regions(client::RegionsArgs),
    /// Create, list or revoke API tokens (admin).
    #[command(subcommand)]
    Token(client::TokenCommand),
    /// Import data into the data directory.
    #[command(subcommand)]
    Import(crate::import::ImportCommand),
    /// Manage shelters.
    #[command(subcommand)]
    Shelters(shelters::ShelterCommand),
    /// Print the live stream, resuming after a disconnect.
    Watch(watch::WatchArgs),
    /// Check the signatures of a saved stream or event.
    Verify(watch::VerifyArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// TOML configuration file (see `tryvoha config example`).
    #[arg(long, env = "TRYVOHA_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "TRYVOHA_LISTEN")]
    listen: Option<String>,
    /// Data directory [default: ./tryvoha-data].
    #[arg(long, env = "TRYVOHA_DATA")]
    data: Option<PathBuf>,
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
    /// Serve the compatible APIs (alerts.in.ua, ukrainealarm) without a token.
    #[arg(long, env = "TRYVOHA_COMPAT_ANONYMOUS", num_args = 0..=1, default_missing_value = "true")]
    compat_anonymous: Option<bool>,
    /// Requests per minute per client on the compatible APIs; 0 = no limit [default: 60].
    #[arg(long, env = "TRYVOHA_COMPAT_RATE_LIMIT")]
    compat_rate_limit: Option<u32>,
    /// The sender of published CAP messages [default: tryvoha].
    #[arg(long, env = "TRYVOHA_CAP_SENDER")]
    cap_sender: Option<String>,
    /// Who the public outputs say issued the alerts [default: the CAP sender].
    #[arg(long, env = "TRYVOHA_AUTHORITY")]
    authority: Option<String>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the example configuration, every option with its default.
    Example,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Top::Serve(args) => {
            let flags = FlagSettings {
                config: args.config,
                listen: args.listen,
                data: args.data,
                // Read from the environment only: a secret on the command line leaks into `ps`.
                admin_token: std::env::var("TRYVOHA_ADMIN_TOKEN").ok().filter(|t| !t.is_empty()),
                admin_token_file: args.admin_token_file,
                regions: args.regions,
                heartbeat_secs: args.heartbeat_secs,
                subscriber_queue: args.subscriber_queue,
                compat_anonymous: args.compat_anonymous,
                compat_rate_limit: args.compat_rate_limit,
                cap_sender: args.cap_sender,
                authority: args.authority,
            };
            server::run_until_signal(Settings::load(flags)?).await
        }
        Top::Config(ConfigCommand::Example) => Ok(crate::output::text(crate::config::EXAMPLE)?),
        Top::Alert(command) => client::alert(command).await,
        Top::Alerts(connection) => client::alerts(connection).await,
        Top::Regions(args) => client::regions(args).await,
        Top::Token(command) => client::token(command).await,
        Top::Import(command) => crate::import::run(command),
        Top::Shelters(command) => shelters::run(command).await,
        Top::Watch(args) => watch::watch(args).await,
        Top::Verify(args) => watch::verify(args).await,
    }
}
