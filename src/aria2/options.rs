//! aria2's options (`--name=value` on its command line, `{"name":"value"}`
//! over RPC) onto haul: a download's [`AddRequest`] and the daemon's run-time
//! options. Options haul has no use for are ignored, as aria2 ignores the
//! ones it does not know; a value haul cannot honour is refused with
//! aria2's message and haul's reason.

use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use crate::engine::{
    self, AddRequest, Checksum, Overwrite, ProxyUrl, Status, DEFAULT_CONNECTIONS, MAX_CONNECTIONS,
};

use super::shapes;
use super::wire::Fault;

/// An option's value that haul cannot honour, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("option --{name}: {reason}")]
pub struct OptionError {
    pub name: String,
    pub reason: String,
}

/// aria2's words for it, and haul's reason.
impl From<OptionError> for Fault {
    fn from(e: OptionError) -> Fault {
        Fault::new(format!(
            "We encountered a problem while processing the option '--{}': {}.",
            e.name, e.reason
        ))
    }
}

fn bad(name: &str, reason: impl std::fmt::Display) -> OptionError {
    OptionError {
        name: name.to_owned(),
        reason: reason.to_string(),
    }
}

/// An option's value as text: aria2 takes strings, and numbers and
/// booleans as what they print as.
fn text(name: &str, value: &Value) -> Result<String, OptionError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(bad(name, "the value is not a string")),
    }
}

fn boolean(name: &str, value: &Value) -> Result<bool, OptionError> {
    match text(name, value)?.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(bad(name, format!("{other:?} is neither true nor false"))),
    }
}

/// A size as aria2 writes one: bytes, or with `K` or `M` (or `G`) for
/// 1024, 1024² (1024³).
pub(crate) fn size(name: &str, value: &Value) -> Result<u64, OptionError> {
    let text = text(name, value)?;
    let (digits, unit) = match text.trim().char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text.trim()[..i], c.to_ascii_uppercase()),
        _ => (text.trim(), 'B'),
    };
    let multiplier: u64 = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        _ => {
            return Err(bad(
                name,
                format!("{text:?} is not a size (bytes, or with K, M or G)"),
            ))
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| {
            bad(
                name,
                format!("{text:?} is not a size (bytes, or with K, M or G)"),
            )
        })
}

fn count(
    name: &str,
    value: &Value,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, OptionError> {
    let text = text(name, value)?;
    match text.parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(bad(
            name,
            format!("{text:?} is not in {}..={}", range.start(), range.end()),
        )),
    }
}

/// A `dir` as a directory relative to the download root: aria2 takes any
/// path, haul keeps every file inside its root.
pub(crate) fn dir_in_root(root: &Path, value: &Value) -> Result<Option<String>, OptionError> {
    let dir = text("dir", value)?;
    let path = Path::new(&dir);
    let mut relative = PathBuf::new();
    let inside = if path.is_absolute() {
        path.strip_prefix(root).ok()
    } else {
        Some(path)
    };
    let outside = || {
        bad(
            "dir",
            format!(
                "{dir} is outside haul's download root {}; give a directory inside it",
                root.display()
            ),
        )
    };
    for part in inside.ok_or_else(outside)?.components() {
        match part {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            _ => return Err(outside()),
        }
    }
    Ok(Some(relative.to_string_lossy().into_owned()).filter(|d| !d.is_empty()))
}

/// The download `uri` with aria2's `options`, where `default_dir` is the
/// `dir` of `changeGlobalOption`.
pub fn add_request(
    uri: &str,
    options: &Map<String, Value>,
    root: &Path,
    default_dir: Option<String>,
) -> Result<AddRequest, OptionError> {
    let mut request = AddRequest::new(uri);
    request.dir = default_dir;
    let (mut split, mut per_server) = (None, None);
    let (mut allow_overwrite, mut auto_rename) = (false, true);
    for (name, value) in options {
        match name.as_str() {
            "dir" => request.dir = dir_in_root(root, value)?,
            "out" => {
                // aria2's `out` may name subdirectories of `dir`.
                let out = text(name, value)?;
                let (parent, file) = match out.rsplit_once('/') {
                    Some((parent, file)) => (Some(parent), file),
                    None => (None, out.as_str()),
                };
                if let Some(parent) = parent.filter(|p| !p.is_empty()) {
                    let base = Path::new(request.dir.as_deref().unwrap_or_default());
                    let joined = Value::String(base.join(parent).to_string_lossy().into_owned());
                    request.dir = dir_in_root(root, &joined)
                        .map_err(|_| bad(name, format!("{out:?} leaves the download directory")))?;
                }
                request.file_name = Some(file.to_owned()).filter(|f| !f.is_empty());
            }
            "header" => {
                let lines = match value {
                    Value::Array(lines) => lines.clone(),
                    line => vec![line.clone()],
                };
                for line in &lines {
                    let line = text(name, line)?;
                    let (header, content) = line
                        .split_once(':')
                        .ok_or_else(|| bad(name, format!("{line:?} is not `Name: value`")))?;
                    request
                        .headers
                        .insert(header.trim().to_owned(), content.trim().to_owned());
                }
            }
            "referer" => {
                request.headers.insert("Referer".into(), text(name, value)?);
            }
            "user-agent" => {
                request
                    .headers
                    .insert("User-Agent".into(), text(name, value)?);
            }
            "all-proxy" => {
                let proxy = text(name, value)?;
                if !proxy.is_empty() {
                    ProxyUrl::parse(&proxy).map_err(|reason| bad(name, reason))?;
                    request.proxy = Some(proxy);
                }
            }
            "no-proxy" if text(name, value)? == "*" => request.proxy = Some("none".into()),
            "max-download-limit" => {
                request.speed_limit = Some(size(name, value)?).filter(|&l| l > 0)
            }
            "split" => split = Some(count(name, value, 1..=u64::from(MAX_CONNECTIONS))?),
            "max-connection-per-server" => {
                per_server = Some(count(name, value, 1..=u64::from(MAX_CONNECTIONS))?)
            }
            "checksum" => {
                let text = text(name, value)?;
                let checksum = text.parse::<Checksum>().map_err(|e| bad(name, e))?;
                request.checksum = Some(checksum);
            }
            "pause" => request.paused = boolean(name, value)?,
            "allow-overwrite" => allow_overwrite = boolean(name, value)?,
            "auto-file-renaming" => auto_rename = boolean(name, value)?,
            "check-certificate" => request.insecure = !boolean(name, value)?,
            "gid" => return Err(bad(
                name,
                "haul chooses every gid itself; leave the option out and use the gid it answers",
            )),
            // Everything else aria2 has (continue, max-tries, …) is either
            // what haul always does or not haul's to change per download.
            _ => tracing::debug!(option = %name, "aria2 option ignored"),
        }
    }
    // aria2 opens min(split, per server) connections to a single server.
    request.connections = match (split, per_server) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
    .map(|n| n as u16);
    request.overwrite = match (allow_overwrite, auto_rename) {
        (true, _) => Overwrite::Overwrite,
        (false, true) => Overwrite::Rename,
        (false, false) => Overwrite::Fail,
    };
    Ok(request)
}

/// `getOption`: what the download was asked for, in aria2's names.
/// Headers and proxy credentials stay out: secrets never reach a status.
pub(crate) fn download_options(request: &AddRequest, status: &Status, root: &Path) -> Value {
    let connections = request
        .connections
        .unwrap_or(DEFAULT_CONNECTIONS)
        .to_string();
    let mut map = Map::new();
    map.insert(
        "dir".into(),
        shapes::dir_of(status, root).to_string_lossy().into(),
    );
    if let Some(name) = status.file_name.as_ref().or(request.file_name.as_ref()) {
        map.insert("out".into(), name.clone().into());
    }
    map.insert("split".into(), connections.clone().into());
    map.insert("max-connection-per-server".into(), connections.into());
    map.insert(
        "max-download-limit".into(),
        status.speed_limit.to_string().into(),
    );
    map.insert(
        "allow-overwrite".into(),
        (request.overwrite == Overwrite::Overwrite)
            .to_string()
            .into(),
    );
    map.insert(
        "auto-file-renaming".into(),
        (request.overwrite == Overwrite::Rename).to_string().into(),
    );
    if let Some(proxy) = &status.proxy {
        map.insert("all-proxy".into(), proxy.clone().into());
    }
    if let Some(checksum) = &request.checksum {
        map.insert("checksum".into(), checksum.to_string().into());
    }
    Value::Object(map)
}

/// One change `changeGlobalOption` makes, checked before any is made.
pub(crate) enum GlobalChange {
    MaxConcurrent(usize),
    SpeedLimit(u64),
    Dir(Option<String>),
    Proxy(ProxyKind, Option<ProxyUrl>),
    NoProxy(Option<String>),
}

#[derive(Clone, Copy)]
pub(crate) enum ProxyKind {
    All,
    Http,
    Https,
}

pub(crate) fn global_changes(
    options: &Map<String, Value>,
    root: &Path,
) -> Result<Vec<GlobalChange>, OptionError> {
    let mut changes = Vec::new();
    for (name, value) in options {
        let proxy = |kind| -> Result<GlobalChange, OptionError> {
            let url = text(name, value)?;
            let url = match url.as_str() {
                "" => None,
                url => Some(ProxyUrl::parse(url).map_err(|reason| bad(name, reason))?),
            };
            Ok(GlobalChange::Proxy(kind, url))
        };
        changes.push(match name.as_str() {
            "max-concurrent-downloads" => {
                GlobalChange::MaxConcurrent(count(name, value, 1..=1000)? as usize)
            }
            "max-overall-download-limit" => GlobalChange::SpeedLimit(size(name, value)?),
            "dir" => GlobalChange::Dir(dir_in_root(root, value)?),
            "all-proxy" => proxy(ProxyKind::All)?,
            "http-proxy" => proxy(ProxyKind::Http)?,
            "https-proxy" => proxy(ProxyKind::Https)?,
            "no-proxy" => {
                GlobalChange::NoProxy(Some(text(name, value)?).filter(|l| !l.trim().is_empty()))
            }
            _ => {
                tracing::debug!(option = %name, "aria2 global option ignored");
                continue;
            }
        });
    }
    Ok(changes)
}

/// `getGlobalOption`: the daemon's options in aria2's names.
pub(crate) fn global_options(
    options: &engine::Options,
    root: &Path,
    default_dir: Option<&str>,
) -> Value {
    let dir = match default_dir {
        Some(dir) => root.join(dir),
        None => root.to_owned(),
    };
    let connections = DEFAULT_CONNECTIONS.to_string();
    let mut map = serde_json::json!({
        "dir": dir.to_string_lossy(),
        "max-concurrent-downloads": options.max_concurrent.to_string(),
        "max-overall-download-limit": options.global_speed_limit.to_string(),
        "max-download-limit": "0",
        "split": connections,
        "max-connection-per-server": connections,
        "continue": "true",
        "auto-file-renaming": "true",
        "allow-overwrite": "false",
        "check-certificate": "true",
    });
    // aria2 leaves out the options that are not set.
    let proxies = &options.proxies;
    for (name, proxy) in [
        ("all-proxy", &proxies.all),
        ("http-proxy", &proxies.http),
        ("https-proxy", &proxies.https),
    ] {
        if let Some(proxy) = proxy {
            map[name] = proxy.shown().into();
        }
    }
    if let Some(list) = &proxies.no_proxy {
        map["no-proxy"] = list.clone().into();
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_are_read_as_aria2_writes_them() {
        assert_eq!(size("x", &json!("1M")).unwrap(), 1 << 20);
        assert_eq!(size("x", &json!("100K")).unwrap(), 100 << 10);
        assert_eq!(size("x", &json!("100k")).unwrap(), 100 << 10);
        assert_eq!(size("x", &json!(5000)).unwrap(), 5000);
        assert_eq!(size("x", &json!("0")).unwrap(), 0);
        assert!(size("x", &json!("abc")).is_err());
        assert!(size("x", &json!("1.5M")).is_err());
    }

    #[test]
    fn a_dir_must_be_inside_the_download_root() {
        let root = Path::new("/srv/dl");
        let dir = |d: &str| dir_in_root(root, &json!(d));
        assert_eq!(dir("/srv/dl/isos").unwrap().as_deref(), Some("isos"));
        assert_eq!(dir("/srv/dl").unwrap(), None);
        assert_eq!(dir("isos/new").unwrap().as_deref(), Some("isos/new"));
        assert!(dir("/etc").unwrap_err().reason.contains("outside"));
        assert!(dir("/srv/dl/../etc").is_err());
        assert!(dir("../x").is_err());
    }

    #[test]
    fn add_options_map_onto_an_add_request() {
        let options = json!({
            "dir": "/srv/dl/a", "out": "b/c.bin", "header": ["X-A: 1", "X-B:2"],
            "referer": "http://r/", "split": "16", "max-connection-per-server": 8,
            "max-download-limit": "1M", "pause": "true", "auto-file-renaming": "false",
            "bt-max-peers": "10"
        });
        let request = add_request(
            "http://h/x",
            options.as_object().unwrap(),
            Path::new("/srv/dl"),
            None,
        )
        .unwrap();
        assert_eq!(request.dir.as_deref(), Some("a/b"));
        assert_eq!(request.file_name.as_deref(), Some("c.bin"));
        assert_eq!(request.headers["X-A"], "1");
        assert_eq!(request.headers["X-B"], "2");
        assert_eq!(request.headers["Referer"], "http://r/");
        assert_eq!(request.connections, Some(8));
        assert_eq!(request.speed_limit, Some(1 << 20));
        assert!(request.paused);
        assert_eq!(request.overwrite, Overwrite::Fail);
    }
}
