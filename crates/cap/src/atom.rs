//! An Atom 1.0 (RFC 4287) index of CAP messages, as the OASIS "CAP Feeds" practice (2014) and
//! Google Public Alerts expect: one entry per message, with
//! `<link rel="alternate" type="application/cap+xml">` pointing at the full CAP document.
//!
//! Only writing is provided; this crate does not read feeds.

use crate::CAP_MIME_TYPE;
use crate::model::Alert;
use crate::timestamp::Timestamp;
use crate::write::{XML_DECLARATION, XmlOut, escape_attribute_into};

const ATOM_NAMESPACE: &str = "http://www.w3.org/2005/Atom";

/// The feed: metadata and its entries, newest first by convention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// A permanent IRI for the feed, e.g. its URL.
    pub id: String,
    pub title: String,
    /// When anything in the feed last changed.
    pub updated: Timestamp,
    /// The publisher; it stands for every entry, which carry no author of their own.
    pub author: Person,
    /// The feed's own URL (`<link rel="self">`).
    pub self_link: String,
    pub entries: Vec<Entry>,
}

/// An Atom person construct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub uri: Option<String>,
    /// Must contain an `@` to be valid Atom.
    pub email: Option<String>,
}

/// One CAP message in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// A permanent IRI for this message, e.g. the URL of its CAP document.
    pub id: String,
    pub title: String,
    pub updated: Timestamp,
    pub summary: String,
    /// The URL of the CAP document (`<link rel="alternate" type="application/cap+xml">`).
    pub cap_link: String,
}

impl Entry {
    /// The entry for a message served at `cap_url`, filled as the OASIS practice suggests:
    /// the URL as id, the first `info`'s headline (or event) as title, its description (or
    /// headline) as summary, and `sent` as the update time. A message without `info`, such as a
    /// Cancel, is titled by its type and identifier.
    pub fn for_alert(alert: &Alert, cap_url: impl Into<String>) -> Entry {
        let cap_url = cap_url.into();
        let info = alert.infos.first();
        let title = info
            .map(|info| info.headline.clone().unwrap_or_else(|| info.event.clone()))
            .unwrap_or_else(|| format!("{} {}", alert.msg_type, alert.identifier));
        let summary = info
            .and_then(|info| info.description.clone().or_else(|| info.headline.clone()))
            .unwrap_or_else(|| title.clone());
        Entry { id: cap_url.clone(), title, updated: alert.sent, summary, cap_link: cap_url }
    }
}

/// Writes the feed as an Atom 1.0 document (UTF-8, with an XML declaration), valid against the
/// RELAX NG grammar of RFC 4287 as long as `author.email`, when given, contains an `@`.
pub fn write_feed(feed: &Feed) -> String {
    let mut out = XmlOut { text: String::with_capacity(1024 + 512 * feed.entries.len()), depth: 1 };
    out.text.extend([XML_DECLARATION, "<feed xmlns=\"", ATOM_NAMESPACE, "\">\n"]);
    out.element("id", &feed.id);
    out.element("title", &feed.title);
    out.element("updated", &feed.updated.to_string());
    out.nested("author", |out| {
        out.element("name", &feed.author.name);
        out.optional("uri", feed.author.uri.as_deref());
        out.optional("email", feed.author.email.as_deref());
    });
    link(&mut out, "self", "application/atom+xml", &feed.self_link);
    for entry in &feed.entries {
        out.nested("entry", |out| {
            out.element("id", &entry.id);
            out.element("title", &entry.title);
            out.element("updated", &entry.updated.to_string());
            out.element("summary", &entry.summary);
            link(out, "alternate", CAP_MIME_TYPE, &entry.cap_link);
        });
    }
    out.text.push_str("</feed>\n");
    out.text
}

fn link(out: &mut XmlOut, rel: &str, media_type: &str, href: &str) {
    out.indent();
    out.text.extend(["<link rel=\"", rel, "\" type=\"", media_type, "\" href=\""]);
    escape_attribute_into(&mut out.text, href);
    out.text.push_str("\"/>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timestamp(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn writes_feed_metadata_and_one_entry_per_message_with_its_cap_link() {
        let alert = crate::parse(include_bytes!("../tests/corpus/valid/oasis-spec-example-A3.xml")).unwrap();
        let feed = Feed {
            id: "https://alerts.example.org/cap/feed.atom".into(),
            title: "Alerts & all-clears".into(),
            updated: timestamp("2026-11-27T12:00:00+02:00"),
            author: Person { name: "Example Civil Protection".into(), uri: None, email: None },
            self_link: "https://alerts.example.org/cap/feed.atom?region=14&kind=air_raid".into(),
            entries: vec![Entry::for_alert(&alert, "https://alerts.example.org/cap/TRI13970876.2.xml")],
        };
        let xml = write_feed(&feed);
        assert!(xml.contains("<title>Alerts &amp; all-clears</title>"));
        assert!(xml.contains("href=\"https://alerts.example.org/cap/feed.atom?region=14&amp;kind=air_raid\""));
        assert!(xml.contains("<updated>2026-11-27T12:00:00+02:00</updated>"));
        assert!(xml.contains(
            "<link rel=\"alternate\" type=\"application/cap+xml\" href=\"https://alerts.example.org/cap/TRI13970876.2.xml\"/>"
        ));
        assert!(xml.contains("<title>EQ 3.4 Imperial County CA</title>"));
        assert!(xml.contains("<updated>2003-06-11T20:56:00-07:00</updated>"));
    }

    #[test]
    fn a_message_without_info_is_titled_by_type_and_identifier() {
        let alert = crate::parse(include_bytes!("../tests/corpus/valid/ipaws-cancel-no-info-signed.xml")).unwrap();
        let entry = Entry::for_alert(&alert, "https://example.org/cap/1.xml");
        assert_eq!(entry.title, "Cancel AS-NV-58d33e3a-1f9a-4909-9d59-34e90b33b3e8");
        assert_eq!(entry.summary, entry.title);
    }
}
