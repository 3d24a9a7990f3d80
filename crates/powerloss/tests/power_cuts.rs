//! The short run of bench/powerloss.sh (the long one is in docs/RELIABILITY.md): 10 power cuts
//! on the production settings lose no acknowledged write, and 3 with `synchronous=OFF` do,
//! which the harness must find. The server is the workspace's `tryvoha`, built beside this
//! crate's filesystem.

use std::path::Path;
use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Runs the harness with `env`: its exit status and its last line.
fn run(env: &[(&str, &str)], server: &Path) -> (bool, String) {
    let output = Command::new("bash")
        .arg(format!("{ROOT}/bench/powerloss.sh"))
        .envs(env.iter().copied())
        .env("TRYVOHA_BIN", server)
        .env("POWERLOSS_FS", env!("CARGO_BIN_EXE_powerloss-fs"))
        .current_dir(ROOT)
        .output()
        .expect("bash runs");
    let last = String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_owned();
    assert!(!last.is_empty(), "the harness said nothing: {}", String::from_utf8_lossy(&output.stderr));
    (output.status.success(), last)
}

/// `(cuts, acknowledged, lost)` of `powerloss: N cuts, M acknowledged, L lost`.
fn figures(line: &str) -> (u64, u64, u64) {
    let rest = line.strip_prefix("powerloss: ").unwrap_or_else(|| panic!("not the harness's line: {line}"));
    let n: Vec<u64> = rest.split(", ").map(|part| part.split(' ').next().unwrap_or("").parse().unwrap_or(0)).collect();
    (n[0], n[1], n[2])
}

/// Says why the run is not checked; under `CI=true` that fails the test instead.
fn not_checked(missing: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true, yet {missing}");
    eprintln!("NOT CHECKED: {missing}");
}

#[test]
fn ten_power_cuts_lose_nothing_and_without_fsync_the_harness_finds_the_loss() {
    let root_user = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root_user || !Path::new("/dev/fuse").exists() {
        return not_checked("power cuts need root and /dev/fuse (FUSE)");
    }
    let server = Path::new(env!("CARGO_BIN_EXE_powerloss-fs")).with_file_name("tryvoha");
    if !server.exists() {
        return not_checked("the tryvoha binary is not built beside this one (run the workspace's tests)");
    }
    let (ok, line) = run(&[("CUTS", "10"), ("PORT", "18742")], &server);
    let (cuts, acknowledged, lost) = figures(&line);
    assert!(ok && cuts == 10 && acknowledged > 0 && lost == 0, "{line}");

    let (ok, line) = run(&[("CUTS", "3"), ("SYNC", "off"), ("PORT", "18743")], &server);
    let (_, acknowledged, lost) = figures(&line);
    assert!(!ok && acknowledged > 0 && lost > 0, "synchronous=OFF must lose acknowledged writes here: {line}");
}
