//! `key=value` arguments, the same for the coordinator and its client processes.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use anyhow::{Context, bail};

pub struct Args {
    values: BTreeMap<String, String>,
    read: RefCell<BTreeSet<String>>,
}

impl Args {
    pub fn parse(words: impl IntoIterator<Item = String>) -> anyhow::Result<Args> {
        let mut values = BTreeMap::new();
        for word in words {
            let Some((key, value)) = word.split_once('=') else { bail!("expected key=value, got {word:?}") };
            values.insert(key.to_string(), value.to_string());
        }
        Ok(Args { values, read: RefCell::default() })
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        self.read.borrow_mut().insert(key.to_string());
        self.values.get(key).map(String::as_str)
    }

    pub fn required(&self, key: &str) -> anyhow::Result<&str> {
        self.text(key).with_context(|| format!("{key}= is required"))
    }

    pub fn number<T: FromStr>(&self, key: &str, default: T) -> anyhow::Result<T> {
        match self.text(key) {
            None => Ok(default),
            Some(text) => text.parse().ok().with_context(|| format!("{key}={text} is not a valid number")),
        }
    }

    /// Fails on a key nothing asked for: a misspelt option must not silently take its default.
    pub fn reject_unknown(&self) -> anyhow::Result<()> {
        let read = self.read.borrow();
        let unknown: Vec<&str> = self.values.keys().filter(|k| !read.contains(*k)).map(String::as_str).collect();
        if unknown.is_empty() { Ok(()) } else { bail!("unknown option(s): {}", unknown.join(", ")) }
    }
}

/// `a=1 b=2` as the argument list of a child process.
pub fn to_words(pairs: &[(&str, String)]) -> Vec<String> {
    pairs.iter().map(|(key, value)| format!("{key}={value}")).collect()
}
