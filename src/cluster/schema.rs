//! The cluster's tables and their migrations, by schema version (the row of
//! `schema_version`, as SQLite's `user_version`): index i brings version i
//! to i + 1. Every node migrates at start, under an advisory lock, so nodes
//! starting together migrate once; a database a newer haul migrated is
//! refused rather than misread.

use tokio_postgres::Client;

use super::ClusterError;

/// The schema version this haul writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Held (transaction-scoped) while migrating: "haul" in ASCII.
const MIGRATION_LOCK: i64 = 0x6861_756c;

const MIGRATIONS: &[&str] = &["
-- One row per live node; a node renews lease_until (the database's clock,
-- never a node's) and any node's reaper deletes the rows that ran out.
CREATE TABLE nodes (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    renewed_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz NOT NULL
);
CREATE INDEX nodes_by_lease ON nodes (lease_until);

-- The engine's DownloadRecord, one row each, with who runs it: owner is
-- the node running it (an active download has one, no other has), epoch
-- counts its claims (every owner write is fenced by both), desired is a
-- pause or remove another node asked for.
CREATE SEQUENCE downloads_seq;
CREATE TABLE downloads (
    gid text PRIMARY KEY,
    seq bigint NOT NULL UNIQUE,
    rank bigint NOT NULL,
    state text NOT NULL CHECK (state IN ('queued', 'active', 'paused', 'complete', 'error')),
    owner bigint,
    epoch bigint NOT NULL DEFAULT 0,
    desired text CHECK (desired IN ('pause', 'remove')),
    -- host:port of the URL; connections wanted; connections the claim granted.
    host text NOT NULL,
    connections integer NOT NULL CHECK (connections > 0),
    host_connections integer NOT NULL DEFAULT 0 CHECK (host_connections >= 0),
    request jsonb NOT NULL,
    file_name text,
    path text,
    total_length bigint,
    completed_length bigint NOT NULL,
    etag text,
    last_modified text,
    if_range text,
    error_code text,
    error_message text,
    created_at timestamptz NOT NULL,
    completed_at timestamptz,
    -- [[start, pos, end], ...] at the last checkpoint.
    segments jsonb NOT NULL,
    server_cookies jsonb NOT NULL,
    CHECK ((state = 'active') = (owner IS NOT NULL)),
    CHECK (state = 'active' OR host_connections = 0)
);
CREATE INDEX downloads_queue ON downloads (rank) WHERE state = 'queued';
CREATE INDEX downloads_by_owner ON downloads (owner) WHERE owner IS NOT NULL;

-- Connections granted to the active downloads of each host, cluster-wide.
CREATE TABLE hosts (
    host text PRIMARY KEY,
    connections integer NOT NULL DEFAULT 0 CHECK (connections >= 0)
);

-- Kept by statement triggers, so every path in and out of 'active' counts;
-- rows are locked in host order, as the claim locks them: no deadlock.
CREATE FUNCTION haul_add_host_connections(delta_hosts text[], deltas integer[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM hosts WHERE host = ANY (delta_hosts) ORDER BY host FOR UPDATE;
    UPDATE hosts h SET connections = h.connections + d.n
        FROM unnest(delta_hosts, deltas) AS d (host, n) WHERE h.host = d.host;
END
$$;
CREATE FUNCTION haul_count_host_connections() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO hosts (host) SELECT DISTINCT host FROM new_rows ORDER BY host
            ON CONFLICT DO NOTHING;
        PERFORM haul_add_host_connections(array_agg(host), array_agg(n)) FROM (
            SELECT host, sum(host_connections)::integer AS n FROM new_rows
            WHERE state = 'active' GROUP BY host HAVING sum(host_connections) <> 0) d;
    ELSIF TG_OP = 'UPDATE' THEN
        -- A URL moved to another host.
        INSERT INTO hosts (host)
            SELECT DISTINCT n.host FROM new_rows n
            WHERE NOT EXISTS (SELECT FROM hosts h WHERE h.host = n.host) ORDER BY n.host
            ON CONFLICT DO NOTHING;
        PERFORM haul_add_host_connections(array_agg(host), array_agg(n)) FROM (
            SELECT host, sum(n)::integer AS n FROM (
                SELECT host, host_connections AS n FROM new_rows WHERE state = 'active'
                UNION ALL
                SELECT host, -host_connections FROM old_rows WHERE state = 'active'
            ) c GROUP BY host HAVING sum(n) <> 0) d;
    ELSE
        PERFORM haul_add_host_connections(array_agg(host), array_agg(n)) FROM (
            SELECT host, -sum(host_connections)::integer AS n FROM old_rows
            WHERE state = 'active' GROUP BY host HAVING sum(host_connections) <> 0) d;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER downloads_host_connections_insert AFTER INSERT ON downloads
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION haul_count_host_connections();
CREATE TRIGGER downloads_host_connections_update AFTER UPDATE ON downloads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION haul_count_host_connections();
CREATE TRIGGER downloads_host_connections_delete AFTER DELETE ON downloads
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION haul_count_host_connections();

-- The cluster's state changes in commit order. cluster_seq comes from the
-- one-row counter below, updated in the change's own transaction: its row
-- lock orders the transactions that take a number, so numbers are
-- gap-free (a rollback gives its number back) and commit in order — a
-- reader that saw N has seen every number below N. A sequence would be
-- neither.
CREATE TABLE events (
    cluster_seq bigint PRIMARY KEY,
    node bigint NOT NULL,
    gid text NOT NULL,
    kind text NOT NULL,
    payload jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE cluster_seq (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    value bigint NOT NULL
);
INSERT INTO cluster_seq (value) VALUES (0);

-- Tells every node's listener that events up to this number are
-- committed (NOTIFY is delivered at commit, in commit order).
CREATE FUNCTION haul_announce_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('haul_events', max(cluster_seq)::text) FROM new_rows HAVING count(*) > 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_announce AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION haul_announce_events();
"];

/// Creates or migrates the schema; refuses one newer than this haul's.
pub(crate) async fn migrate(client: &mut Client) -> Result<(), ClusterError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")
        .await?;
    let found: Option<i64> = tx
        .query_opt("SELECT version FROM schema_version", &[])
        .await?
        .map(|row| row.get(0));
    let found = match found {
        Some(version) => version,
        None => {
            tx.execute("INSERT INTO schema_version VALUES (0)", &[])
                .await?;
            0
        }
    };
    if found > SCHEMA_VERSION {
        return Err(ClusterError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for sql in &MIGRATIONS[found as usize..] {
        tx.batch_execute(sql).await?;
    }
    tx.execute("UPDATE schema_version SET version = $1", &[&SCHEMA_VERSION])
        .await?;
    tx.commit().await?;
    Ok(())
}
