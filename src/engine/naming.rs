//! Turning names from users, URLs and servers into paths that stay inside
//! the download root. Everything that names a file passes through here.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

use super::error::{EngineError, Failure, FailureCode};
use super::request::Overwrite;

/// Names longer than this are cut (bytes), leaving room for ` (9999)` and
/// `.part` within the usual 255-byte limit of a file name.
const MAX_NAME_BYTES: usize = 240;
const FALLBACK_NAME: &str = "download";
const PART_SUFFIX: &str = ".part";

/// Makes any string from the network a plain, visible file name.
pub fn sanitize(raw: &str) -> String {
    // Browsers keep the last path component of a hostile name; so do we.
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = base
        .chars()
        .filter(|&c| !is_invisible(c))
        .map(|c| if is_lookalike_or_reserved(c) { '_' } else { c })
        .collect();
    name = name
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .to_owned();
    if is_reserved_device(&name) {
        name.insert(0, '_');
    }
    truncate(&mut name);
    if name.is_empty() {
        FALLBACK_NAME.to_owned()
    } else {
        name
    }
}

/// Controls, bidi overrides and zero-width characters: they hide what a name
/// really is (`evil\u{202e}gpj.exe` shows as `evilexe.jpg`).
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}' | '\u{feff}')
}

/// Slash look-alikes and the characters Windows forbids, so a name stays
/// unambiguous and portable when the directory is shared.
fn is_lookalike_or_reserved(c: char) -> bool {
    matches!(
        c,
        '\u{2215}'
            | '\u{2044}'
            | '\u{ff0f}'
            | '\u{29f8}'
            | '\u{ff3c}'
            | '<'
            | '>'
            | ':'
            | '"'
            | '|'
            | '?'
            | '*'
    )
}

fn is_reserved_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit())
}

/// Cuts the stem, not the extension, at a character boundary.
fn truncate(name: &mut String) {
    if name.len() <= MAX_NAME_BYTES {
        return;
    }
    let ext = match name.rfind('.') {
        Some(dot) if name.len() - dot <= 16 => name[dot..].to_owned(),
        _ => String::new(),
    };
    let mut cut = MAX_NAME_BYTES - ext.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    name.truncate(cut);
    name.push_str(&ext);
}

/// A user's `fileName` must already be a plain name: we do not silently
/// store something else than what was asked for.
pub fn check_plain_name(name: &str) -> Result<(), EngineError> {
    if name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        return Err(EngineError::OutsideRoot { path: name.into() });
    }
    let clean = sanitize(name);
    if clean != name {
        return Err(EngineError::InvalidParam {
            name: "file_name",
            reason: format!("{name:?} is not a plain file name (try {clean:?})"),
        });
    }
    Ok(())
}

/// The name a `Content-Disposition` header offers, preferring RFC 6266's
/// `filename*` (RFC 8187 encoding) over `filename`.
pub fn content_disposition_name(header: &str) -> Option<String> {
    let mut plain = None;
    for param in split_params(header).into_iter().skip(1) {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let (charset, rest) = value.trim().split_once('\'')?;
                let (_lang, encoded) = rest.split_once('\'')?;
                let bytes: Vec<u8> = percent_decode_str(encoded).collect();
                let decoded = if charset.eq_ignore_ascii_case("utf-8") {
                    String::from_utf8(bytes).ok()?
                } else {
                    bytes.iter().map(|&b| b as char).collect() // ISO-8859-1
                };
                return Some(decoded);
            }
            "filename" => plain = Some(unquote(value.trim())),
            _ => {}
        }
    }
    plain
}

/// Splits on `;` outside quoted strings.
fn split_params(header: &str) -> Vec<String> {
    let (mut parts, mut current, mut quoted, mut escaped) =
        (Vec::new(), String::new(), false, false);
    for c in header.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

fn unquote(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' {
                    chars.next().unwrap_or('\\')
                } else {
                    c
                });
            }
            out
        }
        None => value.to_owned(),
    }
}

/// The URL's last non-empty path segment, percent-decoded.
pub fn url_name(url: &url::Url) -> Option<String> {
    let segment = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    Some(percent_decode_str(segment).decode_utf8_lossy().into_owned())
}

/// Resolves `dir` (relative to the canonical `root`), creating what is
/// missing, and proves that the result, symlinks followed, is inside the root.
pub fn resolve_dir(root: &Path, dir: Option<&str>) -> Result<PathBuf, EngineError> {
    let Some(dir) = dir.filter(|d| !d.is_empty()) else {
        return Ok(root.to_owned());
    };
    let outside = || EngineError::OutsideRoot { path: dir.into() };
    if dir.starts_with('/') || dir.contains(['\\', '\0']) {
        return Err(outside());
    }
    let mut path = root.to_owned();
    for component in dir.split('/').filter(|c| !c.is_empty()) {
        if component == "." || component == ".." {
            return Err(outside());
        }
        if sanitize(component) != component {
            return Err(EngineError::InvalidParam {
                name: "dir",
                reason: format!("{component:?} is not a plain directory name"),
            });
        }
        path.push(component);
        // Step by step, so nothing is ever created behind a symlink that
        // leads out of the root.
        match path.symlink_metadata() {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) if meta.is_symlink() => {
                path = path.canonicalize().map_err(|_| outside())?;
                if !path.starts_with(root) || !path.is_dir() {
                    return Err(outside());
                }
            }
            Ok(_) => {
                return Err(EngineError::InvalidParam {
                    name: "dir",
                    reason: format!("{} is not a directory", path.display()),
                })
            }
            Err(_) => std::fs::create_dir(&path)
                .map_err(|e| EngineError::internal(format!("create {}: {e}", path.display())))?,
        }
    }
    Ok(path)
}

pub fn part_path(path: &Path) -> PathBuf {
    let mut os = path.as_os_str().to_owned();
    os.push(PART_SUFFIX);
    PathBuf::from(os)
}

/// Chooses the final path for `name` in `dir` under the overwrite policy.
/// `reserved` holds paths other live downloads have already chosen.
pub fn choose_path(
    dir: &Path,
    name: &str,
    policy: Overwrite,
    reserved: &HashSet<PathBuf>,
) -> Result<PathBuf, Failure> {
    let taken = |p: &Path| reserved.contains(p) || exists(p) || exists(&part_path(p));
    let first = dir.join(name);
    match policy {
        Overwrite::Overwrite => return Ok(first),
        Overwrite::Fail if taken(&first) => {
            return Err(Failure::new(
                FailureCode::DestinationExists,
                format!("{} already exists", first.display()),
            ))
        }
        _ if !taken(&first) => return Ok(first),
        _ => {}
    }
    let (stem, ext) = split_extension(name);
    (1..10_000)
        .map(|i| dir.join(format!("{stem} ({i}){ext}")))
        .find(|p| !taken(p))
        .ok_or_else(|| {
            Failure::new(
                FailureCode::DestinationExists,
                format!("no free name like {} left", first.display()),
            )
        })
}

/// Gives `from` the name `to` unless `to` exists, atomically: two
/// downloads finishing onto one name cannot overwrite each other, nor a
/// file a user put there meanwhile. `AlreadyExists` when the name is taken.
pub fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
    };
    let (from_c, to_c) = (c(from)?, c(to)?);
    // SAFETY: two valid NUL-terminated paths, relative to the working
    // directory only if they are relative (ours are absolute).
    let renamed = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from_c.as_ptr(),
            libc::AT_FDCWD,
            to_c.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if renamed == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        // A file system (or kernel) without the flag: a hard link fails on
        // an existing name just the same, then the old name goes.
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => {
            std::fs::hard_link(from, to)?;
            std::fs::remove_file(from)
        }
        _ => Err(err),
    }
}

/// `a.tar.gz` → (`a`, `.tar.gz`); `.hidden` has no extension.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.').filter(|&dot| dot > 0) {
        Some(dot) => {
            let stem = &name[..dot];
            let dot = match stem.strip_suffix(".tar") {
                Some(s) if !s.is_empty() => s.len(),
                _ => dot,
            };
            (&name[..dot], &name[dot..])
        }
        None => (name, ""),
    }
}

/// Present in any form, a dangling symlink included.
fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_plain_names() {
        let long = "a".repeat(1000) + ".iso";
        let corpus = [
            "../x",
            "/etc/passwd",
            "..\\x",
            "a\0b",
            "..",
            ".",
            "",
            " ",
            "CON",
            "nul.txt",
            "com1",
            "evil\u{202e}gpj.exe",
            "a\u{2215}b",
            "a\u{ff0f}..\u{ff0f}b",
            "x/..",
            "\u{200b}",
            &long,
            ".bashrc",
            "file. . .",
            "é\u{301}",
        ];
        for raw in corpus {
            let name = sanitize(raw);
            assert!(!name.is_empty(), "{raw:?}");
            assert!(!name.contains(['/', '\\', '\0']), "{raw:?} -> {name:?}");
            assert!(
                name != "." && name != ".." && !name.starts_with('.'),
                "{raw:?} -> {name:?}"
            );
            assert!(name.len() <= MAX_NAME_BYTES, "{raw:?}");
            assert_eq!(
                sanitize(&name),
                name,
                "sanitising is idempotent for {raw:?}"
            );
            assert_eq!(Path::new(&name).components().count(), 1);
        }
        assert_eq!(sanitize("/etc/passwd"), "passwd");
        assert_eq!(sanitize("CON"), "_CON");
        assert_eq!(sanitize("evil\u{202e}gpj.exe"), "evilgpj.exe");
        assert!(sanitize(&long).ends_with(".iso"));
    }

    #[test]
    fn a_users_file_name_must_already_be_plain() {
        assert!(check_plain_name("report (1).pdf").is_ok());
        for bad in ["../x", "/etc/passwd", "a/b", "..", "a\0b"] {
            assert!(
                matches!(check_plain_name(bad), Err(EngineError::OutsideRoot { .. })),
                "{bad:?}"
            );
        }
        assert!(matches!(
            check_plain_name("CON"),
            Err(EngineError::InvalidParam { .. })
        ));
    }

    #[test]
    fn content_disposition_prefers_the_extended_name() {
        let h = r#"attachment; filename="plain.txt"; filename*=UTF-8''%E2%82%AC%20rates.txt"#;
        assert_eq!(content_disposition_name(h).as_deref(), Some("€ rates.txt"));
        let h = r#"attachment; filename="a \"quoted\"; name.txt""#;
        assert_eq!(
            content_disposition_name(h).as_deref(),
            Some(r#"a "quoted"; name.txt"#)
        );
        assert_eq!(
            content_disposition_name("attachment; filename=x.bin").as_deref(),
            Some("x.bin")
        );
        assert_eq!(content_disposition_name("inline"), None);
    }

    #[test]
    fn url_names_are_the_decoded_last_segment() {
        let url = url::Url::parse("http://h/a/b%20c.tar.gz/?q=1").unwrap();
        assert_eq!(url_name(&url).as_deref(), Some("b c.tar.gz"));
        assert_eq!(url_name(&url::Url::parse("http://h/").unwrap()), None);
    }

    #[test]
    fn taken_names_are_renamed_before_the_extension() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.tar.gz"), b"").unwrap();
        let chosen =
            choose_path(dir.path(), "a.tar.gz", Overwrite::Rename, &HashSet::new()).unwrap();
        assert_eq!(chosen, dir.path().join("a (1).tar.gz"));
        let reserved = HashSet::from([chosen]);
        let next = choose_path(dir.path(), "a.tar.gz", Overwrite::Rename, &reserved).unwrap();
        assert_eq!(next, dir.path().join("a (2).tar.gz"));
        let err = choose_path(dir.path(), "a.tar.gz", Overwrite::Fail, &reserved).unwrap_err();
        assert_eq!(err.code, FailureCode::DestinationExists);
    }

    #[test]
    fn a_no_replace_rename_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        std::fs::write(&a, b"new").unwrap();
        std::fs::write(&b, b"theirs").unwrap();
        let err = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).unwrap(), b"theirs");
        rename_noreplace(&a, &c).unwrap();
        assert!(!a.exists());
        assert_eq!(std::fs::read(&c).unwrap(), b"new");
    }

    #[test]
    fn directories_cannot_escape_the_root_even_through_symlinks() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root_path = root.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(outside.path(), root_path.join("link")).unwrap();
        for bad in ["../x", "/etc", "a/../../x", "link", "link/sub", "a\\..\\b"] {
            assert!(
                matches!(
                    resolve_dir(&root_path, Some(bad)),
                    Err(EngineError::OutsideRoot { .. })
                ),
                "{bad:?}"
            );
        }
        let inside = resolve_dir(&root_path, Some("a/b")).unwrap();
        assert_eq!(inside, root_path.join("a/b"));
    }
}
