//! What we write, checked by an independent validator: libxml2's `xmllint` against the official
//! CAP 1.2 XSD and the RELAX NG grammar of Atom (RFC 4287). Without xmllint (Debian:
//! `apt-get install -y libxml2-utils`) these checks fail under CI (`CI=true`), and elsewhere
//! return after saying they did not check.

mod generate;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use tryvoha_cap::atom::write_feed;
use tryvoha_cap::{parse, write};

const GENERATED_MESSAGES: usize = 60;
const GENERATED_FEEDS: usize = 20;

fn corpus(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(path)
}

/// Whether xmllint can check; without it a failure under CI, and a note elsewhere.
fn xmllint_installed() -> bool {
    let installed = Command::new("xmllint").arg("--version").output().is_ok_and(|output| output.status.success());
    if !installed {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true, yet xmllint is not installed");
        eprintln!("NOT CHECKED: xmllint is not installed");
    }
    installed
}

/// Runs xmllint with `schema_option` on the files and returns whether all validated, and its
/// report.
fn xmllint(schema_option: &str, schema: &Path, files: &[PathBuf]) -> (bool, String) {
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg(schema_option)
        .arg(schema)
        .args(files)
        .output()
        .expect("xmllint runs");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

fn samples<S: Strategy>(strategy: S, count: usize) -> Vec<S::Value> {
    // Deterministic, so a failure here is reproducible run after run.
    let mut runner = TestRunner::deterministic();
    (0..count).map(|_| strategy.new_tree(&mut runner).expect("a sample").current()).collect()
}

#[test]
fn written_messages_validate_against_the_cap_xsd() {
    if !xmllint_installed() {
        return;
    }
    let directory = tempfile::tempdir().expect("temporary directory");
    let mut files = Vec::new();
    for (index, alert) in samples(generate::alert(), GENERATED_MESSAGES).iter().enumerate() {
        let file = directory.path().join(format!("generated-{index}.xml"));
        fs::write(&file, write(alert)).expect("written");
        files.push(file);
    }
    for entry in fs::read_dir(corpus("valid")).expect("corpus") {
        let source = entry.expect("entry").path();
        let alert = parse(&fs::read(&source).expect("readable")).expect("valid corpus message");
        let file = directory.path().join(format!("rewritten-{}", source.file_name().expect("name").to_string_lossy()));
        fs::write(&file, write(&alert)).expect("written");
        files.push(file);
    }
    let (valid, report) = xmllint("--schema", &corpus("schema/CAP-v1.2.xsd"), &files);
    assert!(valid, "{report}");
    assert_eq!(report.matches(" validates").count(), files.len(), "{report}");
}

#[test]
fn the_validator_does_refuse_what_the_xsd_refuses() {
    if !xmllint_installed() {
        return;
    }
    let (valid, report) = xmllint("--schema", &corpus("schema/CAP-v1.2.xsd"), &[corpus("invalid/missing-scope.xml")]);
    assert!(!valid, "{report}");
}

#[test]
fn written_feeds_validate_against_the_atom_grammar() {
    if !xmllint_installed() {
        return;
    }
    let directory = tempfile::tempdir().expect("temporary directory");
    let mut files = Vec::new();
    for (index, feed) in samples(generate::feed(), GENERATED_FEEDS).iter().enumerate() {
        let file = directory.path().join(format!("feed-{index}.atom"));
        fs::write(&file, write_feed(feed)).expect("written");
        files.push(file);
    }
    let (valid, report) = xmllint("--relaxng", &corpus("schema/atom_rfc4287.rng"), &files);
    assert!(valid, "{report}");
    assert_eq!(report.matches(" validates").count(), files.len(), "{report}");
}

/// Texts stored before control characters were refused (or brought in some other way) must
/// never make a document unreadable: every character XML 1.0 forbids is replaced on writing.
#[test]
fn texts_with_characters_xml_forbids_are_written_well_formed() {
    let forbidden: String =
        ['\u{0}', '\u{8}', '\u{b}', '\u{c}', '\u{e}', '\u{1f}', '\u{fffe}', '\u{ffff}'].iter().collect();
    let mut alert = parse(&fs::read(corpus("valid/oasis-spec-example-A3.xml")).expect("readable")).expect("valid");
    let info = &mut alert.infos[0];
    info.description = Some(format!("Line one{forbidden}line two"));
    info.headline = Some(format!("Head{forbidden}line"));
    let message = write(&alert);
    let feed = tryvoha_cap::atom::Feed {
        id: "https://example.org/feed".into(),
        title: format!("Feed{forbidden}"),
        updated: alert.sent,
        author: tryvoha_cap::atom::Person { name: format!("A{forbidden}"), uri: None, email: None },
        self_link: format!("https://example.org/feed?{forbidden}"),
        entries: vec![tryvoha_cap::atom::Entry::for_alert(&alert, "https://example.org/1.xml")],
    };
    let feed = write_feed(&feed);
    for document in [&message, &feed] {
        assert!(!document.chars().any(|c| forbidden.contains(c)), "{document}");
        assert!(document.contains("Line one\u{fffd}"), "replaced, not silently dropped");
    }
    let reread = parse(message.as_bytes()).expect("our own parser reads it");
    assert!(reread.infos[0].description.as_deref().is_some_and(|d| d.starts_with("Line one\u{fffd}")));
    if !xmllint_installed() {
        return;
    }
    let directory = tempfile::tempdir().expect("temporary directory");
    let files = [directory.path().join("message.xml"), directory.path().join("feed.atom")];
    fs::write(&files[0], &message).expect("written");
    fs::write(&files[1], &feed).expect("written");
    let (valid, report) = xmllint("--schema", &corpus("schema/CAP-v1.2.xsd"), &files[..1]);
    assert!(valid, "{report}");
    let (valid, report) = xmllint("--relaxng", &corpus("schema/atom_rfc4287.rng"), &files[1..]);
    assert!(valid, "{report}");
}
