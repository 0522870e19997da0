//! Who runs what: claiming queued downloads (one statement, with the
//! per-host cap), handing them back (a release, a graceful shutdown) and
//! reaping the nodes whose lease ran out.

use tokio_postgres::types::ToSql;
use tokio_postgres::Transaction;

use super::coordinator::{Coordinator, Statements};
use super::events::{self, Change, EventKind, EventPayload};
use super::rows::{self, RECORD_COLUMNS};
use super::{ClusterError, NodeId};
use crate::engine::{DownloadRecord, Gid};

/// A download a claim gave this node.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The record as committed: active, with the new epoch's state.
    pub record: DownloadRecord,
    /// Fences every write of this tenure ([`Coordinator::save`]).
    pub epoch: i64,
    /// Connections to its host the claim granted (at most what it wants,
    /// within the cluster-wide cap).
    pub host_connections: u32,
    /// The `started` event's number.
    pub cluster_seq: i64,
}

/// What one reap did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reaped {
    /// The nodes whose lease had run out, now deleted.
    pub nodes: Vec<NodeId>,
    /// Their downloads: queued again, paused or removed as was asked.
    pub changes: Vec<Change>,
}

/// The owner's downloads handed back: `filter` (on `downloads d`) picks
/// them; each goes back to the queue, or is paused or removed as another
/// node asked meanwhile. Returns the state changes, logged as `node`'s.
async fn give_back(
    tx: &Transaction<'_>,
    statements: &Statements,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
    node: NodeId,
) -> Result<Vec<Change>, ClusterError> {
    let rows = tx
        .query(
            &format!(
                "WITH old AS (
                     SELECT d.gid, d.desired FROM downloads d WHERE {filter}
                     ORDER BY d.gid FOR NO KEY UPDATE
                 )
                 UPDATE downloads d SET owner = NULL, host_connections = 0, desired = NULL,
                     state = CASE WHEN old.desired IS NULL THEN 'queued' ELSE 'paused' END
                 FROM old WHERE d.gid = old.gid
                 RETURNING d.gid, old.desired AS was, d.state, d.completed_length, d.total_length"
            ),
            params,
        )
        .await?;
    let mut removed = Vec::new();
    let mut changes = Vec::new();
    for row in &rows {
        let gid_text: String = row.try_get("gid")?;
        let gid: Gid = gid_text.parse().map_err(|_| ClusterError::Corrupt {
            gid: gid_text.clone(),
            what: "gid".into(),
        })?;
        let completed: i64 = row.try_get("completed_length")?;
        let total: Option<i64> = row.try_get("total_length")?;
        let (completed, total) = (completed as u64, total.map(|t| t as u64));
        let state: String = row.try_get("state")?;
        let change = match row.try_get::<_, Option<String>>("was")?.as_deref() {
            Some("remove") => {
                removed.push(gid_text);
                (
                    gid,
                    EventKind::Removed,
                    EventPayload::removed(completed, total),
                )
            }
            _ => {
                let kind = match state.as_str() {
                    "paused" => EventKind::Paused,
                    _ => EventKind::Queued,
                };
                let payload = EventPayload {
                    state: Some(state),
                    completed_length: completed,
                    total_length: total,
                    ..EventPayload::default()
                };
                (gid, kind, payload)
            }
        };
        changes.push(change);
    }
    if !removed.is_empty() {
        tx.execute("DELETE FROM downloads WHERE gid = ANY ($1)", &[&removed])
            .await?;
    }
    changes.sort_by_key(|(gid, _, _)| *gid);
    events::append(tx, statements, node, changes).await
}

impl Coordinator {
    /// Claims up to `limit` queued downloads, first in queue order, that no
    /// other node is claiming at this moment, in one statement: each becomes
    /// active here under a new epoch, with at most `host_cap` connections
    /// per host counted over every node (a download whose host is full
    /// stays queued; one is granted what is left when that is less than it
    /// wants). Fails with [`ClusterError::LeaseLost`] when this node's lease
    /// ran out.
    pub async fn claim(&self, limit: usize, host_cap: u32) -> Result<Vec<Claim>, ClusterError> {
        let limit = limit as i64;
        let host_cap = host_cap.min(i32::MAX as u32) as i32;
        let columns = RECORD_COLUMNS
            .split(", ")
            .map(|c| format!("c.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "WITH me AS MATERIALIZED (
                 -- Held until commit: a reaper cannot delete this node in
                 -- between and leave the claimed downloads to no one.
                 SELECT id FROM nodes WHERE id = $1 AND lease_until > now() FOR KEY SHARE
             ), picked AS MATERIALIZED (
                 SELECT d.gid, d.host, d.rank, d.connections FROM downloads d
                 WHERE d.state = 'queued' AND d.owner IS NULL AND EXISTS (SELECT FROM me)
                   AND NOT EXISTS (SELECT FROM hosts h WHERE h.host = d.host AND h.connections >= $3)
                 ORDER BY d.rank
                 LIMIT $2
                 FOR UPDATE OF d SKIP LOCKED
             ), budget AS MATERIALIZED (
                 -- Locked, so this reads the latest grants, a concurrent
                 -- claim's included once it committed.
                 SELECT h.host, $3 - h.connections AS free FROM hosts h
                 WHERE h.host IN (SELECT host FROM picked)
                 ORDER BY h.host FOR UPDATE OF h
             ), granted AS (
                 SELECT p.gid, LEAST(p.connections, b.free - (sum(p.connections) OVER (
                     PARTITION BY p.host ORDER BY p.rank, p.gid
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - p.connections)) AS n
                 FROM picked p JOIN budget b USING (host)
             ), claimed AS (
                 UPDATE downloads d SET owner = $1, epoch = d.epoch + 1, state = 'active',
                     host_connections = g.n, desired = NULL
                 FROM granted g
                 WHERE d.gid = g.gid AND g.n > 0 AND d.owner IS NULL AND d.state = 'queued'
                 RETURNING d.*
             ), counter AS (
                 UPDATE cluster_seq SET value = value + (SELECT count(*) FROM claimed)
                 WHERE EXISTS (SELECT FROM claimed)
                 RETURNING value - (SELECT count(*) FROM claimed) AS base
             ), logged AS (
                 INSERT INTO events (cluster_seq, node, gid, kind, payload)
                 SELECT counter.base + row_number() OVER (ORDER BY c.rank, c.gid), $1, c.gid,
                     'started', jsonb_build_object('state', 'active',
                         'completedLength', c.completed_length, 'totalLength', c.total_length,
                         'epoch', c.epoch)
                 FROM claimed c, counter
                 RETURNING cluster_seq, gid
             )
             SELECT {columns}, c.host_connections, l.cluster_seq
             FROM me LEFT JOIN (claimed c JOIN logged l ON l.gid = c.gid) ON true
             ORDER BY c.rank"
        );
        let work = self.work.lock().await;
        let claim = self.statements.get(&*work, &sql).await?;
        let rows = work
            .query(&claim, &[&self.node.0, &limit, &host_cap])
            .await?;
        drop(work);
        if rows.is_empty() {
            self.local.lost();
            return Err(ClusterError::LeaseLost { node: self.node });
        }
        let mut claims = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<_, Option<String>>("gid")?.is_none() {
                continue; // nothing claimable: the lease row alone
            }
            let download = rows::record(row)?;
            claims.push(Claim {
                record: download.record,
                epoch: download.epoch,
                host_connections: row.try_get::<_, i32>("host_connections")?.max(0) as u32,
                cluster_seq: row.try_get("cluster_seq")?,
            });
        }
        Ok(claims)
    }

    /// Gives a download this node owns at `epoch` back: queued for any
    /// node to claim, or paused or removed if another node asked for that
    /// meanwhile. Fenced as [`Coordinator::save`] is.
    pub async fn release(&self, gid: Gid, epoch: i64) -> Result<Change, ClusterError> {
        let mut work = self.work.lock().await;
        let tx = work.transaction().await?;
        let gid_text = gid.to_string();
        let changes = give_back(
            &tx,
            &self.statements,
            "d.gid = $1 AND d.owner = $2 AND d.epoch = $3",
            &[&gid_text, &self.node.0, &epoch],
            self.node,
        )
        .await?;
        let Some(change) = changes.into_iter().next() else {
            return Err(ClusterError::Fenced {
                gid,
                node: self.node,
                epoch,
            });
        };
        tx.commit().await?;
        Ok(change)
    }

    /// Deletes the nodes whose lease ran out (by the database's clock) and
    /// hands their downloads back — queued, or paused or removed as was
    /// asked meanwhile — in one transaction. Every node may run it at any
    /// time, concurrently: a node row locked by a renewal or a claim is
    /// skipped (it is alive), and each dead node is reaped once.
    pub async fn reap(&self) -> Result<Reaped, ClusterError> {
        let mut work = self.work.lock().await;
        let tx = work.transaction().await?;
        let nodes = tx
            .query(
                "DELETE FROM nodes WHERE id IN (
                     SELECT id FROM nodes WHERE lease_until < now()
                     ORDER BY id FOR UPDATE SKIP LOCKED
                 ) RETURNING id",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0).map(NodeId))
            .collect::<Result<Vec<_>, _>>()?;
        // A statement of its own, so its snapshot sees what the claims that
        // held those rows committed. It takes every download whose owner
        // has no row, which also heals anything orphaned another way.
        let changes = give_back(
            &tx,
            &self.statements,
            "d.owner IS NOT NULL AND NOT EXISTS (SELECT FROM nodes n WHERE n.id = d.owner)",
            &[],
            self.node,
        )
        .await?;
        tx.commit().await?;
        Ok(Reaped { nodes, changes })
    }

    /// Leaves the cluster at once: hands every download this node runs back
    /// (queued, or paused or removed as asked) and deletes its row, in one
    /// transaction, so other nodes go on without waiting for the lease to
    /// run out. The node may not write afterwards.
    pub async fn graceful_shutdown(&self) -> Result<Vec<Change>, ClusterError> {
        self.local.lost();
        let mut work = self.work.lock().await;
        let tx = work.transaction().await?;
        // The node's row first, as the reaper takes it: a reaper running
        // now skips it, or already took it and its downloads.
        tx.execute("DELETE FROM nodes WHERE id = $1", &[&self.node.0])
            .await?;
        let changes = give_back(
            &tx,
            &self.statements,
            "d.owner = $1",
            &[&self.node.0],
            self.node,
        )
        .await?;
        tx.commit().await?;
        Ok(changes)
    }
}
