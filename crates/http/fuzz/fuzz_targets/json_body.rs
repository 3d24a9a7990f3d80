//! Any bytes as the body of every JSON request the API takes. Each parser must return, never
//! panic, hang or blow up memory, and refuse only as `JsonBody` promises: `invalid-json` (400) or
//! `invalid-field` (422) naming the field, in a problem document that is JSON. A declaration
//! must also read back from its canonical form to the same form, since that form is what its
//! `Idempotency-Key` is bound to, and name each of its regions once.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tryvoha_http::ApiError;
use tryvoha_http::fuzzing::{declaration, json_bodies};

/// The most regions one declaration may name (`alerts::several::MAX_REGIONS`).
const MAX_REGIONS: usize = 512;

fuzz_target!(|data: &[u8]| {
    for (name, verdict) in json_bodies(data) {
        match verdict {
            // serde reads a struct from an array too; only an object may be a body.
            Ok(()) => assert_eq!(
                data.iter().find(|byte| !byte.is_ascii_whitespace()),
                Some(&b'{'),
                "{name} accepted a body that is not an object"
            ),
            Err(error) => check_refusal(name, &error, data),
        }
    }
    check_declaration(data);
});

fn check_declaration(data: &[u8]) {
    let Ok(declared) = declaration(data) else { return };
    // An empty canonical form would give every such request the same fingerprint, so that a
    // reused key could replay the answer to a different request.
    assert!(!declared.canonical.is_empty(), "a parsed declaration does not serialize");
    let again = declaration(&declared.canonical).unwrap_or_else(|error| {
        panic!("the canonical form is refused: {error:?}\n{}", String::from_utf8_lossy(&declared.canonical))
    });
    assert_eq!(
        String::from_utf8_lossy(&again.canonical),
        String::from_utf8_lossy(&declared.canonical),
        "the canonical form is not a fixed point"
    );
    match (&declared.regions, &again.regions) {
        (Ok(regions), Ok(read_back)) => {
            assert_eq!(regions, read_back);
            assert!((1..=MAX_REGIONS).contains(&regions.len()), "{} regions", regions.len());
            let mut distinct = regions.clone();
            distinct.sort_by_key(|region| region.0);
            distinct.dedup();
            assert_eq!(distinct.len(), regions.len(), "a region is named twice: {regions:?}");
        }
        (Err(first), Err(second)) => {
            assert_eq!((first.code, &first.field), (second.code, &second.field));
            assert!(first.field.is_some(), "a refused region list names no field: {first:?}");
        }
        (first, second) => panic!("the canonical form names other regions: {first:?} then {second:?}"),
    }
}

fn check_refusal(name: &str, error: &ApiError, data: &[u8]) {
    match error.code {
        "invalid-json" => assert_eq!(error.status.as_u16(), 400, "{name}: {error:?}"),
        "invalid-field" => {
            assert_eq!(error.status.as_u16(), 422, "{name}: {error:?}");
            let field = error.field.as_deref();
            assert!(field.is_some(), "{name}: an invalid field without its name: {error:?}");
            // A member named "" is named by its name, the empty one.
            assert!(field != Some("") || data.windows(2).any(|w| w == b"\"\""), "{name}: {error:?}");
            // The field says where; a parser position in a body the client never wrote (the
            // CLI's) means nothing to a person, so `JsonBody` strips it.
            assert!(!ends_with_position(&error.detail), "{name}: the detail keeps its position: {error:?}");
        }
        other => panic!("{name}: a body refused with {other:?}, which JsonBody never answers: {error:?}"),
    }
    let document: serde_json::Value = serde_json::from_slice(&error.document())
        .unwrap_or_else(|e| panic!("{name}: the problem document is not JSON ({e}): {error:?}"));
    assert_eq!(document["code"], error.code, "{name}");
    assert_eq!(document["status"], error.status.as_u16(), "{name}");
}

/// serde_json's " at line N column M" suffix.
fn ends_with_position(detail: &str) -> bool {
    let Some((_, position)) = detail.rsplit_once(" at line ") else { return false };
    let mut numbers = position.split(" column ");
    let line = numbers.next().is_some_and(|n| n.parse::<u64>().is_ok());
    let column = numbers.next().is_some_and(|n| n.parse::<u64>().is_ok());
    line && column && numbers.next().is_none()
}
