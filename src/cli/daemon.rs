//! `haul daemon`: the engine behind the JSON-RPC port, until SIGINT/SIGTERM.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

use haul::api::DaemonApiServer;
use haul::aria2::{self, server::Aria2Config, Aria2};
use haul::engine::{Engine, EngineConfig};
use haul::rpc::auth::{read_secret_file, Token, TokenSource};
use haul::rpc::handlers::Handlers;
use haul::rpc::listen::{self, Address, AllowList, Listener};
use haul::rpc::push::{Push, PushConfig};
use haul::rpc::server::{self, ServeConfig};
use haul::rpc::tls::RpcTls;
use haul::rpc::tokens::Tokens;

use super::network::NetworkArgs;
use super::{paths, values};

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Where to serve JSON-RPC: HOST:PORT, or unix:PATH for a unix socket (mode 0660, plain
    /// HTTP); repeatable. Sockets passed by systemd (socket activation) are served too.
    /// [default: 127.0.0.1:6801, unless systemd passed sockets]
    #[arg(long, env = "HAUL_LISTEN", value_delimiter = ',')]
    listen: Vec<Address>,
    /// Serve on every interface (on --listen's port) instead of loopback only; needs TLS
    /// (--rpc-certificate) or --rpc-allow-insecure.
    #[arg(long, env = "HAUL_RPC_LISTEN_ALL")]
    rpc_listen_all: bool,
    /// Only serve TCP peers in this network (CIDR, e.g. 192.168.1.0/24 or 10.0.0.7/32), on both
    /// ports; repeatable. Others are disconnected before anything is read.
    #[arg(
        long = "rpc-allow-ip",
        env = "HAUL_RPC_ALLOW_IP",
        value_delimiter = ','
    )]
    rpc_allow_ips: Vec<IpNet>,
    /// Serve HTTPS and WSS with this PEM certificate (chain); read again on SIGHUP.
    #[arg(long, env = "HAUL_RPC_CERTIFICATE", requires = "rpc_private_key")]
    rpc_certificate: Option<PathBuf>,
    /// The PEM private key of --rpc-certificate.
    #[arg(long, env = "HAUL_RPC_PRIVATE_KEY", requires = "rpc_certificate")]
    rpc_private_key: Option<PathBuf>,
    /// Serve beyond loopback over plain HTTP: only behind a TLS-terminating proxy.
    #[arg(long, env = "HAUL_RPC_ALLOW_INSECURE")]
    rpc_allow_insecure: bool,
    /// The token clients must send (at least 16 bytes); default: generated at first start and
    /// stored in the state directory. On the command line other local users can read it from the
    /// process list: prefer --rpc-secret-file or HAUL_RPC_SECRET.
    #[arg(
        long,
        env = "HAUL_RPC_SECRET",
        hide_env_values = true,
        conflicts_with = "rpc_secret_file"
    )]
    rpc_secret: Option<String>,
    /// A file holding the token clients must send (surrounding whitespace trimmed); it must be
    /// readable by its owner only.
    #[arg(long, env = "HAUL_RPC_SECRET_FILE")]
    rpc_secret_file: Option<PathBuf>,
    /// Download root: every download is saved inside it. [default: the XDG download directory]
    #[arg(long, env = "HAUL_DIR")]
    dir: Option<PathBuf>,
    /// Where the database and the token live. [default: $XDG_STATE_HOME/haul]
    #[arg(long, env = "HAUL_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// How many downloads may be active at once (one that only waits a second or more to retry
    /// lends its slot to the next queued one).
    #[arg(long, env = "HAUL_MAX_CONCURRENT", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    max_concurrent: u32,
    /// An origin (scheme://host[:port]) whose pages may call the API; repeatable.
    #[arg(
        long = "allow-origin",
        env = "HAUL_ALLOW_ORIGIN",
        value_delimiter = ','
    )]
    allow_origins: Vec<String>,
    /// Largest response in bytes (a WebSocket message is bounded by it too).
    #[arg(long, env = "HAUL_MAX_RESPONSE_SIZE", default_value_t = 16 * 1024 * 1024, value_parser = clap::value_parser!(u32).range(256 * 1024..))]
    max_response_size: u32,
    /// Largest request in bytes: an HTTP body, or one WebSocket call's params.
    #[arg(long, env = "HAUL_MAX_REQUEST_SIZE", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u32).range(256 * 1024..))]
    max_request_size: u32,
    /// Most calls in one JSON-RPC batch.
    #[arg(long, env = "HAUL_MAX_BATCH", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    max_batch: u32,
    /// Threads serving connections, each with its own share of them. [default: one per core]
    #[arg(long, env = "HAUL_RPC_THREADS", value_parser = clap::value_parser!(u32).range(1..=1024))]
    rpc_threads: Option<u32>,
    /// Most connections served at once.
    #[arg(long, env = "HAUL_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Messages buffered per connection before the daemon waits for the client.
    #[arg(long, env = "HAUL_CONNECTION_BUFFER", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    connection_buffer: u32,
    /// A WebSocket client whose buffer stays full this long is disconnected.
    #[arg(long, env = "HAUL_SLOW_CLIENT_TIMEOUT", default_value = "30s", value_parser = values::positive_duration)]
    slow_client_timeout: Duration,
    /// How often WebSocket connections are pinged; a client that leaves two pings in a row
    /// unanswered is disconnected.
    #[arg(long, env = "HAUL_WS_PING_INTERVAL", default_value = "30s", value_parser = values::positive_duration)]
    ws_ping_interval: Duration,
    /// Notifications kept for replay to reconnecting clients (`events.subscribe` with `since`):
    /// every state change, and the latest progress of each download.
    #[arg(long, env = "HAUL_EVENT_WINDOW", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    event_window: u32,
    /// The most downloads kept, finished ones included; remove some to add more.
    #[arg(long, env = "HAUL_MAX_DOWNLOADS", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_downloads: u64,
    /// Failed tries in a row (of a range, or of the first request) before transient failures
    /// fail a download; 0 retries for ever.
    #[arg(long, env = "HAUL_MAX_TRIES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=1000))]
    max_tries: u32,
    /// The longest wait a server's Retry-After (on 429 and 503) is granted.
    #[arg(long, env = "HAUL_MAX_RETRY_WAIT", default_value = "5m", value_parser = humantime::parse_duration)]
    max_retry_wait: Duration,
    /// Wait before the first retry; it doubles, with jitter, for each further one.
    #[arg(long, env = "HAUL_RETRY_WAIT", default_value = "500ms", value_parser = humantime::parse_duration)]
    retry_wait: Duration,
    /// A connection that receives nothing for this long is retried.
    #[arg(long, env = "HAUL_STALL_TIMEOUT", default_value = "30s", value_parser = values::positive_duration)]
    stall_timeout: Duration,
    /// Also serve aria2's JSON-RPC (POST/GET /jsonrpc and its WebSocket) on this address, for
    /// aria2 clients (AriaNg, browser extensions, aria2p); 127.0.0.1:6800 is aria2's own.
    #[arg(long, env = "HAUL_ARIA2_LISTEN")]
    aria2_listen: Option<SocketAddr>,
    /// The secret aria2 clients send as "token:SECRET". [default: the daemon's token]
    #[arg(long, env = "HAUL_ARIA2_SECRET", hide_env_values = true)]
    aria2_secret: Option<String>,
    #[command(flatten)]
    network: NetworkArgs,
    #[cfg(feature = "cluster")]
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// Several daemons as one: see the README's "Running several daemons".
#[cfg(feature = "cluster")]
#[derive(Debug, clap::Args)]
struct ClusterArgs {
    /// Share downloads with the other daemons on this PostgreSQL database
    /// (postgres://USER[:PASSWORD]@HOST[:PORT]/DB); the download root must be a directory every
    /// node sees. Created and migrated at first start.
    #[arg(long, env = "HAUL_CLUSTER_DB", hide_env_values = true)]
    cluster_db: Option<String>,
    /// This node's name in the cluster (download.status shows it). [default: HOST-PID]
    #[arg(long, env = "HAUL_NODE_NAME", requires = "cluster_db")]
    node_name: Option<String>,
    /// How long a node that stops renewing keeps its downloads before others take them over.
    #[arg(long, env = "HAUL_CLUSTER_LEASE", default_value = "30s", value_parser = values::positive_duration)]
    cluster_lease: Duration,
    /// How often the node renews its lease, reaps dead nodes and claims downloads (at most a
    /// third of --cluster-lease).
    #[arg(long, env = "HAUL_CLUSTER_RENEW", default_value = "5s", value_parser = values::positive_duration)]
    cluster_renew: Duration,
}

#[cfg(feature = "cluster")]
impl ClusterArgs {
    fn config(&self, event_window: u32) -> Result<Option<haul::engine::ClusterConfig>> {
        let Some(url) = &self.cluster_db else {
            return Ok(None);
        };
        if self.cluster_renew.saturating_mul(3) > self.cluster_lease {
            anyhow::bail!(
                "--cluster-renew {} is more than a third of --cluster-lease {}: one late renewal would lose the lease\nhint: renew at least three times per lease",
                humantime::format_duration(self.cluster_renew),
                humantime::format_duration(self.cluster_lease)
            );
        }
        let node_name = match &self.node_name {
            Some(name) => name.clone(),
            None => format!("{}-{}", host_name(), std::process::id()),
        };
        Ok(Some(haul::engine::ClusterConfig {
            url: url.clone(),
            node_name,
            lease: self.cluster_lease,
            renew_every: self.cluster_renew,
            event_window: u64::from(event_window),
        }))
    }
}

/// This machine's host name, for a node's default name.
#[cfg(feature = "cluster")]
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "haul".to_owned())
}

/// A secret given as a flag is in the process list for every local user to
/// read (a variable or a file is not): said once, at start.
fn warn_of_secrets_on_the_command_line() {
    for flag in ["--rpc-secret", "--aria2-secret"] {
        let given = std::env::args().any(|arg| arg == flag || arg.starts_with(&format!("{flag}=")));
        if given {
            tracing::warn!("{flag} on the command line can be read by other users of this machine (ps); prefer --rpc-secret-file or the HAUL_* variable");
        }
    }
}

pub async fn run(args: DaemonArgs) -> Result<()> {
    let state_dir = match args.state_dir {
        Some(dir) => dir,
        None => paths::default_state_dir()?,
    };
    let download_root = match args.dir {
        Some(dir) => dir,
        None => paths::default_download_dir()?,
    };
    warn_of_secrets_on_the_command_line();
    let chosen = match &args.rpc_secret_file {
        Some(path) => Some(
            read_secret_file(path)
                .with_context(|| format!("cannot use --rpc-secret-file {}", path.display()))?,
        ),
        None => args.rpc_secret.clone(),
    };
    let (token, source) = Token::load_or_generate(chosen.as_deref(), &state_dir)?;
    match source {
        TokenSource::Given => tracing::info!(
            "rpc secret: given by --rpc-secret-file, --rpc-secret or HAUL_RPC_SECRET"
        ),
        TokenSource::Stored(path) => {
            tracing::info!(path = %path.display(), "rpc secret: read from the state directory")
        }
        TokenSource::Generated(path) => {
            tracing::info!(path = %path.display(), "rpc secret: generated (mode 0600)")
        }
    }

    // Checked before anything starts: a refused secret leaves nothing behind.
    let aria2_secret = match &args.aria2_secret {
        Some(secret) => Some(Token::chosen(secret).context("invalid --aria2-secret")?),
        None => None,
    };
    if let Some(address) = args.aria2_listen {
        if !address.ip().is_loopback() && !args.rpc_listen_all {
            anyhow::bail!(
                "--aria2-listen {address} is not a loopback address\nhint: serving beyond this machine needs --rpc-listen-all too"
            );
        }
    }

    let tls = match (&args.rpc_certificate, &args.rpc_private_key) {
        (Some(cert), Some(key)) => Some(Arc::new(
            RpcTls::load(cert.clone(), key.clone()).context("cannot serve TLS on the RPC port")?,
        )),
        _ => None,
    };

    let mut config = EngineConfig::new(&download_root, Some(state_dir.clone()));
    config.max_concurrent = args.max_concurrent as usize;
    config.max_tries = args.max_tries;
    config.max_downloads = args.max_downloads;
    config.retry_base_delay = args.retry_wait;
    config.max_retry_wait = args.max_retry_wait;
    config.stall_timeout = args.stall_timeout;
    config.network = args.network.config()?;
    #[cfg(feature = "cluster")]
    let cluster = args.cluster.config(args.event_window)?;
    #[cfg(not(feature = "cluster"))]
    let cluster: Option<()> = None;
    let engine = match cluster {
        #[cfg(feature = "cluster")]
        Some(cluster) => {
            let shown = haul::cluster::shown_url(&cluster.url);
            Engine::open_cluster(config, cluster)
                .await
                .with_context(|| format!("cannot start as a node of the cluster at {shown}"))?
        }
        _ => Engine::open(config).await.with_context(|| {
            format!(
                "cannot start the engine (state directory {})",
                state_dir.display()
            )
        })?,
    };

    let listeners = bind(&args.listen, args.rpc_listen_all).await?;
    let beyond_loopback = listeners.iter().any(|listener| !listener.is_local())
        || args
            .aria2_listen
            .is_some_and(|address| !address.ip().is_loopback());
    match (&tls, beyond_loopback, args.rpc_allow_insecure) {
        (None, true, false) => anyhow::bail!(
            "serving beyond this machine over plain HTTP would send the token, and every URL, header and cookie clients send, in clear\nhint: give --rpc-certificate FILE --rpc-private-key FILE, or --rpc-allow-insecure if a TLS-terminating proxy fronts the daemon"
        ),
        (None, true, true) => tracing::warn!(
            "serving beyond this machine over plain HTTP (--rpc-allow-insecure): only a TLS-terminating proxy in front keeps the token secret"
        ),
        _ => {}
    }
    let allowed_ips = AllowList::new(args.rpc_allow_ips.clone());
    let addresses = listeners
        .iter()
        .map(Listener::address)
        .collect::<std::io::Result<Vec<_>>>()
        .context("cannot read the bound address")?;

    let push = Push::new(&PushConfig {
        send_timeout: args.slow_client_timeout,
        window: args.event_window as usize,
        ..PushConfig::default()
    });
    let pump = tokio::spawn(haul::rpc::pump::run(engine.subscribe(), push.clone()));
    let tokens = Arc::new(Tokens::open(&state_dir).context("cannot read the named tokens")?);
    let methods = Handlers::new(engine.clone(), push.clone(), tokens.clone())
        .into_rpc()
        .into();
    let serve_config = ServeConfig {
        allowed_origins: args.allow_origins.clone(),
        max_request_size: args.max_request_size,
        max_response_size: args.max_response_size,
        max_batch: args.max_batch,
        max_connections: args.max_connections,
        connection_buffer: args.connection_buffer,
        ws_ping_interval: args.ws_ping_interval,
        threads: match args.rpc_threads {
            Some(threads) => threads as usize,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        },
        tls: tls.clone(),
        allowed_ips: allowed_ips.clone(),
    };

    let shutdown = CancellationToken::new();
    let aria2 = match args.aria2_listen {
        None => None,
        Some(address) => {
            let listener = Listener::bind(&Address::Tcp(address)).await.with_context(|| {
                format!("cannot listen on {address} for aria2 clients\nhint: is aria2 itself running there? pick another address with --aria2-listen")
            })?;
            let local = listener
                .address()
                .context("cannot read the aria2 port's address")?;
            let secret = aria2_secret.unwrap_or_else(|| token.clone());
            let adapter = Aria2::new(engine.clone(), secret, shutdown.clone());
            let config = Aria2Config {
                allowed_origins: args.allow_origins.clone(),
                max_request_size: args.max_request_size,
                max_connections: args.max_connections,
                tls: tls.clone(),
                allowed_ips: allowed_ips.clone(),
            };
            let serving = tokio::spawn(aria2::server::serve(
                listener,
                adapter,
                config,
                shutdown.clone(),
            ));
            Some((local, serving))
        }
    };
    // Installed before the daemon says it is ready, so an early SIGTERM is
    // a clean stop too.
    let (interrupt, terminate) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    );
    let (mut interrupt, mut terminate) = (
        interrupt.context("cannot handle SIGINT")?,
        terminate.context("cannot handle SIGTERM")?,
    );
    // SIGHUP reads the certificate again. Handled without one too: its
    // default would kill the daemon without a checkpoint (`systemctl reload`).
    let mut hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
    let reloadable = tls.clone();
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            match reloadable.as_ref().map(|tls| tls.reload()) {
                None => tracing::info!("SIGHUP: nothing to read again (no --rpc-certificate)"),
                Some(Ok(())) => tracing::info!("SIGHUP: the RPC port's certificate is read again"),
                Some(Err(e)) => {
                    tracing::error!(error = %e, "SIGHUP: cannot read the RPC port's certificate; the one in use stays")
                }
            }
        }
    });
    let stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
        }
        stop.cancel();
        // A second signal while stopping means "now".
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::warn!("second signal: exiting without waiting for the checkpoint");
        std::process::exit(130);
    });
    tracing::info!(root = %engine.download_root().display(), state = %state_dir.display(), "downloads go to the download root");
    // One plain line per listener on stdout, for people and for scripts
    // that start the daemon on port 0.
    let (http, ws) = match tls {
        Some(_) => ("https", "wss"),
        None => ("http", "ws"),
    };
    for address in &addresses {
        match address {
            Address::Tcp(local) => println!(
                "haul daemon listening on {http}://{local}/jsonrpc (WebSocket {ws}://{local}/jsonrpc/ws)"
            ),
            Address::Unix(_) => println!("haul daemon listening on {address} (HTTP and WebSocket)"),
        }
    }
    if let Some((aria2, _)) = &aria2 {
        println!("aria2-compatible RPC listening on {http}://{aria2}/jsonrpc (WebSocket {ws}://{aria2}/jsonrpc)");
    }
    server::serve(
        listeners,
        serve_config,
        token,
        tokens,
        methods,
        push,
        shutdown.clone(),
    )
    .await
    .context("the RPC server failed")?;
    // `aria2.shutdown` stops the main port too; either way both are done.
    shutdown.cancel();
    if let Some((_, serving)) = aria2 {
        match serving.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "the aria2 port failed"),
            Err(e) => tracing::warn!(error = %e, "the aria2 port's task failed"),
            Ok(Ok(())) => {}
        }
    }

    tracing::info!("stopping: checkpointing unfinished downloads so they resume at the next start");
    engine.shutdown().await;
    let _ = tokio::time::timeout(Duration::from_secs(1), pump).await;
    tracing::info!("stopped");
    Ok(())
}

/// The API's listeners: the sockets systemd passed, if it passed some
/// (a unit's `--listen` names the same addresses for a start without its
/// socket unit, and they are in use then); else every `--listen`
/// (127.0.0.1:6801 by default), with `--rpc-listen-all` a TCP one on every
/// interface at its port.
async fn bind(listen: &[Address], listen_all: bool) -> Result<Vec<Listener>> {
    let activated = listen::activated().context("cannot use the sockets systemd passed")?;
    if !activated.is_empty() {
        if !listen.is_empty() {
            tracing::info!("serving the sockets systemd passed; --listen is not used");
        }
        return Ok(activated);
    }
    let mut listeners = Vec::new();
    let mut addresses = listen.to_vec();
    if addresses.is_empty() {
        addresses.push(paths::DEFAULT_LISTEN.parse().map_err(anyhow::Error::msg)?);
    }
    for address in addresses {
        if let Address::Tcp(tcp) = address {
            if !tcp.ip().is_loopback() && !listen_all {
                anyhow::bail!(
                    "--listen {tcp} is not a loopback address\nhint: serving beyond this machine needs --rpc-listen-all too"
                );
            }
        }
        let hint = match &address {
            Address::Unix(path) => format!(
                "hint: can the daemon's user create {}? is another daemon serving it?",
                path.display()
            ),
            Address::Tcp(_) => {
                "hint: is another daemon running? pick another address with --listen".into()
            }
        };
        let candidates = match address {
            // Every interface: IPv6 and (dual-stack) IPv4, or IPv4 alone
            // where the machine has no IPv6.
            Address::Tcp(tcp) if listen_all => vec![
                Address::Tcp(SocketAddr::from((Ipv6Addr::UNSPECIFIED, tcp.port()))),
                Address::Tcp(SocketAddr::from((Ipv4Addr::UNSPECIFIED, tcp.port()))),
            ],
            address => vec![address],
        };
        let mut bound = Err(std::io::Error::other("no address to listen on"));
        for candidate in &candidates {
            bound = Listener::bind(candidate).await;
            if bound.is_ok() {
                break;
            }
        }
        let last = &candidates[candidates.len() - 1];
        listeners.push(bound.with_context(|| format!("cannot listen on {last}\n{hint}"))?);
    }
    Ok(listeners)
}
