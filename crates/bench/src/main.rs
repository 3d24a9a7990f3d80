//! `tryvoha-bench`: the SSE fan-out benchmark that puts tryvoha and nginx+nchan under the same
//! load, on loopback, and reports declare→receive latency, time until every subscriber has a
//! message, delivery correctness, and the server's CPU and memory per subscriber.
//!
//! One binary, six modes, all with `key=value` arguments:
//! - `tryvoha-bench target=tryvoha|nchan|floor n=10000 m=20 server_pid=PID [out=FILE] …` runs
//!   one benchmark (the coordinator) and starts its client processes itself;
//! - `tryvoha-bench floor listen=ADDR` is the physical floor (`floor`): a server that only
//!   writes each message to every socket;
//! - `tryvoha-bench client …` is such a client (started by the coordinator, not by people);
//! - `tryvoha-bench summary dir=DIR` tabulates the reports saved with `out=`;
//! - `tryvoha-bench push-sink keys=FILE [port=0]` is the push service of the Web Push benchmark
//!   (bench/push.sh; see `push_sink`), and `tryvoha-bench push-keys out=FILE [count=8]` writes
//!   the browsers' keys it decrypts with.
//!
//! It does not start or stop the servers: `bench/fanout.sh` and `bench/live_load.sh` do, and
//! run them side by side. Every subscriber is on one hot audience (a region, a channel).
//!
//! Coordinator options (defaults): `server` (the target's usual 127.0.0.1 port), `server_pid`
//! (none: no CPU or memory figures), `clients` (⌈n / 9500⌉), `sources` (4 loopback source
//! addresses from 127.0.0.2), `concurrency` (256 connects in flight), `gap_ms` (100, after each
//! message reached everyone), `settle_ms` (1000), `message_timeout_s` (30),
//! `connect_timeout_s` (120), `oblast` (14; a list for more hromadas: `14,12`), `payload`
//! (nchan's and the floor's body bytes, 590), `label`, `transport` (sse|ws), `workload`
//! (fanout|burst|storm-prepare|storm, see `coordinator`), `burst_ms` (1000), `stall_every`
//! (0: every subscriber reads), `run` and `after` (the storm's).

mod args;
mod client;
mod coordinator;
mod fleet;
mod floor;
mod http;
mod process;
mod push_sink;
mod report;
mod server_metrics;
mod storm;
mod stream;
mod summary;
mod sys;
mod target;
mod ws;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut words: Vec<String> = std::env::args().skip(1).collect();
    let mode = match words.first().map(String::as_str) {
        Some("client" | "summary" | "push-sink" | "push-keys" | "floor") => words.remove(0),
        _ => "coordinator".to_string(),
    };
    if mode == "floor" {
        // The floor is plain threads and blocking sockets: no runtime.
        return match args::Args::parse(words).and_then(|args| floor::run(&args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    // One thread per process: the clients are sharded into processes instead, the coordinator
    // has little to do, and the push sink must leave the other core to the sender it measures.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        let args = args::Args::parse(words)?;
        match mode.as_str() {
            "client" => client::run(&args).await,
            "summary" => summary::run(&args),
            "push-sink" => push_sink::run(&args).await,
            "push-keys" => push_sink::keys::write(&args),
            _ => coordinator::run(&args).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
