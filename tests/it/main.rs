//! haul's integration tests, one binary (as ripgrep does): the support code
//! is compiled once and the haul library linked once, instead of once per
//! file. Each module is one concern, run as `cargo test --test it <module>::`.
//!
//! - `support`: a local HTTP server with faults, engine helpers, a real
//!   daemon process, the real web servers and FUSE file system.

mod support;

mod aria2;
mod aria2_differential;
mod aria2_networks;
mod auth_matrix;
mod cli;
mod cli_display;
mod cli_get;
#[cfg(feature = "cluster")]
mod cluster;
mod cluster_sql;
mod contract_document;
mod control;
mod crash;
mod credentials;
mod daemon_api;
mod daemon_auth;
mod daemon_events;
mod daemon_fuzz;
mod daemon_jsonrpc;
mod daemon_lifecycle;
mod daemon_notifications;
mod docs_page;
// Generated: the API page's Rust snippets, called by docs_page.
#[rustfmt::skip]
mod docs_snippets;
mod downloads;
mod durability;
mod generated_api;
mod mirrors;
mod names;
mod proxies;
mod queue;
mod rpc_tls;
mod sdk;
mod sdk_events;
mod sdk_local;
mod service_unit;
mod set_url;
mod slow_disk;
mod stress;
mod tail;
mod tls;
mod unix_socket;
mod web_servers;
