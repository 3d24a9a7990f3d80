//! CAP's space-delimited lists: `addresses` and `incidents` (entries containing whitespace are
//! enclosed in double quotes) and `references` (`sender,identifier,sent` triples).

use crate::document::is_xml_whitespace;
use crate::model::Reference;
use crate::timestamp::Timestamp;

/// Splits a quoted list. An entry is either a run of non-whitespace without `"`, or `"…"`
/// holding anything but `"`. Empty entries (`""`) and stray quotes are refused, so that every
/// list read here is written back to the same entries by [`write_quoted_list`].
pub(crate) fn parse_quoted_list(text: &str) -> Result<Vec<String>, String> {
    let mut entries = Vec::new();
    let mut rest = text.trim_start_matches(is_xml_whitespace);
    while !rest.is_empty() {
        let (entry, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').ok_or("a quoted entry has no closing quote")?;
            let after = &quoted[end + 1..];
            if after.starts_with(|character| !is_xml_whitespace(character)) {
                return Err("a closing quote must be followed by whitespace".into());
            }
            (&quoted[..end], after)
        } else {
            let end = rest.find(is_xml_whitespace).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        if entry.is_empty() {
            return Err("an empty quoted entry".into());
        }
        if entry.contains('"') {
            return Err(format!("a quote inside the entry {entry:?}"));
        }
        entries.push(entry.to_owned());
        rest = after.trim_start_matches(is_xml_whitespace);
    }
    Ok(entries)
}

/// Joins entries with spaces, quoting those that contain whitespace.
pub(crate) fn write_quoted_list(entries: &[String]) -> String {
    let quoted: Vec<String> = entries
        .iter()
        .map(|entry| if entry.contains(is_xml_whitespace) { format!("\"{entry}\"") } else { entry.clone() })
        .collect();
    quoted.join(" ")
}

/// Why an entry cannot be written into a quoted list, if it cannot.
pub(crate) fn unwritable_list_entry(entry: &str) -> Option<&'static str> {
    if entry.is_empty() {
        Some("an empty entry cannot be written")
    } else if entry.contains('"') {
        Some("an entry cannot contain a double quote")
    } else {
        None
    }
}

/// Splits `references` into triples.
pub(crate) fn parse_references(text: &str) -> Result<Vec<Reference>, String> {
    text.split(is_xml_whitespace)
        .filter(|triple| !triple.is_empty())
        .map(|triple| {
            let mut parts = triple.split(',');
            let (Some(sender), Some(identifier), Some(sent), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("{triple:?} is not a sender,identifier,sent triple"));
            };
            if sender.is_empty() || identifier.is_empty() {
                return Err(format!("{triple:?} has an empty sender or identifier"));
            }
            let sent = Timestamp::parse(sent).map_err(|error| format!("{triple:?}: sent: {error}"))?;
            Ok(Reference { sender: sender.to_owned(), identifier: identifier.to_owned(), sent })
        })
        .collect()
}

pub(crate) fn write_references(references: &[Reference]) -> String {
    let triples: Vec<String> = references.iter().map(Reference::to_string).collect();
    triples.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_entries_keep_their_spaces() {
        let entries = parse_quoted_list(" ops@example.org \"Kyiv City Council\"\tkharkiv\n").unwrap();
        assert_eq!(entries, ["ops@example.org", "Kyiv City Council", "kharkiv"]);
        assert_eq!(write_quoted_list(&entries), "ops@example.org \"Kyiv City Council\" kharkiv");
        assert_eq!(parse_quoted_list("").unwrap(), Vec::<String>::new());
        assert_eq!(parse_quoted_list("\"single\"").unwrap(), ["single"]);
    }

    #[test]
    fn refuses_lists_that_would_not_read_back_the_same() {
        assert!(parse_quoted_list("\"unclosed entry").is_err());
        assert!(parse_quoted_list("\"a\"b").is_err());
        assert!(parse_quoted_list("a\"b").is_err());
        assert!(parse_quoted_list("a \"\" b").is_err());
    }

    #[test]
    fn references_are_triples_with_a_cap_timestamp() {
        let text = "wcatwc@noaa.gov,PAAQ-1-mg5a94,2013-01-05T09:01:16-00:00\n  trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00";
        let references = parse_references(text).unwrap();
        assert_eq!(references.len(), 2);
        assert_eq!(references[1].sender, "trinet@caltech.edu");
        assert_eq!(references[1].identifier, "TRI13970876.1");
        assert_eq!(references[1].sent.to_string(), "2003-06-11T20:30:00-07:00");
        assert_eq!(parse_references(&write_references(&references)).unwrap(), references);
        assert_eq!(parse_references("  ").unwrap(), []);
    }

    #[test]
    fn malformed_references_are_refused() {
        assert!(parse_references("sender,identifier").is_err());
        assert!(parse_references("sender,id,with,comma,2013-01-05T09:01:16-00:00").is_err());
        assert!(parse_references(",identifier,2013-01-05T09:01:16-00:00").is_err());
        assert!(parse_references("sender,identifier,2013-01-05T09:01:16Z").is_err());
    }
}
