//! The HTTP clients deliveries go out on, one per reach: each resolves names through a
//! [`CheckedResolver`] with its own policy, follows no redirect and uses no proxy.
//!
//! An endpoint an admin registered may reach the private ranges the operator allows; one that a
//! reader's key registered (ukrainealarm's API) reaches only public addresses, over `https://`.

use std::sync::Arc;
use std::time::Duration;

use crate::target::{CheckedResolver, TargetPolicy};

/// Connect within 5 s, answer within 10 s: a stuck endpoint costs its own sender that long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a target is asked for over `https://`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Https,
    Http,
}

pub(crate) struct Reach {
    /// With the operator's allowed ranges.
    pub private: Arc<TargetPolicy>,
    /// Public addresses only.
    pub public: Arc<TargetPolicy>,
    https: reqwest::Client,
    http_into_allowed: reqwest::Client,
    https_public: reqwest::Client,
}

impl Reach {
    pub fn new(allow_private: &[String]) -> Result<Reach, String> {
        let private = Arc::new(TargetPolicy::new(allow_private)?);
        let public = Arc::new(TargetPolicy::default());
        Ok(Reach {
            https: client(&private, true)?,
            http_into_allowed: client(&private, false)?,
            https_public: client(&public, true)?,
            private,
            public,
        })
    }

    pub fn policy(&self, may_reach_private: bool) -> &TargetPolicy {
        if may_reach_private { &self.private } else { &self.public }
    }

    /// The client for a target; `None` where none may be used (`http://` for an endpoint that
    /// may reach only public addresses, which never get plain HTTP).
    pub fn client(&self, may_reach_private: bool, scheme: Scheme) -> Option<&reqwest::Client> {
        match (may_reach_private, scheme) {
            (true, Scheme::Https) => Some(&self.https),
            (true, Scheme::Http) => Some(&self.http_into_allowed),
            (false, Scheme::Https) => Some(&self.https_public),
            (false, Scheme::Http) => None,
        }
    }
}

/// `allow_public`: whether public addresses are kept (for `https://`), or only the allowed
/// ranges (for `http://`).
fn client(policy: &Arc<TargetPolicy>, allow_public: bool) -> Result<reqwest::Client, String> {
    crate::ensure_crypto_provider();
    reqwest::Client::builder()
        .dns_resolver(Arc::new(CheckedResolver { policy: policy.clone(), allow_public }))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(2)
        .build()
        .map_err(|error| format!("cannot set up the webhook client: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_that_may_reach_only_public_addresses_gets_no_plain_http_and_no_allowed_range() {
        let reach = Reach::new(&["127.0.0.0/8".into()]).expect("reach");
        assert!(reach.client(false, Scheme::Http).is_none(), "no http:// without an allowed range");
        assert!(reach.client(false, Scheme::Https).is_some());
        let loopback = "127.0.0.1".parse().expect("address");
        assert!(reach.policy(false).check_address("h", loopback, true).is_err(), "the allowed range is not its");
        assert!(reach.policy(true).check_address("h", loopback, false).is_ok(), "an admin's endpoint may");
    }
}
