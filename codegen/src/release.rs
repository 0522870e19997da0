//! Released contracts: `contract/released/<version>.json`, each a
//! byte-for-byte copy of `openrpc.json` as it was when that version was
//! released, never edited afterwards. [`load`] reads them in version order;
//! [`check`] holds the history to semantic versioning with the contract
//! checker ([`crate::diff`]): a breaking change needs a new major version
//! (a new minor one before 1.0), and `openrpc.json` is the latest release
//! plus compatible changes, or the next release, copied.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::diff::{self, Change, Class};
use crate::Api;

/// Where the released contracts are, from the repository root.
pub const RELEASED_DIR: &str = "contract/released";

/// A contract version, `major.minor.patch` (no pre-release or build part:
/// a released contract is a release).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    /// The lowest version a breaking change can be released as: the next
    /// major, or before 1.0 (where the minor is the major) the next minor.
    pub fn next_breaking(self) -> Version {
        match self.major {
            0 => Version {
                major: 0,
                minor: self.minor + 1,
                patch: 0,
            },
            major => Version {
                major: major + 1,
                minor: 0,
                patch: 0,
            },
        }
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(text: &str) -> Result<Version, String> {
        let invalid =
            || format!("`{text}` is not a version: expected major.minor.patch, e.g. 0.2.0");
        let parts: Vec<u64> = text
            .split('.')
            .map(|part| {
                // Digits only, and no leading zero, as semver has it.
                let digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
                match part.parse() {
                    Ok(n) if digits && (part == "0" || !part.starts_with('0')) => Ok(n),
                    _ => Err(invalid()),
                }
            })
            .collect::<Result<_, _>>()?;
        match parts[..] {
            [major, minor, patch] => Ok(Version {
                major,
                minor,
                patch,
            }),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// One released contract.
#[derive(Debug, Clone)]
pub struct Release {
    pub version: Version,
    pub api: Api,
}

/// Why the released contracts cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: a released contract is named <version>.json, e.g. 0.2.0.json ({reason})", path.display())]
    Name { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Parse { path: PathBuf, source: crate::Error },
    #[error("{}: its info.version is {found}, not the {expected} its name says", path.display())]
    Mismatch {
        path: PathBuf,
        found: String,
        expected: Version,
    },
}

/// Every released contract in `dir`, oldest first.
pub fn load(dir: &Path) -> Result<Vec<Release>, LoadError> {
    let read_error = |path: &Path| {
        let path = path.to_owned();
        move |source| LoadError::Read { path, source }
    };
    let mut released = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error(dir))? {
        let path = entry.map_err(read_error(dir))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let version = match name.strip_suffix(".json") {
            Some(stem) => stem.parse::<Version>(),
            None => Err("not a .json file".to_owned()),
        }
        .map_err(|reason| LoadError::Name {
            path: path.clone(),
            reason,
        })?;
        let text = std::fs::read_to_string(&path).map_err(read_error(&path))?;
        let api = Api::parse_str(&text).map_err(|source| LoadError::Parse {
            path: path.clone(),
            source,
        })?;
        if api.version != version.to_string() {
            return Err(LoadError::Mismatch {
                path,
                found: api.version,
                expected: version,
            });
        }
        released.push(Release { version, api });
    }
    released.sort_by_key(|r| r.version);
    Ok(released)
}

/// A way the contract's history breaks the versioning rules, with what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `contract/released/` is empty.
    NothingReleased { version: String },
    /// A released contract breaks the one before it without the bump.
    UnversionedBreak {
        from: Version,
        to: Version,
        breaking: Vec<Change>,
    },
    /// `openrpc.json` breaks the latest released contract.
    UnreleasedBreak {
        latest: Version,
        breaking: Vec<Change>,
    },
    /// `openrpc.json` has a newer version that has no released copy.
    NotCopied { version: Version },
    /// `openrpc.json`'s version is older than the latest release, or no
    /// version.
    Behind { version: String, latest: Version },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines =
            |changes: &[Change]| -> String { changes.iter().map(|c| format!("\n  {c}")).collect() };
        match self {
            Problem::NothingReleased { version } => write!(
                f,
                "no released contract in {RELEASED_DIR}/\nhint: copy openrpc.json to {RELEASED_DIR}/{version}.json"
            ),
            Problem::UnversionedBreak { from, to, breaking } => write!(
                f,
                "{RELEASED_DIR}/{to}.json breaks {from}, but a breaking change needs a new major version (a new minor one before 1.0):{}\n\
                 hint: release it as {next} (rename it to {RELEASED_DIR}/{next}.json, with info.version {next}), or make the change compatible",
                lines(breaking),
                next = from.next_breaking(),
            ),
            Problem::UnreleasedBreak { latest, breaking } => write!(
                f,
                "openrpc.json breaks the latest released contract, {latest}:{}\n\
                 hint: bump info.version to {next} and copy openrpc.json to {RELEASED_DIR}/{next}.json \
                 (then regenerate the docs with `{regenerate}`), or make the change compatible",
                lines(breaking),
                next = latest.next_breaking(),
                regenerate = crate::REGENERATE,
            ),
            Problem::NotCopied { version } => write!(
                f,
                "openrpc.json is version {version}, which is not released: {RELEASED_DIR}/{version}.json does not exist\n\
                 hint: a new version is a release: copy openrpc.json to {RELEASED_DIR}/{version}.json \
                 (then regenerate the docs with `{}`), or set info.version back",
                crate::REGENERATE
            ),
            Problem::Behind { version, latest } => write!(
                f,
                "openrpc.json is version {version}, but the latest released contract is {latest}\n\
                 hint: set info.version in openrpc.json to {latest}"
            ),
        }
    }
}

/// Every way `released` (oldest first, as [`load`] returns them) and
/// `current` (`openrpc.json`) break the versioning rules.
pub fn check(released: &[Release], current: &Api) -> Vec<Problem> {
    let breaking = |old: &Api, new: &Api| -> Vec<Change> {
        let changes = diff::diff(old, new).into_iter();
        changes.filter(|c| c.class == Class::Breaking).collect()
    };
    let mut problems = Vec::new();
    for pair in released.windows(2) {
        let (from, to) = (&pair[0], &pair[1]);
        let changes = breaking(&from.api, &to.api);
        if !changes.is_empty() && to.version < from.version.next_breaking() {
            problems.push(Problem::UnversionedBreak {
                from: from.version,
                to: to.version,
                breaking: changes,
            });
        }
    }
    let Some(latest) = released.last() else {
        problems.push(Problem::NothingReleased {
            version: current.version.clone(),
        });
        return problems;
    };
    let changes = breaking(&latest.api, current);
    let unreleased_break = Problem::UnreleasedBreak {
        latest: latest.version,
        breaking: changes.clone(),
    };
    match current.version.parse::<Version>() {
        Ok(version) if version == latest.version => {
            if !changes.is_empty() {
                problems.push(unreleased_break);
            }
        }
        // A bump that is not yet copied: copying it is what is left to do,
        // unless the bump is too small for the changes.
        Ok(version) if version > latest.version => {
            if !changes.is_empty() && version < latest.version.next_breaking() {
                problems.push(unreleased_break);
            } else {
                problems.push(Problem::NotCopied { version });
            }
        }
        _ => {
            problems.push(Problem::Behind {
                version: current.version.clone(),
                latest: latest.version,
            });
            if !changes.is_empty() {
                problems.push(unreleased_break);
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        text.parse().unwrap()
    }

    #[test]
    fn versions_order_by_number_not_by_text() {
        assert!(v("0.10.0") > v("0.9.3"));
        assert!(v("1.0.0") > v("0.99.99"));
        assert_eq!(v("2.3.4").to_string(), "2.3.4");
    }

    #[test]
    fn only_major_minor_patch_is_a_version() {
        for bad in [
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.2.3-rc.1",
            "v1.2.3",
            "1..3",
            "+1.2.3",
        ] {
            let error = bad.parse::<Version>().unwrap_err();
            assert_eq!(
                error,
                format!("`{bad}` is not a version: expected major.minor.patch, e.g. 0.2.0")
            );
        }
    }

    #[test]
    fn a_breaking_change_needs_the_next_major_or_before_1_0_the_next_minor() {
        assert_eq!(v("0.1.3").next_breaking(), v("0.2.0"));
        assert_eq!(v("1.4.2").next_breaking(), v("2.0.0"));
    }
}
