//! What a person sees: `haul get` and `haul add --wait` run in a real
//! terminal (a tmux pane, read back with `capture-pane -p`), and their
//! progress lines compared with the numbers taken out.
#![cfg(feature = "server")]

use crate::support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use support::daemon::Daemon;
use support::{random_bytes, Resource, TestServer};

/// The pane both commands run in.
const COLUMNS: u16 = 100;
const ROWS: u16 = 12;

/// What every progress line reads with its numbers taken out: the name, the
/// bar, the percentage, bytes done of the total, the speed and the ETA
/// (which a finished line replaces with how it ended).
const RUNNING: &str = "big.bin [bar] #% <size>/<size> <size>/s eta <time>";
const FINISHED: &str = "big.bin [bar] #% <size>/<size> <size>/s done";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haul_get_and_add_wait_draw_the_same_progress_line_in_a_terminal() {
    let Some(tmux) = Tmux::start() else { return };
    // About three seconds over one connection: long enough to be seen
    // mid-download, short enough for a test.
    let server =
        TestServer::start([Resource::file("/big.bin", random_bytes(2 << 20, 9)).rate(640 << 10)])
            .await;
    let url = server.url("/big.bin");
    let daemon = Daemon::start().await;
    let dir = tempfile::tempdir().unwrap();
    let haul = env!("CARGO_BIN_EXE_haul");

    tmux.run(
        "get",
        &format!(
            "{} get -x 1 -d {} {}",
            quote(haul),
            quote(dir.path().to_str().unwrap()),
            quote(&url)
        ),
    );
    tmux.run(
        "add",
        &format!(
            "env -u HAUL_RPC_SECRET HAUL_URL={} HAUL_STATE_DIR={} {} add --wait -x 1 {}",
            quote(&daemon.url()),
            quote(daemon.state.to_str().unwrap()),
            quote(haul),
            quote(&url)
        ),
    );

    let deadline = Instant::now() + Duration::from_secs(8);
    let (get_mid, get_line) = tmux.wait_for("get", deadline, running_line).await;
    let (add_mid, add_line) = tmux.wait_for("add", deadline, running_line).await;
    eprintln!("haul get, mid-download:\n{get_mid}\nhaul add --wait, mid-download:\n{add_mid}");
    assert_eq!(shape(&get_line), RUNNING, "{get_mid}");
    assert_eq!(shape(&add_line), RUNNING, "{add_mid}");
    assert_eq!(
        columns(&get_line),
        columns(&add_line),
        "the bar spans the same columns:\n{get_line}\n{add_line}"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let (get_end, _) = tmux.wait_for("get", deadline, exited).await;
    let (add_end, _) = tmux.wait_for("add", deadline, exited).await;
    eprintln!("haul get, at the end:\n{get_end}\nhaul add --wait, at the end:\n{add_end}");
    for screen in [&get_end, &add_end] {
        assert!(screen.contains("exit 0"), "{screen}");
    }
    let (get_line, add_line) = (
        progress_line(&get_end).unwrap_or_else(|| panic!("no progress line:\n{get_end}")),
        progress_line(&add_end).unwrap_or_else(|| panic!("no progress line:\n{add_end}")),
    );
    assert_eq!(shape(&get_line), FINISHED, "{get_end}");
    assert_eq!(shape(&add_line), FINISHED, "{add_end}");
    assert!(get_line.contains(" 100% 2.0 MiB/2.0 MiB "), "{get_end}");
    assert!(add_line.contains(" 100% 2.0 MiB/2.0 MiB "), "{add_end}");
    assert_eq!(columns(&get_line), columns(&add_line));
    // Each says where the file is, its own way: `haul get` by the path,
    // `haul add --wait` by the gid the daemon knows it by.
    let saved = dir.path().join("big.bin");
    assert!(
        get_end.contains(&format!("{}: 2.0 MiB in ", saved.display())),
        "{get_end}"
    );
    let saved = daemon.root().join("big.bin").display().to_string();
    assert!(
        add_end
            .lines()
            .any(|l| l.starts_with("complete ") && l.ends_with(&saved)),
        "{add_end}"
    );
}

/// The download's progress line on a screen, if drawn.
fn progress_line(screen: &str) -> Option<String> {
    screen
        .lines()
        .find(|l| l.starts_with("big.bin ") && l.contains('['))
        .map(str::to_owned)
}

/// The progress line once it shows the download under way: a percentage
/// strictly between 0 and 100 and a known ETA.
fn running_line(screen: &str) -> Option<String> {
    let line = progress_line(screen)?;
    let percent: u32 = line
        .split_whitespace()
        .find_map(|w| w.strip_suffix('%'))?
        .parse()
        .ok()?;
    let eta_known = line
        .split("eta ")
        .nth(1)
        .is_some_and(|eta| eta.starts_with(|c: char| c.is_ascii_digit()));
    ((1..100).contains(&percent) && eta_known).then_some(line)
}

/// The screen once the shell line after the command has printed its status.
fn exited(screen: &str) -> Option<String> {
    screen
        .lines()
        .find(|l| l.starts_with("exit "))
        .map(str::to_owned)
}

/// Where the bar starts and ends on a line.
fn columns(line: &str) -> (Option<usize>, Option<usize>) {
    (line.find('['), line.find(']'))
}

/// A progress line with its numbers taken out: the bar's fill becomes
/// `[bar]`, a number `#`, a size `<size>`, a duration `<time>`, and runs of
/// spaces one space.
fn shape(line: &str) -> String {
    let mut text = line.to_owned();
    if let (Some(open), Some(close)) = (text.find('['), text.find(']')) {
        if text[open + 1..close].chars().all(|c| "=> ".contains(c)) {
            text.replace_range(open..=close, "[bar]");
        }
    }
    let mut numbered = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|&c| c.is_ascii_digit() || c == '.')
            {
                chars.next();
            }
            numbered.push('#');
        } else {
            numbered.push(c);
        }
    }
    for unit in ["KiB", "MiB", "GiB", "TiB", "B"] {
        numbered = numbered.replace(&format!("# {unit}"), "<size>");
    }
    for time in ["#h#m", "#m#s", "#s"] {
        numbered = numbered.replace(time, "<time>");
    }
    numbered.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Single quotes for `sh`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A private tmux server (its own socket, no configuration), killed on drop.
struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// The server, or `None` (having said why) when tmux is missing and
    /// `HAUL_SKIP_TMUX=1` allows skipping.
    fn start() -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            if std::env::var("HAUL_SKIP_TMUX").as_deref() == Ok("1") {
                eprintln!("skipped: tmux is not installed (HAUL_SKIP_TMUX=1)");
                return None;
            }
            panic!(
                "tmux is not installed: this test draws in a tmux pane\n\
                 hint: install Debian's tmux package (apt-get install tmux), \
                 or set HAUL_SKIP_TMUX=1 to skip it"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        Some(Tmux {
            socket: dir.path().join("tmux.sock"),
            _dir: dir,
        })
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            .env("SHELL", "/bin/sh")
            .output()
            .expect("tmux runs");
        assert!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs `command` in a new session's pane, which stays open afterwards
    /// with `exit STATUS` printed under what the command drew.
    fn run(&self, session: &str, command: &str) {
        let script = format!("{command}; echo \"exit $?\"; sleep 600");
        let (columns, rows) = (COLUMNS.to_string(), ROWS.to_string());
        self.tmux(&[
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            &columns,
            "-y",
            &rows,
            &script,
        ]);
    }

    fn screen(&self, session: &str) -> String {
        let screen = self.tmux(&["capture-pane", "-p", "-t", session]);
        screen.trim_end().to_owned()
    }

    /// Polls the session's screen until `found` finds something in it;
    /// returns the screen and what was found.
    async fn wait_for(
        &self,
        session: &str,
        deadline: Instant,
        found: impl Fn(&str) -> Option<String>,
    ) -> (String, String) {
        loop {
            let screen = self.screen(session);
            if let Some(found) = found(&screen) {
                return (screen, found);
            }
            assert!(
                Instant::now() < deadline,
                "gave up waiting on the {session} pane:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

#[test]
fn a_shape_keeps_the_template_and_drops_the_numbers() {
    assert_eq!(
        shape("big.bin              [=====>        ] 33% 1.0 MiB/3.0 MiB 512.0 KiB/s eta 4s"),
        RUNNING
    );
    assert_eq!(
        shape("big.bin   [=============] 100% 2.0 MiB/2.0 MiB 1023 B/s done"),
        FINISHED
    );
}
