//! The rules of the CAP 1.2 specification text that its XSD leaves out, and the checks that
//! make an alert built in code as writable as one returned by [`parse`](crate::parse).

use crate::CapError;
use crate::document::is_xml_char;
use crate::lists::unwritable_list_entry;
use crate::model::{Alert, Area, Info};
use crate::schema::{is_language_tag, uri_problem};
use crate::vocabulary::{MessageType, Scope};

/// Checks what the specification requires beyond the XSD:
///
/// - an Update, Cancel, Ack or Error lists the message(s) it refers to in `references`;
/// - scope Restricted comes with a non-blank `restriction`, scope Private with `addresses`;
/// - `identifier` and `sender` (also inside each reference) are non-empty and contain no
///   whitespace, `,`, `<` or `&`;
/// - no `expires` is earlier than `sent`;
/// - `ceiling` only comes with `altitude`, and is not below it.
///
/// It also checks what the types of [`Alert`] cannot guarantee for an alert built in code, and
/// what [`parse`](crate::parse) already guarantees for one it returned: every text is made of
/// characters XML allows, each `info` has a category, `language` is an `xs:language`, `web` and
/// `uri` pass the same URI checks as when parsed, list entries are writable, and altitudes are
/// finite. An alert that passes is written by [`write`](crate::write) as XML that validates
/// against the CAP 1.2 XSD and reads back equal.
pub fn check_semantics(alert: &Alert) -> Result<(), CapError> {
    check_message_id("alert/identifier", &alert.identifier)?;
    check_message_id("alert/sender", &alert.sender)?;
    if matches!(alert.msg_type, MessageType::Update | MessageType::Cancel | MessageType::Ack | MessageType::Error)
        && alert.references.is_empty()
    {
        return Err(semantic(
            "alert/references",
            format!("a message of type {} must list the message(s) it refers to", alert.msg_type),
        ));
    }
    for reference in &alert.references {
        check_message_id("alert/references", &reference.sender)?;
        check_message_id("alert/references", &reference.identifier)?;
    }
    let restriction_given = alert.restriction.as_deref().is_some_and(|text| !text.trim().is_empty());
    if alert.scope == Scope::Restricted && !restriction_given {
        return Err(semantic("alert/restriction", "scope Restricted requires a restriction".into()));
    }
    if alert.scope == Scope::Private && alert.addresses.is_empty() {
        return Err(semantic("alert/addresses", "scope Private requires addresses".into()));
    }
    check_text("alert/source", alert.source.as_deref())?;
    check_text("alert/restriction", alert.restriction.as_deref())?;
    check_list("alert/addresses", &alert.addresses)?;
    for (index, code) in alert.codes.iter().enumerate() {
        check_text(&format!("alert/code[{index}]"), Some(code))?;
    }
    check_text("alert/note", alert.note.as_deref())?;
    check_list("alert/incidents", &alert.incidents)?;
    for (index, info) in alert.infos.iter().enumerate() {
        check_info(&format!("alert/info[{index}]"), info, alert)?;
    }
    Ok(())
}

fn check_info(path: &str, info: &Info, alert: &Alert) -> Result<(), CapError> {
    if let Some(language) = info.language.as_deref().filter(|language| !is_language_tag(language)) {
        return Err(CapError::bad_value(format!("{path}/language"), language, "not an xs:language tag such as en-US"));
    }
    if info.categories.is_empty() {
        return Err(CapError::MissingElement { path: format!("{path}/category") });
    }
    if let Some(expires) = info.expires
        && expires.to_offset_date_time() < alert.sent.to_offset_date_time()
    {
        return Err(semantic(&format!("{path}/expires"), format!("expires ({expires}) before the message was sent")));
    }
    let texts = [
        ("event", Some(info.event.as_str())),
        ("audience", info.audience.as_deref()),
        ("senderName", info.sender_name.as_deref()),
        ("headline", info.headline.as_deref()),
        ("description", info.description.as_deref()),
        ("instruction", info.instruction.as_deref()),
        ("contact", info.contact.as_deref()),
    ];
    for (name, text) in texts {
        check_text(&format!("{path}/{name}"), text)?;
    }
    check_uri(&format!("{path}/web"), info.web.as_deref())?;
    for (name, pairs) in [("eventCode", &info.event_codes), ("parameter", &info.parameters)] {
        for (index, pair) in pairs.iter().enumerate() {
            check_text(&format!("{path}/{name}[{index}]/valueName"), Some(&pair.value_name))?;
            check_text(&format!("{path}/{name}[{index}]/value"), Some(&pair.value))?;
        }
    }
    for (index, resource) in info.resources.iter().enumerate() {
        let path = format!("{path}/resource[{index}]");
        check_text(&format!("{path}/resourceDesc"), Some(&resource.resource_desc))?;
        check_text(&format!("{path}/mimeType"), Some(&resource.mime_type))?;
        check_uri(&format!("{path}/uri"), resource.uri.as_deref())?;
        check_text(&format!("{path}/derefUri"), resource.deref_uri.as_deref())?;
        check_text(&format!("{path}/digest"), resource.digest.as_deref())?;
    }
    for (index, area) in info.areas.iter().enumerate() {
        check_area(&format!("{path}/area[{index}]"), area)?;
    }
    Ok(())
}

fn check_area(path: &str, area: &Area) -> Result<(), CapError> {
    check_text(&format!("{path}/areaDesc"), Some(&area.area_desc))?;
    for (index, geocode) in area.geocodes.iter().enumerate() {
        check_text(&format!("{path}/geocode[{index}]/valueName"), Some(&geocode.value_name))?;
        check_text(&format!("{path}/geocode[{index}]/value"), Some(&geocode.value))?;
    }
    for (name, feet) in [("altitude", area.altitude), ("ceiling", area.ceiling)] {
        if let Some(feet) = feet.filter(|feet| !feet.is_finite()) {
            return Err(CapError::bad_value(format!("{path}/{name}"), &feet.to_string(), "not a finite number"));
        }
    }
    match (area.altitude, area.ceiling) {
        (None, Some(_)) => Err(semantic(&format!("{path}/ceiling"), "ceiling may only be given with altitude".into())),
        (Some(altitude), Some(ceiling)) if ceiling < altitude => {
            Err(semantic(&format!("{path}/ceiling"), format!("ceiling {ceiling} is below altitude {altitude}")))
        }
        _ => Ok(()),
    }
}

/// CAP 1.2 §3.2.1: identifiers and senders "MUST NOT include spaces, commas or restricted
/// characters (< and &)", since `references` joins them with commas and spaces.
fn check_message_id(path: &str, id: &str) -> Result<(), CapError> {
    if id.is_empty() {
        return Err(semantic(path, "must not be empty".into()));
    }
    if let Some(bad) = id.chars().find(|&character| character.is_whitespace() || matches!(character, ',' | '<' | '&')) {
        return Err(semantic(path, format!("{id:?} contains {bad:?}; spaces, commas, < and & are not allowed")));
    }
    check_text(path, Some(id))
}

fn check_text(path: &str, text: Option<&str>) -> Result<(), CapError> {
    match text.and_then(|text| text.chars().find(|&character| !is_xml_char(character)).map(|bad| (text, bad))) {
        Some((text, bad)) => {
            Err(CapError::bad_value(path, text, format!("character U+{:04X} cannot be written in XML", bad as u32)))
        }
        None => Ok(()),
    }
}

fn check_list(path: &str, entries: &[String]) -> Result<(), CapError> {
    for entry in entries {
        if let Some(reason) = unwritable_list_entry(entry) {
            return Err(CapError::bad_value(path, entry, reason));
        }
        check_text(path, Some(entry))?;
    }
    Ok(())
}

fn check_uri(path: &str, uri: Option<&str>) -> Result<(), CapError> {
    check_text(path, uri)?;
    match uri.and_then(|uri| uri_problem(uri).map(|reason| (uri, reason))) {
        Some((uri, reason)) => Err(CapError::bad_value(path, uri, reason)),
        None => Ok(()),
    }
}

fn semantic(path: &str, rule: String) -> CapError {
    CapError::Semantic { path: path.to_owned(), rule }
}
