//! Several haul daemons sharing one PostgreSQL, used the way proven job
//! queues use it (River, Oban, graphile-worker): nodes hold leases they
//! renew, downloads are claimed with `FOR UPDATE SKIP LOCKED`, a reaper
//! requeues a dead node's downloads, and every owner write is fenced by
//! `owner` + `epoch`, so a node that lost a download cannot write to it.
//!
//! Module map:
//!
//! - `schema`: the tables, their migrations and the schema version (a
//!   database from a newer haul is refused), and the invariants the
//!   database itself enforces (an active download has an owner; the
//!   per-host connection counts follow the downloads by trigger).
//! - `coordinator`: [`Coordinator`], one node's handle: register, renew,
//!   save (fenced), insert, ask another node to pause or remove, read the
//!   downloads and the cluster's events, publish progress, listen.
//! - `ownership`: who runs what — the claim (one statement, with the
//!   per-host cap), release, graceful shutdown, and the reaper.
//! - `lease`: the node's own monotonic deadline ([`Coordinator::may_write`]),
//!   which ends before the server-side lease can.
//! - `rows`: a [`DownloadRecord`](crate::engine::DownloadRecord) to and from
//!   a row, faithfully (jsonb for the request, segments and cookies).
//! - `events`: the cluster-wide, gap-free event log (`clusterSeq`) that
//!   every state change appends to in its own transaction.
//! - `notify`: LISTEN on a dedicated connection, NOTIFY payloads kept under
//!   PostgreSQL's 8000-byte limit (progress travels in batches).
//!
//! # How the per-host connection cap holds across nodes
//!
//! Each download wants `connections` connections to its host (`host:port`
//! of its URL, as the engine's `HostSlots` keys them). The claim grants it
//! at most what the cap leaves free on that host across the whole cluster,
//! and records the grant in `host_connections`; the table `hosts` holds the
//! sum of the grants of the active downloads of each host, kept by a
//! trigger on `downloads`, so no code path can forget to give a grant back.
//! The claim locks the `hosts` rows of its candidates (in host order, as
//! the trigger does: no deadlock) before it reads them, so two nodes
//! claiming for one host at once see each other's grants: the second waits
//! for the first to commit and then sees what is left. Mirrors are not
//! counted (only the download's first URL's host).

mod coordinator;
mod events;
mod lease;
mod notify;
mod ownership;
mod rows;
mod schema;

pub use coordinator::{Coordinator, Inserted, Saved};
pub use events::{Change, ClusterEvent, EventKind, EventPayload};
pub use lease::Lease;
pub use notify::{
    batch_payloads, Listener, Notice, Progress, Refusal, Setting, NOTIFY_PAYLOAD_LIMIT,
};
pub use ownership::{Claim, Reaped};
pub use rows::ClusterDownload;
pub use schema::SCHEMA_VERSION;

use crate::engine::{Gid, State};

/// A node's id in the cluster: its row in `nodes`, new at every
/// registration (a node that lost its lease rejoins under a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub i64);

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What another node asked the owner of a download to do (`desired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Desired {
    Pause,
    Remove,
}

impl Desired {
    pub fn as_str(self) -> &'static str {
        match self {
            Desired::Pause => "pause",
            Desired::Remove => "remove",
        }
    }

    pub fn parse(s: &str) -> Option<Desired> {
        [Desired::Pause, Desired::Remove]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// What [`Coordinator::set_desired`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// Nobody owned the download: the change is made and committed.
    Done(Option<Change>),
    /// `owner` runs it: it is asked (the `desired` column, and a NOTIFY on
    /// its channel) and makes the change when it stops the download.
    Owner(NodeId),
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot connect to the cluster database {url}: {source}")]
    Connect {
        url: String,
        source: tokio_postgres::Error,
    },
    #[error("cluster database: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error(
        "the cluster database has schema version {found}, newer than this haul understands ({supported})\nhint: upgrade haul on this node to the version the other nodes run"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    /// The node's row is gone (reaped) or its lease ran out: its downloads
    /// are, or may at any moment be, another node's. It must stop writing
    /// and register again.
    #[error("node {node} lost its lease: its downloads may run elsewhere now")]
    LeaseLost { node: NodeId },
    /// Another node owns the download now (or nobody does): the write was
    /// refused and changed nothing.
    #[error("download {gid} is no longer node {node}'s at epoch {epoch}: the write is fenced off")]
    Fenced { gid: Gid, node: NodeId, epoch: i64 },
    #[error("download {gid} is not in the cluster database")]
    NotFound { gid: Gid },
    #[error("download {gid} is {state}, which does not allow this")]
    InvalidState { gid: Gid, state: State },
    #[error("download {gid} is already in the cluster database")]
    Duplicate { gid: Gid },
    #[error("the cluster database's row of {gid} is corrupt: {what}")]
    Corrupt { gid: String, what: String },
    #[error("a notification of {len} bytes exceeds PostgreSQL's limit of {limit} bytes")]
    PayloadTooLarge { len: usize, limit: usize },
}

impl ClusterError {
    /// The write was refused because another node owns the download now:
    /// the engine then stops that download at once.
    pub fn is_fenced(&self) -> bool {
        matches!(self, ClusterError::Fenced { .. })
    }
}

/// `url` without its password, for messages: a `postgres://` URL may carry
/// one in its userinfo or as a `password` parameter.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_password(None);
            let kept: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(k, _)| k != "password")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if parsed.query().is_some() {
                parsed.query_pairs_mut().clear().extend_pairs(kept);
            }
            parsed.into()
        }
        // A key=value connection string: shown by its host only.
        Err(_) => "(a connection string)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_is_shown_without_its_password() {
        assert_eq!(
            shown_url("postgres://haul:secret@db.example:5432/haul"),
            "postgres://haul@db.example:5432/haul"
        );
        assert_eq!(
            shown_url("postgres://haul@db/haul?password=secret&sslmode=disable"),
            "postgres://haul@db/haul?sslmode=disable"
        );
        assert_eq!(
            shown_url("host=db password=secret"),
            "(a connection string)"
        );
    }
}
