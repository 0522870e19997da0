//! Private instances of the HTTP servers users really download from, as
//! Debian ships them: Apache httpd, lighttpd and nginx. Each runs in the
//! foreground as a child process of the test (stopped when dropped), on a
//! free 127.0.0.1 port, with a minimal configuration written to a temporary
//! directory that also holds its document root, logs and pid file: no
//! system configuration is read and no system service is involved.
//!
//! The access log records, per request, the Range and If-Range asked and the
//! ETag and Last-Modified answered, so a test can assert what was said on
//! the wire, not only how the download ended.

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use md5::Digest as _;

use super::random_bytes;

/// Length of the served files unless the settings say otherwise: eight
/// `min_split` units (1 MiB) and an odd tail, so `-x 8` really opens eight
/// connections and the last range is not a whole unit.
pub const FILE_LEN: usize = 8 * 1024 * 1024 + 4321;

/// Set to 1 to skip (rather than fail) the tests whose server is missing.
const SKIP_VAR: &str = "HAUL_SKIP_WEBSERVERS";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Apache,
    Lighttpd,
    Nginx,
}

impl Kind {
    fn binary(self) -> &'static str {
        match self {
            Kind::Apache => "apache2",
            Kind::Lighttpd => "lighttpd",
            Kind::Nginx => "nginx",
        }
    }

    /// The Debian package the binary comes from.
    fn package(self) -> &'static str {
        self.binary()
    }
}

/// How old a served file's modification time is, which decides the
/// validators a server sends: Apache marks the ETag of a file modified
/// within the last second weak, and a Last-Modified less than a minute
/// older than Date is no strong validator either (RFC 9110 §8.8.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    /// Written just now, right before the download starts.
    Fresh,
    /// Modified ten seconds ago: a Last-Modified that Apache still takes
    /// for a weak validator (it wants a minute).
    Recent,
    /// Modified an hour ago.
    Old,
}

impl Age {
    fn file_name(self) -> &'static str {
        match self {
            Age::Fresh => "fresh.bin",
            Age::Recent => "recent.bin",
            Age::Old => "old.bin",
        }
    }

    fn back(self) -> Duration {
        Duration::from_secs(match self {
            Age::Fresh => 0,
            Age::Recent => 10,
            Age::Old => 3600,
        })
    }
}

/// How a server is set up beyond serving the files.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Length of the served files.
    pub len: usize,
    /// Throttles every connection to this many KiB/s.
    pub kib_per_second: Option<u32>,
    /// False for servers set up without ETags (Apache's `FileETag None`,
    /// common behind load balancers): Last-Modified is then all there is.
    pub etags: bool,
    /// Serve HTTPS with this certificate (nginx only); URLs then name
    /// `localhost`.
    pub tls: Option<ServerTls>,
    /// Want HTTP Digest auth of this user (Apache only: mod_auth_digest).
    pub digest: Option<DigestUser>,
}

/// A user of an Apache that wants Digest auth.
#[derive(Debug, Clone)]
pub struct DigestUser {
    pub realm: &'static str,
    pub user: &'static str,
    pub password: &'static str,
}

/// An HTTPS server's certificate, and the authority whose client
/// certificates it demands, if any.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            len: FILE_LEN,
            kib_per_second: None,
            etags: true,
            tls: None,
            digest: None,
        }
    }
}

/// A file the server serves, and what it holds.
pub struct Served {
    pub url: String,
    pub path: String,
    pub data: Vec<u8>,
}

/// One access-log line: what was asked and answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub path: String,
    pub status: u16,
    pub range: Option<String>,
    pub if_range: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub bytes: u64,
}

pub struct WebServer {
    kind: Kind,
    len: usize,
    tls: bool,
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl WebServer {
    /// Starts `kind` serving `old.bin` (modified an hour ago). `None` when
    /// the binary is missing and HAUL_SKIP_WEBSERVERS=1 says to skip.
    pub async fn start(kind: Kind, settings: Settings) -> Option<WebServer> {
        let binary = match find_binary(kind.binary()) {
            Some(binary) => binary,
            None if std::env::var(SKIP_VAR).as_deref() == Ok("1") => {
                eprintln!(
                    "skipped: {} is not installed (Debian package {}) and {SKIP_VAR}=1",
                    kind.binary(),
                    kind.package()
                );
                return None;
            }
            None => panic!(
                "{} is not installed: these tests need Debian's {} package \
                 (apt-get install {}), or {SKIP_VAR}=1 to skip them",
                kind.binary(),
                kind.package(),
                kind.package()
            ),
        };
        let dir = tempfile::tempdir().expect("a temporary directory");
        // Run as root, Apache and nginx's workers serve as nobody: they must
        // be able to walk into the document root.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("the temporary directory opens to all");
        std::fs::create_dir(dir.path().join("www")).expect("the document root");
        assert!(
            settings.tls.is_none() || kind == Kind::Nginx,
            "only the nginx tests serve HTTPS"
        );
        assert!(
            settings.digest.is_none() || kind == Kind::Apache,
            "only the Apache tests want Digest auth"
        );
        let mut server = WebServer {
            kind,
            len: settings.len,
            tls: settings.tls.is_some(),
            child: None,
            port: 0,
            dir,
        };
        server.put(Age::Old);
        // The free port is found by binding it, then released for the
        // server: another process may take it meanwhile, so try a few.
        for _ in 0..5 {
            server.port = free_port();
            server.write_config(&settings);
            if server.spawn(&binary).await {
                return Some(server);
            }
        }
        panic!(
            "{} did not start on a free port:\n{}",
            kind.binary(),
            server.diagnostics()
        );
    }

    pub fn url(&self, path: &str) -> String {
        match self.tls {
            true => format!("https://localhost:{}{path}", self.port),
            false => format!("http://127.0.0.1:{}{path}", self.port),
        }
    }

    /// The file of that age: a fresh or recent one is written now (so call
    /// this right before the download), the old one was written at start.
    pub fn file(&self, age: Age) -> Served {
        let data = match age {
            Age::Fresh | Age::Recent => self.put(age),
            Age::Old => random_bytes(self.len, seed(self.kind, age)),
        };
        let path = format!("/{}", age.file_name());
        Served {
            url: self.url(&path),
            path,
            data,
        }
    }

    /// Replaces the file by other content of the same length, the way a
    /// mirror updates one: written beside it, then renamed over it, so the
    /// server never serves half of it. Returns the new content.
    pub async fn replace(&self, age: Age) -> Vec<u8> {
        let path = self.www().join(age.file_name());
        let before = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("the served file's mtime");
        // nginx's validators only have whole seconds: a file replaced within
        // the second it was written would be the same version to any client.
        while whole_seconds(SystemTime::now()) <= whole_seconds(before) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let data = random_bytes(self.len, seed(self.kind, age) + 100);
        let temp = self.www().join(".replacement");
        std::fs::write(&temp, &data).expect("the replacement is written");
        std::fs::rename(&temp, &path).expect("the replacement is renamed into place");
        if self.kind == Kind::Lighttpd {
            // lighttpd's default stat cache ("simple") stats a file once per
            // second and serves what it opened until then: the old version,
            // whole and with its old validators, which no client can tell
            // from an unchanged file.
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        data
    }

    /// Stops the server (which flushes lighttpd's buffered access log) and
    /// returns its access log.
    pub async fn stop(mut self) -> Vec<Logged> {
        if let Some(child) = self.child.take() {
            tokio::task::spawn_blocking(move || terminate(child))
                .await
                .expect("the server stops");
        }
        let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        log.lines()
            .map(|line| parse_log_line(line).unwrap_or_else(|| panic!("odd log line: {line}")))
            .collect()
    }

    fn www(&self) -> PathBuf {
        self.dir.path().join("www")
    }

    /// Writes the file of `age` with its content for this server.
    fn put(&self, age: Age) -> Vec<u8> {
        let data = random_bytes(self.len, seed(self.kind, age));
        let path = self.www().join(age.file_name());
        let mut file = std::fs::File::create(&path).expect("the served file");
        file.write_all(&data).expect("the served file is written");
        if age != Age::Fresh {
            let then = SystemTime::now() - age.back();
            file.set_modified(then).expect("the mtime is set back");
        }
        data
    }

    fn write_config(&self, settings: &Settings) {
        let (dir, port) = (self.dir.path(), self.port);
        let text = match self.kind {
            Kind::Apache => apache_config(dir, port, settings),
            Kind::Lighttpd => lighttpd_config(dir, port, settings),
            Kind::Nginx => nginx_config(dir, port, settings),
        };
        std::fs::write(dir.join("server.conf"), text).expect("the configuration is written");
        let _ = std::fs::remove_file(dir.join("server.pid"));
    }

    /// Starts the process; true once it serves, false when it exited (the
    /// port was taken, most likely).
    async fn spawn(&mut self, binary: &Path) -> bool {
        let dir = self.dir.path();
        let conf = dir.join("server.conf");
        let mut command = Command::new(binary);
        match self.kind {
            // -X: one process that does not detach, so nothing outlives it.
            Kind::Apache => command.arg("-X").arg("-f").arg(&conf),
            Kind::Lighttpd => command.arg("-D").arg("-f").arg(&conf),
            // -e: the log nginx opens before reading its configuration,
            // which would otherwise be the system's.
            Kind::Nginx => command
                .arg("-p")
                .arg(dir)
                .arg("-e")
                .arg(dir.join("error.log"))
                .arg("-c")
                .arg(&conf)
                .args(["-g", "daemon off;"]),
        };
        let console = std::fs::File::create(dir.join("console.log")).expect("the console log");
        let mut child = command
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(console.try_clone().expect("the console log"))
            .stderr(console)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        // Ready when its pid file is written (after it bound the port, so
        // it is not another process that answers) and the port accepts.
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid_file = dir.join("server.pid");
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            let has_pid = std::fs::read_to_string(&pid_file).is_ok_and(|p| !p.trim().is_empty());
            if has_pid && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                self.child = Some(child);
                return true;
            }
            if Instant::now() > deadline {
                terminate(child);
                panic!(
                    "{} did not answer on port {} within 10 s:\n{}",
                    self.kind.binary(),
                    self.port,
                    self.diagnostics()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the server said about itself, for a failure message.
    fn diagnostics(&self) -> String {
        ["console.log", "error.log"]
            .iter()
            .map(|name| {
                let text = std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
                format!("--- {name}\n{text}")
            })
            .collect()
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            terminate(child);
        }
    }
}

/// SIGTERM, so nginx's master stops its workers too; SIGKILL if it lingers.
fn terminate(mut child: Child) {
    // SAFETY: kill(2) on our own child's pid has no memory effects.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn find_binary(name: &str) -> Option<PathBuf> {
    // Debian puts servers in /usr/sbin, which a non-root PATH may lack.
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"])
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| candidate.is_file());
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn seed(kind: Kind, age: Age) -> u64 {
    10 + kind as u64 * 10 + age as u64
}

fn whole_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// The access-log fields, tab-separated: path, status, Range, If-Range,
/// ETag, Last-Modified, body bytes.
fn parse_log_line(line: &str) -> Option<Logged> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [path, status, range, if_range, etag, last_modified, bytes] = fields[..] else {
        return None;
    };
    // Apache and lighttpd escape quotes; "-" (or nothing) is a missing header.
    let header = |value: &str| {
        let value = value.replace("\\\"", "\"");
        (!value.is_empty() && value != "-").then_some(value)
    };
    Some(Logged {
        path: path.to_owned(),
        status: status.parse().ok()?,
        range: header(range),
        if_range: header(if_range),
        etag: header(etag),
        last_modified: header(last_modified),
        bytes: bytes.parse().unwrap_or(0), // "-" for no body
    })
}

/// Only the modules a static file needs, from Debian's module directory.
/// Apache has no per-connection rate setting in its core, but Debian ships
/// mod_ratelimit, whose RATE_LIMIT filter throttles each response.
fn apache_config(dir: &Path, port: u16, settings: &Settings) -> String {
    let dir = dir.display();
    let modules = "/usr/lib/apache2/modules";
    // Apache refuses to serve as root: as root it must switch to another user.
    let user = if is_root() {
        "User #65534\nGroup #65534\n"
    } else {
        ""
    };
    let etags = if settings.etags {
        ""
    } else {
        "FileETag None\n"
    };
    let access = match &settings.digest {
        None => "Require all granted".to_owned(),
        Some(digest) => {
            // htdigest's format: user:realm:MD5(user:realm:password).
            let secret = format!("{}:{}:{}", digest.user, digest.realm, digest.password);
            let line = format!(
                "{}:{}:{:x}\n",
                digest.user,
                digest.realm,
                md5::Md5::digest(secret.as_bytes())
            );
            std::fs::write(format!("{dir}/digest.users"), line).expect("the Digest users");
            format!(
                "AuthType Digest\n  AuthName \"{}\"\n  AuthDigestProvider file\n  \
                 AuthUserFile {dir}/digest.users\n  Require valid-user",
                digest.realm
            )
        }
    };
    let auth_modules = if settings.digest.is_some() {
        format!(
            "LoadModule authn_core_module {modules}/mod_authn_core.so\n\
             LoadModule authn_file_module {modules}/mod_authn_file.so\n\
             LoadModule authz_user_module {modules}/mod_authz_user.so\n\
             LoadModule auth_digest_module {modules}/mod_auth_digest.so\n"
        )
    } else {
        String::new()
    };
    let throttle = match settings.kib_per_second {
        Some(rate) => format!(
            "LoadModule env_module {modules}/mod_env.so\n\
             LoadModule ratelimit_module {modules}/mod_ratelimit.so\n\
             SetOutputFilter RATE_LIMIT\n\
             SetEnv rate-limit {rate}\n"
        ),
        None => String::new(),
    };
    format!(
        "ServerRoot {dir}\n\
         ServerName 127.0.0.1\n\
         Listen 127.0.0.1:{port}\n\
         LoadModule mpm_event_module {modules}/mod_mpm_event.so\n\
         LoadModule authz_core_module {modules}/mod_authz_core.so\n\
         {auth_modules}\
         {user}\
         PidFile {dir}/server.pid\n\
         DefaultRuntimeDir {dir}\n\
         ErrorLog {dir}/error.log\n\
         LogFormat \"%U\\t%>s\\t%{{Range}}i\\t%{{If-Range}}i\\t%{{ETag}}o\\t%{{Last-Modified}}o\\t%B\" haul\n\
         CustomLog {dir}/access.log haul\n\
         DocumentRoot {dir}/www\n\
         <Directory {dir}/www>\n  {access}\n</Directory>\n\
         {etags}{throttle}"
    )
}

/// lighttpd sends no ETag or Last-Modified with its implicit default type
/// (it fears caches keeping misconfigured answers), so the type is assigned
/// as Debian's configuration does from /etc/mime.types.
fn lighttpd_config(dir: &Path, port: u16, settings: &Settings) -> String {
    let dir = dir.display();
    let etags = if settings.etags {
        ""
    } else {
        "static-file.etags = \"disable\"\n"
    };
    let throttle = settings
        .kib_per_second
        .map(|rate| format!("connection.kbytes-per-second = {rate}\n"))
        .unwrap_or_default();
    format!(
        "server.document-root = \"{dir}/www\"\n\
         server.bind = \"127.0.0.1\"\n\
         server.port = {port}\n\
         server.pid-file = \"{dir}/server.pid\"\n\
         server.errorlog = \"{dir}/error.log\"\n\
         server.modules = (\"mod_accesslog\", \"mod_staticfile\")\n\
         mimetype.assign = (\".bin\" => \"application/octet-stream\")\n\
         accesslog.filename = \"{dir}/access.log\"\n\
         accesslog.format = \"%U\t%>s\t%{{Range}}i\t%{{If-Range}}i\t%{{ETag}}o\t%{{Last-Modified}}o\t%b\"\n\
         {etags}{throttle}"
    )
}

fn nginx_config(dir: &Path, port: u16, settings: &Settings) -> String {
    let dir = dir.display();
    let (ssl, certificates) = match &settings.tls {
        None => ("", String::new()),
        Some(tls) => {
            let mut lines = format!(
                "    ssl_certificate {};\n    ssl_certificate_key {};\n",
                tls.cert.display(),
                tls.key.display()
            );
            if let Some(ca) = &tls.client_ca {
                lines += &format!(
                    "    ssl_client_certificate {};\n    ssl_verify_client on;\n",
                    ca.display()
                );
            }
            (" ssl", lines)
        }
    };
    let etags = if settings.etags { "" } else { "  etag off;\n" };
    let throttle = settings
        .kib_per_second
        .map(|rate| format!("    limit_rate {rate}k;\n"))
        .unwrap_or_default();
    let temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        .iter()
        .map(|kind| format!("  {kind}_temp_path {dir}/temp-{kind};\n"))
        .collect::<String>();
    format!(
        "worker_processes 1;\n\
         pid {dir}/server.pid;\n\
         error_log {dir}/error.log;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n\
         \x20 default_type application/octet-stream;\n\
         \x20 log_format haul escape=none '$uri\t$status\t$http_range\t$http_if_range\t$sent_http_etag\t$sent_http_last_modified\t$body_bytes_sent';\n\
         \x20 access_log {dir}/access.log haul;\n\
         {temp}\
         {etags}\
         \x20 server {{\n\
         \x20   listen 127.0.0.1:{port}{ssl};\n\
         \x20   root {dir}/www;\n\
         {certificates}\
         {throttle}\
         \x20 }}\n\
         }}\n"
    )
}
