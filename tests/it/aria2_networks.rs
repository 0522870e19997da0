//! The network scenarios of haul's own tests, run through `aria2c` and
//! `haul get` side by side on the same real servers and proxies, printing
//! which of them each handles: a comparison, not a test of aria2 (whose
//! answers are only reported), so it is ignored by default and run by
//! `bench/networks-vs-aria2.sh`. haul must handle every one.
#![cfg(feature = "server")]

use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::proxies::{Program, ProxyServer, TlsFront};
use support::tls::{Authority, Leaf};
use support::webservers::{Age, DigestUser, Kind, ServerTls, Settings, WebServer};
use support::{random_bytes, sha256, Resource, TestEngine, TestServer};

/// One way to fetch a file, for each tool.
struct Run {
    url: String,
    aria2: Vec<String>,
    haul: Vec<String>,
    env: Vec<(String, String)>,
    /// The bytes that must arrive; `None` when the download must be refused.
    expect: Option<Vec<u8>>,
}

impl Run {
    fn new(url: impl Into<String>, expect: Option<Vec<u8>>) -> Run {
        Run {
            url: url.into(),
            aria2: Vec::new(),
            haul: Vec::new(),
            env: Vec::new(),
            expect,
        }
    }

    fn both(mut self, aria2: &[String], haul: &[String]) -> Run {
        self.aria2.extend_from_slice(aria2);
        self.haul.extend_from_slice(haul);
        self
    }
}

fn s(text: impl Into<String>) -> String {
    text.into()
}

/// Whether `tool` did what `run` expects: the file with the right bytes, or
/// a refusal (non-zero exit, no file).
async fn attempt(tool: &str, run: &Run, dir: &Path) -> bool {
    let out = dir.join(format!("{tool}.out"));
    let _ = std::fs::remove_file(&out);
    let mut command = match tool {
        "aria2" => {
            let mut c = tokio::process::Command::new("aria2c");
            c.args([
                "--no-conf",
                "--quiet",
                "--allow-overwrite=true",
                "--max-tries=3",
                "--retry-wait=1",
            ])
            .arg(format!("--dir={}", dir.display()))
            .arg(format!("--out={tool}.out"))
            .args(&run.aria2);
            c
        }
        _ => {
            let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"));
            c.arg("get").arg("-o").arg(&out).args(&run.haul);
            c
        }
    };
    command
        .arg(&run.url)
        .envs(run.env.iter().cloned())
        .env("HOME", dir);
    let ran = tokio::time::timeout(Duration::from_secs(60), command.output()).await;
    let Ok(Ok(output)) = ran else { return false };
    match &run.expect {
        Some(data) => {
            output.status.success()
                && std::fs::read(&out).is_ok_and(|got| sha256(&got) == sha256(data))
        }
        None => !output.status.success(),
    }
}

#[tokio::test]
#[ignore = "a comparison with aria2c: bench/networks-vs-aria2.sh runs it"]
async fn network_scenarios_side_by_side_with_aria2c() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let data = random_bytes(1 << 20, 41);
    let mut rows: Vec<(String, bool, bool)> = Vec::new();
    let mut check = |name: &str, aria2: bool, haul: bool| rows.push((name.to_owned(), aria2, haul));

    let origin = TestServer::start([
        Resource::file("/f.bin", data.clone()),
        Resource::file("/throttled.bin", data.clone()).fail_first(429, 2),
    ])
    .await;
    let other = TestServer::start([Resource::file("/f.bin", data.clone())]).await;
    let redirecting = TestServer::start([Resource::redirect("/away", &other.url("/f.bin"))]).await;
    let authority = Authority::new("haul comparison authority", work);
    let ca = authority.pem_path().display().to_string();
    let cert = authority.issue(Leaf::Server(&["localhost"]), "server");
    let client = authority.issue(Leaf::Client("haul client"), "client");
    let nginx = |client_ca: Option<PathBuf>| {
        let tls = ServerTls {
            cert: cert.cert.clone(),
            key: cert.key.clone(),
            client_ca,
        };
        WebServer::start(
            Kind::Nginx,
            Settings {
                len: 1 << 20,
                tls: Some(tls),
                ..Settings::default()
            },
        )
    };
    let tls = nginx(None).await.expect("nginx");
    let tls_file = tls.file(Age::Old);
    let mutual = nginx(Some(authority.pem_path())).await.expect("nginx");
    let mutual_file = mutual.file(Age::Old);
    let tinyproxy = ProxyServer::start(Program::Tinyproxy, Some(("ada", "s3cret")))
        .await
        .expect("tinyproxy");
    let socks = ProxyServer::start(Program::Microsocks, Some(("ada", "s3cret")))
        .await
        .expect("microsocks");
    let front = TlsFront::start(tinyproxy.port, &cert.cert, &cert.key)
        .await
        .expect("nginx stream");
    let digest = WebServer::start(
        Kind::Apache,
        Settings {
            digest: Some(DigestUser {
                realm: "cmp",
                user: "ada",
                password: "s3cret",
            }),
            ..Settings::default()
        },
    )
    .await
    .expect("apache");
    let digest_file = digest.file(Age::Old);
    let six = TestServer::start_ipv6([Resource::file("/f.bin", data.clone())]).await;

    let proxied = |proxy: String, url: String, expect: Vec<u8>| {
        Run::new(url, Some(expect)).both(
            &[
                format!("--all-proxy={proxy}"),
                format!("--ca-certificate={ca}"),
            ],
            &[s("--all-proxy"), proxy, s("--ca-certificate"), ca.clone()],
        )
    };
    let runs: Vec<(&str, Run)> = vec![
        (
            "HTTP proxy with a password (tinyproxy)",
            proxied(tinyproxy.url("http"), origin.url("/f.bin"), data.clone()),
        ),
        (
            "HTTPS through the proxy's CONNECT",
            proxied(
                tinyproxy.url("http"),
                tls_file.url.clone(),
                tls_file.data.clone(),
            ),
        ),
        (
            "https:// proxy (TLS to the proxy)",
            proxied(
                format!("https://ada:s3cret@localhost:{}", front.port),
                origin.url("/f.bin"),
                data.clone(),
            ),
        ),
        (
            "SOCKS5 proxy with a password (microsocks)",
            proxied(socks.url("socks5"), origin.url("/f.bin"), data.clone()),
        ),
        (
            "SOCKS5, names resolved by the proxy (socks5h)",
            proxied(socks.url("socks5h"), origin.url("/f.bin"), data.clone()),
        ),
        (
            "an internal CA with --ca-certificate",
            Run::new(&tls_file.url, Some(tls_file.data.clone())).both(
                &[format!("--ca-certificate={ca}")],
                &[s("--ca-certificate"), ca.clone()],
            ),
        ),
        ("the system store via SSL_CERT_FILE", {
            let mut run = Run::new(&tls_file.url, Some(tls_file.data.clone()));
            run.env.push((s("SSL_CERT_FILE"), ca.clone()));
            run
        }),
        (
            "an unknown authority is refused",
            Run::new(&tls_file.url, None),
        ),
        (
            "insecure skips verification",
            Run::new(&tls_file.url, Some(tls_file.data.clone()))
                .both(&[s("--check-certificate=false")], &[s("--insecure")]),
        ),
        (
            "a client certificate",
            Run::new(&mutual_file.url, Some(mutual_file.data.clone())).both(
                &[
                    format!("--ca-certificate={ca}"),
                    format!("--certificate={}", client.cert.display()),
                    format!("--private-key={}", client.key.display()),
                ],
                &[
                    s("--ca-certificate"),
                    ca.clone(),
                    s("--client-cert"),
                    client.cert.display().to_string(),
                    s("--client-key"),
                    client.key.display().to_string(),
                ],
            ),
        ),
        (
            "HTTP Digest auth (Apache)",
            Run::new(
                digest_file.url.replace("http://", "http://ada:s3cret@"),
                Some(digest_file.data.clone()),
            ),
        ),
        (
            "429, then the file",
            Run::new(origin.url("/throttled.bin"), Some(data.clone())),
        ),
        (
            "an IPv6 literal",
            Run::new(six.url("/f.bin"), Some(data.clone())),
        ),
    ];
    for (name, run) in &runs {
        let aria2 = attempt("aria2", run, work).await;
        let haul = attempt("haul", run, work).await;
        check(name, aria2, haul);
    }

    // Credentials in the URL on every request; none to another host after a redirect.
    let ((a_basic, a_redirect), (h_basic, h_redirect)) = (
        credentials("aria2", &origin, &redirecting, &other, &data, work).await,
        credentials("haul", &origin, &redirecting, &other, &data, work).await,
    );
    check("user:password in the URL, on every range", a_basic, h_basic);
    // A .netrc login and a cookies.txt, each on every request of its host.
    let netrc = work.join("netrc");
    std::fs::write(&netrc, "machine 127.0.0.1 login ada password s3cret\n").unwrap();
    // Both refuse a .netrc others can read.
    std::fs::set_permissions(&netrc, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let cookies = work.join("cookies.txt");
    std::fs::write(&cookies, "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabc\n").unwrap();
    for (name, aria2_flag, haul_flag, file, wanted) in [
        (
            ".netrc logins",
            "--netrc-path",
            "--netrc",
            &netrc,
            "authorization",
        ),
        (
            "cookies.txt (--load-cookies)",
            "--load-cookies",
            "--load-cookies",
            &cookies,
            "cookie",
        ),
    ] {
        let mut results = Vec::new();
        for tool in ["aria2", "haul"] {
            let before = origin.secrets("/f.bin").len();
            let run = Run::new(origin.url("/f.bin"), Some(data.clone())).both(
                &[format!("{aria2_flag}={}", file.display())],
                &[s(haul_flag), file.display().to_string()],
            );
            let got = attempt(tool, &run, work).await;
            let sent = &origin.secrets("/f.bin")[before..];
            let every = !sent.is_empty()
                && sent.iter().all(|s| match wanted {
                    "cookie" => s
                        .cookie
                        .as_deref()
                        .is_some_and(|c| c.contains("session=abc")),
                    _ => s.authorization.is_some(),
                });
            results.push(got && every);
        }
        check(name, results[0], results[1]);
    }
    check(
        "no Authorization to another host after a redirect",
        a_redirect,
        h_redirect,
    );

    // Retry-After: 2 s asked, so the second try comes 2 s after the first.
    let mut waited = Vec::new();
    for tool in ["aria2", "haul"] {
        // A server of its own for each: it fails its first answer only.
        let busy = TestServer::start([Resource::file("/b", data.clone())
            .fail_first(503, 1)
            .retry_after("2")])
        .await;
        let got = attempt(tool, &Run::new(busy.url("/b"), Some(data.clone())), work).await;
        let arrivals = busy.arrivals("/b");
        let honoured = arrivals.len() >= 2
            && arrivals[1].duration_since(arrivals[0]) >= Duration::from_millis(1900);
        waited.push(got && honoured);
    }
    check("Retry-After on a 503 is honoured", waited[0], waited[1]);

    // Mirrors: one of two URLs serves nothing; the other the whole file.
    let mirrors = TestServer::start([
        Resource::file("/good", data.clone()),
        Resource::file("/gone", data.clone()).fail_first(404, usize::MAX),
    ])
    .await;
    let out = work.join("mirrored");
    let aria2 = tokio::process::Command::new("aria2c")
        .args(["--no-conf", "--quiet", "--allow-overwrite=true"])
        .arg(format!("--dir={}", work.display()))
        .arg("--out=mirrored")
        .args([mirrors.url("/gone"), mirrors.url("/good")])
        .status()
        .await
        .is_ok_and(|s| s.success())
        && std::fs::read(&out).is_ok_and(|got| sha256(&got) == sha256(&data));
    let engine = TestEngine::start().await;
    let done = engine
        .download(haul::engine::AddRequest {
            mirrors: vec![mirrors.url("/good")],
            ..haul::engine::AddRequest::new(mirrors.url("/gone"))
        })
        .await;
    check(
        "mirrors, one of them failing",
        aria2,
        done.state == haul::engine::State::Complete,
    );

    println!("\n{:<52} {:>6} {:>6}", "scenario", "aria2", "haul");
    for (name, aria2, haul) in &rows {
        let word = |ok: &bool| if *ok { "yes" } else { "no" };
        println!("{name:<52} {:>6} {:>6}", word(aria2), word(haul));
    }
    let missing: Vec<&str> = rows
        .iter()
        .filter(|(_, _, haul)| !haul)
        .map(|(n, _, _)| n.as_str())
        .collect();
    assert!(missing.is_empty(), "haul did not handle: {missing:?}");
}

/// Whether `tool` sends URL credentials on every request, and leaves them
/// behind on a redirect to another host.
async fn credentials(
    tool: &str,
    origin: &TestServer,
    redirecting: &TestServer,
    other: &TestServer,
    data: &[u8],
    work: &Path,
) -> (bool, bool) {
    let before = origin.secrets("/f.bin").len();
    let url = origin
        .url("/f.bin")
        .replace("http://", "http://ada:s3cret@");
    let got = attempt(tool, &Run::new(url, Some(data.to_vec())), work).await;
    let sent = &origin.secrets("/f.bin")[before..];
    let every = !sent.is_empty() && sent.iter().all(|s| s.authorization.is_some());
    let seen = other.secrets("/f.bin").len();
    let url = redirecting
        .url("/away")
        .replace("http://", "http://ada:s3cret@");
    let followed = attempt(tool, &Run::new(url, Some(data.to_vec())), work).await;
    let leaked = other.secrets("/f.bin")[seen..]
        .iter()
        .any(|s| s.authorization.is_some());
    (got && every, followed && !leaked)
}
