//! The channel settings: `[mqtt]` and `[webhooks]` in the file, `--mqtt-*` and `--webhook-*`
//! flags (with their `TRYVOHA_*` variables).

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Deserialize;
use tryvoha_core::{Level, RegionId, RegionRegistry};
use tryvoha_mqtt::MqttSettings;

pub const DEFAULT_MQTT_PREFIX: &str = "tryvoha";
pub const DEFAULT_WEBHOOK_RETRY_SECS: u64 = 24 * 3600;

#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawMqtt {
    pub url: Option<String>,
    pub username: Option<String>,
    /// The password itself: from the environment only (`TRYVOHA_MQTT_PASSWORD`).
    #[serde(skip)]
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    pub client_id: Option<String>,
    pub prefix: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// Region ids, or `all-oblasts`.
    pub ha_regions: Option<Vec<String>>,
    pub ha_discovery_prefix: Option<String>,
    pub sirens: Option<Vec<u32>>,
    pub siren_command_ttl_secs: Option<u64>,
}

impl RawMqtt {
    pub fn over(self, lower: RawMqtt) -> RawMqtt {
        RawMqtt {
            url: self.url.or(lower.url),
            username: self.username.or(lower.username),
            password: self.password.or(lower.password),
            password_file: self.password_file.or(lower.password_file),
            client_id: self.client_id.or(lower.client_id),
            prefix: self.prefix.or(lower.prefix),
            ca_file: self.ca_file.or(lower.ca_file),
            ha_regions: self.ha_regions.or(lower.ha_regions),
            ha_discovery_prefix: self.ha_discovery_prefix.or(lower.ha_discovery_prefix),
            sirens: self.sirens.or(lower.sirens),
            siren_command_ttl_secs: self.siren_command_ttl_secs.or(lower.siren_command_ttl_secs),
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawWebhooks {
    /// Address ranges webhooks may reach although private (`127.0.0.0/8`, `10.0.0.0/8`, …);
    /// `http://` targets are allowed only there.
    pub allow_private: Option<Vec<String>>,
    /// How long one event is retried before the endpoint is paused.
    pub retry_secs: Option<u64>,
}

impl RawWebhooks {
    pub fn over(self, lower: RawWebhooks) -> RawWebhooks {
        RawWebhooks {
            allow_private: self.allow_private.or(lower.allow_private),
            retry_secs: self.retry_secs.or(lower.retry_secs),
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawPush {
    /// Endpoint prefixes taken although not `https://` or not public (a local test push service:
    /// `http://localhost:8991/`).
    pub allow_endpoints: Option<Vec<String>>,
    /// The VAPID `sub` claim: `mailto:` or `https:`, whom push services may contact.
    pub contact: Option<String>,
    /// At most this many subscriptions (new endpoints beyond are refused).
    pub max_subscriptions: Option<usize>,
}

impl RawPush {
    pub fn over(self, lower: RawPush) -> RawPush {
        RawPush {
            allow_endpoints: self.allow_endpoints.or(lower.allow_endpoints),
            contact: self.contact.or(lower.contact),
            max_subscriptions: self.max_subscriptions.or(lower.max_subscriptions),
        }
    }
}

/// Web Push as configured.
#[derive(Clone, Debug)]
pub struct PushSettings {
    pub allow_endpoints: Vec<String>,
    pub contact: String,
    pub max_subscriptions: usize,
}

pub fn resolve_push(raw: RawPush) -> anyhow::Result<PushSettings> {
    let contact = raw.contact.unwrap_or_else(|| "mailto:operator@tryvoha.invalid".into());
    if !(contact.starts_with("mailto:") || contact.starts_with("https://")) || contact.len() > 200 {
        bail!("push contact {contact:?} must be mailto:… or https://… (at most 200 characters)");
    }
    let allow_endpoints: Vec<String> =
        raw.allow_endpoints.unwrap_or_default().into_iter().filter(|p| !p.is_empty()).collect();
    if let Some(bad) =
        allow_endpoints.iter().find(|p| !(p.starts_with("http://") || p.starts_with("https://")) || !p.ends_with('/'))
    {
        bail!("push allow_endpoints {bad:?} must be an http(s):// prefix ending in /");
    }
    let max_subscriptions = raw.max_subscriptions.unwrap_or(tryvoha_push::service::DEFAULT_MAX);
    if max_subscriptions == 0 {
        bail!("push max_subscriptions must be at least 1");
    }
    Ok(PushSettings { allow_endpoints, contact, max_subscriptions })
}

/// Which regions get Home Assistant sensors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HaRegions {
    Listed(Vec<RegionId>),
    AllOblasts,
}

impl HaRegions {
    pub fn resolve(&self, registry: &RegionRegistry) -> anyhow::Result<Vec<RegionId>> {
        match self {
            HaRegions::AllOblasts => {
                Ok(registry.all().iter().filter(|r| r.level == Level::Oblast).map(|r| r.id).collect())
            }
            HaRegions::Listed(ids) => {
                if let Some(unknown) = ids.iter().find(|id| registry.get(**id).is_none()) {
                    bail!("mqtt ha_regions names region {}, which is not in the registry", unknown.0);
                }
                Ok(ids.clone())
            }
        }
    }
}

/// The MQTT channel as configured, before the registry is known (`ha_regions`, `sirens` are
/// checked against it when the server starts).
#[derive(Clone, Debug)]
pub struct MqttChannel {
    pub settings: MqttSettings,
    pub ha_regions: HaRegions,
}

pub fn resolve_mqtt(raw: RawMqtt) -> anyhow::Result<Option<MqttChannel>> {
    let Some(url) = raw.url.filter(|url| !url.is_empty()) else {
        return Ok(None);
    };
    tryvoha_mqtt::options::parse_url(&url)?;
    let prefix = raw.prefix.unwrap_or_else(|| DEFAULT_MQTT_PREFIX.into());
    if prefix.is_empty() || prefix.contains(['#', '+', '\0']) || prefix.starts_with('/') {
        bail!("mqtt prefix {prefix:?} must be a topic without wildcards, not starting with /");
    }
    let password = match (raw.password, raw.password_file) {
        (Some(password), _) => Some(password),
        (None, Some(path)) => Some(
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading the MQTT password file {}", path.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        ),
        (None, None) => None,
    };
    if password.is_some() && raw.username.is_none() {
        bail!("an MQTT password needs a username (--mqtt-username)");
    }
    let ha_regions = match raw.ha_regions.as_deref() {
        Some([one]) if one == "all-oblasts" => HaRegions::AllOblasts,
        Some(list) => HaRegions::Listed(
            list.iter()
                .map(|id| id.trim().parse().map(RegionId))
                .collect::<Result<_, _>>()
                .context("mqtt ha_regions must be region ids or all-oblasts")?,
        ),
        None => HaRegions::Listed(Vec::new()),
    };
    let ttl = raw.siren_command_ttl_secs.unwrap_or(tryvoha_mqtt::siren::DEFAULT_COMMAND_TTL.whole_seconds() as u64);
    if !(5..=3600).contains(&ttl) {
        bail!("mqtt siren_command_ttl_secs must be 5 to 3600, not {ttl}");
    }
    let mut settings = MqttSettings::new(url, prefix);
    settings.username = raw.username;
    settings.password = password;
    // A broker drops the older of two connections with one client id: unique unless said.
    settings.client_id = raw.client_id.unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        format!("tryvoha-{}-{nanos:08x}", std::process::id())
    });
    settings.ca_file = raw.ca_file;
    settings.ha_discovery_prefix = raw.ha_discovery_prefix.unwrap_or_else(|| "homeassistant".into());
    settings.sirens = raw.sirens.unwrap_or_default().into_iter().map(RegionId).collect();
    settings.siren_command_ttl = time::Duration::seconds(ttl as i64);
    Ok(Some(MqttChannel { settings, ha_regions }))
}

/// What webhooks may reach and how long they are retried.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    pub allow_private: Vec<String>,
    pub retry_for: std::time::Duration,
}

pub fn resolve_webhooks(raw: RawWebhooks) -> anyhow::Result<WebhookSettings> {
    let secs = raw.retry_secs.unwrap_or(DEFAULT_WEBHOOK_RETRY_SECS);
    if !(1..=7 * 24 * 3600).contains(&secs) {
        bail!("webhooks retry_secs must be 1 to 604800 (a week), not {secs}");
    }
    if let Err(reason) = tryvoha_webhooks::TargetPolicy::new(raw.allow_private.as_deref().unwrap_or_default()) {
        bail!("webhooks allow_private: {reason}");
    }
    Ok(WebhookSettings {
        allow_private: raw.allow_private.unwrap_or_default(),
        retry_for: std::time::Duration::from_secs(secs),
    })
}
