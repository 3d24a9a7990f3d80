//! Writing and reading back: for any alert that passes `check_semantics`, `parse(write(a)) == a`.

mod generate;

use proptest::prelude::*;
use tryvoha_cap::{check_semantics, parse, write};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn written_alerts_read_back_equal(alert in generate::alert()) {
        prop_assert_eq!(check_semantics(&alert), Ok(()));
        let xml = write(&alert);
        let read = parse(xml.as_bytes());
        prop_assert_eq!(read.as_ref(), Ok(&alert), "written:\n{}", xml);
    }

    #[test]
    fn writing_is_a_fixed_point_after_one_round(alert in generate::alert()) {
        let once = write(&alert);
        let twice = write(&parse(once.as_bytes()).unwrap());
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn text_survives_exactly_including_markup_and_carriage_returns(headline in generate::text()) {
        let mut alert = parse(include_bytes!("corpus/valid/oasis-spec-example-A1.xml")).unwrap();
        alert.infos[0].headline = Some(headline.clone());
        let read = parse(write(&alert).as_bytes()).unwrap();
        prop_assert_eq!(read.infos[0].headline.as_deref(), Some(headline.as_str()));
    }
}

#[test]
fn written_xml_escapes_markup_and_keeps_carriage_returns_as_references() {
    let mut alert = parse(include_bytes!("corpus/valid/oasis-spec-example-A1.xml")).unwrap();
    alert.infos[0].headline = Some("Shelter <now> & stay\r\n inside ]]>".into());
    let xml = write(&alert);
    assert!(xml.contains("<headline>Shelter &lt;now&gt; &amp; stay&#13;\n inside ]]&gt;</headline>"), "{xml}");
}

#[test]
fn written_alert_follows_the_xsd_sequence() {
    let alert = parse(include_bytes!("corpus/valid/oasis-spec-example-A3.xml")).unwrap();
    let xml = write(&alert);
    let expected_order =
        ["<identifier>", "<sender>", "<sent>", "<status>", "<msgType>", "<scope>", "<references>", "<info>"];
    let positions: Vec<usize> = expected_order.iter().map(|tag| xml.find(tag).expect(tag)).collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{xml}");
    assert!(xml.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"
    ));
    assert!(xml.contains("<references>trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00</references>"));
    assert!(xml.contains("<circle>32.9525,-115.5527 0</circle>"));
}
