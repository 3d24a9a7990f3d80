//! Black-box tests of the real server: each test starts it on 127.0.0.1:0 with a fresh data
//! directory and talks HTTP to it.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

mod alerts;
mod bad_input;
mod browser;
mod browser_push;
mod cap;
mod cap_in;
mod cli;
mod cli_incidents;
mod cluster;
mod compat;
mod crash;
mod data_dir;
mod durability;
mod export;
mod failstop;
mod history;
mod incident_privacy;
mod incidents;
mod input_shapes;
mod limits;
mod migrate;
mod mqtt;
mod mqtt_restarts;
mod open_files;
mod pages;
mod parked;
mod places;
mod privacy;
mod push;
mod push_restart;
mod push_service;
mod push_sink;
mod regions;
mod reinstate;
mod scope_matrix;
mod several_regions;
mod shapes;
mod shelter_status;
mod shutdown;
mod siren;
mod sse;
mod stalled;
mod store;
mod stream;
mod support;
mod tokens;
mod webhooks;
mod webhooks_refusals;
mod websocket;
