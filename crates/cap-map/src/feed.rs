//! The Atom index of the current alerts, each entry linking to its CAP message.

use time::OffsetDateTime;
use tryvoha_cap::atom::{Entry, Feed, Person};
use tryvoha_core::{Alert, AlertBook, RegionId};

use crate::publish::{message, timestamp};

/// The active alerts of `book`, newest first. Every link starts with `base` (the configured
/// public URL, without a trailing `/`); `rings` gives a region's outlines for its messages. An
/// entry says what its message's texts say; the `references` of a message (the cancelled alert a
/// reinstating one refers to) are for its CAP document alone.
pub fn feed(book: &AlertBook, base: &str, sender: &str, rings: impl Fn(RegionId) -> Vec<Vec<[f64; 2]>>) -> Feed {
    let registry = book.registry();
    let mut active: Vec<&Alert> = book.active().collect();
    active.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    let entries = active
        .iter()
        .map(|alert| {
            let message = message(alert, None, registry, &rings(alert.region_id), sender);
            Entry::for_alert(&message, format!("{base}/api/v1/alerts/{}.cap", alert.id))
        })
        .collect();
    Feed {
        id: format!("{base}/feeds/cap.atom"),
        title: "tryvoha: current alerts (CAP 1.2)".to_owned(),
        updated: timestamp(book.last_change_at().unwrap_or(OffsetDateTime::UNIX_EPOCH)),
        author: Person { name: sender.to_owned(), uri: None, email: None },
        self_link: format!("{base}/feeds/cap.atom"),
        entries,
    }
}
