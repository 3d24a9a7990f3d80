//! The `tryvoha` binary's library half: configuration, server wiring and the CLI client, kept
//! here so that integration tests can start the real server in-process.

pub mod admin_reset;
pub mod channels;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod config;
pub mod data_lock;
pub mod import;
pub mod keys;
pub mod migrate;
pub mod output;
pub mod region_names;
pub mod rows;
pub mod server;
pub mod shelters;
pub mod siren;
pub mod store_url;
pub mod supervision;
pub mod tls;
pub mod watch;
