//! The client commands that manage downloads: add, ls, status, pause,
//! resume, rm, version.

use anyhow::{bail, Context, Result};
use clap::Args;

use haul::api::{
    DownloadAddParams, DownloadListParams, DownloadPauseParams, DownloadRemoveParams,
    DownloadResumeParams, DownloadSetUrlParams, DownloadState, DownloadStatus,
    DownloadStatusParams, OverwritePolicy,
};
use haul::engine::MAX_CONNECTIONS;

use super::network::DownloadNetworkArgs;
use super::remote::RemoteArgs;
use super::values::{bytes, duration, parse_headers};
use super::{values, watch};

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The http(s) URLs to download.
    #[arg(required = true)]
    urls: Vec<String>,
    /// Save as this file name (with a single URL).
    #[arg(short = 'o', long = "output")]
    file_name: Option<String>,
    /// Another URL of the same file, to download from at once (with a single URL); repeatable.
    #[arg(long = "mirror", value_name = "URL")]
    mirrors: Vec<String>,
    /// A directory inside the daemon's download root.
    #[arg(short, long)]
    dir: Option<String>,
    #[arg(short = 'x', long, help = format!("Connections per download (1 to {MAX_CONNECTIONS})"),
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_CONNECTIONS)))]
    connections: Option<u32>,
    /// An extra request header, `Name: value`; repeatable.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The expected digest, `sha-256=<hex>` or `sha-512=<hex>`.
    #[arg(long)]
    checksum: Option<String>,
    /// Speed limit per download in bytes per second (suffixes K, M, G).
    #[arg(long, value_parser = values::parse_rate)]
    limit_rate: Option<u64>,
    /// What to do when the file exists.
    #[arg(long, value_parser = clap::value_parser!(OverwritePolicy))]
    overwrite: Option<OverwritePolicy>,
    /// Add paused.
    #[arg(long, conflicts_with = "wait")]
    paused: bool,
    /// Show progress and wait until every download finishes; fail if any fails.
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    network: DownloadNetworkArgs,
}

pub async fn add(remote: &RemoteArgs, args: AddArgs) -> Result<()> {
    if args.file_name.is_some() && args.urls.len() > 1 {
        bail!("--output names one file, but {} URLs were given\nhint: use --dir, or add the URLs one by one", args.urls.len());
    }
    if !args.mirrors.is_empty() && args.urls.len() > 1 {
        bail!("--mirror gives more sources of one file, but {} URLs were given\nhint: give one URL and its mirrors", args.urls.len());
    }
    let headers = parse_headers(&args.headers)?;
    let client = remote.connect().await?;
    // Listen before adding, so no event is missed.
    let events = if args.wait {
        let mut events = client.events();
        events.ready().await.map_err(|e| remote.explain(e))?;
        Some(events)
    } else {
        None
    };
    let mut added = Vec::new();
    for url in &args.urls {
        let params = DownloadAddParams {
            file_name: args.file_name.clone(),
            dir: args.dir.clone(),
            connections: args.connections,
            headers: (!headers.is_empty()).then(|| headers.clone()),
            checksum: args.checksum.clone(),
            speed_limit: args.limit_rate,
            paused: args.paused.then_some(true),
            overwrite: args.overwrite,
            proxy: args.network.proxy.clone(),
            insecure: args.network.insecure.then_some(true),
            cookies: args.network.cookies.clone(),
            urls: (!args.mirrors.is_empty()).then(|| args.mirrors.clone()),
            ..DownloadAddParams::new(url.clone())
        };
        let result = client
            .download_add(&params)
            .await
            .map_err(|e| remote.explain(e))
            .with_context(|| format!("cannot add {url}"))?;
        added.push(result);
    }
    remote.print(&added, || {
        added
            .iter()
            .map(|a| a.gid.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    match events {
        Some(events) => {
            let added: Vec<(String, String)> =
                added.into_iter().map(|a| a.gid).zip(args.urls).collect();
            watch::wait_for(remote, events, &added).await
        }
        None => Ok(()),
    }
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only downloads in these states (comma-separated).
    #[arg(long = "state", value_delimiter = ',', value_parser = clap::value_parser!(DownloadState))]
    states: Vec<DownloadState>,
    /// Skip this many.
    #[arg(long, default_value_t = 0)]
    offset: u64,
    /// Show at most this many (up to 1000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
}

pub async fn ls(remote: &RemoteArgs, args: LsArgs) -> Result<()> {
    let client = remote.connect().await?;
    let params = DownloadListParams {
        states: (!args.states.is_empty()).then_some(args.states),
        offset: Some(args.offset),
        limit: Some(args.limit),
        cursor: None,
    };
    let list = client
        .download_list(&params)
        .await
        .map_err(|e| remote.explain(e))?;
    remote.print(&list, || {
        let mut rows =
            vec![["GID", "STATE", "PROGRESS", "SPEED", "ETA", "NAME"].map(str::to_owned)];
        rows.extend(list.downloads.iter().map(|d| {
            let progress = match d.total_length {
                Some(total) => format!("{}/{}", bytes(d.completed_length), bytes(total)),
                None => bytes(d.completed_length),
            };
            let speed = if d.download_speed > 0 {
                format!("{}/s", bytes(d.download_speed))
            } else {
                "-".into()
            };
            let eta = d.eta.map(duration).unwrap_or_else(|| "-".into());
            [
                d.gid.clone(),
                d.state.to_string(),
                progress,
                speed,
                eta,
                name_of(d),
            ]
        }));
        let shown = list.downloads.len() as u64;
        let mut text = table(&rows);
        if shown < list.total {
            text.push_str(&format!(
                "\n({shown} of {} shown; see --offset and --limit)",
                list.total
            ));
        }
        text
    })
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    gid: String,
}

pub async fn status(remote: &RemoteArgs, args: StatusArgs) -> Result<()> {
    let client = remote.connect().await?;
    let status = client
        .download_status(&DownloadStatusParams::new(args.gid))
        .await
        .map_err(|e| remote.explain(e))?;
    remote.print(&status, || {
        let mut rows = vec![
            ("gid", status.gid.clone()),
            ("state", status.state.to_string()),
            ("url", status.url.clone()),
            ("name", name_of(&status)),
            ("path", status.path.clone().unwrap_or_else(|| "-".into())),
            (
                "size",
                status
                    .total_length
                    .map(bytes)
                    .unwrap_or_else(|| "unknown".into()),
            ),
            ("done", bytes(status.completed_length)),
            ("speed", format!("{}/s", bytes(status.download_speed))),
            (
                "eta",
                status.eta.map(duration).unwrap_or_else(|| "-".into()),
            ),
            ("connections", status.connections.to_string()),
            (
                "limit",
                if status.speed_limit == 0 {
                    "none".into()
                } else {
                    format!("{}/s", bytes(status.speed_limit))
                },
            ),
            (
                "proxy",
                status.proxy.clone().unwrap_or_else(|| "none".into()),
            ),
            ("added", status.created_at.clone()),
        ];
        if status.insecure {
            rows.push(("tls", "NOT VERIFIED (added with --insecure)".into()));
        }
        if let Some(at) = &status.completed_at {
            rows.push(("completed", at.clone()));
        }
        if let Some(error) = &status.error {
            rows.push(("error", format!("{} ({})", error.message, error.code)));
        }
        // With mirrors, each source's part.
        if status.sources.len() > 1 {
            for source in &status.sources {
                let part = match (&source.reason, source.state) {
                    (Some(reason), _) => reason.clone(),
                    (None, state) => format!(
                        "{state}, {} connections, {}/s",
                        source.connections,
                        bytes(source.download_speed)
                    ),
                };
                rows.push(("source", format!("{} ({part})", source.url)));
            }
        }
        rows.iter()
            .map(|(k, v)| format!("{k:<12}{v}"))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[derive(Debug, Args)]
pub struct SetUrlArgs {
    gid: String,
    /// The new http(s) URL.
    new_url: String,
    /// If the new URL serves another file, start again from zero there instead of refusing.
    #[arg(long)]
    restart: bool,
}

pub async fn set_url(remote: &RemoteArgs, args: SetUrlArgs) -> Result<()> {
    let client = remote.connect().await?;
    let params = DownloadSetUrlParams {
        restart: args.restart.then_some(true),
        ..DownloadSetUrlParams::new(args.gid, args.new_url)
    };
    let status = client
        .download_set_url(&params)
        .await
        .map_err(|e| remote.explain(e))?;
    remote.print(&status, || {
        format!(
            "{} {} now downloads from {}",
            status.gid, status.state, status.url
        )
    })
}

#[derive(Debug, Args)]
pub struct GidsArgs {
    #[arg(required = true)]
    pub gids: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    #[arg(required = true)]
    pub gids: Vec<String>,
    /// Also delete the downloaded (or partial) files.
    #[arg(long)]
    pub delete_files: bool,
}

/// What a command does to one download.
#[derive(Clone, Copy)]
pub enum Change {
    Pause,
    Resume,
    Remove { delete_files: bool },
}

pub async fn change(remote: &RemoteArgs, gids: Vec<String>, change: Change) -> Result<()> {
    let client = remote.connect().await?;
    let mut failures = Vec::new();
    let mut results = Vec::new();
    for gid in &gids {
        let outcome = match change {
            Change::Pause => client
                .download_pause(&DownloadPauseParams::new(gid.clone()))
                .await
                .map(serde_json::to_value),
            Change::Resume => client
                .download_resume(&DownloadResumeParams::new(gid.clone()))
                .await
                .map(serde_json::to_value),
            Change::Remove { delete_files } => {
                let params = DownloadRemoveParams {
                    gid: gid.clone(),
                    delete_files: delete_files.then_some(true),
                };
                client
                    .download_remove(&params)
                    .await
                    .map(serde_json::to_value)
            }
        };
        match outcome {
            Ok(value) => {
                results.push(value.context("cannot print JSON")?);
                if !remote.json {
                    let verb = match change {
                        Change::Pause => "paused",
                        Change::Resume => "resumed",
                        Change::Remove { .. } => "removed",
                    };
                    println!("{verb} {gid}");
                }
            }
            Err(e) => failures.push(format!("  {gid}: {:#}", remote.explain(e))),
        }
    }
    if remote.json {
        remote.print(&results, String::new)?;
    }
    if failures.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} of {} failed:\n{}",
            failures.len(),
            gids.len(),
            failures.join("\n")
        )
    }
}

pub async fn version(remote: &RemoteArgs) -> Result<()> {
    let client = remote.connect().await?;
    let daemon = client
        .system_get_version()
        .await
        .map_err(|e| remote.explain(e))?;
    let both = serde_json::json!({"client": env!("CARGO_PKG_VERSION"), "daemon": daemon});
    remote.print(&both, || {
        let commit = daemon
            .commit
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        format!(
            "haul {}\ndaemon {}{commit} at {}",
            env!("CARGO_PKG_VERSION"),
            daemon.version,
            remote.url
        )
    })
}

fn name_of(status: &DownloadStatus) -> String {
    status
        .file_name
        .clone()
        .unwrap_or_else(|| status.url.clone())
}

/// Left-aligned columns separated by two spaces.
fn table(rows: &[[String; 6]]) -> String {
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
