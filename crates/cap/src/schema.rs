//! The CAP 1.2 XSD, as code: from the element tree to an [`Alert`], checking element order,
//! cardinality and every value's lexical form on the way.

use std::str::FromStr;

use crate::document::{Element, is_xml_whitespace};
use crate::geometry::{Circle, Polygon, parse_decimal};
use crate::lists::{parse_quoted_list, parse_references};
use crate::model::{Alert, Area, Info, NamedValue, Resource};
use crate::sequence::{Child, Sequence, display_name, is_cap, text_of};
use crate::timestamp::Timestamp;
use crate::{CapError, XMLDSIG_NAMESPACE};

const ALERT_CHILDREN: &[&str] = &[
    "identifier",
    "sender",
    "sent",
    "status",
    "msgType",
    "source",
    "scope",
    "restriction",
    "addresses",
    "code",
    "note",
    "references",
    "incidents",
    "info",
];
const INFO_CHILDREN: &[&str] = &[
    "language",
    "category",
    "event",
    "responseType",
    "urgency",
    "severity",
    "certainty",
    "audience",
    "eventCode",
    "effective",
    "onset",
    "expires",
    "senderName",
    "headline",
    "description",
    "instruction",
    "web",
    "contact",
    "parameter",
    "resource",
    "area",
];
const RESOURCE_CHILDREN: &[&str] = &["resourceDesc", "mimeType", "size", "uri", "derefUri", "digest"];
const AREA_CHILDREN: &[&str] = &["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"];
const NAMED_VALUE_CHILDREN: &[&str] = &["valueName", "value"];

pub(crate) fn read_alert(root: &Element) -> Result<Alert, CapError> {
    if root.name != "alert" {
        return Err(CapError::UnexpectedElement { path: "/".into(), found: display_name(root) });
    }
    if !is_cap(root) {
        return Err(CapError::WrongNamespace { path: "alert".into(), found: root.namespace.clone() });
    }
    let mut alert = Sequence::open(root, "alert".into(), ALERT_CHILDREN, Some(XMLDSIG_NAMESPACE))?;
    let read = Alert {
        identifier: text_of(&alert.required("identifier")?)?,
        sender: text_of(&alert.required("sender")?)?,
        sent: timestamp(&alert.required("sent")?)?,
        status: enumerated(&alert.required("status")?)?,
        msg_type: enumerated(&alert.required("msgType")?)?,
        source: alert.optional("source").map(|child| text_of(&child)).transpose()?,
        scope: enumerated(&alert.required("scope")?)?,
        restriction: alert.optional("restriction").map(|child| text_of(&child)).transpose()?,
        addresses: alert.optional("addresses").map(|child| quoted_list(&child)).transpose()?.unwrap_or_default(),
        codes: alert.repeated("code").iter().map(text_of).collect::<Result<_, _>>()?,
        note: alert.optional("note").map(|child| text_of(&child)).transpose()?,
        references: match alert.optional("references") {
            Some(child) => {
                let text = text_of(&child)?;
                parse_references(&text).map_err(|reason| CapError::bad_value(child.path, &text, reason))?
            }
            None => Vec::new(),
        },
        incidents: alert.optional("incidents").map(|child| quoted_list(&child)).transpose()?.unwrap_or_default(),
        infos: alert.repeated("info").iter().map(read_info).collect::<Result<_, _>>()?,
    };
    // The XSD's `any` in the XML-DSig namespace: an enveloped signature. It is not verified here.
    alert.skip_namespace(XMLDSIG_NAMESPACE);
    alert.finish()?;
    Ok(read)
}

fn read_info(info: &Child<'_>) -> Result<Info, CapError> {
    let mut info = Sequence::open(info.element, info.path.clone(), INFO_CHILDREN, None)?;
    let language = info.optional("language").map(|child| language(&child)).transpose()?;
    let categories = info.repeated("category");
    if categories.is_empty() {
        // `category` is required: report it as missing, like any other required element.
        info.required("category")?;
    }
    let read = Info {
        language,
        categories: categories.iter().map(enumerated).collect::<Result<_, _>>()?,
        event: text_of(&info.required("event")?)?,
        response_types: info.repeated("responseType").iter().map(enumerated).collect::<Result<_, _>>()?,
        urgency: enumerated(&info.required("urgency")?)?,
        severity: enumerated(&info.required("severity")?)?,
        certainty: enumerated(&info.required("certainty")?)?,
        audience: info.optional("audience").map(|child| text_of(&child)).transpose()?,
        event_codes: info.repeated("eventCode").iter().map(read_named_value).collect::<Result<_, _>>()?,
        effective: info.optional("effective").map(|child| timestamp(&child)).transpose()?,
        onset: info.optional("onset").map(|child| timestamp(&child)).transpose()?,
        expires: info.optional("expires").map(|child| timestamp(&child)).transpose()?,
        sender_name: info.optional("senderName").map(|child| text_of(&child)).transpose()?,
        headline: info.optional("headline").map(|child| text_of(&child)).transpose()?,
        description: info.optional("description").map(|child| text_of(&child)).transpose()?,
        instruction: info.optional("instruction").map(|child| text_of(&child)).transpose()?,
        web: info.optional("web").map(|child| any_uri(&child)).transpose()?,
        contact: info.optional("contact").map(|child| text_of(&child)).transpose()?,
        parameters: info.repeated("parameter").iter().map(read_named_value).collect::<Result<_, _>>()?,
        resources: info.repeated("resource").iter().map(read_resource).collect::<Result<_, _>>()?,
        areas: info.repeated("area").iter().map(read_area).collect::<Result<_, _>>()?,
    };
    info.finish()?;
    Ok(read)
}

fn read_resource(resource: &Child<'_>) -> Result<Resource, CapError> {
    let mut resource = Sequence::open(resource.element, resource.path.clone(), RESOURCE_CHILDREN, None)?;
    let read = Resource {
        resource_desc: text_of(&resource.required("resourceDesc")?)?,
        mime_type: text_of(&resource.required("mimeType")?)?,
        size: resource.optional("size").map(|child| size(&child)).transpose()?,
        uri: resource.optional("uri").map(|child| any_uri(&child)).transpose()?,
        deref_uri: resource.optional("derefUri").map(|child| text_of(&child)).transpose()?,
        digest: resource.optional("digest").map(|child| text_of(&child)).transpose()?,
    };
    resource.finish()?;
    Ok(read)
}

fn read_area(area: &Child<'_>) -> Result<Area, CapError> {
    let mut area = Sequence::open(area.element, area.path.clone(), AREA_CHILDREN, None)?;
    let read = Area {
        area_desc: text_of(&area.required("areaDesc")?)?,
        polygons: area
            .repeated("polygon")
            .iter()
            .map(|child| geometry(child, Polygon::parse))
            .collect::<Result<_, _>>()?,
        circles: area
            .repeated("circle")
            .iter()
            .map(|child| geometry(child, Circle::parse))
            .collect::<Result<_, _>>()?,
        geocodes: area.repeated("geocode").iter().map(read_named_value).collect::<Result<_, _>>()?,
        altitude: area.optional("altitude").map(|child| decimal(&child)).transpose()?,
        ceiling: area.optional("ceiling").map(|child| decimal(&child)).transpose()?,
    };
    area.finish()?;
    Ok(read)
}

fn read_named_value(pair: &Child<'_>) -> Result<NamedValue, CapError> {
    let mut pair = Sequence::open(pair.element, pair.path.clone(), NAMED_VALUE_CHILDREN, None)?;
    let read =
        NamedValue { value_name: text_of(&pair.required("valueName")?)?, value: text_of(&pair.required("value")?)? };
    pair.finish()?;
    Ok(read)
}

fn enumerated<T>(child: &Child<'_>) -> Result<T, CapError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let text = text_of(child)?;
    text.parse().map_err(|error: T::Err| CapError::bad_value(&child.path, &text, error.to_string()))
}

fn timestamp(child: &Child<'_>) -> Result<Timestamp, CapError> {
    let text = text_of(child)?;
    Timestamp::parse(collapse(&text).as_str())
        .map_err(|error| CapError::bad_value(&child.path, &text, error.to_string()))
}

fn geometry<T, E: std::fmt::Display>(child: &Child<'_>, parse: impl Fn(&str) -> Result<T, E>) -> Result<T, CapError> {
    let text = text_of(child)?;
    parse(&text).map_err(|error| CapError::bad_value(&child.path, &text, error.to_string()))
}

fn quoted_list(child: &Child<'_>) -> Result<Vec<String>, CapError> {
    let text = text_of(child)?;
    parse_quoted_list(&text).map_err(|reason| CapError::bad_value(&child.path, &text, reason))
}

fn language(child: &Child<'_>) -> Result<String, CapError> {
    let text = text_of(child)?;
    let collapsed = collapse(&text);
    match is_language_tag(&collapsed) {
        true => Ok(collapsed),
        false => Err(CapError::bad_value(&child.path, &text, "not an xs:language tag such as en-US")),
    }
}

fn any_uri(child: &Child<'_>) -> Result<String, CapError> {
    let text = text_of(child)?;
    let collapsed = collapse(&text);
    match uri_problem(&collapsed) {
        None => Ok(collapsed),
        Some(reason) => Err(CapError::bad_value(&child.path, &text, reason)),
    }
}

fn size(child: &Child<'_>) -> Result<u64, CapError> {
    let text = text_of(child)?;
    let collapsed = collapse(&text);
    let digits = collapsed.strip_prefix('+').unwrap_or(&collapsed);
    // `xs:integer` allows `-0`; any other negative size is refused below.
    if let Some(negative) = digits.strip_prefix('-')
        && !negative.is_empty()
        && negative.bytes().all(|byte| byte == b'0')
    {
        return Ok(0);
    }
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(CapError::bad_value(&child.path, &text, "not a non-negative integer number of bytes"));
    }
    digits.parse().map_err(|_| CapError::bad_value(&child.path, &text, "too large"))
}

fn decimal(child: &Child<'_>) -> Result<f64, CapError> {
    let text = text_of(child)?;
    parse_decimal(&collapse(&text)).map_err(|error| CapError::bad_value(&child.path, &text, error.to_string()))
}

/// The `collapse` whitespace facet of `xs:dateTime`, `xs:language`, `xs:anyURI` and the numbers.
fn collapse(text: &str) -> String {
    text.split(is_xml_whitespace).filter(|word| !word.is_empty()).collect::<Vec<_>>().join(" ")
}

/// `xs:language`: `[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*`.
pub(crate) fn is_language_tag(text: &str) -> bool {
    let mut subtags = text.split('-');
    let primary_ok = subtags.next().is_some_and(|primary| {
        (1..=8).contains(&primary.len()) && primary.bytes().all(|byte| byte.is_ascii_alphabetic())
    });
    primary_ok
        && subtags.all(|subtag| (1..=8).contains(&subtag.len()) && subtag.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The RFC 3986 faults an XSD validator (libxml2) finds in an `xs:anyURI`: a malformed percent
/// escape, a second `#`, a malformed scheme. Not a full URI grammar.
pub(crate) fn uri_problem(text: &str) -> Option<&'static str> {
    if text != collapse(text) {
        return Some("leading, trailing or repeated whitespace");
    }
    let bytes = text.as_bytes();
    let escapes_ok = bytes.iter().enumerate().filter(|(_, byte)| **byte == b'%').all(|(position, _)| {
        bytes.get(position + 1..position + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok {
        return Some("a % not followed by two hexadecimal digits");
    }
    if text.matches('#').count() > 1 {
        return Some("more than one #");
    }
    let before_path = &text[..text.find(['/', '?', '#']).unwrap_or(text.len())];
    if let Some((scheme, _)) = before_path.split_once(':') {
        let scheme_ok = scheme.starts_with(|first: char| first.is_ascii_alphabetic())
            && scheme.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.'));
        if !scheme_ok {
            return Some("a malformed scheme before the first colon");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_follow_xs_language() {
        for good in ["en", "en-US", "es-419", "zh-Hant-TW", "x-klingon"] {
            assert!(is_language_tag(good), "{good}");
        }
        for bad in ["", "en_US", "en-", "-en", "toolonglang", "e1", "en US"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn uris_are_checked_for_what_validators_reject() {
        for good in ["", "http://www.weather.gov", "https://a.example/x?y=1#z", "urn:oid:2.49.0.1", "relative/path%20x"]
        {
            assert_eq!(uri_problem(good), None, "{good}");
        }
        for bad in ["%zz", "http://x/%", "#a#b", ":", "1http://x", " http://x"] {
            assert!(uri_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn collapse_trims_and_joins_whitespace_runs() {
        assert_eq!(collapse("\n  2003-06-17T14:57:00-07:00 \t"), "2003-06-17T14:57:00-07:00");
        assert_eq!(collapse(" a \n b "), "a b");
    }
}
