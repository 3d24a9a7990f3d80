//! One endpoint's deliveries: a follower of the log with its own cursor (`webhook:{id}`), one
//! event at a time in sequence order, each retried with exponential back-off and jitter until
//! the endpoint accepts it (2xx), says it is gone (410: removed), or has failed for longer than
//! the retry window (paused, its reason kept). A slow or dead endpoint holds up only itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tryvoha_core::Event;
use tryvoha_deliveries::Channel;
use tryvoha_live::{Filter, Frame};
use tryvoha_store::{WebhookFormat, WebhookRecord, webhook_consumer};

use crate::attempts::Attempt;
use crate::reach::Scheme;
use crate::registry::Context;
use crate::signature::{EVENT_ID_HEADER, SIGNATURE_HEADER, signature};

/// The first retry's delay; each next one doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A `Retry-After` longer than this is not waited for in full.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// How long to wait before reading a log that could not be read.
const LOG_RETRY: Duration = Duration::from_secs(1);

/// How one event's deliveries ended.
pub(crate) enum Settled {
    Delivered,
    /// The endpoint answered 410 Gone.
    Gone,
    /// Failing for longer than the retry window.
    Paused(String),
    Stopped,
}

/// What one request came to.
pub(crate) struct Answer {
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
    pub error: Option<String>,
}

impl Answer {
    fn accepted(&self) -> bool {
        self.status.is_some_and(|status| (200..300).contains(&status))
    }
}

pub(crate) async fn run(context: Arc<Context>, record: WebhookRecord, stop: CancellationToken) {
    let consumer = webhook_consumer(record.id);
    let filter = Filter::new(record.spec.regions.clone(), record.spec.kinds.clone(), record.spec.statuses.clone())
        .with_families(record.spec.types.clone());
    let mut after = loop {
        let loaded = tokio::select! {
            () = stop.cancelled() => return,
            loaded = context.cursors.load(&consumer) => loaded,
        };
        match loaded {
            Ok(after) => break after,
            Err(error) => {
                tracing::warn!(%error, webhook = record.id, "cannot read the endpoint's cursor; trying again");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    };
    let mut follow = context.source.follow(after);
    loop {
        let next = tokio::select! {
            () = stop.cancelled() => return,
            next = follow.next() => next,
        };
        let event = match next {
            Some(Ok(event)) => event,
            Some(Err(error)) => {
                // A lag is caught up from the log at once; a log that cannot be read is tried
                // again after a pause, not in a tight loop.
                if matches!(error, tryvoha_follow::FollowError::Log { .. }) {
                    tracing::warn!(%error, webhook = record.id, "cannot read the log; following again shortly");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(LOG_RETRY) => {}
                    }
                }
                follow = context.source.follow(after);
                continue;
            }
            None => return,
        };
        if filter.matches_event(&event, context.hub.registry()) {
            // One frame (from the hub's cache) for the body and for the alert's counts.
            let frame = context.hub.frames().frame(&event, &context.signer);
            if let Some(body) = body_of(&context, &record, &event, &frame) {
                match deliver(&context, &record, event.seq(), &body, Some(&frame), &stop).await {
                    Settled::Delivered => {}
                    Settled::Stopped => return,
                    Settled::Gone => {
                        tracing::warn!(webhook = record.id, url = %record.spec.url, "the endpoint answered 410 Gone; removed");
                        context.gone(record.id, &stop).await;
                        return;
                    }
                    Settled::Paused(reason) => {
                        tracing::warn!(webhook = record.id, %reason, "the endpoint is paused");
                        context.pause(record.id, reason, &stop).await;
                        return;
                    }
                }
            }
        }
        after = event.seq();
        context.cursors.acknowledge(&consumer, after);
    }
}

/// What the endpoint receives for `event`, in its format; `None` when the format has nothing
/// to say about it (ukrainealarm shows only real alerts).
fn body_of(context: &Context, record: &WebhookRecord, event: &Event, frame: &Frame) -> Option<Vec<u8>> {
    match record.spec.format {
        WebhookFormat::Tryvoha => Some(frame.json.to_vec()),
        WebhookFormat::Ukrainealarm => {
            let book = context.log.book();
            let event = event.as_alert()?;
            tryvoha_compat::ukrainealarm::webhook_body(event, &book).map(|body| body.to_string().into_bytes())
        }
    }
}

/// Delivers one event until it settles. `frame` counts the attempts for its alert.
pub(crate) async fn deliver(
    context: &Context,
    record: &WebhookRecord,
    seq: u64,
    body: &[u8],
    frame: Option<&Arc<Frame>>,
    stop: &CancellationToken,
) -> Settled {
    let mut failing_since: Option<Instant> = None;
    let mut backoff = FIRST_BACKOFF;
    loop {
        if let Some(frame) = frame {
            frame.attempted(Channel::Webhook);
        }
        let started = Instant::now();
        // A request in flight is abandoned at a stop: it is made again after the restart.
        let answer = tokio::select! {
            answer = send(context, record, seq, body) => answer,
            () = stop.cancelled() => return Settled::Stopped,
        };
        context.attempts.record(
            record.id,
            Attempt {
                seq,
                at: OffsetDateTime::now_utc(),
                status: answer.status,
                latency_ms: started.elapsed().as_secs_f64() * 1e3,
                error: answer.error.clone(),
            },
        );
        if answer.accepted() {
            if let Some(frame) = frame {
                frame.delivered(Channel::Webhook);
            }
            return Settled::Delivered;
        }
        if answer.status == Some(410) {
            if let Some(frame) = frame {
                frame.pruned(Channel::Webhook);
            }
            return Settled::Gone;
        }
        if let Some(frame) = frame {
            frame.failed(Channel::Webhook);
        }
        let since = *failing_since.get_or_insert(started);
        if since.elapsed() >= context.retry_for {
            let last = answer.error.unwrap_or_else(|| format!("answered {}", answer.status.unwrap_or_default()));
            return Settled::Paused(format!(
                "event {seq} not accepted for {} s; last attempt: {last}",
                context.retry_for.as_secs()
            ));
        }
        // The endpoint's Retry-After may lengthen the wait, never shorten it below the back-off
        // (`Retry-After: 0` is no licence to hammer it), and no wait runs past the retry window.
        let asked = answer.retry_after.map_or(Duration::ZERO, |asked| asked.min(MAX_RETRY_AFTER));
        let left = context.retry_for.saturating_sub(since.elapsed());
        if asked > left {
            // It asks to be left alone past the window: paused now, not retried early.
            return Settled::Paused(format!(
                "event {seq} not accepted; the endpoint asked to wait past the retry window"
            ));
        }
        let wait = jittered(backoff).max(asked).min(left);
        backoff = (backoff * 2).min(MAX_BACKOFF);
        tokio::select! {
            () = stop.cancelled() => return Settled::Stopped,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Between half the delay and all of it, so that endpoints failing together do not retry in
/// step.
fn jittered(delay: Duration) -> Duration {
    let half = delay / 2;
    half + half.mul_f64(rand::random::<f64>())
}

/// One POST. The target is checked again here for an address written in the URL; a name is
/// checked by the client's resolver at connection.
pub(crate) async fn send(context: &Context, record: &WebhookRecord, seq: u64, body: &[u8]) -> Answer {
    let failed = |error: String| Answer { status: None, retry_after: None, error: Some(error) };
    let url = match crate::target::parse_url(&record.spec.url) {
        Ok(url) => url,
        Err(refusal) => return failed(refusal.to_string()),
    };
    let scheme = if url.scheme() == "https" { Scheme::Https } else { Scheme::Http };
    let reach = record.spec.may_reach_private;
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
    if let Ok(address) = host.parse()
        && let Err(refusal) = context.reach.policy(reach).check_address(&host, address, scheme == Scheme::Https)
    {
        return failed(refusal.to_string());
    }
    let Some(client) = context.reach.client(reach, scheme) else {
        return failed("http:// is refused: this endpoint may reach only public addresses, over https://".into());
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let request = client
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(USER_AGENT, HeaderValue::from_static(concat!("tryvoha-webhooks/", env!("CARGO_PKG_VERSION"))))
        .header(EVENT_ID_HEADER, seq.to_string())
        .header(SIGNATURE_HEADER, signature(&record.secret, now, body));
    let request = match record.spec.format {
        WebhookFormat::Tryvoha => request,
        // ukrainealarm's receivers look for these; the signature is the server's Ed25519 key
        // (at /api/v1/keys) over "<timestamp>.<body>", not upstream's RSA key (docs/compat.md).
        WebhookFormat::Ukrainealarm => {
            let signed = format!("{now}.{}", String::from_utf8_lossy(body));
            let (kid, signature) = context.signer.sign_detached(signed.as_bytes());
            request
                .header("X-Webhook-Timestamp", now.to_string())
                .header("X-Webhook-Key-Id", kid)
                .header("X-Webhook-Signature-Alg", "ed25519")
                .header("X-Webhook-Signature", signature)
        }
    };
    match request.body(body.to_vec()).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            // The answer's body is not read: a receiver's reply is not ours to keep.
            Answer { status: Some(status), retry_after, error: None }
        }
        Err(error) => failed(describe(&error)),
    }
}

fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
