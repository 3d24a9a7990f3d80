//! The transport: everything between a socket and a feature router.

pub mod auth;
pub mod body;
pub mod compression;
pub mod cors;
pub mod headers;
pub mod limits;
pub mod listener;
pub mod problem;
pub mod sse;
