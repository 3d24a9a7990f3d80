//! Whether the browser tests can run on this machine: Chromium and a Python with Playwright
//! (`TRYVOHA_BROWSER_PYTHON`). Without them those tests are marked ignored, with the reason, so
//! that they are never counted as passed; under `CI=true`, which provides both, they always run
//! (and fail if either is missing).

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(browser_tests)");
    println!("cargo::rerun-if-env-changed=TRYVOHA_BROWSER_PYTHON");
    println!("cargo::rerun-if-env-changed=TRYVOHA_CHROMIUM");
    println!("cargo::rerun-if-env-changed=CI");
    let chromium = std::env::var("TRYVOHA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    // Installing either later runs this again.
    println!("cargo::rerun-if-changed={chromium}");
    let python = std::env::var("TRYVOHA_BROWSER_PYTHON").ok();
    if let Some(python) = &python {
        println!("cargo::rerun-if-changed={python}");
    }
    let present = python.is_some_and(|p| Path::new(&p).exists()) && Path::new(&chromium).exists();
    if present || std::env::var("CI").as_deref() == Ok("true") {
        println!("cargo::rustc-cfg=browser_tests");
    }
}
