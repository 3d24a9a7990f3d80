//! `tryvoha-bench`: the SSE fan-out benchmark that puts tryvoha and nginx+nchan under the same
//! load, on loopback, and reports declare→receive latency, time until every subscriber has a
//! message, delivery correctness, and the server's CPU and memory per subscriber.
//!
//! One binary, five modes, all with `key=value` arguments:
//! - `tryvoha-bench target=tryvoha|nchan n=10000 m=20 server_pid=PID [out=FILE] …` runs one
//!   benchmark (the coordinator) and starts its client processes itself;
//! - `tryvoha-bench client …` is such a client (started by the coordinator, not by people);
//! - `tryvoha-bench summary dir=DIR` tabulates the reports saved with `out=`;
//! - `tryvoha-bench push-sink keys=FILE [port=0]` is the push service of the Web Push benchmark
//!   (bench/push.sh; see `push_sink`), and `tryvoha-bench push-keys out=FILE [count=8]` writes
//!   the browsers' keys it decrypts with.
//!
//! It does not start or stop the servers: `bench/fanout.sh` does, and runs both side by side.
//! It measures one hot region (every subscriber on it), not reconnects or slow consumers.
//!
//! Coordinator options (defaults): `server` (the target's usual 127.0.0.1 port), `server_pid`
//! (none: no CPU or memory figures), `clients` (⌈n / 9500⌉), `sources` (4 loopback source
//! addresses from 127.0.0.2), `concurrency` (256 connects in flight), `gap_ms` (100, after each
//! message reached everyone), `settle_ms` (1000), `message_timeout_s` (30),
//! `connect_timeout_s` (120), `oblast` (14), `payload` (nchan body bytes, 560), `label`.

mod args;
mod client;
mod coordinator;
mod fleet;
mod http;
mod process;
mod push_sink;
mod report;
mod stream;
mod summary;
mod sys;
mod target;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut words: Vec<String> = std::env::args().skip(1).collect();
    let mode = match words.first().map(String::as_str) {
        Some("client" | "summary" | "push-sink" | "push-keys") => words.remove(0),
        _ => "coordinator".to_string(),
    };
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
