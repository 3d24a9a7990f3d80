//! Walking an element's children in the order an XSD `sequence` prescribes.
//!
//! A [`Sequence`] is a cursor over the children: each `required`/`optional`/`repeated` call
//! takes the next children if they carry the expected name, and `finish` fails on whatever is
//! left. That is exactly XSD sequence semantics, because every CAP sequence has distinct names.

pub(crate) use crate::document::is_cap;
use crate::document::{Element, is_xml_whitespace};
use crate::{CAP_NAMESPACE, CapError};

const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

pub(crate) struct Sequence<'e> {
    path: String,
    children: &'e [Element],
    next: usize,
}

/// A child element with the path that names it in errors.
pub(crate) struct Child<'e> {
    pub element: &'e Element,
    pub path: String,
}

impl<'e> Sequence<'e> {
    /// Starts on a complex element whose content model names `known` children. Before any order
    /// is checked, every child must be a CAP element of one of those names, or in
    /// `foreign_namespace` (the XSD's `any` for XML-DSig, only at the end of `alert`), and the
    /// element must hold no text but whitespace.
    pub fn open(
        element: &'e Element,
        path: String,
        known: &[&str],
        foreign_namespace: Option<&str>,
    ) -> Result<Sequence<'e>, CapError> {
        check_attributes(element, &path)?;
        if !element.text.chars().all(is_xml_whitespace) {
            return Err(CapError::bad_value(path, &element.text, "text is not allowed here, only elements"));
        }
        for child in &element.children {
            let is_known = is_cap(child) && known.contains(&child.name.as_str());
            let is_foreign = foreign_namespace.is_some() && child.namespace.as_deref() == foreign_namespace;
            if !is_known && !is_foreign {
                return Err(CapError::UnexpectedElement { path, found: display_name(child) });
            }
        }
        Ok(Sequence { path, children: &element.children, next: 0 })
    }

    pub fn required(&mut self, name: &str) -> Result<Child<'e>, CapError> {
        self.optional(name).ok_or_else(|| CapError::MissingElement { path: format!("{}/{name}", self.path) })
    }

    pub fn optional(&mut self, name: &str) -> Option<Child<'e>> {
        let element = self.children.get(self.next).filter(|child| is_cap(child) && child.name == name)?;
        self.next += 1;
        Some(Child { element, path: format!("{}/{name}", self.path) })
    }

    /// Takes every consecutive child of this name, indexing their paths from 0.
    pub fn repeated(&mut self, name: &str) -> Vec<Child<'e>> {
        let mut taken = Vec::new();
        while let Some(mut child) = self.optional(name) {
            child.path = format!("{}[{}]", child.path, taken.len());
            taken.push(child);
        }
        taken
    }

    /// Takes (and ignores) every consecutive child in `namespace`.
    pub fn skip_namespace(&mut self, namespace: &str) {
        while self.children.get(self.next).is_some_and(|child| child.namespace.as_deref() == Some(namespace)) {
            self.next += 1;
        }
    }

    /// Fails on the first child not taken: one out of order, or repeated where it may not be.
    pub fn finish(self) -> Result<(), CapError> {
        match self.children.get(self.next) {
            Some(child) => Err(CapError::UnexpectedElement { path: self.path, found: display_name(child) }),
            None => Ok(()),
        }
    }
}

/// The character data of a simple-typed element, which must have no child elements.
pub(crate) fn text_of(child: &Child<'_>) -> Result<String, CapError> {
    check_attributes(child.element, &child.path)?;
    if let Some(grandchild) = child.element.children.first() {
        return Err(CapError::UnexpectedElement { path: child.path.clone(), found: display_name(grandchild) });
    }
    Ok(child.element.text.clone())
}

/// CAP declares no attributes, so only namespace declarations (already set aside by the
/// document reader) and the schema-location hints of XML Schema instances are allowed.
fn check_attributes(element: &Element, path: &str) -> Result<(), CapError> {
    let allowed = |attribute: &crate::document::Attribute| {
        attribute.namespace.as_deref() == Some(XSI_NAMESPACE)
            && matches!(attribute.local_name.as_str(), "schemaLocation" | "noNamespaceSchemaLocation")
    };
    match element.attributes.iter().find(|attribute| !allowed(attribute)) {
        Some(attribute) => {
            Err(CapError::UnexpectedAttribute { path: path.to_owned(), name: attribute.qualified_name.clone() })
        }
        None => Ok(()),
    }
}

/// The name for error messages: bare for CAP elements, `{namespace}name` for others.
pub(crate) fn display_name(element: &Element) -> String {
    match element.namespace.as_deref() {
        Some(CAP_NAMESPACE) => element.name.clone(),
        Some(namespace) => format!("{{{namespace}}}{}", element.name),
        None => format!("{{}}{}", element.name),
    }
}
