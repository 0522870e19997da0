//! A download as aria2 shows it: every number a decimal string, booleans
//! `"true"`/`"false"`, one entry in `files` with its `uris`, and aria2's
//! exit codes in `errorCode`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::engine::{FailureCode, SourceState, State, Status};

/// aria2's piece size: haul keeps byte ranges, not pieces, so `numPieces`
/// only tells a UI how finely it may draw progress.
const PIECE_LENGTH: u64 = 1024 * 1024;

/// aria2's words for a download's state; `removed` is the adapter's own
/// (see `results`).
pub(crate) fn status_word(state: State, removed: bool) -> &'static str {
    if removed {
        return "removed";
    }
    match state {
        State::Queued => "waiting",
        State::Active => "active",
        State::Paused => "paused",
        State::Complete => "complete",
        State::Error => "error",
    }
}

/// The directory a download's file is (or will be) in.
pub(crate) fn dir_of(status: &Status, root: &Path) -> PathBuf {
    match (&status.path, &status.dir) {
        (Some(path), _) => path.parent().unwrap_or(root).to_owned(),
        (None, Some(dir)) => root.join(dir),
        (None, None) => root.to_owned(),
    }
}

fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// `tellStatus`'s object; only `keys` when some are given.
pub(crate) fn download(
    status: &Status,
    removed: bool,
    root: &Path,
    keys: Option<&[String]>,
) -> Value {
    let total = status.total_length.unwrap_or(0);
    let mut map = Map::new();
    let mut put = |key: &str, value: Value| {
        if keys.is_none_or(|keys| keys.iter().any(|k| k == key)) {
            map.insert(key.to_owned(), value);
        }
    };
    put("gid", status.gid.to_string().into());
    put("status", status_word(status.state, removed).into());
    put("totalLength", total.to_string().into());
    put(
        "completedLength",
        status.completed_length.to_string().into(),
    );
    put("uploadLength", "0".into());
    put("downloadSpeed", status.download_speed.to_string().into());
    put("uploadSpeed", "0".into());
    put("connections", status.connections.to_string().into());
    put("pieceLength", PIECE_LENGTH.to_string().into());
    put("numPieces", total.div_ceil(PIECE_LENGTH).to_string().into());
    put("dir", text(&dir_of(status, root)).into());
    put("files", files(status, root));
    let stopped = match (removed, status.state, &status.error) {
        (true, _, _) => Some(("31".to_owned(), String::new())),
        (false, State::Complete, _) => Some(("0".to_owned(), String::new())),
        (false, State::Error, Some(failure)) => Some((
            exit_code(failure.code, &failure.message).to_string(),
            failure.message.clone(),
        )),
        _ => None,
    };
    if let Some((code, message)) = stopped {
        put("errorCode", code.into());
        put("errorMessage", message.into());
    }
    Value::Object(map)
}

/// `getFiles`: a download is one file, with its URIs. Its path is known
/// from the start when it was given a name, as in aria2.
pub(crate) fn files(status: &Status, root: &Path) -> Value {
    let path = match (&status.path, &status.file_name) {
        (Some(path), _) => text(path),
        (None, Some(name)) => text(&dir_of(status, root).join(name)),
        (None, None) => String::new(),
    };
    serde_json::json!([{
        "index": "1",
        "path": path,
        "length": status.total_length.unwrap_or(0).to_string(),
        "completedLength": status.completed_length.to_string(),
        "selected": "true",
        "uris": uris(status),
    }])
}

/// `getUris`: the download's URL and its mirrors, without passwords.
pub(crate) fn uris(status: &Status) -> Value {
    let waiting = matches!(status.state, State::Queued | State::Paused);
    let uris = status.sources.iter().map(|source| {
        let word = match source.state {
            SourceState::Waiting if waiting => "waiting",
            _ => "used",
        };
        serde_json::json!({ "uri": source.url, "status": word })
    });
    Value::Array(uris.collect())
}

/// aria2's exit code for a failure (aria2's manual, EXIT STATUS).
pub(crate) fn exit_code(code: FailureCode, message: &str) -> u8 {
    match code {
        FailureCode::Network | FailureCode::Proxy => 6,
        FailureCode::HttpStatus => match http_status(message) {
            Some(401 | 407) => 24,
            Some(404 | 410) => 3,
            Some(429 | 503) => 29,
            _ => 22,
        },
        FailureCode::InvalidResponse if message.contains("redirect") => 23,
        FailureCode::InvalidResponse => 22,
        FailureCode::ChecksumMismatch => 32,
        FailureCode::DestinationExists => 13,
        FailureCode::DiskFull => 9,
        FailureCode::Io => 17,
        FailureCode::Internal | FailureCode::Tls => 1,
    }
}

/// The status in the engine's "the server answered 404 Not Found for …".
fn http_status(message: &str) -> Option<u16> {
    let rest = message.split("answered ").nth(1)?;
    rest.get(..3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_failures_get_the_exit_code_aria2_gives_them() {
        let code = |m: &str| exit_code(FailureCode::HttpStatus, m);
        assert_eq!(code("the server answered 404 Not Found for http://h/x"), 3);
        assert_eq!(
            code("the server answered 401 Unauthorized for http://h/x"),
            24
        );
        assert_eq!(
            code("the server answered 503 Service Unavailable for http://h/x"),
            29
        );
        assert_eq!(
            code("the server answered 500 Internal Server Error for http://h/x"),
            22
        );
        assert_eq!(code("something else"), 22);
    }
}
