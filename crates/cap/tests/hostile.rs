//! Documents built to hurt a parser: entity expansion, external entities, huge or deep input,
//! malformed bytes. Each must be refused quickly and with the right error.

use std::time::{Duration, Instant};

use tryvoha_cap::{CapError, Limits, MAX_DEPTH, MAX_DOCUMENT_BYTES, parse, parse_with_limits};

const MINIMAL: &str = r#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>T-1</identifier><sender>ops@example.org</sender><sent>2026-11-27T10:00:00+02:00</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><category>Safety</category><event>EVENT</event><urgency>Immediate</urgency><severity>Extreme</severity><certainty>Observed</certainty></info>
</alert>"#;

fn with_event(event: &str) -> String {
    MINIMAL.replace("EVENT", event)
}

fn assert_forbidden(document: &str) {
    match parse(document.as_bytes()) {
        Err(CapError::Forbidden { what }) => assert!(!what.is_empty()),
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

#[test]
fn the_minimal_document_itself_is_accepted() {
    assert_eq!(parse(with_event("Air raid").as_bytes()).unwrap().infos[0].event, "Air raid");
}

#[test]
fn billion_laughs_is_refused_without_expanding_anything() {
    let mut declarations = String::from("<!ENTITY lol \"lol\">");
    for level in 1..=9 {
        let previous = if level == 1 { "lol".to_owned() } else { format!("lol{}", level - 1) };
        declarations.push_str(&format!("<!ENTITY lol{level} \"{}\">", format!("&{previous};").repeat(10)));
    }
    let document = format!("<?xml version=\"1.0\"?>\n<!DOCTYPE alert [{declarations}]>\n{}", with_event("&lol9;"));
    let started = Instant::now();
    assert_forbidden(&document);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn external_entities_are_refused() {
    let xxe_file = format!("<!DOCTYPE alert [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}", with_event("&xxe;"));
    assert_forbidden(&xxe_file);
    let xxe_url = format!("<!DOCTYPE alert [<!ENTITY xxe SYSTEM \"http://127.0.0.1:9/x\">]>{}", with_event("&xxe;"));
    assert_forbidden(&xxe_url);
    let parameter = format!(
        "<!DOCTYPE alert [<!ENTITY % remote SYSTEM \"http://127.0.0.1:9/evil.dtd\"> %remote;]>{}",
        with_event("x")
    );
    assert_forbidden(&parameter);
    let external_subset = format!("<!DOCTYPE alert SYSTEM \"http://127.0.0.1:9/cap.dtd\">{}", with_event("x"));
    assert_forbidden(&external_subset);
}

#[test]
fn references_to_undeclared_entities_are_refused_in_text_and_in_attributes() {
    assert_forbidden(&with_event("&nbsp;"));
    assert_forbidden(&with_event("&xxe;"));
    let in_attribute = MINIMAL.replace("<identifier>", "<identifier xml:lang=\"&xxe;\">");
    assert_forbidden(&in_attribute);
}

#[test]
fn predefined_entities_and_character_references_are_read() {
    let alert = parse(with_event("&lt;&gt;&amp;&apos;&quot; &#x442;&#1088;&#xD;").as_bytes()).unwrap();
    assert_eq!(alert.infos[0].event, "<>&'\" тр\r");
}

#[test]
fn documents_over_the_size_limit_are_refused_before_parsing() {
    let padding = " ".repeat(MAX_DOCUMENT_BYTES);
    let document = format!("{MINIMAL}{padding}");
    assert_eq!(
        parse(document.as_bytes()),
        Err(CapError::TooLarge { limit: MAX_DOCUMENT_BYTES, actual: MINIMAL.len() + MAX_DOCUMENT_BYTES })
    );
    // Not even well-formedness is looked at.
    assert!(matches!(parse(&vec![b'<'; MAX_DOCUMENT_BYTES + 1]), Err(CapError::TooLarge { .. })));
    let small = Limits { max_bytes: 100, ..Limits::DEFAULT };
    assert!(matches!(parse_with_limits(MINIMAL.as_bytes(), small), Err(CapError::TooLarge { limit: 100, .. })));
}

#[test]
fn nesting_over_the_depth_limit_is_refused_even_inside_an_ignored_signature() {
    let deep = format!("{}<x>{}", "<x>".repeat(MAX_DEPTH), "</x>".repeat(MAX_DEPTH + 1));
    let signature = format!("<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">{deep}</Signature>");
    let document = MINIMAL.replace("</alert>", &format!("{signature}</alert>"));
    assert_eq!(parse(document.as_bytes()), Err(CapError::TooDeep { limit: MAX_DEPTH }));

    let million_opening_tags = "<a>".repeat(300_000);
    let started = Instant::now();
    assert_eq!(parse(million_opening_tags.as_bytes()), Err(CapError::TooDeep { limit: MAX_DEPTH }));
    assert!(started.elapsed() < Duration::from_secs(1));

    // alert/info/category is three deep.
    let shallow = Limits { max_depth: 2, ..Limits::DEFAULT };
    assert_eq!(parse_with_limits(MINIMAL.as_bytes(), shallow), Err(CapError::TooDeep { limit: 2 }));
    assert!(parse_with_limits(MINIMAL.as_bytes(), Limits { max_depth: 3, ..Limits::DEFAULT }).is_ok());
}

#[test]
fn a_signature_within_the_depth_limit_is_tolerated_and_ignored() {
    let signature = r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:Reference URI=""><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo></ds:Signature>"#;
    let document = MINIMAL.replace("</alert>", &format!("{signature}</alert>"));
    assert_eq!(parse(document.as_bytes()), parse(MINIMAL.as_bytes()));
}

#[test]
fn malformed_bytes_are_not_xml_with_a_position() {
    let invalid_utf8 = [MINIMAL.replace("EVENT", "bad \u{1}").as_bytes()].concat();
    assert!(matches!(parse(&invalid_utf8), Err(CapError::NotXml { line: 4, .. })));
    let mut latin1_in_utf8 = with_event("Bj").into_bytes();
    let position = latin1_in_utf8.windows(2).position(|pair| pair == b"Bj").expect("marker") + 2;
    latin1_in_utf8.insert(position, 0xF6);
    match parse(&latin1_in_utf8) {
        Err(CapError::NotXml { line, column, reason }) => {
            assert_eq!((line, reason.as_str()), (4, "invalid UTF-8"));
            assert!(column > 1);
        }
        other => panic!("expected NotXml, got {other:?}"),
    }
}

#[test]
fn broken_structure_is_not_xml() {
    let cases = [
        ("", "no root element"),
        ("   ", "no root element"),
        (&with_event("&#0;"), "character reference"),
        (&with_event("&#x1;"), "not allowed in XML"),
        (&with_event("&#xD800;"), "character reference"),
        (&MINIMAL.replace("</info>", "</inf>"), "expected `</info>`"),
        (&MINIMAL.replace("</alert>", ""), "ends inside an element"),
        (&format!("{MINIMAL}<alert/>"), "second root element"),
        (&format!("junk{MINIMAL}"), "outside the root element"),
        (&format!("{MINIMAL}<![CDATA[x]]>"), "outside the root element"),
        (&format!("<!-- x -->\n<?xml version=\"1.0\"?>{MINIMAL}"), "declaration must come first"),
        (&format!("<?xml version=\"1.1\"?>{MINIMAL}"), "version 1.1"),
        (&MINIMAL.replace("<scope>", "<scope a='1' a='2'>"), "duplicate"),
        (&MINIMAL.replace("<event>", "<event>a & b"), "reference not closed"),
        (&MINIMAL.replace("<identifier>", "<p:identifier>").replace("</identifier>", "</p:identifier>"), "prefix"),
    ];
    for (document, reason_part) in cases {
        match parse(document.as_bytes()) {
            Err(CapError::NotXml { reason, .. }) => {
                assert!(
                    reason.to_lowercase().contains(&reason_part.to_lowercase()),
                    "{reason_part:?} not in {reason:?}"
                )
            }
            other => panic!("expected NotXml ({reason_part}), got {other:?}"),
        }
    }
}

#[test]
fn only_encodings_read_exactly_are_accepted() {
    let latin1 = [
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>".as_slice(),
        &with_event("Bj\u{F6}rk").chars().map(|c| c as u8).collect::<Vec<u8>>(),
    ]
    .concat();
    assert_eq!(parse(&latin1).unwrap().infos[0].event, "Björk");
    let ebcdic = format!("<?xml version=\"1.0\" encoding=\"EBCDIC-US\"?>{MINIMAL}");
    assert_eq!(parse(ebcdic.as_bytes()), Err(CapError::UnsupportedEncoding { encoding: "ebcdic-us".into() }));
}
