//! One node's handle on the cluster database.
//!
//! Two connections: `work` for everything transactional (a tokio-postgres
//! transaction is the connection's, so callers take turns), and
//! `heartbeat` for lease renewals alone, which must never wait behind a
//! long write: a renewal stuck in a queue is a lease lost.

use std::time::Instant;

use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, NoTls, Statement};

use super::events::{self, Change, ClusterEvent, EventKind, EventPayload};
use super::lease::{Lease, LocalLease};
use super::notify::{self, DesiredPayload, Listener, Notice, Progress, NOTIFY_PAYLOAD_LIMIT};
use super::rows::{self, ClusterDownload, Params, RECORD_COLUMNS};
use super::{schema, shown_url, Asked, ClusterError, Desired, NodeId};
use crate::engine::{DownloadRecord, Gid, State};

/// What a fenced save committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// The event's number when the save changed the state.
    pub cluster_seq: Option<i64>,
    /// A pause or remove another node asked for meanwhile: the owner learns
    /// of it at every checkpoint, even if it missed the NOTIFY.
    pub desired: Option<Desired>,
}

/// A download [`Coordinator::insert`] added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inserted {
    /// Its cluster-wide creation order, also its rank (the queue's end).
    pub seq: i64,
    pub cluster_seq: i64,
}

pub struct Coordinator {
    pub(super) work: Mutex<Client>,
    heartbeat: Client,
    pub(super) node: NodeId,
    name: String,
    url: String,
    pub(super) local: LocalLease,
    /// The work connection's prepared statements.
    pub(super) statements: Statements,
    connections: [JoinHandle<()>; 2],
}

/// Statements prepared once on the work connection and kept: a statement
/// sent as text is parsed and described by the server first, a round trip
/// more for every call on the hot paths (claim, save, insert, the event log).
#[derive(Default)]
pub(crate) struct Statements(std::sync::Mutex<std::collections::HashMap<String, Statement>>);

impl Statements {
    /// `sql` prepared on `client`, which must be the work connection (or a
    /// transaction on it): a statement belongs to the connection it was
    /// prepared on.
    pub(crate) async fn get(
        &self,
        client: &impl GenericClient,
        sql: &str,
    ) -> Result<Statement, tokio_postgres::Error> {
        let kept = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sql)
            .cloned();
        if let Some(statement) = kept {
            return Ok(statement);
        }
        let statement = client.prepare(sql).await?;
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Drop for Coordinator {
    fn drop(&mut self) {
        for task in &self.connections {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordinator")
            .field("node", &self.node)
            .field("name", &self.name)
            .field("url", &shown_url(&self.url))
            .finish_non_exhaustive()
    }
}

async fn connect(url: &str) -> Result<(Client, JoinHandle<()>), ClusterError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|source| ClusterError::Connect {
            url: shown_url(url),
            source,
        })?;
    // Its calls fail once the connection ends; the log says why.
    let task = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!("the cluster database connection failed: {e}");
        }
    });
    Ok((client, task))
}

fn millis(lease: Lease) -> i64 {
    lease.length.as_millis().min(i64::MAX as u128) as i64
}

impl Coordinator {
    /// Connects to the cluster database at `url` (a `postgres://` URL),
    /// creates or migrates its schema, and registers this node under
    /// `name` with a lease of `lease.length`.
    pub async fn register(url: &str, name: &str, lease: Lease) -> Result<Self, ClusterError> {
        let (mut work, work_task) = connect(url).await?;
        schema::migrate(&mut work).await?;
        let (heartbeat, heartbeat_task) = connect(url).await?;
        let local = LocalLease::new(lease);
        let sent = Instant::now();
        let row = heartbeat
            .query_one(
                "INSERT INTO nodes (name, lease_until)
                 VALUES ($1, now() + $2::bigint * interval '1 millisecond') RETURNING id",
                &[&name, &millis(lease)],
            )
            .await?;
        local.renewed(sent);
        Ok(Coordinator {
            work: Mutex::new(work),
            heartbeat,
            node: NodeId(row.try_get(0)?),
            name: name.to_owned(),
            url: url.to_owned(),
            local,
            statements: Statements::default(),
            connections: [work_task, heartbeat_task],
        })
    }

    pub fn node(&self) -> NodeId {
        self.node
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn lease(&self) -> Lease {
        self.local.lease()
    }

    /// Whether this node may still write (its files, its downloads), by its
    /// own monotonic clock: false from a margin before the server-side
    /// lease can end, unless a renewal moved it on in time. A node that
    /// finds it false stops every transfer before writing another byte.
    pub fn may_write(&self) -> bool {
        self.local.may_write()
    }

    /// Extends the lease by its length from the database's now. A node
    /// whose row is gone (reaped) or whose lease already ran out gets
    /// [`ClusterError::LeaseLost`] and must register again.
    pub async fn renew(&self) -> Result<(), ClusterError> {
        let sent = Instant::now();
        // Decided on the locked row: a reaper that deletes it first makes
        // this find nothing; one that comes after sees the new lease.
        let renewed = self
            .heartbeat
            .query_opt(
                "UPDATE nodes SET lease_until = now() + $2::bigint * interval '1 millisecond',
                     renewed_at = now()
                 WHERE id = $1 AND lease_until > now() RETURNING id",
                &[&self.node.0, &millis(self.local.lease())],
            )
            .await?;
        match renewed {
            Some(_) => {
                self.local.renewed(sent);
                Ok(())
            }
            None => {
                self.local.lost();
                Err(ClusterError::LeaseLost { node: self.node })
            }
        }
    }

    /// The owner's write of `record` (a checkpoint, or the end of its run):
    /// refused with [`ClusterError::Fenced`], changing nothing, unless this
    /// node still owns the download at `epoch`. A record that is no longer
    /// active ends the ownership, and its new state is logged as an event
    /// in the same transaction.
    pub async fn save(&self, record: &DownloadRecord, epoch: i64) -> Result<Saved, ClusterError> {
        let params = Params::of(record)?;
        let columns = params.columns();
        let mut values: Vec<&(dyn ToSql + Sync)> = vec![&params.gid, &self.node.0, &epoch];
        let (mut set, mut state) = (Vec::new(), String::new());
        for (column, value) in &columns {
            values.push(*value);
            set.push(format!("{column} = ${}", values.len()));
            if *column == "state" {
                state = format!("${}::text", values.len());
            }
        }
        let sql = format!(
            "WITH old AS (
                 SELECT gid, state, desired FROM downloads
                 WHERE gid = $1 AND owner = $2 AND epoch = $3 FOR NO KEY UPDATE
             )
             UPDATE downloads d SET {set},
                 owner = CASE WHEN {state} = 'active' THEN d.owner END,
                 host_connections = CASE WHEN {state} = 'active' THEN d.host_connections ELSE 0 END,
                 desired = CASE WHEN {state} = 'active' THEN d.desired END
             FROM old WHERE d.gid = old.gid
             RETURNING old.state AS was, old.desired",
            set = set.join(", ")
        );
        let mut work = self.work.lock().await;
        let tx = work.transaction().await?;
        let save = self.statements.get(&tx, &sql).await?;
        let Some(row) = tx.query_opt(&save, &values).await? else {
            return Err(ClusterError::Fenced {
                gid: record.gid,
                node: self.node,
                epoch,
            });
        };
        let was: String = row.try_get("was")?;
        let desired = row
            .try_get::<_, Option<String>>("desired")?
            .and_then(|d| Desired::parse(&d));
        let mut cluster_seq = None;
        if was != record.state.as_str() {
            let event = (
                record.gid,
                EventKind::entering(record.state),
                EventPayload::of(record),
            );
            cluster_seq = events::append(&tx, &self.statements, self.node, vec![event])
                .await?
                .first()
                .map(|c| c.cluster_seq);
        }
        tx.commit().await?;
        Ok(Saved {
            cluster_seq,
            desired,
        })
    }

    /// The owner forgets a download it runs (a remove), fenced as
    /// [`Coordinator::save`] is.
    pub async fn delete(&self, gid: Gid, epoch: i64) -> Result<Change, ClusterError> {
        let mut work = self.work.lock().await;
        let tx = work.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "DELETE FROM downloads WHERE gid = $1 AND owner = $2 AND epoch = $3
                 RETURNING completed_length, total_length",
                &[&gid.to_string(), &self.node.0, &epoch],
            )
            .await?
        else {
            return Err(ClusterError::Fenced {
                gid,
                node: self.node,
                epoch,
            });
        };
        let completed: i64 = row.try_get(0)?;
        let total: Option<i64> = row.try_get(1)?;
        let payload = EventPayload::removed(completed as u64, total.map(|t| t as u64));
        let change = events::append(
            &tx,
            &self.statements,
            self.node,
            vec![(gid, EventKind::Removed, payload)],
        )
        .await?;
        tx.commit().await?;
        change
            .into_iter()
            .next()
            .ok_or(ClusterError::NotFound { gid })
    }

    /// Adds a new download, queued or paused and owned by no node, with its
    /// `added` event. Its `seq` and rank come from the database (the end of
    /// the cluster's queue); the record's own are not used.
    pub async fn insert(&self, record: &DownloadRecord) -> Result<Inserted, ClusterError> {
        let mut inserted = self.insert_many(std::slice::from_ref(record)).await?;
        inserted
            .pop()
            .unwrap_or(Err(ClusterError::Duplicate { gid: record.gid }))
    }

    /// Adds many new downloads, as [`Coordinator::insert`] does each, in one
    /// transaction (one commit for a burst of adds); each answer is in the
    /// records' order, a duplicate gid refused alone.
    pub async fn insert_many(
        &self,
        records: &[DownloadRecord],
    ) -> Result<Vec<Result<Inserted, ClusterError>>, ClusterError> {
        let mut answers = Vec::with_capacity(records.len());
        let mut added = Vec::new();
        let mut work = self.work.lock().await;
        let tx = work.transaction().await?;
        for record in records {
            if !matches!(record.state, State::Queued | State::Paused) {
                answers.push(Err(ClusterError::InvalidState {
                    gid: record.gid,
                    state: record.state,
                }));
                continue;
            }
            let params = Params::of(record)?;
            let mut values: Vec<&(dyn ToSql + Sync)> = vec![&params.gid];
            let (mut names, mut placeholders) = (Vec::new(), Vec::new());
            for (column, value) in params.columns() {
                if column == "rank" {
                    continue;
                }
                values.push(value);
                names.push(column);
                placeholders.push(format!("${}", values.len()));
            }
            let sql = format!(
                "WITH s AS (SELECT nextval('downloads_seq') AS seq)
                 INSERT INTO downloads (gid, seq, rank, {names})
                 SELECT $1, s.seq, s.seq, {placeholders} FROM s
                 ON CONFLICT (gid) DO NOTHING
                 RETURNING seq",
                names = names.join(", "),
                placeholders = placeholders.join(", ")
            );
            let insert = self.statements.get(&tx, &sql).await?;
            match tx.query_opt(&insert, &values).await? {
                Some(row) => {
                    let seq: i64 = row.try_get(0)?;
                    added.push((record.gid, EventPayload::of(record)));
                    answers.push(Ok(Inserted {
                        seq,
                        cluster_seq: 0,
                    }));
                }
                None => answers.push(Err(ClusterError::Duplicate { gid: record.gid })),
            }
        }
        let events = added
            .into_iter()
            .map(|(gid, payload)| (gid, EventKind::Added, payload))
            .collect();
        let changes = events::append(&tx, &self.statements, self.node, events).await?;
        tx.commit().await?;
        // The events are in the order of the inserted records.
        let mut numbers = changes.into_iter().map(|c| c.cluster_seq);
        for inserted in answers.iter_mut().flatten() {
            inserted.cluster_seq = numbers.next().unwrap_or(0);
        }
        Ok(answers)
    }

    /// Pauses or removes `gid` from this node, whichever node runs it:
    /// nobody does, and it is done now; another node does, and that node is
    /// asked (a remove beats a pause) through `desired` and a NOTIFY on its
    /// channel, and makes the change when it stops the download.
    pub async fn set_desired(&self, gid: Gid, desired: Desired) -> Result<Asked, ClusterError> {
        let gid_text = gid.to_string();
        let mut work = self.work.lock().await;
        let tx = work.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT state, owner, completed_length, total_length FROM downloads
                 WHERE gid = $1 FOR NO KEY UPDATE",
                &[&gid_text],
            )
            .await?
        else {
            return Err(ClusterError::NotFound { gid });
        };
        let state: String = row.try_get("state")?;
        let state = State::parse(&state).ok_or_else(|| ClusterError::Corrupt {
            gid: gid_text.clone(),
            what: "state".into(),
        })?;
        let completed = row.try_get::<_, i64>("completed_length")? as u64;
        let total = row
            .try_get::<_, Option<i64>>("total_length")?
            .map(|t| t as u64);
        if let Some(owner) = row.try_get::<_, Option<i64>>("owner")?.map(NodeId) {
            let row = tx
                .query_one(
                    "UPDATE downloads SET desired = CASE WHEN desired = 'remove' THEN 'remove'
                         ELSE $2 END
                     WHERE gid = $1 RETURNING desired",
                    &[&gid_text, &desired.as_str()],
                )
                .await?;
            let payload = serde_json::to_string(&DesiredPayload {
                gid: gid_text,
                desired: row.try_get("desired")?,
            })
            .map_err(|e| ClusterError::Corrupt {
                gid: gid.to_string(),
                what: e.to_string(),
            })?;
            // Delivered at commit, with the column already durable.
            tx.execute(
                "SELECT pg_notify($1, $2)",
                &[&notify::node_channel(owner), &payload],
            )
            .await?;
            tx.commit().await?;
            return Ok(Asked::Owner(owner));
        }
        let event = match (desired, state) {
            (Desired::Remove, _) => {
                tx.execute("DELETE FROM downloads WHERE gid = $1", &[&gid_text])
                    .await?;
                Some((
                    gid,
                    EventKind::Removed,
                    EventPayload::removed(completed, total),
                ))
            }
            (Desired::Pause, State::Queued) => {
                tx.execute(
                    "UPDATE downloads SET state = 'paused' WHERE gid = $1",
                    &[&gid_text],
                )
                .await?;
                let payload = EventPayload {
                    state: Some(State::Paused.as_str().to_owned()),
                    completed_length: completed,
                    total_length: total,
                    ..EventPayload::default()
                };
                Some((gid, EventKind::Paused, payload))
            }
            (Desired::Pause, State::Paused) => None,
            (Desired::Pause, state) => return Err(ClusterError::InvalidState { gid, state }),
        };
        let changes = events::append(
            &tx,
            &self.statements,
            self.node,
            event.into_iter().collect(),
        )
        .await?;
        tx.commit().await?;
        Ok(Asked::Done(changes.into_iter().next()))
    }

    /// Resumes `gid` from this node, whichever node ran it: a paused or
    /// failed download goes back to the queue (keeping its bytes and its
    /// place) for any node to claim, with its `queued` event. No node owns
    /// such a download, so nobody needs asking. One that is queued already,
    /// or active, stays as it is, except that a pause asked of it and not
    /// yet carried out is withdrawn (as a resume during a pause does on one
    /// node); a complete one cannot be resumed.
    pub async fn resume(&self, gid: Gid) -> Result<Option<Change>, ClusterError> {
        let gid_text = gid.to_string();
        let mut work = self.work.lock().await;
        let tx = work.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT state, completed_length, total_length FROM downloads
                 WHERE gid = $1 FOR NO KEY UPDATE",
                &[&gid_text],
            )
            .await?
        else {
            return Err(ClusterError::NotFound { gid });
        };
        let state: String = row.try_get("state")?;
        let state = State::parse(&state).ok_or_else(|| ClusterError::Corrupt {
            gid: gid_text.clone(),
            what: "state".into(),
        })?;
        match state {
            State::Complete => return Err(ClusterError::InvalidState { gid, state }),
            State::Queued | State::Active => {
                tx.execute(
                    "UPDATE downloads SET desired = NULL WHERE gid = $1 AND desired = 'pause'",
                    &[&gid_text],
                )
                .await?;
                tx.commit().await?;
                return Ok(None);
            }
            State::Paused | State::Error => {}
        }
        tx.execute(
            "UPDATE downloads SET state = 'queued', error_code = NULL, error_message = NULL,
                 desired = NULL
             WHERE gid = $1",
            &[&gid_text],
        )
        .await?;
        let payload = EventPayload {
            state: Some(State::Queued.as_str().to_owned()),
            completed_length: row.try_get::<_, i64>("completed_length")? as u64,
            total_length: row
                .try_get::<_, Option<i64>>("total_length")?
                .map(|t| t as u64),
            ..EventPayload::default()
        };
        let changes = events::append(
            &tx,
            &self.statements,
            self.node,
            vec![(gid, EventKind::Queued, payload)],
        )
        .await?;
        tx.commit().await?;
        Ok(changes.into_iter().next())
    }

    /// Forgets the events numbered more than `keep` below the latest: the
    /// log is the window a reconnecting client replays from (as the
    /// daemon's `--event-window`), not a history. Returns how many went.
    /// The numbering goes on from the counter, so it stays gap-free for
    /// whoever reads from within the window.
    pub async fn prune_events(&self, keep: u64) -> Result<u64, ClusterError> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let pruned = self
            .work
            .lock()
            .await
            .execute(
                "DELETE FROM events WHERE cluster_seq <= (SELECT value FROM cluster_seq) - $1",
                &[&keep],
            )
            .await?;
        Ok(pruned)
    }

    /// What other nodes asked of the downloads this node runs: for catching
    /// up after the listener's connection was lost.
    pub async fn desired_of_mine(&self) -> Result<Vec<(Gid, Desired)>, ClusterError> {
        let rows = self
            .work
            .lock()
            .await
            .query(
                "SELECT gid, desired FROM downloads WHERE owner = $1 AND desired IS NOT NULL
                 ORDER BY gid",
                &[&self.node.0],
            )
            .await?;
        let mut asked = Vec::with_capacity(rows.len());
        for row in &rows {
            let gid: String = row.try_get(0)?;
            let desired: String = row.try_get(1)?;
            let corrupt = |what: &str| ClusterError::Corrupt {
                gid: gid.clone(),
                what: what.to_owned(),
            };
            asked.push((
                gid.parse().map_err(|_| corrupt("gid"))?,
                Desired::parse(&desired).ok_or_else(|| corrupt("desired"))?,
            ));
        }
        Ok(asked)
    }

    /// Up to `limit` events numbered after `after`, in order.
    pub async fn events_since(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<ClusterEvent>, ClusterError> {
        let rows = self
            .work
            .lock()
            .await
            .query(
                "SELECT cluster_seq, node, gid, kind, payload, at FROM events
                 WHERE cluster_seq > $1 ORDER BY cluster_seq LIMIT $2",
                &[&after, &(limit as i64)],
            )
            .await?;
        rows.iter().map(events::event).collect()
    }

    /// Every download, in creation order, with who runs it.
    pub async fn downloads(&self) -> Result<Vec<ClusterDownload>, ClusterError> {
        let rows = self
            .work
            .lock()
            .await
            .query(
                &format!("SELECT {RECORD_COLUMNS} FROM downloads ORDER BY seq"),
                &[],
            )
            .await?;
        rows.iter().map(rows::record).collect()
    }

    /// Every download and the number of the last event they reflect, read
    /// in one snapshot: a node that applies the events after that number
    /// to these downloads misses nothing and applies nothing twice.
    pub async fn snapshot(&self) -> Result<(Vec<ClusterDownload>, i64), ClusterError> {
        let mut work = self.work.lock().await;
        let tx = work
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let seq: i64 = tx
            .query_one("SELECT value FROM cluster_seq", &[])
            .await?
            .try_get(0)?;
        let rows = tx
            .query(
                &format!("SELECT {RECORD_COLUMNS} FROM downloads ORDER BY seq"),
                &[],
            )
            .await?;
        tx.commit().await?;
        let downloads = rows.iter().map(rows::record).collect::<Result<_, _>>()?;
        Ok((downloads, seq))
    }

    /// Changes what a download nobody runs was added with (a new URL and
    /// its validators, a speed limit) and its place in the queue. Refused
    /// with [`ClusterError::Fenced`] when a node runs it: its owner's next
    /// write would undo the change.
    pub async fn update_settings(&self, record: &DownloadRecord) -> Result<(), ClusterError> {
        let params = Params::of(record)?;
        let updated = self
            .work
            .lock()
            .await
            .execute(
                "UPDATE downloads SET request = $2, rank = $3, etag = $4, last_modified = $5,
                     if_range = $6, host = $7, connections = $8
                 WHERE gid = $1 AND owner IS NULL",
                &[
                    &params.gid,
                    &params.request,
                    &params.rank,
                    &params.etag,
                    &params.last_modified,
                    &params.if_range,
                    &params.host,
                    &params.connections,
                ],
            )
            .await?;
        match updated {
            1 => Ok(()),
            _ => Err(ClusterError::Fenced {
                gid: record.gid,
                node: self.node,
                epoch: 0,
            }),
        }
    }

    /// The name of every live node, by id.
    pub async fn node_names(&self) -> Result<Vec<(NodeId, String)>, ClusterError> {
        let rows = self
            .work
            .lock()
            .await
            .query("SELECT id, name FROM nodes ORDER BY id", &[])
            .await?;
        rows.iter()
            .map(|r| Ok((NodeId(r.try_get(0)?), r.try_get(1)?)))
            .collect()
    }

    pub async fn download(&self, gid: Gid) -> Result<Option<ClusterDownload>, ClusterError> {
        let row = self
            .work
            .lock()
            .await
            .query_opt(
                &format!("SELECT {RECORD_COLUMNS} FROM downloads WHERE gid = $1"),
                &[&gid.to_string()],
            )
            .await?;
        row.as_ref().map(rows::record).transpose()
    }

    /// Asks `owner` to change a setting of `gid`, which it runs; its answer
    /// to `ask` comes to this node's listener ([`Notice::Answer`]).
    pub async fn ask_owner(
        &self,
        owner: NodeId,
        ask: u64,
        gid: Gid,
        setting: &notify::Setting,
    ) -> Result<(), ClusterError> {
        let payload = notify::SettingPayload {
            ask,
            from: self.node.0,
            gid: gid.to_string(),
            setting: setting.clone(),
        };
        self.notify_node(owner, gid, &payload).await
    }

    /// Answers `ask` of node `to`: done, or why not.
    pub async fn answer(
        &self,
        to: NodeId,
        gid: Gid,
        ask: u64,
        refusal: Option<notify::Refusal>,
    ) -> Result<(), ClusterError> {
        let payload = notify::AnswerPayload {
            answer: ask,
            refusal,
        };
        self.notify_node(to, gid, &payload).await
    }

    async fn notify_node(
        &self,
        node: NodeId,
        gid: Gid,
        payload: &impl serde::Serialize,
    ) -> Result<(), ClusterError> {
        let payload = serde_json::to_string(payload).map_err(|e| ClusterError::Corrupt {
            gid: gid.to_string(),
            what: e.to_string(),
        })?;
        if payload.len() >= NOTIFY_PAYLOAD_LIMIT {
            return Err(ClusterError::PayloadTooLarge {
                len: payload.len(),
                limit: NOTIFY_PAYLOAD_LIMIT,
            });
        }
        self.work
            .lock()
            .await
            .execute(
                "SELECT pg_notify($1, $2)",
                &[&notify::node_channel(node), &payload],
            )
            .await?;
        Ok(())
    }

    /// Tells every node's listener the progress of downloads this node
    /// runs, in as few NOTIFYs as PostgreSQL's payload limit allows;
    /// returns how many.
    pub async fn publish_progress(&self, progress: &[Progress]) -> Result<usize, ClusterError> {
        let payloads = notify::batch_payloads(self.node, progress, NOTIFY_PAYLOAD_LIMIT)?;
        if !payloads.is_empty() {
            self.work
                .lock()
                .await
                .execute(
                    "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
                    &[&notify::PROGRESS_CHANNEL, &payloads],
                )
                .await?;
        }
        Ok(payloads.len())
    }

    /// Listens, on a connection of its own, to the cluster's channels and
    /// this node's.
    pub async fn listen(
        &self,
        capacity: usize,
    ) -> Result<(Listener, mpsc::Receiver<Notice>), ClusterError> {
        Listener::start(&self.url, self.node, capacity).await
    }
}
