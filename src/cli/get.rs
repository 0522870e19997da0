//! `haul get URL…`: downloads with the engine in this process, no daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use haul::engine::{
    AddRequest, Checksum, Engine, EngineConfig, DEFAULT_CONNECTIONS, MAX_CONNECTIONS,
};
use haul::rpc::pump;

use super::board::{Board, Lines};
use super::network::{DownloadNetworkArgs, NetworkArgs};
use super::values;

/// The stream `haul get`'s notifications are numbered in: this process.
const STREAM_ID: &str = "haul-get";

/// Download URLs now, in this process (no daemon needed).
#[derive(Debug, Args)]
pub struct GetArgs {
    /// What to download (http or https).
    #[arg(required = true, value_name = "URL")]
    urls: Vec<String>,
    /// Save as this file (only with a single URL).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Save into this directory [default: the current directory].
    #[arg(short, long, value_name = "DIR")]
    dir: Option<PathBuf>,
    #[arg(short = 'x', long, value_name = "N", default_value_t = DEFAULT_CONNECTIONS,
          help = format!("Connections per download (1-{MAX_CONNECTIONS})"),
          value_parser = clap::value_parser!(u16).range(1..=i64::from(MAX_CONNECTIONS)))]
    connections: u16,
    /// An extra request header, e.g. "Authorization: Bearer …" (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Verify the result: sha-256=<hex> or sha-512=<hex>.
    #[arg(long, value_name = "ALGO=HEX")]
    checksum: Option<String>,
    /// Overall speed limit in bytes per second; K, M and G suffixes (1024-based).
    #[arg(long, value_name = "RATE", value_parser = values::parse_rate)]
    limit_rate: Option<u64>,
    #[command(flatten)]
    download_network: DownloadNetworkArgs,
    #[command(flatten)]
    network: NetworkArgs,
}

pub async fn run(mut args: GetArgs) -> anyhow::Result<ExitCode> {
    let (root, file_name) = destination(&args)?;
    let template = request_template(&args, file_name)?;
    let mut config = EngineConfig::new(root, None);
    config.network = std::mem::take(&mut args.network).config()?;
    config.global_speed_limit = args.limit_rate.unwrap_or(0);
    // An explicit -x beats the per-host politeness default.
    config.max_connections_per_host = config
        .max_connections_per_host
        .max(usize::from(args.connections));
    let engine = Engine::open(config)
        .await
        .context("cannot start the download engine")?;
    let mut events = engine.subscribe();

    // The engine's events go through the daemon's own mapping to
    // notifications, and onto the board `haul watch` draws with.
    let mut board = Board::fixed(Lines::ByName);
    let mut failed = 0;
    for url in &args.urls {
        let request = AddRequest {
            url: url.clone(),
            ..template.clone()
        };
        match engine.add(request).await {
            Ok(gid) => board.track(&gid.to_string(), url),
            Err(e) => {
                board.say(&format!("error: cannot download {url}: {e}"));
                failed += 1;
            }
        }
    }

    let mut seq = 0;
    while !board.all_finished() {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = tokio::signal::ctrl_c() => {
                engine.shutdown().await;
                eprintln!("interrupted: unfinished downloads are left as .part files");
                return Ok(ExitCode::from(130));
            }
        };
        let Some(event) = event else { break };
        if let Some(notification) = pump::notification(event, None, seq + 1, STREAM_ID.to_owned()) {
            seq += 1;
            board.apply(&notification);
        }
    }
    failed += board.failures().len();
    engine.shutdown().await;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The download root and the file name `-o`/`-d` ask for.
fn destination(args: &GetArgs) -> anyhow::Result<(PathBuf, Option<String>)> {
    let mut root = match &args.dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let Some(output) = &args.output else {
        return Ok((root, None));
    };
    if args.urls.len() > 1 {
        bail!(
            "--output names one file but {} URLs were given\nhint: use --dir for several downloads",
            args.urls.len()
        );
    }
    let name = output
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("invalid --output {}: it names no file", output.display()))?;
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        root = root.join(parent);
    }
    Ok((root, Some(name.to_owned())))
}

fn request_template(args: &GetArgs, file_name: Option<String>) -> anyhow::Result<AddRequest> {
    let mut request = AddRequest {
        file_name,
        connections: Some(args.connections),
        proxy: args.download_network.proxy.clone(),
        insecure: args.download_network.insecure,
        cookies: args.download_network.cookies.clone(),
        ..AddRequest::default()
    };
    request.headers = values::parse_headers(&args.headers)?;
    if let Some(checksum) = &args.checksum {
        let parsed: Checksum = checksum
            .parse()
            .with_context(|| format!("invalid --checksum {checksum:?}"))?;
        request.checksum = Some(parsed);
    }
    Ok(request)
}
