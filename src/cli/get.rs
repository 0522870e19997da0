//! `haul get URL…`: downloads with the engine in this process, no daemon.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use haul::engine::{AddRequest, Checksum, Engine, EngineConfig, EngineEvent, DEFAULT_CONNECTIONS};
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressStyle};

use super::values;

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
    /// Connections per download (1-64).
    #[arg(short = 'x', long, value_name = "N", default_value_t = DEFAULT_CONNECTIONS,
          value_parser = clap::value_parser!(u16).range(1..=64))]
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
}

pub async fn run(args: GetArgs) -> anyhow::Result<ExitCode> {
    let (root, file_name) = destination(&args)?;
    let template = request_template(&args, file_name)?;
    let mut config = EngineConfig::new(root, None);
    config.global_speed_limit = args.limit_rate.unwrap_or(0);
    // An explicit -x beats the per-host politeness default.
    config.max_connections_per_host = config
        .max_connections_per_host
        .max(usize::from(args.connections));
    let engine = Engine::open(config)
        .await
        .context("cannot start the download engine")?;
    let mut events = engine.subscribe();

    let display = Display::new(std::io::stderr().is_terminal());
    let mut pending = HashMap::new();
    let mut failed = 0;
    for url in &args.urls {
        let request = AddRequest {
            url: url.clone(),
            ..template.clone()
        };
        match engine.add(request).await {
            Ok(gid) => {
                pending.insert(gid, display.track(url));
            }
            Err(e) => {
                eprintln!("error: cannot download {url}: {e}");
                failed += 1;
            }
        }
    }

    while !pending.is_empty() {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = tokio::signal::ctrl_c() => {
                engine.shutdown().await;
                eprintln!("interrupted: unfinished downloads are left as .part files");
                return Ok(ExitCode::from(130));
            }
        };
        let Some(event) = event else { break };
        let gid = event.gid();
        let Some(item) = pending.get_mut(&gid) else {
            continue;
        };
        match event {
            EngineEvent::Started {
                file_name,
                total_length,
                ..
            } => item.started(&file_name, total_length),
            EngineEvent::Progress {
                completed_length,
                total_length,
                download_speed,
                eta,
                ..
            } => item.progress(completed_length, total_length, download_speed, eta),
            EngineEvent::Complete {
                path, total_length, ..
            } => {
                item.complete(&path.display().to_string(), total_length);
                pending.remove(&gid);
            }
            EngineEvent::Error { code, message, .. } => {
                item.failed(&format!("{message} ({code})"));
                failed += 1;
                pending.remove(&gid);
            }
            EngineEvent::Paused { .. } | EngineEvent::Removed { .. } => {}
        }
    }
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

/// Progress bars on a terminal, plain lines otherwise (logs, CI, pipes).
struct Display {
    bars: Option<MultiProgress>,
}

impl Display {
    fn new(terminal: bool) -> Self {
        Display {
            bars: terminal.then(MultiProgress::new),
        }
    }

    fn track(&self, url: &str) -> Item {
        let bar = self.bars.as_ref().map(|bars| {
            let bar = bars.add(ProgressBar::new_spinner());
            bar.set_message(url.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Item {
            bar,
            name: url.to_owned(),
            started: Instant::now(),
            last_line: None,
        }
    }
}

struct Item {
    bar: Option<ProgressBar>,
    name: String,
    started: Instant,
    last_line: Option<Instant>,
}

impl Item {
    fn started(&mut self, file_name: &str, total: Option<u64>) {
        self.name = file_name.to_owned();
        match (&self.bar, total) {
            (Some(bar), Some(total)) => {
                bar.set_length(total);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg:20!} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_message(file_name.to_owned());
            }
            (Some(bar), None) => bar.set_message(file_name.to_owned()),
            (None, _) => {
                let size = total.map_or("unknown size".to_owned(), |t| HumanBytes(t).to_string());
                eprintln!("{file_name}: started ({size})");
            }
        }
    }

    fn progress(&mut self, done: u64, total: Option<u64>, speed: u64, eta: Option<u64>) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        // Plain output: a line every few seconds is enough for a log.
        if self
            .last_line
            .is_some_and(|t| t.elapsed() < Duration::from_secs(5))
        {
            return;
        }
        self.last_line = Some(Instant::now());
        let percent = total
            .filter(|&t| t > 0)
            .map_or(String::new(), |t| format!(" {}%", done * 100 / t));
        let eta = eta.map_or(String::new(), |s| format!(", eta {s} s"));
        eprintln!(
            "{}:{percent} {} at {}/s{eta}",
            self.name,
            HumanBytes(done),
            HumanBytes(speed)
        );
    }

    fn complete(&self, path: &str, total: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let line = format!(
            "{path}: {} in {secs:.2} s ({}/s)",
            HumanBytes(total),
            HumanBytes((total as f64 / secs) as u64)
        );
        if let Some(bar) = &self.bar {
            bar.finish_with_message(format!("{} done", self.name));
        }
        eprintln!("{line}");
    }

    fn failed(&self, reason: &str) {
        if let Some(bar) = &self.bar {
            bar.abandon_with_message(format!("{} failed", self.name));
        }
        eprintln!("error: {}: {reason}", self.name);
    }
}
