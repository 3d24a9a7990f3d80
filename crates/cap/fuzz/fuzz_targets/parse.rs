//! Any bytes into `tryvoha_cap::parse`: it must return, never panic, hang or blow up memory; and
//! whatever it accepts must be written and read back to an equal alert.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tryvoha_cap::atom::{Entry, Feed, Person, write_feed};
use tryvoha_cap::{Limits, check_semantics, parse, parse_with_limits, write};

fuzz_target!(|data: &[u8]| {
    let Ok(alert) = parse(data) else {
        return;
    };
    let _ = check_semantics(&alert);
    let written = write(&alert);
    // The written form can be longer than the input (indentation, `>` escaped as `&gt;`), so it
    // is read back without the size limit; nesting never exceeds CAP's own five levels.
    let unlimited = Limits { max_bytes: usize::MAX, ..Limits::DEFAULT };
    let read_back = parse_with_limits(written.as_bytes(), unlimited)
        .unwrap_or_else(|error| panic!("written alert does not parse: {error}\n{written}"));
    assert_eq!(alert, read_back, "written:\n{written}");
    let feed = Feed {
        id: "urn:example:feed".into(),
        title: "fuzz".into(),
        updated: alert.sent,
        author: Person { name: "fuzz".into(), uri: None, email: None },
        self_link: "https://example.org/feed.atom".into(),
        entries: vec![Entry::for_alert(&alert, "https://example.org/alert.xml")],
    };
    let _ = write_feed(&feed);
});
