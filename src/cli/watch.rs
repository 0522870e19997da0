//! Live progress from the daemon's notifications: `haul watch` shows every
//! download, `haul add --wait` the ones it added. Bars on a terminal, plain
//! lines (state changes, and progress every few seconds) otherwise.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Args;
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use haul::api::{DownloadListParams, DownloadState, DownloadStatus, Notification};
use haul::client::Event;
use haul::Events;

use super::remote::RemoteArgs;
use super::values::bytes;

#[derive(Debug, Args)]
pub struct WatchArgs {}

pub async fn watch(remote: &RemoteArgs, _args: WatchArgs) -> Result<()> {
    let client = remote.connect().await?;
    let mut events = client.events();
    events.ready().await.map_err(|e| remote.explain(e))?;
    let mut board = Board::new(None);
    let params = DownloadListParams {
        states: Some(vec![DownloadState::Active]),
        ..Default::default()
    };
    for status in client
        .download_list(&params)
        .await
        .map_err(|e| remote.explain(e))?
        .downloads
    {
        board.show(&status);
    }
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => board.event(&event),
                Some(Err(e)) => return Err(remote.explain(e)),
                None => bail!("the daemon closed the connection"),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// Waits until every download in `gids` is complete or failed, showing
/// progress; fails naming the downloads that failed.
pub async fn wait_for(remote: &RemoteArgs, mut events: Events, gids: &[String]) -> Result<()> {
    let mut board = Board::new(Some(gids.iter().cloned().collect()));
    while !board.all_finished() {
        match events.next().await {
            Some(Ok(event)) => board.event(&event),
            Some(Err(e)) => return Err(remote.explain(e)),
            None => bail!("the daemon closed the connection before the downloads finished"),
        }
    }
    if board.failed.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} of {} downloads failed:\n{}",
            board.failed.len(),
            gids.len(),
            board.failed.join("\n")
        )
    }
}

/// Progress of a set of downloads, drawn as bars or lines.
struct Board {
    /// Only these downloads, when given.
    only: Option<HashSet<String>>,
    finished: HashSet<String>,
    failed: Vec<String>,
    bars: Option<(MultiProgress, HashMap<String, ProgressBar>)>,
    /// When each download's progress was last printed as a line.
    printed: HashMap<String, Instant>,
}

const LINE_INTERVAL: Duration = Duration::from_secs(5);

impl Board {
    fn new(only: Option<HashSet<String>>) -> Board {
        let bars = std::io::stderr().is_terminal().then(|| {
            (
                MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                HashMap::new(),
            )
        });
        Board {
            only,
            finished: HashSet::new(),
            failed: Vec::new(),
            bars,
            printed: HashMap::new(),
        }
    }

    fn all_finished(&self) -> bool {
        self.only
            .as_ref()
            .is_some_and(|only| only.iter().all(|gid| self.finished.contains(gid)))
    }

    fn wanted(&self, gid: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(gid))
    }

    fn show(&mut self, status: &DownloadStatus) {
        let name = status
            .file_name
            .clone()
            .unwrap_or_else(|| status.url.clone());
        let bar = self.bar(&status.gid, &name, status.total_length);
        if let Some(bar) = bar {
            bar.set_position(status.completed_length);
        }
    }

    /// An event from the stream; it survives daemon restarts, which arrive
    /// as a resync with every download's state.
    fn event(&mut self, event: &Event) {
        match event {
            Event::Notification(n) => self.apply(n),
            Event::Resync(resync) => {
                for status in &resync.downloads {
                    self.resync(status);
                }
                if let Some(only) = self.only.clone() {
                    for gid in only {
                        if !resync.downloads.iter().any(|d| d.gid == gid)
                            && !self.finished.contains(&gid)
                        {
                            self.finish(&gid, &format!("removed {gid}"));
                        }
                    }
                }
            }
        }
    }

    /// A download's state as listed after a resync: what its missed
    /// notifications would have said.
    fn resync(&mut self, status: &DownloadStatus) {
        if !self.wanted(&status.gid) || self.finished.contains(&status.gid) {
            return;
        }
        match (&status.state, &status.error) {
            (DownloadState::Complete, _) => {
                let path = status.path.clone().unwrap_or_default();
                self.finish(&status.gid, &format!("complete {} {path}", status.gid));
            }
            (DownloadState::Error, Some(failure)) => {
                let line = format!(
                    "failed {} ({}): {}",
                    status.gid, failure.code, failure.message
                );
                self.failed.push(format!(
                    "  {}: {} ({})",
                    status.gid, failure.message, failure.code
                ));
                self.finish(&status.gid, &line);
            }
            _ => self.show(status),
        }
    }

    fn apply(&mut self, event: &Notification) {
        match event {
            Notification::DownloadStarted(e) if self.wanted(&e.gid) => {
                let verb = if e.resumed { "resumed" } else { "started" };
                if self.bar(&e.gid, &e.file_name, e.total_length).is_none() {
                    println!("{verb} {} {}", e.gid, e.file_name);
                }
            }
            Notification::DownloadProgress(e) if self.wanted(&e.gid) => match &self.bars {
                Some((_, bars)) => {
                    if let Some(bar) = bars.get(&e.gid) {
                        if let Some(total) = e.total_length {
                            bar.set_length(total);
                        }
                        bar.set_position(e.completed_length);
                    }
                }
                None => {
                    let due = self
                        .printed
                        .get(&e.gid)
                        .is_none_or(|at| at.elapsed() >= LINE_INTERVAL);
                    if due {
                        self.printed.insert(e.gid.clone(), Instant::now());
                        let total = e.total_length.map(bytes).unwrap_or_else(|| "?".into());
                        println!(
                            "progress {} {}/{} {}/s",
                            e.gid,
                            bytes(e.completed_length),
                            total,
                            bytes(e.download_speed)
                        );
                    }
                }
            },
            Notification::DownloadComplete(e) if self.wanted(&e.gid) => {
                self.finish(&e.gid, &format!("complete {} {}", e.gid, e.path));
            }
            Notification::DownloadError(e) if self.wanted(&e.gid) => {
                let line = format!("failed {} ({}): {}", e.gid, e.code, e.message);
                self.failed
                    .push(format!("  {}: {} ({})", e.gid, e.message, e.code));
                self.finish(&e.gid, &line);
            }
            Notification::DownloadPaused(e) if self.wanted(&e.gid) => {
                self.end_bar(&e.gid, &format!("paused {}", e.gid))
            }
            Notification::DownloadRemoved(e) if self.wanted(&e.gid) => {
                self.finish(&e.gid, &format!("removed {}", e.gid));
            }
            _ => {}
        }
    }

    fn finish(&mut self, gid: &str, line: &str) {
        self.finished.insert(gid.to_owned());
        self.end_bar(gid, line);
    }

    /// Replaces the download's bar (if any) with a final line.
    fn end_bar(&mut self, gid: &str, line: &str) {
        match self.bars.as_mut() {
            Some((multi, bars)) => {
                if let Some(bar) = bars.remove(gid) {
                    bar.finish_and_clear();
                }
                let _ = multi.println(line);
            }
            None => println!("{line}"),
        }
    }

    /// The download's bar, created on first use; `None` when not drawing bars.
    fn bar(&mut self, gid: &str, name: &str, total: Option<u64>) -> Option<&ProgressBar> {
        let (multi, bars) = self.bars.as_mut()?;
        let bar = bars.entry(gid.to_owned()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(total.unwrap_or(0)));
            let template = "{prefix:.bold} {wide_bar:.cyan/blue} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta} {msg}";
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(name.to_owned());
            bar
        });
        Some(bar)
    }
}
