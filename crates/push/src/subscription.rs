//! What a subscription request must hold (`POST /api/v1/push/subscriptions`): a push endpoint
//! the server may reach, the browser's keys, and a filter of sensible size. Every refusal names
//! the field, so the HTTP layer answers problem+json and stores nothing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use tryvoha_core::{AlertKind, AlertStatus, RegionId, RegionRegistry};
use tryvoha_store::{NewPushSubscription, PushFilter};

/// A UnifiedPush endpoint may be up to 1000 bytes (SERV 1.2); browsers' are shorter.
pub const MAX_ENDPOINT_BYTES: usize = 1000;
/// How many regions one subscription may follow.
pub const MAX_REGIONS: usize = 64;
pub const LANGUAGES: [&str; 2] = ["uk", "en"];

/// The request as parsed, before it is checked.
#[derive(Clone, Debug)]
pub struct SubscriptionRequest {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub regions: Vec<RegionId>,
    pub kinds: Vec<AlertKind>,
    pub statuses: Vec<AlertStatus>,
    pub lang: Option<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Refused {
    /// The JSON path of the field at fault, e.g. `subscription.keys.p256dh` or `regions[2]`.
    pub field: String,
    pub reason: String,
}

fn refused(field: impl Into<String>, reason: impl Into<String>) -> Refused {
    Refused { field: field.into(), reason: reason.into() }
}

/// Which endpoints may be used: `https://` only, unless the endpoint starts with a prefix the
/// operator allows (`push.allow_endpoints`, e.g. `http://localhost:8991/` for a local test push
/// service). Where the endpoint's host resolves to is checked where it is sent (the resolver
/// refuses private and loopback addresses outside the allowed prefixes).
#[derive(Clone, Debug, Default)]
pub struct EndpointPolicy {
    pub allowed_prefixes: Vec<String>,
}

impl EndpointPolicy {
    /// Whether `endpoint` lies under an allowed prefix: the same scheme, host and port, and a
    /// path (with `.` and `..` resolved) that starts with the prefix's.
    pub fn allowed(&self, endpoint: &str) -> bool {
        let Ok(endpoint) = reqwest::Url::parse(endpoint) else { return false };
        self.allowed_prefixes.iter().filter_map(|prefix| reqwest::Url::parse(prefix).ok()).any(|prefix| {
            prefix.scheme() == endpoint.scheme()
                && prefix.host_str().is_some()
                && prefix.host_str() == endpoint.host_str()
                && prefix.port_or_known_default() == endpoint.port_or_known_default()
                && endpoint.username().is_empty()
                && endpoint.password().is_none()
                && endpoint.path().starts_with(prefix.path())
        })
    }
}

/// The endpoint as stored: parsed and written out again (host in lower case, default port
/// dropped, no fragment), so that one push resource is one subscription however it is spelled.
pub fn normalized(endpoint: &str) -> Option<String> {
    let mut url = reqwest::Url::parse(endpoint.trim()).ok()?;
    if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    url.set_fragment(None);
    Some(url.to_string())
}

impl SubscriptionRequest {
    /// Checks everything that needs no network; the endpoint's addresses are checked by the
    /// caller against the SSRF policy unless an allowed prefix covers it.
    pub fn check(
        self,
        registry: &RegionRegistry,
        policy: &EndpointPolicy,
        now: OffsetDateTime,
    ) -> Result<NewPushSubscription, Refused> {
        if self.endpoint.len() > MAX_ENDPOINT_BYTES {
            return Err(refused("subscription.endpoint", format!("longer than {MAX_ENDPOINT_BYTES} bytes")));
        }
        let endpoint = normalized(&self.endpoint)
            .ok_or_else(|| refused("subscription.endpoint", "not a URL with a host (and no credentials)"))?;
        if !endpoint.starts_with("https://") && !policy.allowed(&endpoint) {
            return Err(refused("subscription.endpoint", "must be https:// (a push service's URL)"));
        }
        let key = URL_SAFE_NO_PAD
            .decode(self.p256dh.trim_end_matches('='))
            .map_err(|_| refused("subscription.keys.p256dh", "not base64url"))?;
        if key.len() != 65 || web_push_native::p256::PublicKey::from_sec1_bytes(&key).is_err() {
            return Err(refused("subscription.keys.p256dh", "not an uncompressed P-256 public key (65 bytes)"));
        }
        let auth = URL_SAFE_NO_PAD
            .decode(self.auth.trim_end_matches('='))
            .map_err(|_| refused("subscription.keys.auth", "not base64url"))?;
        if auth.len() != 16 {
            return Err(refused("subscription.keys.auth", "must be 16 bytes"));
        }
        if self.regions.is_empty() {
            return Err(refused("regions", "name at least one region (or give lat and lon)"));
        }
        if self.regions.len() > MAX_REGIONS {
            return Err(refused("regions", format!("at most {MAX_REGIONS} regions")));
        }
        for (index, region) in self.regions.iter().enumerate() {
            if registry.get(*region).is_none() {
                return Err(refused(
                    format!("regions[{index}]"),
                    format!("region {} is not in the registry", region.0),
                ));
            }
            if self.regions[..index].contains(region) {
                return Err(refused(format!("regions[{index}]"), format!("region {} is named twice", region.0)));
            }
        }
        if let Some(index) = (1..self.kinds.len()).find(|&i| self.kinds[..i].contains(&self.kinds[i])) {
            return Err(refused(format!("kinds[{index}]"), "named twice"));
        }
        if let Some(index) = (1..self.statuses.len()).find(|&i| self.statuses[..i].contains(&self.statuses[i])) {
            return Err(refused(format!("statuses[{index}]"), "named twice"));
        }
        let lang = self.lang.unwrap_or_else(|| "uk".into());
        if !LANGUAGES.contains(&lang.as_str()) {
            return Err(refused("lang", "must be uk or en"));
        }
        Ok(NewPushSubscription {
            endpoint,
            p256dh: URL_SAFE_NO_PAD.encode(&key),
            auth: URL_SAFE_NO_PAD.encode(&auth),
            filter: PushFilter { regions: self.regions, kinds: self.kinds, statuses: self.statuses, lang },
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests;
