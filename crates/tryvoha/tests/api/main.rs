//! Black-box tests of the real server: each test starts it on 127.0.0.1:0 with a fresh data
//! directory and talks HTTP to it.

mod alerts;
mod bad_input;
mod crash;
mod regions;
mod support;
mod tokens;
