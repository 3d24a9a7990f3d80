//! From untrusted bytes to a small element tree, refusing everything that makes XML dangerous.
//!
//! Safety here is by construction rather than by configuration: quick-xml never expands
//! entities or fetches anything, and this module refuses the DOCTYPE outright, so no entity can
//! even be declared. The size is checked before any parsing and the depth on every start tag, so
//! the tree built is bounded by the limits.

use quick_xml::NsReader;
use quick_xml::errors::Error as XmlError;
use quick_xml::escape::EscapeError;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;

use crate::{CAP_NAMESPACE, CapError, Limits};

/// One element: its expanded name, its attributes, its child elements and its character data
/// (text, CDATA and references, concatenated in document order; comments dropped). The children
/// and text of an element outside the CAP namespace are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub namespace: Option<String>,
    pub name: String,
    pub attributes: Vec<Attribute>,
    pub children: Vec<Element>,
    pub text: String,
}

/// An attribute other than a namespace declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    pub namespace: Option<String>,
    pub local_name: String,
    /// The name as written, prefix included, for error messages.
    pub qualified_name: String,
}

/// Parses `bytes` into the tree of the root element.
pub(crate) fn read_document(bytes: &[u8], limits: Limits) -> Result<Element, CapError> {
    if bytes.len() > limits.max_bytes {
        return Err(CapError::TooLarge { limit: limits.max_bytes, actual: bytes.len() });
    }
    let text = crate::encoding::decode(bytes)?;
    if let Some((offset, character)) = text.char_indices().find(|&(_, character)| !is_xml_char(character)) {
        return Err(not_xml(&text, offset, format!("character U+{:04X} is not allowed in XML", character as u32)));
    }
    TreeBuilder::new(limits).build(&text)
}

struct TreeBuilder {
    limits: Limits,
    /// The open elements, innermost last.
    open: Vec<Element>,
    root: Option<Element>,
}

impl TreeBuilder {
    fn new(limits: Limits) -> TreeBuilder {
        TreeBuilder { limits, open: Vec::new(), root: None }
    }

    fn build(mut self, text: &str) -> Result<Element, CapError> {
        let mut reader = NsReader::from_str(text);
        reader.config_mut().check_comments = true;
        let mut first_event = true;
        loop {
            let event_start = reader.buffer_position();
            let (namespace, event) = match reader.read_resolved_event() {
                Ok((namespace, event)) => (resolved(&namespace), event),
                Err(error) => return Err(from_xml_error(text, reader.error_position(), error)),
            };
            let namespace = namespace.map_err(|prefix| undeclared_prefix(text, event_start, &prefix))?;
            match event {
                Event::Eof => break,
                Event::Decl(declaration) if first_event => {
                    let version = declaration.version().map_err(|error| from_xml_error(text, event_start, error))?;
                    if version != "1.0" {
                        return Err(not_xml(text, event_start, format!("XML version {version} is not supported")));
                    }
                }
                Event::Decl(_) => {
                    return Err(not_xml(text, event_start, "the XML declaration must come first".into()));
                }
                event => self.take(text, &reader, event, namespace, event_start)?,
            }
            first_event = false;
        }
        if !self.open.is_empty() {
            return Err(not_xml(text, text.len(), "the document ends inside an element".into()));
        }
        self.root.ok_or_else(|| not_xml(text, text.len(), "no root element".into()))
    }

    /// Adds one event (other than the declaration and the end) to the tree.
    fn take(
        &mut self,
        text: &str,
        reader: &NsReader<&[u8]>,
        event: Event<'_>,
        namespace: Option<String>,
        position: u64,
    ) -> Result<(), CapError> {
        match event {
            Event::DocType(_) => Err(CapError::Forbidden {
                what: "a DOCTYPE declaration (no DTD, entity declaration or external reference is read)".into(),
            }),
            Event::PI(_) | Event::Comment(_) | Event::Decl(_) | Event::Eof => Ok(()),
            Event::Start(start) => {
                let element = self.open_element(text, reader, &start, namespace, position)?;
                self.open.push(element);
                Ok(())
            }
            Event::Empty(start) => {
                let element = self.open_element(text, reader, &start, namespace, position)?;
                self.close_element(element);
                Ok(())
            }
            Event::End(_) => {
                // quick-xml has checked that the end tag matches the open one.
                let element = self.open.pop().ok_or_else(|| not_xml(text, position, "unmatched end tag".into()))?;
                self.close_element(element);
                Ok(())
            }
            Event::Text(content) => self.append_text(text, position, &content.xml10_content(), "text"),
            Event::CData(content) => self.append_text(text, position, &content.xml10_content(), "CDATA"),
            Event::GeneralRef(reference) => match resolve_reference(&reference) {
                Ok(character) => self.append_text(text, position, character.encode_utf8(&mut [0; 4]), "a reference"),
                Err(ReferenceProblem::UndeclaredEntity(name)) => Err(CapError::Forbidden {
                    what: format!(
                        "a reference to the undeclared entity &{name}; \
                         (only &lt; &gt; &amp; &apos; &quot; and character references are read)"
                    ),
                }),
                Err(ReferenceProblem::BadCharacter(reason)) => Err(not_xml(text, position, reason)),
            },
        }
    }

    fn open_element(
        &self,
        text: &str,
        reader: &NsReader<&[u8]>,
        start: &BytesStart<'_>,
        namespace: Option<String>,
        position: u64,
    ) -> Result<Element, CapError> {
        if self.open.is_empty() && self.root.is_some() {
            return Err(not_xml(text, position, "a second root element".into()));
        }
        if self.open.len() >= self.limits.max_depth {
            return Err(CapError::TooDeep { limit: self.limits.max_depth });
        }
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|error| from_xml_error(text, position, error.into()))?;
            // The value is normalised even though no CAP attribute is kept, so that a hostile
            // entity reference inside any attribute is refused like one in text.
            attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|error| from_xml_error(text, position, error))?;
            if attribute.key.as_namespace_binding().is_some() {
                continue;
            }
            let (attribute_namespace, local_name) = reader.resolver().resolve_attribute(attribute.key);
            attributes.push(Attribute {
                namespace: resolved(&attribute_namespace)
                    .map_err(|prefix| undeclared_prefix(text, position, &prefix))?,
                local_name: local_name.as_ref().to_owned(),
                qualified_name: attribute.key.as_ref().to_owned(),
            });
        }
        Ok(Element {
            namespace,
            name: start.local_name().as_ref().to_owned(),
            attributes,
            children: Vec::new(),
            text: String::new(),
        })
    }

    fn close_element(&mut self, element: Element) {
        match self.open.last_mut() {
            // What is inside a foreign element (a signature) is never looked at: it is either
            // skipped whole or refused by its own name. Dropping it keeps the tree no bigger
            // than the alert it becomes, whatever the signature holds.
            Some(parent) if !is_cap(parent) => {}
            Some(parent) => parent.children.push(element),
            None => self.root = Some(element),
        }
    }

    fn append_text(&mut self, text: &str, position: u64, content: &str, what: &str) -> Result<(), CapError> {
        match self.open.last_mut() {
            Some(element) if !is_cap(element) => {}
            Some(element) => element.text.push_str(content),
            None if what == "text" && content.chars().all(is_xml_whitespace) => {}
            None => return Err(not_xml(text, position, format!("{what} outside the root element"))),
        }
        Ok(())
    }
}

enum ReferenceProblem {
    UndeclaredEntity(String),
    BadCharacter(String),
}

fn resolve_reference(reference: &BytesRef<'_>) -> Result<char, ReferenceProblem> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(character)) if is_xml_char(character) => Ok(character),
            Ok(Some(character)) => Err(ReferenceProblem::BadCharacter(format!(
                "character reference to U+{:04X}, which is not allowed in XML",
                character as u32
            ))),
            _ => Err(ReferenceProblem::BadCharacter(format!("bad character reference &{};", reference.as_ref()))),
        };
    }
    match reference.as_ref() {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        name => Err(ReferenceProblem::UndeclaredEntity(name.to_owned())),
    }
}

/// The namespace URI of a name, or the undeclared prefix it uses.
fn resolved(namespace: &ResolveResult<'_>) -> Result<Option<String>, String> {
    match namespace {
        ResolveResult::Bound(namespace) => Ok(Some(namespace.0.to_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(prefix) => Err(prefix.clone()),
    }
}

fn undeclared_prefix(text: &str, position: u64, prefix: &str) -> CapError {
    not_xml(text, position, format!("namespace prefix {prefix:?} is not declared"))
}

fn from_xml_error(text: &str, position: u64, error: XmlError) -> CapError {
    match error {
        XmlError::Escape(EscapeError::UnrecognizedEntity(_, name)) => {
            CapError::Forbidden { what: format!("a reference to the undeclared entity &{name};") }
        }
        error => not_xml(text, position, error.to_string()),
    }
}

/// `NotXml` with the line and column (both from 1, the column in characters) of a byte offset.
pub(crate) fn not_xml(text: &str, offset: impl TryInto<usize>, reason: String) -> CapError {
    let mut offset = offset.try_into().unwrap_or(usize::MAX).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    CapError::NotXml {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
        reason,
    }
}

pub(crate) fn is_cap(element: &Element) -> bool {
    element.namespace.as_deref() == Some(CAP_NAMESPACE)
}

/// The `Char` production of XML 1.0: what may appear in a document at all.
pub(crate) fn is_xml_char(character: char) -> bool {
    matches!(character, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The `S` production of XML 1.0.
pub(crate) fn is_xml_whitespace(character: char) -> bool {
    matches!(character, ' ' | '\t' | '\n' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(document: &str) -> Element {
        read_document(document.as_bytes(), Limits::DEFAULT).unwrap()
    }

    #[test]
    fn keeps_cap_elements_with_their_text_in_document_order() {
        let root = tree(
            "<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><event>a<!--x-->b&amp;<![CDATA[<c>]]></event></alert>",
        );
        assert_eq!(root.children.len(), 1);
        assert_eq!(root.children[0].name, "event");
        assert_eq!(root.children[0].text, "ab&<c>");
    }

    #[test]
    fn drops_what_is_inside_a_foreign_element() {
        let root = tree(concat!(
            "<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'>",
            "<Signature xmlns='http://www.w3.org/2000/09/xmldsig#'>text<SignedInfo><x/></SignedInfo></Signature>",
            "</alert>"
        ));
        let signature = &root.children[0];
        assert_eq!(
            (signature.name.as_str(), signature.namespace.as_deref()),
            ("Signature", Some(crate::XMLDSIG_NAMESPACE))
        );
        assert!(signature.children.is_empty() && signature.text.is_empty());
    }

    #[test]
    fn line_and_column_count_characters_from_one() {
        // `<` is at byte 7, after two two-byte letters on the second line.
        let error = not_xml("ab\nтр<x", 7, "reason".into());
        assert_eq!(error, CapError::NotXml { line: 2, column: 3, reason: "reason".into() });
    }
}
