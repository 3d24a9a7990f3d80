//! `tryvoha siren`: the reference siren controller. It listens for its region's signed commands
//! on MQTT and sounds or stops the siren by running a configured command (or prints), refusing a
//! forged signature, a replayed or older counter, an expired command, a command for another
//! region and anything but a real alert. docs/mqtt.md.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;
use tryvoha_core::RegionId;
use tryvoha_live::PublicKey;
use tryvoha_mqtt::controller::{self, Heard};
use tryvoha_mqtt::{MqttSettings, SirenAction, SirenGuard};

#[derive(Args)]
pub struct SirenArgs {
    /// The broker: mqtt://host:port or mqtts://host:port.
    #[arg(long, env = "TRYVOHA_MQTT_URL")]
    mqtt_url: String,
    /// The server's topic prefix.
    #[arg(long, env = "TRYVOHA_MQTT_PREFIX", default_value = "tryvoha")]
    mqtt_prefix: String,
    #[arg(long, env = "TRYVOHA_MQTT_USERNAME")]
    mqtt_username: Option<String>,
    /// A file holding the MQTT password.
    #[arg(long, env = "TRYVOHA_MQTT_PASSWORD_FILE")]
    mqtt_password_file: Option<PathBuf>,
    /// For mqtts://: trust this CA certificate (PEM).
    #[arg(long, env = "TRYVOHA_MQTT_CA_FILE")]
    mqtt_ca_file: Option<PathBuf>,
    /// The siren's region id.
    #[arg(long)]
    region: u32,
    /// The server's public keys: a saved /api/v1/keys document, or its URL.
    #[arg(long)]
    keys: String,
    /// Run this (with `sh -c`) to sound the siren; without it, the command is printed.
    #[arg(long)]
    on_sound: Option<String>,
    /// Run this (with `sh -c`) to stop the siren.
    #[arg(long)]
    on_stop: Option<String>,
    /// Keep the last counter acted on in this file, so that a restarted controller still
    /// refuses a replay of an older command.
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// Stop after this many commands were received (for scripts and tests).
    #[arg(long, hide = true)]
    exit_after: Option<usize>,
}

#[derive(Deserialize)]
struct KeysDocument {
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
struct KeyEntry {
    kid: String,
    public_key: String,
}

pub async fn run(args: SirenArgs) -> anyhow::Result<()> {
    let keys = load_keys(&args.keys).await?;
    let last_counter = match &args.state_file {
        Some(path) if path.exists() => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?
                .trim()
                .parse::<u64>()
                .with_context(|| format!("{} does not hold a counter", path.display()))?,
        ),
        _ => None,
    };
    let mut settings = MqttSettings::new(args.mqtt_url.clone(), args.mqtt_prefix.clone());
    settings.client_id = format!("tryvoha-siren-{}", std::process::id());
    settings.username = args.mqtt_username.clone();
    settings.password = match &args.mqtt_password_file {
        Some(path) => Some(std::fs::read_to_string(path)?.trim_end_matches(['\r', '\n']).to_owned()),
        None => None,
    };
    settings.ca_file = args.mqtt_ca_file.clone();
    let region = RegionId(args.region);
    let guard = SirenGuard::new(region, keys, last_counter);
    let topic = settings.topics().siren_command(region);
    let mut received = 0;
    controller::run(&settings, region, guard, |heard, guard| {
        let outcome = match heard {
            Heard::Subscribed => {
                println!("siren {}: listening on {topic}", region.0);
                use std::io::Write as _;
                let _ = std::io::stdout().flush();
                return true;
            }
            Heard::Command(outcome) => outcome,
        };
        received += 1;
        match outcome {
            Ok(command) => {
                println!(
                    "{} region={} counter={} alert={}",
                    command.command.as_str(),
                    command.region_id.0,
                    command.counter,
                    command.alert_id
                );
                if let (Some(path), Some(counter)) = (&args.state_file, guard.last_counter())
                    && let Err(error) = std::fs::write(path, counter.to_string())
                {
                    eprintln!("siren: cannot keep the counter in {}: {error}", path.display());
                }
                let hook = match command.command {
                    SirenAction::Sound => &args.on_sound,
                    SirenAction::Stop => &args.on_stop,
                };
                if let Some(hook) = hook {
                    match std::process::Command::new("sh").arg("-c").arg(hook).status() {
                        Ok(status) if status.success() => {}
                        Ok(status) => eprintln!("siren: {hook:?} exited with {status}"),
                        Err(error) => eprintln!("siren: cannot run {hook:?}: {error}"),
                    }
                }
            }
            Err(refusal) => println!("refused: {refusal}"),
        }
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        args.exit_after.is_none_or(|limit| received < limit)
    })
    .await?;
    Ok(())
}

async fn load_keys(source: &str) -> anyhow::Result<Vec<PublicKey>> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        let response =
            crate::tls::http_client()?.get(source).send().await.with_context(|| format!("fetching {source}"))?;
        if !response.status().is_success() {
            bail!("{source} answered {}", response.status());
        }
        response.text().await?
    } else {
        std::fs::read_to_string(source).with_context(|| format!("reading the keys file {source}"))?
    };
    let document: KeysDocument =
        serde_json::from_str(&text).with_context(|| format!("{source} is not a /api/v1/keys document"))?;
    if document.keys.is_empty() {
        bail!("{source} lists no keys");
    }
    Ok(document
        .keys
        .into_iter()
        .map(|key| PublicKey { kid: key.kid, algorithm: "Ed25519", public_key: key.public_key })
        .collect())
}
