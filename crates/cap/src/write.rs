//! From an [`Alert`] to CAP 1.2 XML, in the XSD's element order, indented by two spaces.

use crate::CAP_NAMESPACE;
use crate::lists::{write_quoted_list, write_references};
use crate::model::{Alert, Area, Info, NamedValue, Resource};

/// Writes the alert as a CAP 1.2 document (UTF-8, with an XML declaration).
///
/// Text is written exactly, escaped where XML requires it, so [`parse`](crate::parse) reads back
/// an equal alert. The output validates against the CAP 1.2 XSD for every alert that
/// [`parse`](crate::parse) can return and for every alert that passes
/// [`check_semantics`](crate::check_semantics); an alert built in code that fails those checks
/// (say, with a `\u{0}` in a headline) is still written, but not as valid XML.
pub fn write(alert: &Alert) -> String {
    let mut out = XmlOut { text: String::with_capacity(2048), depth: 1 };
    out.text.extend([XML_DECLARATION, "<alert xmlns=\"", CAP_NAMESPACE, "\">\n"]);
    out.element("identifier", &alert.identifier);
    out.element("sender", &alert.sender);
    out.element("sent", &alert.sent.to_string());
    out.element("status", alert.status.as_str());
    out.element("msgType", alert.msg_type.as_str());
    out.optional("source", alert.source.as_deref());
    out.element("scope", alert.scope.as_str());
    out.optional("restriction", alert.restriction.as_deref());
    if !alert.addresses.is_empty() {
        out.element("addresses", &write_quoted_list(&alert.addresses));
    }
    for code in &alert.codes {
        out.element("code", code);
    }
    out.optional("note", alert.note.as_deref());
    if !alert.references.is_empty() {
        out.element("references", &write_references(&alert.references));
    }
    if !alert.incidents.is_empty() {
        out.element("incidents", &write_quoted_list(&alert.incidents));
    }
    for info in &alert.infos {
        out.nested("info", |out| write_info(out, info));
    }
    out.text.push_str("</alert>\n");
    out.text
}

fn write_info(out: &mut XmlOut, info: &Info) {
    out.optional("language", info.language.as_deref());
    for category in &info.categories {
        out.element("category", category.as_str());
    }
    out.element("event", &info.event);
    for response_type in &info.response_types {
        out.element("responseType", response_type.as_str());
    }
    out.element("urgency", info.urgency.as_str());
    out.element("severity", info.severity.as_str());
    out.element("certainty", info.certainty.as_str());
    out.optional("audience", info.audience.as_deref());
    for event_code in &info.event_codes {
        out.named_value("eventCode", event_code);
    }
    out.optional("effective", info.effective.map(|time| time.to_string()).as_deref());
    out.optional("onset", info.onset.map(|time| time.to_string()).as_deref());
    out.optional("expires", info.expires.map(|time| time.to_string()).as_deref());
    out.optional("senderName", info.sender_name.as_deref());
    out.optional("headline", info.headline.as_deref());
    out.optional("description", info.description.as_deref());
    out.optional("instruction", info.instruction.as_deref());
    out.optional("web", info.web.as_deref());
    out.optional("contact", info.contact.as_deref());
    for parameter in &info.parameters {
        out.named_value("parameter", parameter);
    }
    for resource in &info.resources {
        out.nested("resource", |out| write_resource(out, resource));
    }
    for area in &info.areas {
        out.nested("area", |out| write_area(out, area));
    }
}

fn write_resource(out: &mut XmlOut, resource: &Resource) {
    out.element("resourceDesc", &resource.resource_desc);
    out.element("mimeType", &resource.mime_type);
    out.optional("size", resource.size.map(|size| size.to_string()).as_deref());
    out.optional("uri", resource.uri.as_deref());
    out.optional("derefUri", resource.deref_uri.as_deref());
    out.optional("digest", resource.digest.as_deref());
}

fn write_area(out: &mut XmlOut, area: &Area) {
    out.element("areaDesc", &area.area_desc);
    for polygon in &area.polygons {
        out.element("polygon", &polygon.to_string());
    }
    for circle in &area.circles {
        out.element("circle", &circle.to_string());
    }
    for geocode in &area.geocodes {
        out.named_value("geocode", geocode);
    }
    // `f64`'s Display never uses an exponent, so it is always an `xs:decimal`.
    out.optional("altitude", area.altitude.map(|feet| feet.to_string()).as_deref());
    out.optional("ceiling", area.ceiling.map(|feet| feet.to_string()).as_deref());
}

pub(crate) const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// The document being written and the current indentation.
pub(crate) struct XmlOut {
    pub text: String,
    pub depth: usize,
}

impl XmlOut {
    pub fn element(&mut self, name: &str, content: &str) {
        self.indent();
        self.text.extend(["<", name, ">"]);
        escape_text_into(&mut self.text, content);
        self.text.extend(["</", name, ">\n"]);
    }

    pub fn optional(&mut self, name: &str, content: Option<&str>) {
        if let Some(content) = content {
            self.element(name, content);
        }
    }

    pub fn nested(&mut self, name: &str, children: impl FnOnce(&mut XmlOut)) {
        self.indent();
        self.text.extend(["<", name, ">\n"]);
        self.depth += 1;
        children(self);
        self.depth -= 1;
        self.indent();
        self.text.extend(["</", name, ">\n"]);
    }

    fn named_value(&mut self, name: &str, pair: &NamedValue) {
        self.nested(name, |out| {
            out.element("valueName", &pair.value_name);
            out.element("value", &pair.value);
        });
    }

    pub fn indent(&mut self) {
        for _ in 0..self.depth {
            self.text.push_str("  ");
        }
    }
}

/// Escapes character data. `\r` is written as a reference because a parser turns a literal one
/// into `\n`; `>` is escaped so that `]]>` can never appear. A character XML 1.0 does not allow
/// (not even as a reference) becomes U+FFFD: one stored text must never make the whole document
/// unreadable for every consumer.
pub(crate) fn escape_text_into(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            other if !is_xml_char(other) => out.push(char::REPLACEMENT_CHARACTER),
            other => out.push(other),
        }
    }
}

/// Escapes an attribute value for double quotes. Tabs and line breaks are written as references
/// because attribute-value normalisation would turn literal ones into spaces.
pub(crate) fn escape_attribute_into(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            other if !is_xml_char(other) => out.push(char::REPLACEMENT_CHARACTER),
            other => out.push(other),
        }
    }
}

/// XML 1.0's `Char`: tab, line feed, carriage return and U+0020 up, except U+FFFE and U+FFFF.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}
