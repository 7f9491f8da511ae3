//! Stigward: a STIG Manager compatible API server in one binary, on SQLite or PostgreSQL.

pub mod app;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod error;
pub mod extract;
pub mod forwarded;
pub mod generate;
pub mod handlers;
pub mod library;
pub mod log_socket;
pub mod ops;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tls;
