//! What the cluster crate's tests share.

use std::time::Duration;

/// Waits until `check` holds, looking every 50 ms; fails the test, naming `what`, after 10 s.
pub async fn until(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 10 s");
}
