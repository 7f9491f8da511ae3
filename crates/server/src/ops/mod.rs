//! Operational machinery: the API's availability state and the monitors that feed it, the
//! health endpoints, the streamed operations (clone, export-to, application data), jobs and
//! request statistics.

pub mod appdata;
pub mod clone;
pub mod events;
pub mod export;
pub mod health;
pub mod jobs;
pub mod monitor;
pub mod ndjson;
pub mod request_stats;
pub mod state;
