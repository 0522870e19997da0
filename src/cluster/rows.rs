//! A [`DownloadRecord`] as a row of `downloads`, both ways and faithfully:
//! the columns mirror the SQLite store's, with jsonb where SQLite keeps
//! JSON text (the request, the server's cookies) or a table of its own
//! (the segments, which change at every checkpoint: one column is one
//! row update instead of a delete and N inserts).

use std::path::PathBuf;
use std::time::SystemTime;

use serde_json::Value;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::{ClusterError, Desired, NodeId};
use crate::engine::{
    DownloadRecord, Failure, FailureCode, SavedSegment, State, DEFAULT_CONNECTIONS,
};

/// The columns [`record`] reads, in its order (prefix them with a table
/// alias by hand where a statement needs one).
pub(crate) const RECORD_COLUMNS: &str = "gid, seq, rank, state, owner, epoch, desired, request, \
     file_name, path, total_length, completed_length, etag, last_modified, if_range, \
     error_code, error_message, created_at, completed_at, segments, server_cookies";

/// A record's columns as statement parameters.
pub(crate) struct Params {
    pub gid: String,
    pub rank: i64,
    pub state: &'static str,
    pub host: String,
    pub connections: i32,
    pub request: Value,
    pub file_name: Option<String>,
    pub path: Option<String>,
    pub total_length: Option<i64>,
    pub completed_length: i64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub if_range: Option<String>,
    pub error_code: Option<&'static str>,
    pub error_message: Option<String>,
    pub created_at: SystemTime,
    pub completed_at: Option<SystemTime>,
    pub segments: Value,
    pub server_cookies: Value,
}

impl Params {
    pub fn of(d: &DownloadRecord) -> Result<Params, ClusterError> {
        let gid = d.gid.to_string();
        let json = |what: &str, value: Result<Value, serde_json::Error>| {
            value.map_err(|e| ClusterError::Corrupt {
                gid: gid.clone(),
                what: format!("{what}: {e}"),
            })
        };
        let request = json("request", serde_json::to_value(&d.request))?;
        let server_cookies = json("server cookies", serde_json::to_value(&d.server_cookies))?;
        let segments = Value::Array(
            d.segments
                .iter()
                .map(|s| serde_json::json!([s.start, s.pos, s.end]))
                .collect(),
        );
        Ok(Params {
            rank: d.rank,
            state: d.state.as_str(),
            host: host_of(&d.request.url),
            connections: i32::from(d.request.connections.unwrap_or(DEFAULT_CONNECTIONS).max(1)),
            request,
            file_name: d.file_name.clone(),
            path: d.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
            total_length: d.total_length.map(|t| t as i64),
            completed_length: d.completed_length as i64,
            etag: d.etag.clone(),
            last_modified: d.last_modified.clone(),
            if_range: d.if_range.clone(),
            error_code: d.error.as_ref().map(|e| e.code.as_str()),
            error_message: d.error.as_ref().map(|e| e.message.clone()),
            created_at: d.created_at,
            completed_at: d.completed_at,
            segments,
            server_cookies,
            gid,
        })
    }

    /// Every column but the key, with its value: what an insert or an
    /// owner's save writes.
    pub fn columns(&self) -> Vec<(&'static str, &(dyn ToSql + Sync))> {
        vec![
            ("rank", &self.rank),
            ("state", &self.state),
            ("host", &self.host),
            ("connections", &self.connections),
            ("request", &self.request),
            ("file_name", &self.file_name),
            ("path", &self.path),
            ("total_length", &self.total_length),
            ("completed_length", &self.completed_length),
            ("etag", &self.etag),
            ("last_modified", &self.last_modified),
            ("if_range", &self.if_range),
            ("error_code", &self.error_code),
            ("error_message", &self.error_message),
            ("created_at", &self.created_at),
            ("completed_at", &self.completed_at),
            ("segments", &self.segments),
            ("server_cookies", &self.server_cookies),
        ]
    }
}

/// `host:port` of a URL, as the engine's per-host slots key hosts; the
/// whole text when it is no URL (it then fails when it runs, alone).
pub(crate) fn host_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or_default(),
            u.port_or_known_default().unwrap_or(0)
        ),
        Err(_) => url.to_owned(),
    }
}

/// A download as the cluster database has it: its record and who runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterDownload {
    pub record: DownloadRecord,
    pub owner: Option<NodeId>,
    pub epoch: i64,
    pub desired: Option<Desired>,
}

/// Reads a row holding [`RECORD_COLUMNS`].
pub(crate) fn record(row: &Row) -> Result<ClusterDownload, ClusterError> {
    let gid_text: String = row.try_get("gid")?;
    let corrupt = |what: &str| ClusterError::Corrupt {
        gid: gid_text.clone(),
        what: what.to_owned(),
    };
    let gid = gid_text.parse().map_err(|_| corrupt("gid"))?;
    let state: String = row.try_get("state")?;
    let state = State::parse(&state).ok_or_else(|| corrupt("state"))?;
    let desired = match row.try_get::<_, Option<String>>("desired")? {
        Some(d) => Some(Desired::parse(&d).ok_or_else(|| corrupt("desired"))?),
        None => None,
    };
    let request: Value = row.try_get("request")?;
    let request = serde_json::from_value(request).map_err(|e| corrupt(&format!("request: {e}")))?;
    let error = match (
        row.try_get::<_, Option<String>>("error_code")?,
        row.try_get::<_, Option<String>>("error_message")?,
    ) {
        (Some(code), Some(message)) => Some(Failure {
            code: FailureCode::parse(&code).ok_or_else(|| corrupt("error code"))?,
            message,
        }),
        _ => None,
    };
    let segments: Value = row.try_get("segments")?;
    let segments = serde_json::from_value::<Vec<[u64; 3]>>(segments)
        .map_err(|e| corrupt(&format!("segments: {e}")))?
        .into_iter()
        .map(|[start, pos, end]| SavedSegment { start, pos, end })
        .collect();
    let server_cookies: Value = row.try_get("server_cookies")?;
    let server_cookies = serde_json::from_value(server_cookies)
        .map_err(|e| corrupt(&format!("server cookies: {e}")))?;
    let record = DownloadRecord {
        gid,
        seq: row.try_get("seq")?,
        rank: row.try_get("rank")?,
        request,
        state,
        file_name: row.try_get("file_name")?,
        path: row.try_get::<_, Option<String>>("path")?.map(PathBuf::from),
        total_length: row
            .try_get::<_, Option<i64>>("total_length")?
            .map(|t| t as u64),
        completed_length: row.try_get::<_, i64>("completed_length")? as u64,
        etag: row.try_get("etag")?,
        last_modified: row.try_get("last_modified")?,
        if_range: row.try_get("if_range")?,
        error,
        created_at: row.try_get("created_at")?,
        completed_at: row.try_get("completed_at")?,
        segments,
        server_cookies,
    };
    Ok(ClusterDownload {
        record,
        owner: row.try_get::<_, Option<i64>>("owner")?.map(NodeId),
        epoch: row.try_get("epoch")?,
        desired,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_keyed_by_host_and_port_as_the_engine_keys_them() {
        assert_eq!(host_of("https://Example.com/a"), "example.com:443");
        assert_eq!(host_of("http://127.0.0.1:8080/a"), "127.0.0.1:8080");
        assert_eq!(host_of("http://[::1]/a"), "[::1]:80");
    }
}
