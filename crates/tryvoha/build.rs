//! Whether the tests that need outside tools can run on this machine: the browser test
//! (Chromium and a Python with Playwright, `TRYVOHA_BROWSER_PYTHON`) and the compatibility
//! tests (a Python with the PyPI clients, `TRYVOHA_COMPAT_PYTHON`). Without them those tests are
//! marked ignored, with the reason, so that they are never counted as passed; under `CI=true`,
//! which provides everything, they always run (and fail if something is missing).

use std::path::Path;

fn main() {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    println!("cargo::rustc-check-cfg=cfg(browser_tests)");
    println!("cargo::rustc-check-cfg=cfg(compat_clients)");
    println!("cargo::rerun-if-env-changed=TRYVOHA_COMPAT_PYTHON");
    let compat = std::env::var("TRYVOHA_COMPAT_PYTHON").ok();
    if let Some(python) = &compat {
        println!("cargo::rerun-if-changed={python}");
    }
    if ci || compat.is_some_and(|p| Path::new(&p).exists()) {
        println!("cargo::rustc-cfg=compat_clients");
    }
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
    if present || ci {
        println!("cargo::rustc-cfg=browser_tests");
    }
}
