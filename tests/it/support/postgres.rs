//! A real PostgreSQL for the cluster tests: a private throwaway server,
//! started once per test binary from Debian's binaries
//! (`/usr/lib/postgresql/*/bin`: `initdb`, then `pg_ctl start`) as the
//! `postgres` user when the tests run as root, with durability off
//! (`fsync`, `synchronous_commit`, `full_page_writes`), on a free
//! 127.0.0.1 port and a socket directory of its own; stopped (`pg_ctl stop
//! -m immediate`) and removed when the test binary exits. Each test gets a
//! fresh database on it. With `HAUL_TEST_PG` (a `postgres://` URL of a
//! superuser, or of a user that may create databases) the tests use that
//! server instead, with a fresh database per test too.
//!
//! No PostgreSQL found fails the tests with what to install, unless
//! `HAUL_SKIP_POSTGRES=1`, which skips them with a note.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use tokio_postgres::{Client, NoTls};

const URL_VAR: &str = "HAUL_TEST_PG";
const SKIP_VAR: &str = "HAUL_SKIP_POSTGRES";

/// A fresh database, dropped with this value.
pub struct TestDb {
    pub url: String,
    name: String,
    admin_url: String,
}

/// A fresh database for one test; `None` when there is no PostgreSQL and
/// HAUL_SKIP_POSTGRES=1 says to skip.
pub async fn database() -> Option<TestDb> {
    let admin_url = match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => match server() {
            Ok(Some(server)) => server.admin_url.clone(),
            Ok(None) => {
                eprintln!("skipped: PostgreSQL is not installed and {SKIP_VAR}=1");
                return None;
            }
            Err(message) => panic!("{message}"),
        },
    };
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "haul_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let admin = connect(&admin_url).await;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
    Some(TestDb {
        url: with_database(&admin_url, &name),
        name,
        admin_url,
    })
}

impl TestDb {
    /// A connection of the test's own, for SQL the coordinator has no call
    /// for (expiring a lease, reading a table).
    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside the test's runtime, which cannot block on
        // itself: a thread of its own with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let admin = connect(&admin_url).await;
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            });
        });
        let _ = dropped.join();
    }
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL at {url}: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{URL_VAR}={url}: {e}"));
    parsed.set_path(&format!("/{name}"));
    parsed.into()
}

/// The private server, shared by the tests of this binary.
struct Server {
    admin_url: String,
    dir: PathBuf,
    bin: PathBuf,
}

/// `Ok(None)`: not installed, and skipping is allowed.
fn server() -> Result<Option<&'static Server>, String> {
    static SERVER: OnceLock<Result<Option<Server>, String>> = OnceLock::new();
    SERVER
        .get_or_init(start)
        .as_ref()
        .map(Option::as_ref)
        .map_err(Clone::clone)
}

/// The newest Debian PostgreSQL's bin directory, else one on the PATH.
fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .map(PathBuf::from)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// The uid and gid of the `postgres` user, which root runs the server as
/// (PostgreSQL refuses to run as root).
fn postgres_user() -> Option<(u32, u32)> {
    // SAFETY: getpwnam with a NUL-terminated name; the record is read at
    // once, before any other call could reuse its static buffer.
    unsafe {
        let entry = libc::getpwnam(c"postgres".as_ptr());
        (!entry.is_null()).then(|| ((*entry).pw_uid, (*entry).pw_gid))
    }
}

/// Runs a PostgreSQL binary, as `postgres` when we are root.
fn run(bin: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    let program = bin.join(program);
    let mut command = match is_root() {
        true => {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        }
        false => Command::new(&program),
    };
    let output = command
        .args(args)
        .current_dir("/")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    match output.status.success() {
        true => Ok(()),
        false => Err(format!(
            "{} {} failed ({}):\n{}{}",
            program.display(),
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn start() -> Result<Option<Server>, String> {
    let Some(bin) = find_bin() else {
        if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
            return Ok(None);
        }
        return Err(format!(
            "PostgreSQL is not installed: the cluster tests need Debian's postgresql package \
             (apt-get install postgresql), or {URL_VAR}=postgres://… naming a server to use, \
             or {SKIP_VAR}=1 to skip them"
        ));
    };
    stop_orphans(&bin);
    let dir = std::env::temp_dir().join(format!(
        "haul-test-pg-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    ));
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Whose server it is: a later run stops it if this process died first.
    std::fs::write(dir.join("owner.pid"), std::process::id().to_string())
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    if is_root() {
        let (uid, gid) = postgres_user().ok_or(
            "running as root, the tests run PostgreSQL as the user postgres, which does not \
             exist (Debian's postgresql package creates it)",
        )?;
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("cannot give {} to postgres: {e}", dir.display()))?;
    }
    let data = dir.join("data");
    let (data_arg, dir_arg) = (data.to_string_lossy(), dir.to_string_lossy());
    run(
        &bin,
        "initdb",
        &[
            "-D",
            &data_arg,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
    )?;
    let log = dir.join("server.log");
    let log_arg = log.to_string_lossy();
    // The port is found free, then released for the server: another
    // process may take it meanwhile, so try a few.
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = free_port();
        let options = format!(
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=300 -k {dir_arg} -h 127.0.0.1 -p {port}"
        );
        match run(
            &bin,
            "pg_ctl",
            &[
                "-D", &data_arg, "-l", &log_arg, "-o", &options, "-w", "-t", "60", "start",
            ],
        ) {
            Ok(()) => {
                let server = Server {
                    admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                    dir,
                    bin,
                };
                // SAFETY: registers a plain extern "C" function.
                unsafe { libc::atexit(stop_at_exit) };
                return Ok(Some(server));
            }
            Err(e) => {
                last_error = format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Err(format!("the test PostgreSQL did not start:\n{last_error}"))
}

/// The test binary ends: the server goes with it.
extern "C" fn stop_at_exit() {
    if let Ok(Some(server)) = server() {
        stop(&server.bin, &server.dir);
    }
}

fn stop(bin: &Path, dir: &Path) {
    let data = dir.join("data");
    let _ = run(
        bin,
        "pg_ctl",
        &["-D", &data.to_string_lossy(), "-m", "immediate", "stop"],
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Servers of earlier test runs that were killed before they could stop
/// them (their owner process is gone).
fn stop_orphans(bin: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let is_ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with("haul-test-pg-"));
        if !is_ours {
            continue;
        }
        let owner = std::fs::read_to_string(entry.path().join("owner.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok());
        // SAFETY: kill with signal 0 only checks that the process exists.
        let alive = owner.is_some_and(|pid| unsafe { libc::kill(pid, 0) } == 0);
        if !alive {
            stop(bin, &entry.path());
        }
    }
}
