//! How to reach the broker: `mqtt://host:port` or `mqtts://host:port` (TLS with rustls; the
//! system's trust store, or a CA file for a broker with its own CA), credentials, client id.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{LastWill, MqttOptions, QoS, TlsConfiguration, Transport};
use tryvoha_core::RegionId;

use crate::topics::Topics;

/// What `--mqtt-*` configures. The channel is off unless a URL is given.
#[derive(Clone)]
pub struct MqttSettings {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_id: String,
    pub prefix: String,
    /// For `mqtts://`: trust this CA (PEM) instead of the system's trust store.
    pub ca_file: Option<PathBuf>,
    /// Regions that get Home Assistant sensors (discovery is off when empty).
    pub ha_regions: Vec<RegionId>,
    pub ha_discovery_prefix: String,
    /// Regions with sirens: real air-raid alerts covering them publish signed commands.
    pub sirens: Vec<RegionId>,
    pub siren_command_ttl: time::Duration,
}

/// Never prints the password.
impl std::fmt::Debug for MqttSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSettings")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("client_id", &self.client_id)
            .field("prefix", &self.prefix)
            .field("ha_regions", &self.ha_regions)
            .field("sirens", &self.sirens)
            .finish_non_exhaustive()
    }
}

impl MqttSettings {
    pub fn new(url: impl Into<String>, prefix: impl Into<String>) -> MqttSettings {
        MqttSettings {
            url: url.into(),
            username: None,
            password: None,
            client_id: "tryvoha".into(),
            prefix: prefix.into(),
            ca_file: None,
            ha_regions: Vec::new(),
            ha_discovery_prefix: "homeassistant".into(),
            sirens: Vec::new(),
            siren_command_ttl: crate::siren::DEFAULT_COMMAND_TTL,
        }
    }

    pub fn topics(&self) -> Topics {
        Topics::new(&self.prefix)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error("the MQTT URL {0:?} is not mqtt://host:port or mqtts://host:port")]
    Url(String),
    #[error("cannot read the CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

/// The broker's host and port and whether it speaks TLS, from `mqtt[s]://host[:port][/]`.
pub fn parse_url(url: &str) -> Result<(String, u16, bool), OptionsError> {
    let bad = || OptionsError::Url(url.to_owned());
    let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtts://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("mqtt://") {
        (false, rest)
    } else {
        return Err(bad());
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.contains('/') || rest.contains('@') {
        return Err(bad());
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
            (host.trim_start_matches('[').trim_end_matches(']'), port.parse().map_err(|_| bad())?)
        }
        _ => (rest, if tls { 8883 } else { 1883 }),
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_owned(), port, tls))
}

/// The client options for one connection: `client_id`, a last will of `offline` on the status
/// topic when `will` is set (the server's publisher; a siren controller has none).
pub fn client_options(
    settings: &MqttSettings,
    client_id: &str,
    will: Option<&Topics>,
) -> Result<MqttOptions, OptionsError> {
    let (host, port, tls) = parse_url(&settings.url)?;
    let mut options = MqttOptions::new(client_id, host, port);
    options.set_keep_alive(Duration::from_secs(15));
    options.set_clean_session(true);
    // Frames of a few KB and the retained documents; the 10 KiB default would refuse a
    // large state (a region under many alerts).
    options.set_max_packet_size(1 << 20, 1 << 20);
    if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
        options.set_credentials(user, password);
    }
    if let Some(topics) = will {
        options.set_last_will(LastWill::new(topics.status(), "offline", QoS::AtLeastOnce, true));
    }
    if tls {
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(tls_config(settings)?)));
    }
    Ok(options)
}

fn tls_config(settings: &MqttSettings) -> Result<Arc<rustls::ClientConfig>, OptionsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| OptionsError::Tls(error.to_string()))?;
    let config = match &settings.ca_file {
        Some(path) => {
            use rustls_pki_types::pem::PemObject;
            let shown = path.display().to_string();
            let mut roots = rustls::RootCertStore::empty();
            let certificates = rustls_pki_types::CertificateDer::pem_file_iter(path)
                .map_err(|error| OptionsError::CaFile { path: shown.clone(), reason: error.to_string() })?;
            for certificate in certificates {
                let certificate = certificate
                    .map_err(|error| OptionsError::CaFile { path: shown.clone(), reason: error.to_string() })?;
                roots
                    .add(certificate)
                    .map_err(|error| OptionsError::CaFile { path: shown.clone(), reason: error.to_string() })?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder
                .with_platform_verifier()
                .map_err(|error| OptionsError::Tls(error.to_string()))?
                .with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_host_a_port_and_whether_tls() {
        assert_eq!(parse_url("mqtt://127.0.0.1:1883").ok(), Some(("127.0.0.1".into(), 1883, false)));
        assert_eq!(parse_url("mqtts://broker.example").ok(), Some(("broker.example".into(), 8883, true)));
        assert_eq!(parse_url("mqtt://broker/").ok(), Some(("broker".into(), 1883, false)));
        for bad in ["http://broker", "mqtt://", "mqtt://broker:x", "mqtt://user@broker", "mqtt://broker/topic"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
