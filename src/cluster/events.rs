//! The cluster's event log: one row per state change of a download, numbered
//! by `clusterSeq` from the one-row counter, in the change's own
//! transaction (see the schema for why numbers are gap-free and commit in
//! order). Nodes read it with [`Coordinator::events_since`]; the
//! `haul_events` NOTIFY tells them when there is more.
//!
//! [`Coordinator::events_since`]: super::Coordinator::events_since

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use tokio_postgres::GenericClient;

use super::coordinator::Statements;

use super::{ClusterError, NodeId};
use crate::engine::{DownloadRecord, Gid, State};

/// What happened to a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Inserted, queued or paused.
    Added,
    /// Claimed by a node: active there.
    Started,
    /// Back in the queue (released, or its node died).
    Queued,
    Paused,
    Complete,
    Error,
    Removed,
}

impl EventKind {
    pub const ALL: [EventKind; 7] = [
        EventKind::Added,
        EventKind::Started,
        EventKind::Queued,
        EventKind::Paused,
        EventKind::Complete,
        EventKind::Error,
        EventKind::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "added",
            EventKind::Started => "started",
            EventKind::Queued => "queued",
            EventKind::Paused => "paused",
            EventKind::Complete => "complete",
            EventKind::Error => "error",
            EventKind::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The event of a download entering `state`.
    pub fn entering(state: State) -> EventKind {
        match state {
            State::Queued => EventKind::Queued,
            State::Active => EventKind::Started,
            State::Paused => EventKind::Paused,
            State::Complete => EventKind::Complete,
            State::Error => EventKind::Error,
        }
    }
}

/// What an event says beyond its kind: enough for a node to tell its
/// clients without reading the download (camelCase, as the API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventPayload {
    /// The state it is in after the change; `None` once removed.
    pub state: Option<String>,
    pub completed_length: u64,
    pub total_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The epoch of the claim, for `started`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<i64>,
}

impl EventPayload {
    pub fn of(record: &DownloadRecord) -> EventPayload {
        EventPayload {
            state: Some(record.state.as_str().to_owned()),
            completed_length: record.completed_length,
            total_length: record.total_length,
            path: record
                .path
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
            error_code: record.error.as_ref().map(|e| e.code.as_str().to_owned()),
            error_message: record.error.as_ref().map(|e| e.message.clone()),
            epoch: None,
        }
    }

    pub fn removed(completed_length: u64, total_length: Option<u64>) -> EventPayload {
        EventPayload {
            state: None,
            completed_length,
            total_length,
            ..EventPayload::default()
        }
    }
}

/// One committed event.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterEvent {
    pub cluster_seq: i64,
    /// The node that made the change (for a reap, the reaper).
    pub node: NodeId,
    pub gid: Gid,
    pub kind: EventKind,
    pub payload: EventPayload,
    pub at: SystemTime,
}

/// A state change a call made, and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub gid: Gid,
    pub kind: EventKind,
    pub cluster_seq: i64,
}

/// Appends `events` to the log inside the caller's transaction, numbered
/// from the counter in their order; returns them with their numbers. Call
/// it last in a transaction: the counter's row lock is held until commit,
/// and taking it last keeps every transaction's lock order (downloads,
/// then hosts, then the counter) the same.
pub(crate) async fn append(
    tx: &impl GenericClient,
    statements: &Statements,
    node: NodeId,
    events: Vec<(Gid, EventKind, EventPayload)>,
) -> Result<Vec<Change>, ClusterError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let count = events.len() as i64;
    let mut gids = Vec::with_capacity(events.len());
    let mut kinds = Vec::with_capacity(events.len());
    let mut payloads = Vec::with_capacity(events.len());
    for (gid, kind, payload) in &events {
        gids.push(gid.to_string());
        kinds.push(kind.as_str());
        payloads.push(
            serde_json::to_value(payload).map_err(|e| ClusterError::Corrupt {
                gid: gid.to_string(),
                what: format!("event payload: {e}"),
            })?,
        );
    }
    let append = statements
        .get(
            tx,
            "WITH counter AS (
                 UPDATE cluster_seq SET value = value + $1 RETURNING value - $1 AS base
             )
             INSERT INTO events (cluster_seq, node, gid, kind, payload)
             SELECT counter.base + e.i, $2, e.gid, e.kind, e.payload
             FROM counter, unnest($3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY AS e (gid, kind, payload, i)
             RETURNING cluster_seq",
        )
        .await?;
    let rows = tx
        .query(&append, &[&count, &node.0, &gids, &kinds, &payloads])
        .await?;
    let mut numbers: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    numbers.sort_unstable();
    Ok(events
        .into_iter()
        .zip(numbers)
        .map(|((gid, kind, _), cluster_seq)| Change {
            gid,
            kind,
            cluster_seq,
        })
        .collect())
}

/// Reads an `events` row.
pub(crate) fn event(row: &tokio_postgres::Row) -> Result<ClusterEvent, ClusterError> {
    let gid: String = row.try_get("gid")?;
    let corrupt = |what: String| ClusterError::Corrupt {
        gid: gid.clone(),
        what,
    };
    let kind: String = row.try_get("kind")?;
    let payload: serde_json::Value = row.try_get("payload")?;
    Ok(ClusterEvent {
        cluster_seq: row.try_get("cluster_seq")?,
        node: NodeId(row.try_get("node")?),
        gid: gid.parse().map_err(|_| corrupt("the event's gid".into()))?,
        kind: EventKind::parse(&kind).ok_or_else(|| corrupt(format!("event kind {kind:?}")))?,
        payload: serde_json::from_value(payload)
            .map_err(|e| corrupt(format!("event payload: {e}")))?,
        at: row.try_get("at")?,
    })
}
