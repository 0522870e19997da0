//! The progress board every command draws with: API notifications in (from
//! the daemon for `haul watch` and `haul add --wait`, from the pump's
//! mapping of the in-process engine's events for `haul get`), and out one
//! bar per download on a terminal, redrawn on each progress notification
//! (the engine's progress interval), or plain lines otherwise: state changes
//! as they happen, progress every few seconds. Both read the same
//! [`readout`].

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use haul::api::{DownloadState, DownloadStatus, Notification};
use haul::client::Event;

use super::values::{bytes, duration};

/// A bar: the name, the bar, and the readout, padded so that the bar keeps
/// its width while the numbers change.
const TEMPLATE: &str = "{prefix:20!.bold} [{wide_bar:.cyan/blue}] {msg:44}";

/// How often a download's progress is printed when not drawing bars: a line
/// every few seconds is enough for a log.
const LINE_INTERVAL: Duration = Duration::from_secs(5);

/// How the board's lines name a download, and where they go.
#[derive(Debug, Clone, Copy)]
pub enum Lines {
    /// `verb gid …` on stdout (`haul watch`, `haul add --wait`): the gid is
    /// the download's handle in the daemon, and scripts read these lines.
    ByGid,
    /// `name: …` on stderr (`haul get`): nothing outlives the process but
    /// the file, so the file is what a line names.
    ByName,
}

/// Progress of a set of downloads, drawn as bars or lines.
pub struct Board {
    lines: Lines,
    /// Only these downloads, when given: a fixed set, whose finished bars
    /// stay on the screen. An open board (`haul watch`) clears them, so a
    /// long watch keeps a bounded screen.
    only: Option<HashSet<String>>,
    finished: HashSet<String>,
    failed: Vec<String>,
    bars: Option<MultiProgress>,
    downloads: HashMap<String, Shown>,
}

/// How a download's bar ends.
#[derive(Clone, Copy)]
enum End {
    /// Complete, with this many bytes.
    Done(u64),
    Failed,
    Removed,
    Paused,
}

/// What the board knows of one download.
struct Shown {
    name: String,
    since: Instant,
    bar: Option<ProgressBar>,
    /// The last speed reported, which a finished bar keeps.
    speed: u64,
    /// When its progress was last printed as a line.
    printed: Option<Instant>,
}

impl Board {
    /// A board of every download that shows up (`haul watch`).
    pub fn open(lines: Lines) -> Board {
        Board::new(lines, None)
    }

    /// A board of the downloads given to [`Board::track`].
    pub fn fixed(lines: Lines) -> Board {
        Board::new(lines, Some(HashSet::new()))
    }

    fn new(lines: Lines, only: Option<HashSet<String>>) -> Board {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Board {
            lines,
            only,
            finished: HashSet::new(),
            failed: Vec::new(),
            bars,
            downloads: HashMap::new(),
        }
    }

    /// Shows a download just added, named `name` until its file is named.
    pub fn track(&mut self, gid: &str, name: &str) {
        if let Some(only) = &mut self.only {
            only.insert(gid.to_owned());
        }
        self.shown(gid, name);
    }

    /// Whether every tracked download is complete, failed or removed.
    pub fn all_finished(&self) -> bool {
        self.only
            .as_ref()
            .is_some_and(|only| only.iter().all(|gid| self.finished.contains(gid)))
    }

    /// The downloads that failed, one `  gid: message (code)` line each.
    pub fn failures(&self) -> &[String] {
        &self.failed
    }

    fn wanted(&self, gid: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(gid))
    }

    /// A download as listed: its bar at the listed progress.
    pub fn show(&mut self, status: &DownloadStatus) {
        let name = status
            .file_name
            .clone()
            .unwrap_or_else(|| status.url.clone());
        let shown = self.shown(&status.gid, &name);
        shown.speed = status.download_speed;
        if let Some(bar) = &shown.bar {
            bar.set_prefix(name);
            draw(
                bar,
                status.completed_length,
                status.total_length,
                readout(
                    status.completed_length,
                    status.total_length,
                    status.download_speed,
                    &eta(status.eta),
                ),
            );
        }
    }

    /// An event from the stream; it survives daemon restarts, which arrive
    /// as a resync with every download's state.
    pub fn event(&mut self, event: &Event) {
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
                            self.removed(&gid);
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
                let total = status.total_length.unwrap_or(status.completed_length);
                self.complete(&status.gid, &path, total);
            }
            (DownloadState::Error, Some(failure)) => {
                self.error(&status.gid, &failure.code.to_string(), &failure.message);
            }
            _ => self.show(status),
        }
    }

    pub fn apply(&mut self, event: &Notification) {
        match event {
            Notification::DownloadStarted(e) if self.wanted(&e.gid) => {
                let shown = self.shown(&e.gid, &e.file_name);
                shown.name.clone_from(&e.file_name);
                if let Some(bar) = &shown.bar {
                    bar.set_prefix(e.file_name.clone());
                    let done = bar.position();
                    let text = readout(done, e.total_length, 0, &eta(None));
                    draw(bar, done, e.total_length, text);
                    return;
                }
                let line = match self.lines {
                    Lines::ByGid => {
                        let verb = if e.resumed { "resumed" } else { "started" };
                        format!("{verb} {} {}", e.gid, e.file_name)
                    }
                    Lines::ByName => {
                        let size = e.total_length.map_or("unknown size".to_owned(), bytes);
                        format!("{}: started ({size})", e.file_name)
                    }
                };
                self.say(&line);
            }
            Notification::DownloadProgress(e) if self.wanted(&e.gid) => {
                let lines = self.lines;
                let shown = self.shown(&e.gid, &e.gid);
                shown.speed = e.download_speed;
                let text = readout(
                    e.completed_length,
                    e.total_length,
                    e.download_speed,
                    &eta(e.eta),
                );
                if let Some(bar) = &shown.bar {
                    draw(bar, e.completed_length, e.total_length, text);
                    return;
                }
                if shown.printed.is_some_and(|at| at.elapsed() < LINE_INTERVAL) {
                    return;
                }
                shown.printed = Some(Instant::now());
                let line = match lines {
                    Lines::ByGid => format!("progress {} {text}", e.gid),
                    Lines::ByName => format!("{}: {text}", shown.name),
                };
                self.say(&line);
            }
            Notification::DownloadComplete(e) if self.wanted(&e.gid) => {
                self.complete(&e.gid, &e.path, e.total_length);
            }
            Notification::DownloadError(e) if self.wanted(&e.gid) => {
                self.error(&e.gid, &e.code.to_string(), &e.message);
            }
            Notification::DownloadPaused(e) if self.wanted(&e.gid) => {
                let line = match self.lines {
                    Lines::ByGid => format!("paused {}", e.gid),
                    Lines::ByName => format!("{}: paused", self.name(&e.gid)),
                };
                self.end(&e.gid, End::Paused);
                self.say(&line);
            }
            Notification::DownloadRemoved(e) if self.wanted(&e.gid) => self.removed(&e.gid),
            _ => {}
        }
    }

    fn complete(&mut self, gid: &str, path: &str, total: u64) {
        let line = match self.lines {
            Lines::ByGid => format!("complete {gid} {path}"),
            Lines::ByName => {
                let secs = self
                    .downloads
                    .get(gid)
                    .map_or(0.0, |d| d.since.elapsed().as_secs_f64())
                    .max(1e-3);
                format!(
                    "{path}: {} in {secs:.2} s ({}/s)",
                    bytes(total),
                    bytes((total as f64 / secs) as u64)
                )
            }
        };
        self.finish(gid, End::Done(total));
        self.say(&line);
    }

    fn error(&mut self, gid: &str, code: &str, message: &str) {
        self.failed.push(format!("  {gid}: {message} ({code})"));
        let line = match self.lines {
            Lines::ByGid => format!("failed {gid} ({code}): {message}"),
            Lines::ByName => format!("error: {}: {message} ({code})", self.name(gid)),
        };
        self.finish(gid, End::Failed);
        self.say(&line);
    }

    fn removed(&mut self, gid: &str) {
        let line = match self.lines {
            Lines::ByGid => format!("removed {gid}"),
            Lines::ByName => format!("{}: removed", self.name(gid)),
        };
        self.finish(gid, End::Removed);
        self.say(&line);
    }

    fn finish(&mut self, gid: &str, end: End) {
        self.finished.insert(gid.to_owned());
        self.end(gid, end);
    }

    /// Ends the download's bar: on a fixed board it stays, its readout
    /// saying how it ended (a paused one stays live, as it may resume); on
    /// an open board it is cleared and the download forgotten.
    fn end(&mut self, gid: &str, end: End) {
        if self.only.is_none() {
            if let Some(bar) = self.downloads.remove(gid).and_then(|d| d.bar) {
                bar.finish_and_clear();
            }
            return;
        }
        let Some(Shown {
            bar: Some(bar),
            speed,
            ..
        }) = self.downloads.get(gid)
        else {
            return;
        };
        let (done, total, word) = match end {
            End::Done(total) => (total, Some(total), "done"),
            End::Failed => (bar.position(), bar.length(), "failed"),
            End::Removed => (bar.position(), bar.length(), "removed"),
            End::Paused => (bar.position(), bar.length(), "paused"),
        };
        draw(bar, done, total, readout(done, total, *speed, word));
        match end {
            End::Done(_) => bar.finish(),
            End::Failed | End::Removed => bar.abandon(),
            End::Paused => {}
        }
    }

    /// Prints a line: above the bars when drawing them.
    pub fn say(&self, line: &str) {
        match (&self.bars, self.lines) {
            (Some(bars), _) => {
                let _ = bars.println(line);
            }
            (None, Lines::ByGid) => println!("{line}"),
            (None, Lines::ByName) => eprintln!("{line}"),
        }
    }

    fn name(&self, gid: &str) -> String {
        self.downloads
            .get(gid)
            .map_or_else(|| gid.to_owned(), |d| d.name.clone())
    }

    /// The download's entry, created (with its bar, when drawing bars) on
    /// first use.
    fn shown(&mut self, gid: &str, name: &str) -> &mut Shown {
        let bars = &self.bars;
        self.downloads.entry(gid.to_owned()).or_insert_with(|| {
            let bar = bars.as_ref().map(|bars| {
                let bar = bars.add(ProgressBar::no_length());
                if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_prefix(name.to_owned());
                bar
            });
            Shown {
                name: name.to_owned(),
                since: Instant::now(),
                bar,
                speed: 0,
                printed: None,
            }
        })
    }
}

/// Moves a bar to `done` of `total` with its readout.
fn draw(bar: &ProgressBar, done: u64, total: Option<u64>, text: String) {
    match total {
        Some(total) => bar.set_length(total),
        None => bar.unset_length(),
    }
    bar.set_position(done);
    bar.set_message(text);
}

/// What a download's progress reads after its name, on a bar and in a line
/// alike: `33% 1.0 MiB/3.0 MiB 512.0 KiB/s eta 4s`, where the last part
/// (`tail`) says how it ends once it has.
fn readout(done: u64, total: Option<u64>, speed: u64, tail: &str) -> String {
    let percent = match total {
        Some(0) => "100%".to_owned(),
        Some(total) => format!("{}%", done.min(total) * 100 / total),
        None => "?%".to_owned(),
    };
    let total = total.map_or("?".to_owned(), bytes);
    format!(
        "{percent} {}/{total} {}/s {tail}",
        bytes(done),
        bytes(speed)
    )
}

/// The readout's tail while a download runs.
fn eta(seconds: Option<u64>) -> String {
    format!("eta {}", seconds.map_or("-".to_owned(), duration))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_readout_names_percentage_bytes_speed_and_eta() {
        assert_eq!(
            readout(1 << 20, Some(3 << 20), 512 << 10, &eta(Some(4))),
            "33% 1.0 MiB/3.0 MiB 512.0 KiB/s eta 4s"
        );
        assert_eq!(
            readout(1500, None, 0, &eta(None)),
            "?% 1.5 KiB/? 0 B/s eta -"
        );
        assert_eq!(readout(0, Some(0), 0, "done"), "100% 0 B/0 B 0 B/s done");
    }
}
