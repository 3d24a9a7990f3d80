//! `powerloss-fs BELOW MOUNTPOINT [--tear]`: mounts BELOW at MOUNTPOINT through a filesystem
//! that keeps every write in memory until it is fsynced (like a disk's volatile cache, or
//! LazyFS). SIGTERM or SIGINT cuts the power: the process ends at once, and nothing that was
//! not synced reaches BELOW (with `--tear`, half of the last write does). Unmount the dead
//! mount afterwards (`umount -l MOUNTPOINT`); a new mount starts from what survived.

mod cache;
mod fs;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use fuser::MountOption;
use nix::sys::signal::{SigSet, Signal};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tear = args.iter().any(|a| a == "--tear");
    let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [below, mountpoint] = paths.as_slice() else {
        eprintln!("usage: powerloss-fs BELOW MOUNTPOINT [--tear]");
        std::process::exit(2);
    };
    let below = match std::fs::canonicalize(below) {
        Ok(below) => below,
        Err(error) => {
            eprintln!("powerloss-fs: {below}: {error}");
            std::process::exit(2);
        }
    };
    // The signals are taken here, by sigwait, not by a handler: every thread the session starts
    // inherits the blocked mask.
    let signals = block_signals();
    let state = Arc::new(Mutex::new(fs::State::new(below)));
    let options = [MountOption::FSName("powerloss".into()), MountOption::DefaultPermissions];
    let session =
        match fuser::spawn_mount2(fs::PowerLossFs(state.clone()), PathBuf::from(mountpoint.as_str()), &options) {
            Ok(session) => session,
            Err(error) => {
                eprintln!("powerloss-fs: cannot mount at {mountpoint}: {error}");
                std::process::exit(1);
            }
        };
    println!("mounted");
    let signal = wait(&signals);
    let mut state = state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let torn = state.cut(tear);
    eprintln!("powerloss-fs: power cut by signal {signal} after {} syncs; torn: {torn:?} bytes", state.syncs);
    // No unmount, no flush: the process ends as a machine does when its power goes.
    std::mem::forget(session);
    std::process::exit(0);
}

fn block_signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    if let Err(error) = set.thread_block() {
        eprintln!("powerloss-fs: cannot block the signals: {error}");
        std::process::exit(1);
    }
    set
}

fn wait(set: &SigSet) -> String {
    set.wait().map_or_else(|error| format!("(none: {error})"), |signal| signal.to_string())
}
