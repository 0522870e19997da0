//! Real proxy programs from Debian, as users meet them, each a child process
//! of the test on a free loopback port (stopped when dropped): tinyproxy
//! for HTTP and CONNECT, microsocks for SOCKS5. Their logs tell what went
//! through them: tinyproxy's the request lines, microsocks' the address
//! each client asked for (a host name with `socks5h`, an IP address with
//! `socks5`).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to 1 to skip (rather than fail) the tests whose proxy is missing.
const SKIP_VAR: &str = "HAUL_SKIP_PROXIES";

/// Which proxy program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// HTTP proxy with CONNECT (Debian's `tinyproxy`).
    Tinyproxy,
    /// SOCKS5 (Debian's `microsocks`).
    Microsocks,
}

impl Program {
    fn binary(self) -> &'static str {
        match self {
            Program::Tinyproxy => "tinyproxy",
            Program::Microsocks => "microsocks",
        }
    }
}

pub struct ProxyServer {
    program: Program,
    child: Child,
    pub port: u16,
    credentials: Option<(String, String)>,
    dir: tempfile::TempDir,
}

impl ProxyServer {
    /// Starts `program`, wanting `credentials` when given. `None` when it is
    /// not installed and HAUL_SKIP_PROXIES=1 says to skip.
    pub async fn start(program: Program, credentials: Option<(&str, &str)>) -> Option<ProxyServer> {
        let binary = program.binary();
        if !["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
            .iter()
            .any(|dir| std::path::Path::new(dir).join(binary).exists())
        {
            if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
                eprintln!("skipped: {binary} is not installed and {SKIP_VAR}=1");
                return None;
            }
            panic!(
                "{binary} is not installed: these tests need Debian's {binary} package \
                 (apt-get install {binary}), or {SKIP_VAR}=1 to skip them"
            );
        }
        let credentials = credentials.map(|(u, p)| (u.to_owned(), p.to_owned()));
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let port = free_port();
            let mut command = Command::new(binary);
            match program {
                Program::Tinyproxy => {
                    let conf = dir.path().join("tinyproxy.conf");
                    let mut text = format!(
                        "Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 200\n\
                         LogLevel Info\nLogFile \"{}\"\nPidFile \"{}\"\nAllow 127.0.0.1\n\
                         DisableViaHeader Yes\n",
                        dir.path().join("proxy.log").display(),
                        dir.path().join("proxy.pid").display(),
                    );
                    if let Some((user, password)) = &credentials {
                        text += &format!("BasicAuth {user} {password}\n");
                    }
                    std::fs::write(&conf, text).unwrap();
                    // -d: in the foreground, so nothing outlives the test.
                    command.arg("-d").arg("-c").arg(&conf);
                }
                Program::Microsocks => {
                    command.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
                    if let Some((user, password)) = &credentials {
                        command.args(["-u", user, "-P", password]);
                    }
                }
            }
            let log = std::fs::File::create(dir.path().join("console.log")).unwrap();
            let child = command
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"));
            let mut server = ProxyServer {
                program,
                child,
                port,
                credentials: credentials.clone(),
                dir,
            };
            if server.ready().await {
                return Some(server);
            }
        }
        panic!("{binary} did not start on a free port");
    }

    /// The proxy's URL for `scheme` (`http`, `socks5`, `socks5h`), with its
    /// credentials.
    pub fn url(&self, scheme: &str) -> String {
        match &self.credentials {
            Some((user, password)) => {
                format!("{scheme}://{user}:{password}@127.0.0.1:{}", self.port)
            }
            None => format!("{scheme}://127.0.0.1:{}", self.port),
        }
    }

    /// The same with a wrong password.
    pub fn url_with_wrong_password(&self, scheme: &str) -> String {
        let user = self
            .credentials
            .as_ref()
            .map_or("nobody", |(u, _)| u.as_str());
        format!("{scheme}://{user}:wrong@127.0.0.1:{}", self.port)
    }

    /// The proxy's URL as a status shows it: without credentials.
    pub fn shown(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// What the proxy logged so far.
    pub fn log(&self) -> String {
        let file = match self.program {
            Program::Tinyproxy => "proxy.log",
            Program::Microsocks => "console.log",
        };
        std::fs::read_to_string(self.path(file)).unwrap_or_default()
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    async fn ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// TLS in front of a proxy: nginx's stream module terminating TLS with the
/// test's certificate and passing the bytes to the proxy behind, which
/// makes that proxy an `https://` proxy (TLS from the client to the proxy).
pub struct TlsFront {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// Debian's nginx builds its stream module as this dynamic module
/// (package libnginx-mod-stream).
const STREAM_MODULE: &str = "/usr/lib/nginx/modules/ngx_stream_module.so";

impl TlsFront {
    /// Serves TLS with `cert` and `key` on a free port, passing to
    /// `upstream` on 127.0.0.1. `None` when nginx or its stream module is
    /// not installed and HAUL_SKIP_PROXIES=1 says to skip.
    pub async fn start(upstream: u16, cert: &Path, key: &Path) -> Option<TlsFront> {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let (Some(nginx), true) = (nginx, Path::new(STREAM_MODULE).exists()) else {
            if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
                eprintln!("skipped: nginx's stream module is not installed and {SKIP_VAR}=1");
                return None;
            }
            panic!(
                "these tests need nginx with its stream module: apt-get install nginx \
                 libnginx-mod-stream, or {SKIP_VAR}=1 to skip them"
            );
        };
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let port = free_port();
            let conf = dir.path().join("front.conf");
            let text = format!(
                "load_module {STREAM_MODULE};\npid {pid};\nevents {{}}\n\
                 stream {{ server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {cert}; \
                 ssl_certificate_key {key}; proxy_pass 127.0.0.1:{upstream}; }} }}\n",
                pid = dir.path().join("front.pid").display(),
                cert = cert.display(),
                key = key.display(),
            );
            std::fs::write(&conf, text).unwrap();
            let log = std::fs::File::create(dir.path().join("console.log")).unwrap();
            let child = Command::new(nginx)
                .arg("-p")
                .arg(dir.path())
                .arg("-e")
                .arg(dir.path().join("error.log"))
                .arg("-c")
                .arg(&conf)
                .args(["-g", "daemon off; master_process off;"])
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("nginx runs");
            let front = TlsFront {
                child,
                port,
                _dir: dir,
            };
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(front);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        panic!("nginx did not start a TLS front on a free port");
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
