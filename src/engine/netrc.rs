//! Logins from a `.netrc` (`--netrc`, as curl's `-n` reads it): a download
//! whose URL names no user gets the `login` and `password` of its host's
//! `machine` entry (else of `default`), sent as Basic auth like a
//! `user:password@` in the URL, and never shown.

use url::Url;

/// One `machine` (or the `default`) entry.
#[derive(Clone, PartialEq, Eq)]
pub struct NetrcEntry {
    /// `None` for `default`.
    pub machine: Option<String>,
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for NetrcEntry {
    // The password is a secret: logs get the machine and the login.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let machine = self.machine.as_deref().unwrap_or("default");
        write!(f, "{}@{machine}", self.login)
    }
}

/// The entries of a `.netrc`: whitespace-separated tokens, `machine NAME`
/// or `default` opening an entry, `login`, `password` and `account` inside
/// it; `macdef` skips to the next blank line, `#` comments to the line's end.
pub fn parse_netrc(text: &str) -> Result<Vec<NetrcEntry>, String> {
    let mut tokens = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.split('#').next().unwrap_or_default();
        for word in line.split_whitespace() {
            if word == "macdef" {
                // A macro's body runs to the next blank line.
                for body in lines.by_ref() {
                    if body.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            tokens.push(word.to_owned());
        }
    }
    let mut entries = Vec::new();
    let mut tokens = tokens.into_iter();
    let mut current: Option<(Option<String>, Option<String>, Option<String>)> = None;
    let flush = |current: &mut Option<(Option<String>, Option<String>, Option<String>)>,
                 entries: &mut Vec<NetrcEntry>| {
        if let Some((machine, Some(login), password)) = current.take() {
            entries.push(NetrcEntry {
                machine,
                login,
                password: password.unwrap_or_default(),
            });
        }
    };
    while let Some(token) = tokens.next() {
        let mut value = |what: &str| {
            tokens
                .next()
                .ok_or_else(|| format!("`{token}` at the end of the file wants {what}"))
        };
        match token.as_str() {
            "machine" => {
                let name = value("a host name")?;
                flush(&mut current, &mut entries);
                current = Some((Some(name.to_ascii_lowercase()), None, None));
            }
            "default" => {
                flush(&mut current, &mut entries);
                current = Some((None, None, None));
            }
            "login" | "password" | "account" => {
                let text = value("a value")?;
                let Some(entry) = current.as_mut() else {
                    return Err(format!("`{token}` before any `machine` or `default`"));
                };
                match token.as_str() {
                    "login" => entry.1 = Some(text),
                    "password" => entry.2 = Some(text),
                    _ => {}
                }
            }
            other => return Err(format!("unexpected `{other}`")),
        }
    }
    flush(&mut current, &mut entries);
    Ok(entries)
}

/// `url` with the login of its host from `entries`, when it names no user.
pub(crate) fn with_login(entries: &[NetrcEntry], url: &Url) -> Url {
    if !url.username().is_empty() {
        return url.clone();
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let entry = entries
        .iter()
        .find(|e| e.machine.as_deref() == Some(host.as_str()))
        .or_else(|| entries.iter().find(|e| e.machine.is_none()));
    let mut url = url.clone();
    if let Some(entry) = entry {
        let _ = url.set_username(&entry.login);
        let _ = url.set_password(Some(&entry.password));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETRC: &str = "# logins\n\
        machine files.example.com login ada password s3cret\n\
        macdef init\n\
        cd /pub\n\
        \n\
        machine Other.Example login bob\n\
          password pw account x\n\
        default login anonymous password guest@\n";

    #[test]
    fn a_netrc_gives_each_host_its_login_then_the_default_and_never_overrides_the_urls() {
        let entries = parse_netrc(NETRC).unwrap();
        assert_eq!(entries.len(), 3, "{entries:?}");
        let login = |u: &str| with_login(&entries, &Url::parse(u).unwrap()).to_string();
        assert_eq!(
            login("https://files.example.com/f"),
            "https://ada:s3cret@files.example.com/f"
        );
        assert_eq!(
            login("https://other.example/f"),
            "https://bob:pw@other.example/f"
        );
        assert_eq!(
            login("https://else.example/f"),
            "https://anonymous:guest%40@else.example/f"
        );
        assert_eq!(
            login("https://me:mine@files.example.com/f"),
            "https://me:mine@files.example.com/f"
        );
        assert_eq!(format!("{:?}", entries[0]), "ada@files.example.com");
    }

    #[test]
    fn a_malformed_netrc_is_refused_saying_where() {
        assert!(parse_netrc("machine")
            .unwrap_err()
            .contains("wants a host name"));
        assert!(parse_netrc("login ada")
            .unwrap_err()
            .contains("before any `machine`"));
        assert!(parse_netrc("machine h login a passwd x")
            .unwrap_err()
            .contains("`passwd`"));
    }
}
