//! The short run of the crash loop (the long one is in docs/RELIABILITY.md): bench/crash.sh
//! with 20 SIGKILLs. (The power cuts' short run is tryvoha-powerloss's test.)

use std::process::Command;

/// Runs a harness script with `env`; its exit status and its last line.
fn run(script: &str, env: &[(&str, String)]) -> (bool, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let output = Command::new("bash")
        .arg(format!("{root}/{script}"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("TRYVOHA_BIN", env!("CARGO_BIN_EXE_tryvoha"))
        .current_dir(root)
        .output()
        .expect("bash runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let last = String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_owned();
    assert!(!last.is_empty(), "{script} said nothing on stdout: {text}");
    (output.status.success(), last)
}

/// `(N, M, L)` of `WORD: N things, M acknowledged, L lost`.
fn figures(line: &str, word: &str) -> (u64, u64, u64) {
    let rest = line.strip_prefix(&format!("{word}: ")).unwrap_or_else(|| panic!("not a {word} line: {line}"));
    let numbers: Vec<u64> = rest.split(", ").map(|part| part.split(' ').next().unwrap().parse().unwrap()).collect();
    (numbers[0], numbers[1], numbers[2])
}

#[test]
fn twenty_sigkills_under_eight_writers_lose_no_acknowledged_write() {
    let (ok, line) = run("bench/crash.sh", &[("KILLS", "20".into()), ("PORT", "18741".into())]);
    let (kills, acknowledged, lost) = figures(&line, "crash");
    assert!(ok && kills == 20 && acknowledged > 0 && lost == 0, "{line}");
}
