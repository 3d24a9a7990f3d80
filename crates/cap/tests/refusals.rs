//! Well-formed XML that is not valid CAP 1.2, and the path each error names.

use tryvoha_cap::{CapError, MessageType, Scope, check_semantics, parse};

const MESSAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>UA-14-0001</identifier>
  <sender>ops@example.org</sender>
  <sent>2026-11-27T10:00:00+02:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>uk-UA</language>
    <category>Safety</category>
    <event>Повітряна тривога</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
  </info>
  <info>
    <language>en-US</language>
    <category>Safety</category>
    <event>Air raid</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <expires>2026-11-27T12:00:00+02:00</expires>
    <web>https://alerts.example.org/14</web>
    <resource><resourceDesc>map</resourceDesc><mimeType>image/png</mimeType><size>1024</size></resource>
    <area>
      <areaDesc>Kyiv oblast</areaDesc>
      <polygon>50.0,30.0 50.5,30.0 50.5,31.0 50.0,30.0</polygon>
      <polygon>51.0,30.0 51.5,30.0 51.5,31.0 51.0,30.0</polygon>
      <circle>50.45,30.52 10</circle>
      <altitude>0</altitude>
      <ceiling>30000</ceiling>
    </area>
  </info>
</alert>"#;

fn edited(from: &str, to: &str) -> String {
    assert!(MESSAGE.contains(from), "{from} is not in the message");
    MESSAGE.replacen(from, to, 1)
}

fn error_for(document: &str) -> CapError {
    parse(document.as_bytes()).expect_err("the edited message must be refused")
}

fn bad_value_path(document: &str) -> String {
    match error_for(document) {
        CapError::BadValue { path, .. } => path,
        other => panic!("expected BadValue, got {other:?}"),
    }
}

#[test]
fn the_unedited_message_is_valid() {
    let alert = parse(MESSAGE.as_bytes()).unwrap();
    assert_eq!(alert.infos[1].areas[0].polygons.len(), 2);
    assert_eq!(check_semantics(&alert), Ok(()));
}

#[test]
fn bad_values_name_their_field() {
    let cases = [
        (edited("<status>Actual", "<status>actual"), "alert/status"),
        (edited("<status>Actual", "<status> Actual"), "alert/status"),
        (edited("10:00:00+02:00</sent>", "10:00:00Z</sent>"), "alert/sent"),
        (
            edited("<category>Safety</category>\n    <event>Air", "<category>Weather</category>\n    <event>Air"),
            "alert/info[1]/category[0]",
        ),
        (edited("12:00:00+02:00</expires>", "12:00:00.5+02:00</expires>"), "alert/info[1]/expires"),
        (
            edited("51.0,30.0 51.5,30.0 51.5,31.0 51.0,30.0", "51.0,30.0 51.5,30.0 51.0,30.0"),
            "alert/info[1]/area[0]/polygon[1]",
        ),
        (edited("51.0,30.0 51.5,30.0", "91.0,30.0 51.5,30.0"), "alert/info[1]/area[0]/polygon[1]"),
        (edited("50.45,30.52 10", "30.52,50.45"), "alert/info[1]/area[0]/circle[0]"),
        (edited("<altitude>0<", "<altitude>1e3<"), "alert/info[1]/area[0]/altitude"),
        (edited("<size>1024<", "<size>-1<"), "alert/info[1]/resource[0]/size"),
        (edited("<language>en-US<", "<language>en_US<"), "alert/info[1]/language"),
        (edited("https://alerts.example.org/14", "https://alerts.example.org/%zz"), "alert/info[1]/web"),
        (
            edited("<scope>Public</scope>", "<scope>Public</scope><references>only-an-id</references>"),
            "alert/references",
        ),
        (edited("<scope>Public</scope>", "<scope>Public</scope><addresses>\"unclosed</addresses>"), "alert/addresses"),
        (edited("<info>", "<info>stray text"), "alert/info[0]"),
    ];
    for (document, expected_path) in cases {
        assert_eq!(bad_value_path(&document), expected_path);
    }
}

#[test]
fn whitespace_is_collapsed_only_where_the_xsd_collapses_it() {
    let padded_time = edited("<sent>2026-11-27T10:00:00+02:00", "<sent>\n  2026-11-27T10:00:00+02:00\n");
    assert_eq!(parse(padded_time.as_bytes()).unwrap().sent.to_string(), "2026-11-27T10:00:00+02:00");
    let padded_event = edited("<event>Air raid<", "<event>  Air raid\n<");
    assert_eq!(parse(padded_event.as_bytes()).unwrap().infos[1].event, "  Air raid\n");
}

#[test]
fn structure_errors_name_the_place() {
    let cases = [
        (edited("<sender>ops@example.org</sender>\n", ""), CapError::MissingElement { path: "alert/sender".into() }),
        (
            edited("<category>Safety</category>\n    <event>Air", "<event>Air"),
            CapError::MissingElement { path: "alert/info[1]/category".into() },
        ),
        (
            edited("<areaDesc>Kyiv oblast</areaDesc>", ""),
            CapError::MissingElement { path: "alert/info[1]/area[0]/areaDesc".into() },
        ),
        (
            edited(
                "<status>Actual</status>\n  <msgType>Alert</msgType>",
                "<msgType>Alert</msgType>\n  <status>Actual</status>",
            ),
            CapError::MissingElement { path: "alert/status".into() },
        ),
        (
            edited("<ceiling>30000</ceiling>", "<ceiling>30000</ceiling><altitude>1</altitude>"),
            CapError::UnexpectedElement { path: "alert/info[1]/area[0]".into(), found: "altitude".into() },
        ),
        (
            edited("<scope>Public</scope>", "<scope>Public</scope><note>a</note><note>b</note>"),
            CapError::UnexpectedElement { path: "alert".into(), found: "note".into() },
        ),
        (
            edited("<event>Air raid</event>", "<event>Air raid</event><colour>red</colour>"),
            CapError::UnexpectedElement { path: "alert/info[1]".into(), found: "colour".into() },
        ),
        (
            edited("<event>Air raid</event>", "<event>Air <b>raid</b></event>"),
            CapError::UnexpectedElement { path: "alert/info[1]/event".into(), found: "b".into() },
        ),
        (
            edited("<identifier>UA-14-0001</identifier>", "<identifier xmlns=\"\">UA-14-0001</identifier>"),
            CapError::UnexpectedElement { path: "alert".into(), found: "{}identifier".into() },
        ),
        (
            edited(
                "</info>\n  <info>",
                "</info>\n  <Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"/>\n  <info>",
            ),
            CapError::UnexpectedElement { path: "alert".into(), found: "info".into() },
        ),
        (
            edited("</alert>", "<x:extension xmlns:x=\"urn:example\"/></alert>"),
            CapError::UnexpectedElement { path: "alert".into(), found: "{urn:example}extension".into() },
        ),
        (
            edited("<scope>", "<scope id=\"s\">"),
            CapError::UnexpectedAttribute { path: "alert/scope".into(), name: "id".into() },
        ),
    ];
    for (document, expected) in cases {
        assert_eq!(error_for(&document), expected);
    }
}

#[test]
fn prefixes_comments_cdata_and_schema_location_are_ordinary_xml() {
    let prefixed = MESSAGE
        .replace(
            "<alert xmlns=",
            "<cap:alert xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:schemaLocation=\"urn:oasis:names:tc:emergency:cap:1.2 CAP-v1.2.xsd\" \
             xmlns:cap=\"urn:oasis:names:tc:emergency:cap:1.2\" xmlns=",
        )
        .replace("</alert>", "</cap:alert>")
        .replace(
            "<identifier>UA-14-0001</identifier>",
            "<cap:identifier>UA-<!-- comment -->14<![CDATA[-0001]]></cap:identifier>",
        )
        .replace(
            "<event>Air raid</event>",
            "<?pi ignored?><event xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">Air raid</event>",
        );
    assert_eq!(parse(prefixed.as_bytes()), parse(MESSAGE.as_bytes()));
}

#[test]
fn semantic_rules_name_their_field() {
    let alert = parse(MESSAGE.as_bytes()).unwrap();
    let rule_path = |edit: &dyn Fn(&mut tryvoha_cap::Alert)| {
        let mut alert = alert.clone();
        edit(&mut alert);
        match check_semantics(&alert) {
            Err(CapError::Semantic { path, .. }) => path,
            other => panic!("expected a semantic error, got {other:?}"),
        }
    };
    assert_eq!(rule_path(&|alert| alert.msg_type = MessageType::Cancel), "alert/references");
    assert_eq!(rule_path(&|alert| alert.msg_type = MessageType::Ack), "alert/references");
    assert_eq!(rule_path(&|alert| alert.scope = Scope::Restricted), "alert/restriction");
    assert_eq!(rule_path(&|alert| alert.scope = Scope::Private), "alert/addresses");
    assert_eq!(rule_path(&|alert| alert.identifier = "UA 14".into()), "alert/identifier");
    assert_eq!(rule_path(&|alert| alert.sender = "a,b".into()), "alert/sender");
    assert_eq!(
        rule_path(&|alert| alert.infos[1].expires = Some("2026-11-27T09:59:59+02:00".parse().unwrap())),
        "alert/info[1]/expires"
    );
    assert_eq!(rule_path(&|alert| alert.infos[1].areas[0].altitude = None), "alert/info[1]/area[0]/ceiling");
    assert_eq!(rule_path(&|alert| alert.infos[1].areas[0].ceiling = Some(-1.0)), "alert/info[1]/area[0]/ceiling");
}

#[test]
fn alerts_built_in_code_are_checked_for_what_parse_guarantees() {
    let alert = parse(MESSAGE.as_bytes()).unwrap();
    let bad_path = |edit: &dyn Fn(&mut tryvoha_cap::Alert)| {
        let mut alert = alert.clone();
        edit(&mut alert);
        check_semantics(&alert).expect_err("must be refused").path().map(str::to_owned)
    };
    assert_eq!(
        bad_path(&|alert| alert.infos[0].headline = Some("nul \u{0}".into())).as_deref(),
        Some("alert/info[0]/headline")
    );
    assert_eq!(bad_path(&|alert| alert.infos[0].categories.clear()).as_deref(), Some("alert/info[0]/category"));
    assert_eq!(
        bad_path(&|alert| alert.infos[0].language = Some("en_GB".into())).as_deref(),
        Some("alert/info[0]/language")
    );
    assert_eq!(bad_path(&|alert| alert.incidents = vec!["say \"x\"".into()]).as_deref(), Some("alert/incidents"));
    assert_eq!(
        bad_path(&|alert| alert.infos[1].areas[0].altitude = Some(f64::NAN)).as_deref(),
        Some("alert/info[1]/area[0]/altitude")
    );
    assert_eq!(bad_path(&|alert| alert.infos[1].web = Some("http://x/%".into())).as_deref(), Some("alert/info[1]/web"));
}
