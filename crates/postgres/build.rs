//! Whether the tests that need a real PostgreSQL run: with `TRYVOHA_TEST_POSTGRES_URL` set they
//! do; without it they are marked ignored, with the reason, so that they are never counted as
//! passed; under `CI=true`, which provides the server, they always run (and fail if the variable
//! is missing). The same rule as `crates/tryvoha/build.rs` for the other outside tools.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=TRYVOHA_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=CI");
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let url = std::env::var("TRYVOHA_TEST_POSTGRES_URL").is_ok_and(|url| !url.is_empty());
    if ci || url {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
