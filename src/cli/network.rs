//! The network flags `haul daemon` and `haul get` share: trusted
//! authorities, the client certificate, the proxies and cookies.txt, made
//! into the engine's [`NetworkConfig`] (with the standard proxy variables
//! under the flags), plus the per-download `--proxy`, `--insecure` and
//! `--cookies` of `haul get` and `haul add`.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;

use haul::engine::{parse_cookies_txt, parse_netrc, NetrcEntry, NetworkConfig, Proxies, ProxyUrl};

#[derive(Debug, Default, Args)]
pub struct NetworkArgs {
    /// Proxy for every URL without a proxy of its scheme: http://, https://, socks5:// or
    /// socks5h:// (names resolved by the proxy), with user:password@ if needed. [default:
    /// ALL_PROXY]
    #[arg(long, env = "HAUL_ALL_PROXY", value_name = "URL", value_parser = proxy_url, hide_env_values = true)]
    all_proxy: Option<ProxyUrl>,
    /// Proxy for http:// URLs. [default: HTTP_PROXY]
    #[arg(long, env = "HAUL_HTTP_PROXY", value_name = "URL", value_parser = proxy_url, hide_env_values = true)]
    http_proxy: Option<ProxyUrl>,
    /// Proxy for https:// URLs. [default: HTTPS_PROXY]
    #[arg(long, env = "HAUL_HTTPS_PROXY", value_name = "URL", value_parser = proxy_url, hide_env_values = true)]
    https_proxy: Option<ProxyUrl>,
    /// Hosts reached without a proxy, as curl reads NO_PROXY: names (with their subdomains),
    /// addresses, CIDR blocks, or * for all. [default: NO_PROXY]
    #[arg(long, env = "HAUL_NO_PROXY", value_name = "LIST")]
    no_proxy: Option<String>,
    /// A PEM bundle of certificate authorities to trust besides the system's store (which
    /// SSL_CERT_FILE and SSL_CERT_DIR replace, as for OpenSSL); repeatable.
    #[arg(
        long = "ca-certificate",
        env = "HAUL_CA_CERTIFICATE",
        value_name = "FILE",
        value_delimiter = ':'
    )]
    ca_certificates: Vec<PathBuf>,
    /// A PEM client certificate (chain) for servers that ask for one; needs --client-key.
    #[arg(
        long,
        env = "HAUL_CLIENT_CERT",
        value_name = "FILE",
        requires = "client_key"
    )]
    client_cert: Option<PathBuf>,
    /// The PEM private key of --client-cert.
    #[arg(
        long,
        env = "HAUL_CLIENT_KEY",
        value_name = "FILE",
        requires = "client_cert"
    )]
    client_key: Option<PathBuf>,
    /// A Netscape cookies.txt (as curl and browser exporters write it): each download sends the
    /// cookies of its hosts and paths.
    #[arg(long, env = "HAUL_LOAD_COOKIES", value_name = "FILE")]
    load_cookies: Option<PathBuf>,
    /// Logins from a .netrc for URLs that name no user (like curl -n); without FILE,
    /// ~/.netrc when there is one.
    #[arg(long, env = "HAUL_NETRC", value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    netrc: Option<PathBuf>,
}

impl NetworkArgs {
    /// The engine's network: these flags, then the standard variables.
    pub fn config(self) -> Result<NetworkConfig> {
        for path in self
            .ca_certificates
            .iter()
            .chain(&self.client_cert)
            .chain(&self.client_key)
        {
            if !path.is_file() {
                bail!("cannot read {}: no such file", path.display());
            }
        }
        let flags = Proxies {
            all: self.all_proxy,
            http: self.http_proxy,
            https: self.https_proxy,
            no_proxy: self.no_proxy,
        };
        let cookies = match &self.load_cookies {
            None => Vec::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the cookies in {}", path.display()))?;
                parse_cookies_txt(&text)
                    .map_err(|reason| anyhow!("invalid cookies in {}: {reason}", path.display()))?
            }
        };
        let netrc = match self.netrc {
            None => Vec::new(),
            Some(path) if path.as_os_str().is_empty() => {
                let home = dirs::home_dir().map(|h| h.join(".netrc"));
                match home.filter(|p| p.is_file()) {
                    Some(path) => read_netrc(&path)?,
                    None => Vec::new(),
                }
            }
            Some(path) => read_netrc(&path)?,
        };
        Ok(NetworkConfig {
            ca_certificates: self.ca_certificates,
            client_certificate: self.client_cert.zip(self.client_key),
            proxies: flags.or(Proxies::from_env()),
            cookies,
            netrc,
        })
    }
}

fn read_netrc(path: &std::path::Path) -> Result<Vec<NetrcEntry>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the logins in {}", path.display()))?;
    parse_netrc(&text).map_err(|reason| anyhow!("invalid .netrc {}: {reason}", path.display()))
}

/// One download's own network choices (`haul get`; `haul add` sends the
/// same to the daemon).
#[derive(Debug, Args)]
pub struct DownloadNetworkArgs {
    /// This download's proxy URL, over the daemon's, or `none` to go direct.
    #[arg(long, value_name = "URL|none", value_parser = proxy_choice)]
    pub proxy: Option<String>,
    /// Skip TLS certificate verification for these downloads. Dangerous: prefer
    /// --ca-certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Cookies for these downloads: a Cookie header value (name=value; …), or @FILE for a
    /// Netscape cookies.txt.
    #[arg(long, value_name = "COOKIES|@FILE", value_parser = cookies_arg)]
    pub cookies: Option<String>,
}

/// `--cookies`: the value itself, or the contents of `@FILE`.
fn cookies_arg(text: &str) -> Result<String, String> {
    match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}")),
        None => Ok(text.to_owned()),
    }
}

fn proxy_url(text: &str) -> Result<ProxyUrl, String> {
    ProxyUrl::parse(text)
}

fn proxy_choice(text: &str) -> Result<String, String> {
    if text != "none" {
        ProxyUrl::parse(text)?;
    }
    Ok(text.to_owned())
}
