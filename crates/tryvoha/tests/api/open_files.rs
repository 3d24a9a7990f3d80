//! The real binary at its open-file limit, under a low one (`ulimit -n 256`, soft and hard).
//! Connections beyond what the server can hold are refused cleanly and at once, the accept loop
//! does not spin, the subscribers already there hear an alert declared meanwhile, `/metrics`
//! counts the refusals, and once subscribers leave new ones are accepted again.
//!
//! Twice: with the connection cap derived from the limit (the cap's 503 answers, and `accept`
//! never runs out of descriptors: the headroom the cap keeps is enough), and with a cap set far
//! above the limit, so that `accept` does fail with `EMFILE` and the reserve descriptor answers.
//!
//! Every client is on 127.0.0.1, so the per-client cap and the rate limit are off; the operator
//! connects before the server fills (a new connection would be refused like any other) and
//! keeps its connection alive for the declaration and `/metrics`.

mod clients;

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{ADMIN, BinaryServer};
use clients::{Subscriber, complete_status, cpu_seconds, metric, refused_rounds};

const OPEN_FILES: u64 = 256;
const WAIT: Duration = Duration::from_secs(10);
/// The most connections the test tries to open: beyond any cap 256 descriptors allow.
const MOST_SUBSCRIBERS: usize = 400;
/// CPU the server may spend on two seconds of refusals (200 connections) and on one alert fanned
/// out to every subscriber: an accept loop that spun would spend about the two seconds. (A debug
/// build spent 0.07 s.)
const MOST_CPU_SECONDS: f64 = 0.5;

#[tokio::test]
async fn at_the_open_file_limit_the_derived_cap_answers_503_before_accept_runs_out() {
    let at_limit = AtTheLimit::fill(&[]).await;
    assert_eq!(at_limit.subscribers.len(), 127, "the derived cap is 128 for 256 files, the operator's included");
    let metrics = at_limit.go_past_and_recover("total").await;
    assert_eq!(metric(&metrics, "tryvoha_accept_errors_total"), 0.0, "the cap answered first: {metrics}");
    assert_eq!(metric(&metrics, "tryvoha_connections_refused_total{cap=\"open_files\"}"), 0.0, "{metrics}");
}

#[tokio::test]
async fn past_the_open_file_limit_the_reserve_descriptor_answers_503_instead_of_leaving_clients_hanging() {
    let at_limit = AtTheLimit::fill(&["--max-connections", "100000"]).await;
    let held = at_limit.subscribers.len();
    assert!((150..256).contains(&held), "as many as the descriptors allow: {held}");
    let metrics = at_limit.go_past_and_recover("open_files").await;
    assert!(metric(&metrics, "tryvoha_accept_errors_total") >= 1.0, "accept did run out: {metrics}");
    assert_eq!(metric(&metrics, "tryvoha_connections_refused_total{cap=\"total\"}"), 0.0, "{metrics}");
}

/// A server under the low limit, filled with subscribers until one was refused.
struct AtTheLimit {
    server: BinaryServer,
    _data: tempfile::TempDir,
    operator: reqwest::Client,
    subscribers: Vec<Subscriber>,
    /// The answers refused so far (the one that ended the filling).
    refused: usize,
}

impl AtTheLimit {
    async fn fill(extra: &[&str]) -> AtTheLimit {
        let data = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = ["--max-connections-per-client", "0", "--rate-limit", "0"].map(String::from).into();
        args.extend(extra.iter().map(|arg| arg.to_string()));
        let server = BinaryServer::start_with_open_files(data.path(), OPEN_FILES, &args).await;
        let operator = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
        let health = operator.get(format!("{}/healthz", server.base)).send().await.unwrap();
        assert!(health.status().is_success(), "the operator's connection is open");
        let mut subscribers = Vec::new();
        let refusal = loop {
            assert!(subscribers.len() < MOST_SUBSCRIBERS, "never refused: is the open-file limit in force?");
            match Subscriber::open(server.port).await {
                Ok(subscriber) => subscribers.push(subscriber),
                Err(answer) => break answer,
            }
        };
        assert_eq!(complete_status(&refusal), Some(503), "{}", String::from_utf8_lossy(&refusal));
        assert!(String::from_utf8_lossy(&refusal).contains("\"code\":\"server-at-capacity\""));
        AtTheLimit { server, _data: data, operator, subscribers, refused: 1 }
    }

    /// Two seconds of connections past the limit with an alert declared among them, then five
    /// subscribers leave and five new ones come in. Returns `/metrics` as it was before they
    /// came in; `cap` is the label its refusals should be counted under.
    async fn go_past_and_recover(mut self, cap: &str) -> String {
        let cpu_before = cpu_seconds(self.server.child.id());
        let refusals = tokio::spawn(refused_rounds(self.server.port, 20, 10, Duration::from_millis(100)));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let declared = self.declare().await;
        let refused = refusals.await.unwrap();
        let cpu = cpu_seconds(self.server.child.id()) - cpu_before;
        assert!(cpu < MOST_CPU_SECONDS, "the server spent {cpu:.2} CPU seconds on refusals and one alert");
        self.refused += refused;

        let heard = futures_util::future::join_all(self.subscribers.iter_mut().map(|s| s.hears(&declared, WAIT))).await;
        let deaf = heard.iter().filter(|heard| !**heard).count();
        assert_eq!(deaf, 0, "every subscriber hears the alert declared at the limit ({} of them)", heard.len());

        let metrics = self.metrics().await;
        let counted = metric(&metrics, &format!("tryvoha_connections_refused_total{{cap=\"{cap}\"}}"));
        assert_eq!(counted, self.refused as f64, "every refusal counted under {cap}: {metrics}");

        self.subscribers.truncate(self.subscribers.len() - 5);
        for _ in 0..5 {
            self.subscribers.push(self.subscribe_again().await);
        }
        metrics
    }

    async fn declare(&self) -> Value {
        let declared = self
            .operator
            .post(format!("{}/api/v1/alerts", self.server.base))
            .bearer_auth(ADMIN)
            .json(&json!({ "region_id": 31, "kind": "air_raid" }))
            .send()
            .await
            .unwrap();
        assert_eq!(declared.status(), 201, "declared on the operator's kept connection");
        declared.json::<Value>().await.unwrap()["id"].clone()
    }

    async fn metrics(&self) -> String {
        let answer = self.operator.get(format!("{}/metrics", self.server.base)).send().await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
        answer.text().await.unwrap()
    }

    /// A new subscriber, once the server has noticed that others left (at once, but not before
    /// the client's close has reached it).
    async fn subscribe_again(&self) -> Subscriber {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match Subscriber::open(self.server.port).await {
                Ok(subscriber) => return subscriber,
                Err(answer) => assert_eq!(complete_status(&answer), Some(503)),
            }
            assert!(tokio::time::Instant::now() < deadline, "no place came free after subscribers left");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
