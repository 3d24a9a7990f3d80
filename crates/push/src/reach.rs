//! How requests reach push services: two HTTP clients (one that reaches public addresses only,
//! checked at every connection, and one for the prefixes the operator allows), and the check of
//! an endpoint whose host is an address written out.

use std::sync::Arc;
use std::time::Duration;

use tryvoha_webhooks::TargetPolicy;
use tryvoha_webhooks::target::CheckedResolver;

use crate::sender::PER_SERVICE;

/// The two clients: no redirects, no proxy, bounded times.
pub fn clients() -> Result<(reqwest::Client, reqwest::Client), String> {
    tryvoha_webhooks::ensure_crypto_provider();
    let builder = || {
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(PER_SERVICE)
    };
    let public = builder()
        .dns_resolver(Arc::new(CheckedResolver { policy: Arc::new(TargetPolicy::default()), allow_public: true }))
        .build()
        .map_err(|error| error.to_string())?;
    Ok((public, builder().build().map_err(|error| error.to_string())?))
}

/// An endpoint whose host is an address written out must be a public one: reqwest connects to
/// it without asking the resolver that checks names.
pub(crate) fn public_literal(endpoint: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(endpoint).map_err(|error| error.to_string())?;
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    match host.parse() {
        Ok(address) => {
            TargetPolicy::default().check_address(host, address, url.scheme() == "https").map_err(|e| e.to_string())
        }
        Err(_) => Ok(()),
    }
}
