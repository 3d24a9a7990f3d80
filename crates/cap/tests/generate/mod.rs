//! Proptest strategies for whole CAP alerts that pass `check_semantics`: every optional element
//! present or not, repeated elements zero to a few times, and free text full of what needs
//! escaping (`&`, `<`, `>`, quotes, `\r`, tabs, leading and trailing spaces, non-ASCII).

#![allow(dead_code)] // each test binary uses part of this module

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use tryvoha_cap::atom::{Entry, Feed, Person};
use tryvoha_cap::{
    Alert, Area, Category, Certainty, Circle, Info, MessageType, NamedValue, Point, Polygon, Reference, Resource,
    ResponseType, Scope, Severity, Status, Timestamp, Urgency,
};

/// Free text, including every character the writer must escape.
pub fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 &<>\"'\\r\\n\\t;#\u{e9}\u{442}\u{421}\u{1F6A8}\\]]{0,24}"
}

/// An identifier or sender: no whitespace, commas, `<` or `&` (CAP §3.2.1).
pub fn message_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._:@/-]{1,24}"
}

/// An entry of `addresses` or `incidents`, sometimes with spaces (written quoted).
pub fn list_entry() -> impl Strategy<Value = String> {
    "[a-z0-9@.]{1,8}( [a-zA-Z\u{442}]{1,6}){0,2}"
}

pub fn uri() -> impl Strategy<Value = String> {
    "(https?://[a-z]{1,10}\\.example(/([a-z0-9._~-]|%20){0,12}){0,3}(\\?[a-z]=[a-z0-9&]{0,6})?|urn:oid:2\\.49\\.0\\.[0-9]{1,4}|)"
}

pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    let offset = prop_oneof![Just((0, 0)), (-13i32..=13, select(vec![0, 30, 45])), Just((14, 0)), Just((-14, 0))];
    (1i32..=9999, 1u8..=12, 1u8..=28, 0u8..24, 0u8..60, 0u8..60, offset).prop_map(
        |(year, month, day, hour, minute, second, (offset_hours, offset_minutes))| {
            let sign = if offset_hours < 0 { '-' } else { '+' };
            let text = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{sign}{:02}:{offset_minutes:02}",
                offset_hours.abs()
            );
            Timestamp::parse(&text).expect("generated timestamps are well-formed")
        },
    )
}

pub fn point() -> impl Strategy<Value = Point> {
    let lat = prop_oneof![-90.0f64..=90.0, select(vec![-90.0, 0.0, 90.0, 50.4501, -0.000001])];
    let lon = prop_oneof![-180.0f64..=180.0, select(vec![-180.0, 0.0, 180.0, 30.5234])];
    (lat, lon).prop_map(|(lat, lon)| Point::new(lat, lon).expect("in range"))
}

pub fn polygon() -> impl Strategy<Value = Polygon> {
    vec(point(), 3..8).prop_map(|mut points| {
        points.push(points[0]);
        Polygon::new(points).expect("closed with at least four points")
    })
}

pub fn circle() -> impl Strategy<Value = Circle> {
    (point(), prop_oneof![Just(0.0), 0.0f64..20_000.0])
        .prop_map(|(center, radius)| Circle::new(center, radius).expect("finite non-negative radius"))
}

pub fn named_value() -> impl Strategy<Value = NamedValue> {
    (text(), text()).prop_map(|(value_name, value)| NamedValue { value_name, value })
}

pub fn reference() -> impl Strategy<Value = Reference> {
    (message_id(), message_id(), timestamp()).prop_map(|(sender, identifier, sent)| Reference {
        sender,
        identifier,
        sent,
    })
}

pub fn resource() -> impl Strategy<Value = Resource> {
    (
        text(),
        "[a-z]{1,11}/[a-z0-9.+-]{1,15}",
        option::of(any::<u64>()),
        option::of(uri()),
        option::of("[A-Za-z0-9+/=]{0,40}"),
        option::of("[0-9a-f]{40}"),
    )
        .prop_map(|(resource_desc, mime_type, size, uri, deref_uri, digest)| Resource {
            resource_desc,
            mime_type,
            size,
            uri,
            deref_uri,
            digest,
        })
}

pub fn area() -> impl Strategy<Value = Area> {
    let feet = || option::of(prop_oneof![-1000.0f64..60_000.0, Just(0.0), Just(-0.0)]);
    (text(), vec(polygon(), 0..3), vec(circle(), 0..3), vec(named_value(), 0..3), feet(), feet()).prop_map(
        |(area_desc, polygons, circles, geocodes, altitude, ceiling)| {
            // CAP allows a ceiling only above a given altitude.
            let (altitude, ceiling) = match (altitude, ceiling) {
                (None, Some(ceiling)) => (Some(ceiling), Some(ceiling)),
                (Some(altitude), Some(ceiling)) if ceiling < altitude => (Some(ceiling), Some(altitude)),
                other => other,
            };
            Area { area_desc, polygons, circles, geocodes, altitude, ceiling }
        },
    )
}

pub fn info() -> impl Strategy<Value = Info> {
    let head = (
        option::of("[a-zA-Z]{2,3}(-[A-Z]{2}|-419)?"),
        vec(select(Category::ALL), 1..4),
        text(),
        vec(select(ResponseType::ALL), 0..3),
        select(Urgency::ALL),
        select(Severity::ALL),
        select(Certainty::ALL),
        option::of(text()),
        vec(named_value(), 0..3),
    );
    let times = (option::of(timestamp()), option::of(timestamp()), option::of(timestamp()));
    let texts = (
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(uri()),
        option::of(text()),
    );
    let body = (vec(named_value(), 0..3), vec(resource(), 0..3), vec(area(), 0..3));
    (head, times, texts, body).prop_map(|(head, times, texts, body)| {
        let (language, categories, event, response_types, urgency, severity, certainty, audience, event_codes) = head;
        let (effective, onset, expires) = times;
        let (sender_name, headline, description, instruction, web, contact) = texts;
        let (parameters, resources, areas) = body;
        Info {
            language,
            categories,
            event,
            response_types,
            urgency,
            severity,
            certainty,
            audience,
            event_codes,
            effective,
            onset,
            expires,
            sender_name,
            headline,
            description,
            instruction,
            web,
            contact,
            parameters,
            resources,
            areas,
        }
    })
}

pub fn alert() -> impl Strategy<Value = Alert> {
    let envelope = (
        message_id(),
        message_id(),
        timestamp(),
        select(Status::ALL),
        select(MessageType::ALL),
        option::of(text()),
        select(Scope::ALL),
        option::of(text()),
    );
    let lists = (
        vec(list_entry(), 0..3),
        vec(text(), 0..3),
        option::of(text()),
        vec(reference(), 0..3),
        vec(list_entry(), 0..3),
        vec(info(), 0..3),
    );
    (envelope, lists).prop_map(|(envelope, lists)| {
        let (identifier, sender, sent, status, mut msg_type, source, scope, mut restriction) = envelope;
        let (mut addresses, codes, note, references, incidents, mut infos) = lists;
        // Make the generated alert pass the specification's rules (check_semantics).
        if references.is_empty() && msg_type != MessageType::Alert {
            msg_type = MessageType::Alert;
        }
        if scope == Scope::Restricted && restriction.as_deref().is_none_or(|text| text.trim().is_empty()) {
            restriction = Some("emergency managers only".into());
        }
        if scope == Scope::Private && addresses.is_empty() {
            addresses.push("ops@example.org".into());
        }
        for info in &mut infos {
            if info.expires.is_some_and(|expires| expires.to_offset_date_time() < sent.to_offset_date_time()) {
                info.expires = None;
            }
        }
        Alert {
            identifier,
            sender,
            sent,
            status,
            msg_type,
            source,
            scope,
            restriction,
            addresses,
            codes,
            note,
            references,
            incidents,
            infos,
        }
    })
}

pub fn feed() -> impl Strategy<Value = Feed> {
    let author = (text(), option::of(uri()), option::of("[a-z]{1,8}@[a-z]{1,8}\\.example"))
        .prop_map(|(name, uri, email)| Person { name, uri, email });
    (uri(), text(), timestamp(), author, uri(), vec((alert(), uri()), 0..4)).prop_map(
        |(id, title, updated, author, self_link, messages)| Feed {
            id,
            title,
            updated,
            author,
            self_link,
            entries: messages.iter().map(|(alert, url)| Entry::for_alert(alert, url.clone())).collect(),
        },
    )
}
