//! aria2's input file, which `--input-file` reads and `--save-session`
//! writes: each download is a line of URIs (TAB-separated mirrors of one
//! file), then its options, one `name=value` per line, each indented;
//! lines starting with `#` are comments. `haul import-aria2` moves such a
//! queue to haul.

use std::path::Path;

use serde_json::{Map, Value};

use crate::engine::AddRequest;

use super::options::{self, OptionError};

/// One download of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEntry {
    /// The line of its URIs, for messages.
    pub line: usize,
    pub uris: Vec<String>,
    /// As aria2's RPC takes them; a repeated `header` is a list.
    pub options: Map<String, Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("line {line}: an option before the first line of URIs: {text:?}")]
    OptionFirst { line: usize, text: String },
    #[error("line {line}: {text:?} is not an option (name=value)")]
    NotAnOption { line: usize, text: String },
}

pub fn parse(text: &str) -> Result<Vec<SessionEntry>, SessionError> {
    let mut entries: Vec<SessionEntry> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        if !raw.starts_with([' ', '\t']) {
            let uris = raw.split('\t').map(str::trim).filter(|u| !u.is_empty());
            entries.push(SessionEntry {
                line,
                uris: uris.map(str::to_owned).collect(),
                options: Map::new(),
            });
            continue;
        }
        let text = raw.trim();
        let Some(entry) = entries.last_mut() else {
            return Err(SessionError::OptionFirst {
                line,
                text: text.to_owned(),
            });
        };
        let Some((name, value)) = text.split_once('=') else {
            return Err(SessionError::NotAnOption {
                line,
                text: text.to_owned(),
            });
        };
        let value = Value::String(value.to_owned());
        match (name, entry.options.get_mut(name)) {
            ("header", Some(Value::Array(headers))) => headers.push(value),
            ("header", _) => {
                entry.options.insert(name.into(), Value::Array(vec![value]));
            }
            _ => {
                entry.options.insert(name.into(), value);
            }
        }
    }
    Ok(entries)
}

impl SessionEntry {
    /// The download haul adds for this entry, whose files go under `root`:
    /// its first URI, with the others as mirrors. aria2's `gid` is left
    /// behind (haul chooses its own).
    pub fn request(&self, root: &Path) -> Result<AddRequest, OptionError> {
        let mut options = self.options.clone();
        options.remove("gid");
        let uri = self.uris.first().map(String::as_str).unwrap_or_default();
        let mut request = options::add_request(uri, &options, root, None)?;
        request.mirrors = self.uris.iter().skip(1).cloned().collect();
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_session_reads_as_its_downloads_and_their_options() {
        let text = "# saved by aria2\n\
                    http://a/x.iso\thttp://mirror/x.iso\n \
                    gid=2089b05ecca3d829\n \
                    dir=/srv/dl/isos\n \
                    header=X-A: 1\n \
                    header=X-B: 2\n\
                    \n\
                    http://b/y.bin\n\
                    \tpause=true\n";
        let entries = parse(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].uris, ["http://a/x.iso", "http://mirror/x.iso"]);
        assert_eq!(
            entries[0].options["header"],
            serde_json::json!(["X-A: 1", "X-B: 2"])
        );
        let request = entries[0].request(Path::new("/srv/dl")).unwrap();
        assert_eq!(
            (request.url.as_str(), request.dir.as_deref()),
            ("http://a/x.iso", Some("isos"))
        );
        assert_eq!(request.headers.len(), 2);
        assert!(entries[1].request(Path::new("/srv/dl")).unwrap().paused);
        assert_eq!(entries[1].line, 8);
    }

    #[test]
    fn an_option_without_its_download_is_refused_with_its_line() {
        let e = parse(" dir=/x\nhttp://a/b\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1: an option before the first line of URIs: \"dir=/x\""
        );
        let e = parse("http://a/b\n split\n").unwrap_err();
        assert!(e.to_string().starts_with("line 2:"), "{e}");
    }
}
