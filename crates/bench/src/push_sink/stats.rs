//! What the sink counted since it started or was last reset, as `GET /stats` shows it.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Value, json};

use crate::{process, sys};

/// At most this many distinct VAPID keys are listed (one sender uses one).
const KEYS_LISTED: usize = 4;

/// Which requests get the costly checks: the first few, then every so many, by arrival.
#[derive(Clone, Copy)]
pub struct Sampling {
    pub verify_first: u64,
    pub verify_every: u64,
    pub decrypt_first: u64,
    pub decrypt_every: u64,
}

impl Sampling {
    pub fn verifies(&self, arrival: u64) -> bool {
        picked(arrival, self.verify_first, self.verify_every)
    }

    pub fn decrypts(&self, arrival: u64) -> bool {
        picked(arrival, self.decrypt_first, self.decrypt_every)
    }
}

fn picked(arrival: u64, first: u64, every: u64) -> bool {
    arrival < first || (every > 0 && arrival.is_multiple_of(every))
}

/// One decrypted message and the headers it came with.
pub struct Sample {
    pub index: u64,
    pub body: String,
    pub ttl: Option<String>,
    pub urgency: Option<String>,
    pub topic: Option<String>,
}

#[derive(Default)]
pub struct Stats {
    /// Push requests received (accepted or refused); the sampling counts by this.
    pub received: u64,
    pub accepted: u64,
    /// Every request answered 400: malformed, bad VAPID, or not readable as HTTP.
    pub refused: u64,
    pub bad_vapid: u64,
    pub vapid_verified: u64,
    pub decrypted: u64,
    pub decrypt_failures: u64,
    /// Decrypted bodies unlike the first: every subscription is sent the same message.
    pub sample_mismatches: u64,
    pub connections: u64,
    /// Subscription indexes accepted at least once: below `accepted` means some were sent twice.
    pub distinct: HashSet<u64>,
    /// `CLOCK_MONOTONIC`, shared with the driver, which stamps the declaration on it.
    pub first_accepted_ns: Option<u64>,
    pub last_accepted_ns: Option<u64>,
    pub sample: Option<Sample>,
    pub last_refusal: Option<String>,
    pub vapid_keys: BTreeSet<String>,
}

impl Stats {
    pub fn accepted(&mut self, index: u64, now_ns: u64) {
        self.accepted += 1;
        self.distinct.insert(index);
        self.first_accepted_ns.get_or_insert(now_ns);
        self.last_accepted_ns = Some(now_ns);
    }

    pub fn verified(&mut self, key: &str) {
        self.vapid_verified += 1;
        if self.vapid_keys.len() < KEYS_LISTED {
            self.vapid_keys.insert(key.to_string());
        }
    }

    pub fn decrypted(&mut self, outcome: Result<Sample, String>) {
        match outcome {
            Ok(sample) => {
                self.decrypted += 1;
                match &self.sample {
                    None => self.sample = Some(sample),
                    Some(first) if first.body != sample.body => self.sample_mismatches += 1,
                    Some(_) => {}
                }
            }
            Err(error) => {
                self.decrypt_failures += 1;
                self.last_refusal.get_or_insert(format!("cannot decrypt: {error}"));
            }
        }
    }

    pub fn refused(&mut self, reason: &str, vapid: bool) {
        self.refused += 1;
        self.bad_vapid += u64::from(vapid);
        self.last_refusal = Some(reason.to_string());
    }

    pub fn to_json(&self) -> Value {
        json!({
            "received": self.received,
            "accepted": self.accepted,
            "distinct": self.distinct.len(),
            "refused": self.refused,
            "bad_vapid": self.bad_vapid,
            "vapid_verified": self.vapid_verified,
            "decrypted": self.decrypted,
            "decrypt_failures": self.decrypt_failures,
            "sample_mismatches": self.sample_mismatches,
            "connections": self.connections,
            "first_accepted_ns": self.first_accepted_ns,
            "last_accepted_ns": self.last_accepted_ns,
            "now_ns": sys::monotonic_ns(),
            "sink_cpu_s": process::cpu_seconds(std::process::id()),
            "vapid_keys": self.vapid_keys,
            "last_refusal": self.last_refusal,
            "sample": self.sample.as_ref().map(|s| json!({
                "index": s.index, "body": s.body, "ttl": s.ttl, "urgency": s.urgency, "topic": s.topic,
            })),
        })
    }
}
