//! Persistence behind a small trait, so that a shared database can replace
//! the embedded one; [`SqliteStore`] is the embedded one (SQLite in WAL mode).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection};

use super::cookies::SetCookie;
use super::error::{Failure, FailureCode};
use super::request::AddRequest;
use super::segments::SavedSegment;
use super::status::{Gid, State};

/// Everything the engine keeps about one download.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadRecord {
    pub gid: Gid,
    /// Creation order: `list` goes by it.
    pub seq: i64,
    /// Queue order, the creation order until the download is moved: the
    /// waiting downloads start in this order.
    pub rank: i64,
    pub request: AddRequest,
    pub state: State,
    pub file_name: Option<String>,
    pub path: Option<PathBuf>,
    pub total_length: Option<u64>,
    pub completed_length: u64,
    /// The remote file's validators as the server sent them (a weak ETag
    /// included): a response carrying others is from another version.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The strong validator sent as If-Range, if the server gave one (RFC
    /// 9110 §13.1.5: a strong ETag, or, when there is no ETag at all, a
    /// Last-Modified a minute or more older than the response's Date).
    pub if_range: Option<String>,
    pub error: Option<Failure>,
    pub created_at: SystemTime,
    pub completed_at: Option<SystemTime>,
    /// Unfinished ranges at the last checkpoint; empty before the first.
    pub segments: Vec<SavedSegment>,
    /// Cookies its servers set, for its next run (secrets: never shown).
    pub server_cookies: Vec<SetCookie>,
}

impl DownloadRecord {
    /// A download just added: nothing known of the remote file, no bytes.
    pub fn new(gid: Gid, seq: i64, state: State, request: AddRequest) -> DownloadRecord {
        DownloadRecord {
            gid,
            seq,
            rank: seq,
            file_name: request.file_name.clone(),
            request,
            state,
            path: None,
            total_length: None,
            completed_length: 0,
            etag: None,
            last_modified: None,
            if_range: None,
            error: None,
            server_cookies: Vec::new(),
            created_at: SystemTime::now(),
            completed_at: None,
            segments: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored request of {gid} is unreadable: {source}")]
    Request {
        gid: String,
        source: serde_json::Error,
    },
    #[error("stored row of {gid} is corrupt: {what}")]
    Corrupt { gid: String, what: String },
    #[error("the database has schema version {0}, newer than this haul understands")]
    TooNew(i64),
    #[error("create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One change to the store.
#[derive(Debug, Clone)]
pub enum Write {
    /// Insert or replace a download with its segments.
    Save(Box<DownloadRecord>),
    /// Forget a download (`seq` is its key in the store).
    Delete { gid: Gid, seq: i64 },
}

impl Write {
    pub fn gid(&self) -> Gid {
        match self {
            Write::Save(record) => record.gid,
            Write::Delete { gid, .. } => *gid,
        }
    }
}

pub trait Store: Send {
    /// All downloads, in creation order.
    fn load(&mut self) -> Result<Vec<DownloadRecord>, StoreError>;
    /// Applies the writes in order, all or none.
    fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError>;
}

/// Migrations by schema version (`PRAGMA user_version`); index i brings
/// version i to i + 1.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE downloads (
        gid TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        request TEXT NOT NULL,
        state TEXT NOT NULL,
        file_name TEXT,
        path TEXT,
        total_length INTEGER,
        completed_length INTEGER NOT NULL,
        etag TEXT,
        last_modified TEXT,
        error_code TEXT,
        error_message TEXT,
        created_at_ms INTEGER NOT NULL,
        completed_at_ms INTEGER
    );
    CREATE TABLE segments (
        gid TEXT NOT NULL REFERENCES downloads(gid) ON DELETE CASCADE,
        start INTEGER NOT NULL,
        pos INTEGER NOT NULL,
        end INTEGER NOT NULL,
        PRIMARY KEY (gid, start)
    );
",
    "
    ALTER TABLE downloads ADD COLUMN if_range TEXT;
    -- Version 1 kept only strong ETags and sent them, or Last-Modified, as If-Range.
    UPDATE downloads SET if_range = COALESCE(etag, last_modified);
",
    "
    -- Keyed by creation order rather than by the random gid: a burst of adds
    -- appends to the end of the table instead of touching a page of the gid
    -- index per download, so group commits stay small.
    CREATE TABLE downloads_by_seq (
        seq INTEGER PRIMARY KEY,
        gid TEXT NOT NULL,
        request TEXT NOT NULL,
        state TEXT NOT NULL,
        file_name TEXT,
        path TEXT,
        total_length INTEGER,
        completed_length INTEGER NOT NULL,
        etag TEXT,
        last_modified TEXT,
        error_code TEXT,
        error_message TEXT,
        created_at_ms INTEGER NOT NULL,
        completed_at_ms INTEGER,
        if_range TEXT
    );
    INSERT INTO downloads_by_seq
        SELECT seq, gid, request, state, file_name, path, total_length, completed_length, etag,
               last_modified, error_code, error_message, created_at_ms, completed_at_ms, if_range
        FROM downloads;
    CREATE TABLE segments_by_seq (
        seq INTEGER NOT NULL REFERENCES downloads_by_seq(seq) ON DELETE CASCADE,
        start INTEGER NOT NULL,
        pos INTEGER NOT NULL,
        end INTEGER NOT NULL,
        PRIMARY KEY (seq, start)
    ) WITHOUT ROWID;
    INSERT INTO segments_by_seq
        SELECT d.seq, s.start, s.pos, s.end FROM segments s JOIN downloads d USING (gid);
    DROP TABLE segments;
    DROP TABLE downloads;
    ALTER TABLE downloads_by_seq RENAME TO downloads;
    ALTER TABLE segments_by_seq RENAME TO segments;
",
    // The queue order, once a download was moved in the queue (aria2's
    // changePosition); NULL is the creation order.
    "ALTER TABLE downloads ADD COLUMN queue_rank INTEGER;",
    // Cookies servers set (JSON), so they outlive a restart.
    "ALTER TABLE downloads ADD COLUMN server_cookies TEXT;",
];

pub struct SqliteStore {
    conn: Connection,
}

/// Creates `path` readable by its owner only, or makes it so: the store
/// keeps what downloads need to resume (request headers, cookies, URL and
/// proxy credentials), and SQLite gives its `-wal` and `-shm` files the
/// database's mode.
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)?;
    if file.metadata()?.permissions().mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating and migrating as needed) `haul.db` in `dir`, or an
    /// in-memory database when `dir` is `None`.
    pub fn open(dir: Option<&Path>) -> Result<Self, StoreError> {
        let conn = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Create {
                    path: dir.to_owned(),
                    source,
                })?;
                let path = dir.join("haul.db");
                owner_only(&path).map_err(|source| StoreError::Create {
                    path: path.clone(),
                    source,
                })?;
                Connection::open(path)?
            }
            None => Connection::open_in_memory()?,
        };
        // WAL + NORMAL: a commit survives a process crash; after a power
        // loss the last commits may roll back, which only makes the store
        // claim fewer bytes than are on disk — never more.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mut store = SqliteStore { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }
}

fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Vec<DownloadRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT gid, seq, request, state, file_name, path, total_length, completed_length,
                    etag, last_modified, error_code, error_message, created_at_ms, completed_at_ms,
                    if_range, queue_rank, server_cookies
             FROM downloads ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<String>>(9)?,
                (
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, Option<String>>(11)?,
                ),
                r.get::<_, i64>(12)?,
                (
                    r.get::<_, Option<i64>>(13)?,
                    r.get::<_, Option<String>>(14)?,
                    r.get::<_, Option<i64>>(15)?,
                    r.get::<_, Option<String>>(16)?,
                ),
            ))
        })?;
        let mut records = Vec::new();
        for row in rows {
            let (
                gid_text,
                seq,
                request,
                state,
                file_name,
                path,
                total,
                completed,
                etag,
                last_modified,
                error,
                created,
                (done, if_range, rank, server_cookies),
            ) = row?;
            let corrupt = |what: &str| StoreError::Corrupt {
                gid: gid_text.clone(),
                what: what.to_owned(),
            };
            let gid = gid_text.parse().map_err(|_| corrupt("gid"))?;
            let request = serde_json::from_str(&request).map_err(|source| StoreError::Request {
                gid: gid_text.clone(),
                source,
            })?;
            let state = State::parse(&state).ok_or_else(|| corrupt("state"))?;
            let error = match error {
                (Some(code), Some(message)) => Some(Failure {
                    code: FailureCode::parse(&code).ok_or_else(|| corrupt("error code"))?,
                    message,
                }),
                _ => None,
            };
            records.push(DownloadRecord {
                gid,
                seq,
                rank: rank.unwrap_or(seq),
                request,
                state,
                file_name,
                path: path.map(PathBuf::from),
                total_length: total.map(|t| t as u64),
                completed_length: completed as u64,
                etag,
                last_modified,
                if_range,
                error,
                created_at: from_ms(created),
                completed_at: done.map(from_ms),
                segments: Vec::new(),
                server_cookies: match server_cookies {
                    Some(json) => {
                        serde_json::from_str(&json).map_err(|_| corrupt("server cookies"))?
                    }
                    None => Vec::new(),
                },
            });
        }
        let mut stmt = self
            .conn
            .prepare("SELECT start, pos, end FROM segments WHERE seq = ?1 ORDER BY start")?;
        for record in &mut records {
            record.segments = stmt
                .query_map([record.seq], |r| {
                    Ok(SavedSegment {
                        start: r.get::<_, i64>(0)? as u64,
                        pos: r.get::<_, i64>(1)? as u64,
                        end: r.get::<_, i64>(2)? as u64,
                    })
                })?
                .collect::<Result<_, _>>()?;
        }
        Ok(records)
    }

    fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for write in writes {
            match write {
                Write::Save(record) => save(&tx, record)?,
                Write::Delete { seq, .. } => {
                    tx.prepare_cached("DELETE FROM downloads WHERE seq = ?1")?
                        .execute([seq])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// Inserts or replaces one download with its segments, inside `tx`.
fn save(tx: &rusqlite::Transaction<'_>, d: &DownloadRecord) -> Result<(), StoreError> {
    let gid = d.gid.to_string();
    let request = serde_json::to_string(&d.request).map_err(|source| StoreError::Request {
        gid: gid.clone(),
        source,
    })?;
    let server_cookies = match d.server_cookies.is_empty() {
        true => None,
        false => Some(serde_json::to_string(&d.server_cookies).map_err(|source| {
            StoreError::Request {
                gid: gid.clone(),
                source,
            }
        })?),
    };
    tx.prepare_cached("DELETE FROM segments WHERE seq = ?1")?
        .execute([d.seq])?;
    // An upsert, not a replace: a replace deletes the row first, with its
    // foreign-key checks.
    tx.prepare_cached(
        "INSERT INTO downloads (gid, seq, request, state, file_name, path, total_length,
            completed_length, etag, last_modified, error_code, error_message, created_at_ms,
            completed_at_ms, if_range, queue_rank, server_cookies)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT (seq) DO UPDATE SET gid = ?1, request = ?3, state = ?4, file_name = ?5,
            path = ?6, total_length = ?7, completed_length = ?8, etag = ?9, last_modified = ?10,
            error_code = ?11, error_message = ?12, created_at_ms = ?13, completed_at_ms = ?14,
            if_range = ?15, queue_rank = ?16, server_cookies = ?17",
    )?
    .execute(params![
        gid,
        d.seq,
        request,
        d.state.as_str(),
        d.file_name,
        d.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
        d.total_length.map(|t| t as i64),
        d.completed_length as i64,
        d.etag,
        d.last_modified,
        d.error.as_ref().map(|e| e.code.as_str()),
        d.error.as_ref().map(|e| e.message.as_str()),
        to_ms(d.created_at),
        d.completed_at.map(to_ms),
        d.if_range,
        (d.rank != d.seq).then_some(d.rank),
        server_cookies,
    ])?;
    let mut insert = tx.prepare_cached("INSERT INTO segments VALUES (?1, ?2, ?3, ?4)")?;
    for s in &d.segments {
        insert.execute(params![d.seq, s.start as i64, s.pos as i64, s.end as i64])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_and_its_journal_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("haul.db");
        // A database an older haul created with the umask's mode is fixed.
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut store = SqliteStore::open(Some(dir.path())).unwrap();
        store.apply(&[Write::Save(Box::new(record()))]).unwrap();
        for name in ["haul.db", "haul.db-wal", "haul.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }

    fn record() -> DownloadRecord {
        DownloadRecord {
            gid: Gid::random(),
            seq: 7,
            rank: 3,
            request: AddRequest::new("http://example.com/a"),
            state: State::Error,
            file_name: Some("a".into()),
            path: Some("/root/a".into()),
            total_length: Some(100),
            completed_length: 40,
            etag: Some("\"x\"".into()),
            last_modified: None,
            if_range: Some("\"x\"".into()),
            error: Some(Failure::new(FailureCode::Network, "reset")),
            created_at: from_ms(1_000),
            completed_at: None,
            segments: vec![SavedSegment {
                start: 0,
                pos: 40,
                end: 100,
            }],
            server_cookies: vec![SetCookie {
                url: "http://example.com/a".into(),
                header: "session=abc; Path=/".into(),
            }],
        }
    }

    #[test]
    fn a_saved_download_loads_back_identical_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut saved = record();
        {
            let mut store = SqliteStore::open(Some(dir.path())).unwrap();
            store
                .apply(&[Write::Save(Box::new(saved.clone()))])
                .unwrap();
            saved.segments[0].pos = 50;
            store
                .apply(&[Write::Save(Box::new(saved.clone()))])
                .unwrap();
        }
        let mut store = SqliteStore::open(Some(dir.path())).unwrap();
        assert_eq!(store.load().unwrap(), vec![saved.clone()]);
        store
            .apply(&[Write::Delete {
                gid: saved.gid,
                seq: saved.seq,
            }])
            .unwrap();
        assert!(store.load().unwrap().is_empty());
        let segments: i64 = store
            .conn
            .query_row("SELECT count(*) FROM segments", [], |r| r.get(0))
            .unwrap();
        assert_eq!(segments, 0);
    }

    #[test]
    fn a_first_version_database_is_migrated_with_its_downloads_and_segments() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join("haul.db")).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute_batch(
                r#"INSERT INTO downloads VALUES ('00000000000000ab', 3, '{"url":"http://e.com/a"}',
                       'paused', 'a', '/r/a', 100, 40, '"x"', NULL, NULL, NULL, 1000, NULL);
                   INSERT INTO segments VALUES ('00000000000000ab', 0, 40, 100);"#,
            )
            .unwrap();
        }
        let mut store = SqliteStore::open(Some(dir.path())).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.len(), 1);
        let record = &loaded[0];
        assert_eq!(
            (record.gid.to_string().as_str(), record.seq),
            ("00000000000000ab", 3)
        );
        assert_eq!(
            record.if_range.as_deref(),
            Some("\"x\""),
            "the old If-Range validator"
        );
        assert_eq!(
            record.segments,
            [SavedSegment {
                start: 0,
                pos: 40,
                end: 100
            }]
        );
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_database_from_a_newer_haul_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(Some(dir.path())).unwrap());
        let conn = Connection::open(dir.path().join("haul.db")).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            SqliteStore::open(Some(dir.path())),
            Err(StoreError::TooNew(99))
        ));
    }
}
