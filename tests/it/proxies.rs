//! Downloads through real proxies (tinyproxy for HTTP and CONNECT,
//! microsocks for SOCKS5), each test proving from the proxy's own log that
//! the bytes went through it: the daemon's proxies, a download's own, the
//! standard variables under `haul get`, `noProxy` and `none`, wrong
//! passwords, proxies changed at run time, and an `https://` proxy (TLS to
//! the proxy, nginx's stream module in front of tinyproxy).
#![cfg(feature = "server")]

use crate::support;

use haul::engine::{AddRequest, FailureCode, Proxies, ProxyUrl, State};
use serde_json::json;
use support::daemon::Daemon;
use support::proxies::{Program, ProxyServer, TlsFront};
use support::tls::{Authority, Leaf};
use support::webservers::{Age, Kind, ServerTls, Settings, WebServer};
use support::{random_bytes, sha256, sha256_file, Resource, TestEngine, TestServer};

const LEN: usize = 3 * 1024 * 1024 + 5;

async fn origin() -> (TestServer, Vec<u8>) {
    let data = random_bytes(LEN, 15);
    let server = TestServer::start([Resource::file("/f.bin", data.clone())]).await;
    (server, data)
}

/// The test server's URL named `localhost` (which only a resolver turns
/// into its address).
fn by_name(server: &TestServer, path: &str) -> String {
    server.url(path).replace("127.0.0.1", "localhost")
}

fn proxy(text: &str) -> Option<ProxyUrl> {
    Some(ProxyUrl::parse(text).unwrap())
}

/// How many connections `proxy` relayed so far.
fn relayed(proxy: &ProxyServer) -> usize {
    let log = proxy.log();
    log.matches("Request (file descriptor").count() + log.matches(": connected to ").count()
}

#[tokio::test]
async fn the_daemons_http_proxy_carries_every_connection_and_its_password_is_never_shown() {
    let Some(tinyproxy) = ProxyServer::start(Program::Tinyproxy, Some(("ada", "s3cret"))).await
    else {
        return;
    };
    let (server, data) = origin().await;
    let daemon = Daemon::start_with(&["--http-proxy", &tinyproxy.url("http")]).await;
    let gid = daemon
        .add(json!({"url": server.url("/f.bin"), "connections": 4}))
        .await;
    let status = daemon.finished(&gid).await;
    assert_eq!(status["state"], "complete", "{status}");
    assert_eq!(status["proxy"], tinyproxy.shown("http"));
    assert_eq!(
        sha256_file(std::path::Path::new(status["path"].as_str().unwrap())),
        sha256(&data)
    );
    // tinyproxy opens one connection to the server per request it relays:
    // every connection the server saw came from the proxy.
    assert_eq!(
        relayed(&tinyproxy),
        server.connections(),
        "{}",
        tinyproxy.log()
    );

    let options = daemon.result("system.getOptions", json!({})).await;
    assert_eq!(options["httpProxy"], tinyproxy.shown("http"));
    let everything = format!(
        "{status}{options}{}",
        daemon.result("download.list", json!({})).await
    );
    assert!(!everything.contains("s3cret"), "{everything}");
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel_of_the_https_proxy() {
    let Some(tinyproxy) = ProxyServer::start(Program::Tinyproxy, Some(("ada", "s3cret"))).await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new("haul test authority", dir.path());
    let cert = authority.issue(Leaf::Server(&["localhost"]), "server");
    let settings = Settings {
        tls: Some(ServerTls {
            cert: cert.cert,
            key: cert.key,
            client_ca: None,
        }),
        ..Settings::default()
    };
    let Some(nginx) = WebServer::start(Kind::Nginx, settings).await else {
        return;
    };
    let served = nginx.file(Age::Old);
    let engine = TestEngine::start_with(|config| {
        config.network.ca_certificates = vec![authority.pem_path()];
        config.network.proxies = Proxies {
            https: proxy(&tinyproxy.url("http")),
            ..Proxies::default()
        };
    })
    .await;
    let done = engine.download(AddRequest::new(&served.url)).await;
    assert_eq!(done.state, State::Complete, "{done:#?}");
    assert_eq!(
        done.proxy.as_deref(),
        Some(tinyproxy.shown("http").as_str())
    );
    assert_eq!(
        sha256_file(done.path.as_ref().unwrap()),
        sha256(&served.data)
    );
    let tunnel = format!(
        "CONNECT localhost:{}",
        served
            .url
            .split(':')
            .nth(2)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
    );
    assert!(tinyproxy.log().contains(&tunnel), "{}", tinyproxy.log());

    let wrong = engine
        .download(AddRequest {
            proxy: Some(tinyproxy.url_with_wrong_password("http")),
            ..AddRequest::new(&served.url)
        })
        .await;
    assert_eq!(wrong.state, State::Error, "{wrong:#?}");
    let error = wrong.error.unwrap();
    assert_eq!(error.code, FailureCode::Proxy, "{error:?}");
    assert!(error.message.contains("check the credentials"), "{error:?}");
}

#[tokio::test]
async fn socks5h_sends_the_host_name_to_the_proxy_and_socks5_an_address() {
    let Some(microsocks) = ProxyServer::start(Program::Microsocks, Some(("ada", "s3cret"))).await
    else {
        return;
    };
    let (server, data) = origin().await;
    let url = by_name(&server, "/f.bin");
    let engine = TestEngine::start().await;
    for scheme in ["socks5h", "socks5"] {
        let done = engine
            .download(AddRequest {
                proxy: Some(microsocks.url(scheme)),
                file_name: Some(format!("{scheme}.bin")),
                ..AddRequest::new(&url)
            })
            .await;
        assert_eq!(done.state, State::Complete, "{scheme}: {done:#?}");
        assert_eq!(done.proxy, Some(microsocks.shown(scheme)));
        assert_eq!(sha256_file(done.path.as_ref().unwrap()), sha256(&data));
    }
    let log = microsocks.log();
    let port = server
        .url("/")
        .split(':')
        .nth(2)
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    assert!(
        log.contains(&format!("connected to localhost:{port}")),
        "socks5h: {log}"
    );
    assert!(
        log.contains(&format!("connected to 127.0.0.1:{port}")),
        "socks5: {log}"
    );

    let wrong = engine
        .download(AddRequest {
            proxy: Some(microsocks.url_with_wrong_password("socks5h")),
            ..AddRequest::new(&url)
        })
        .await;
    assert_eq!(wrong.state, State::Error, "{wrong:#?}");
    let error = wrong.error.unwrap();
    assert_eq!(error.code, FailureCode::Proxy, "{error:?}");
    assert!(
        error.message.contains("refused the credentials"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_downloads_own_proxy_and_none_win_over_the_daemons_and_no_proxy_bypasses_it() {
    let (Some(daemons), Some(own)) = (
        ProxyServer::start(Program::Tinyproxy, None).await,
        ProxyServer::start(Program::Microsocks, None).await,
    ) else {
        return;
    };
    let (server, data) = origin().await;
    let engine = TestEngine::start_with(|config| {
        config.network.proxies = Proxies {
            all: proxy(&daemons.url("http")),
            no_proxy: Some("bypassed.invalid, localhost".into()),
            ..Proxies::default()
        };
    })
    .await;
    let cases = [
        // (the URL, the download's proxy, which proxy it shows)
        (server.url("/f.bin"), None, Some(daemons.shown("http"))),
        (
            server.url("/f.bin"),
            Some(own.url("socks5")),
            Some(own.shown("socks5")),
        ),
        (server.url("/f.bin"), Some("none".to_owned()), None),
        (by_name(&server, "/f.bin"), None, None),
    ];
    for (i, (url, own_proxy, shown)) in cases.into_iter().enumerate() {
        let before = (server.connections(), relayed(&daemons), relayed(&own));
        let through_own = own_proxy.as_deref().is_some_and(|p| p != "none");
        let done = engine
            .download(AddRequest {
                proxy: own_proxy,
                file_name: Some(format!("{i}.bin")),
                ..AddRequest::new(url)
            })
            .await;
        assert_eq!(done.state, State::Complete, "case {i}: {done:#?}");
        assert_eq!(done.proxy, shown, "case {i}");
        assert_eq!(sha256_file(done.path.as_ref().unwrap()), sha256(&data));
        let opened = server.connections() - before.0;
        let (by_daemons, by_own) = (relayed(&daemons) - before.1, relayed(&own) - before.2);
        let expected = match (shown.is_some(), through_own) {
            (false, _) => (0, 0),
            (true, false) => (opened, 0),
            (true, true) => (0, opened),
        };
        assert!(opened > 0);
        assert_eq!((by_daemons, by_own), expected, "case {i}");
    }
}

#[tokio::test]
async fn haul_get_takes_all_proxy_from_the_environment_and_its_flag_over_it() {
    let (Some(from_env), Some(from_flag)) = (
        ProxyServer::start(Program::Microsocks, None).await,
        ProxyServer::start(Program::Tinyproxy, None).await,
    ) else {
        return;
    };
    let (server, data) = origin().await;
    let out = tempfile::tempdir().unwrap();
    let get = |name: &str, flags: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"));
        command
            .args(["get", "-x", "2", "-o", name, "-d"])
            .arg(out.path())
            .args(flags)
            .arg(server.url("/f.bin"))
            .env("all_proxy", from_env.url("socks5h"))
            .env_remove("ALL_PROXY")
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("no_proxy")
            .env_remove("NO_PROXY");
        command.output()
    };
    let by_env = get("env.bin", &[]).await.unwrap();
    assert!(
        by_env.status.success(),
        "{}",
        String::from_utf8_lossy(&by_env.stderr)
    );
    let by_env_opened = server.connections();
    assert_eq!(
        (relayed(&from_env), relayed(&from_flag)),
        (by_env_opened, 0)
    );

    let by_flag = get("flag.bin", &["--http-proxy", &from_flag.url("http")])
        .await
        .unwrap();
    assert!(
        by_flag.status.success(),
        "{}",
        String::from_utf8_lossy(&by_flag.stderr)
    );
    let by_flag_opened = server.connections() - by_env_opened;
    assert_eq!(
        (relayed(&from_env), relayed(&from_flag)),
        (by_env_opened, by_flag_opened),
        "the flag wins over the variable"
    );
    for name in ["env.bin", "flag.bin"] {
        assert_eq!(sha256_file(&out.path().join(name)), sha256(&data));
    }
}

#[tokio::test]
async fn set_options_changes_the_proxies_at_run_time_and_refuses_a_bad_one_changing_nothing() {
    let Some(tinyproxy) = ProxyServer::start(Program::Tinyproxy, Some(("ada", "s3cret"))).await
    else {
        return;
    };
    let (server, data) = origin().await;
    let daemon = Daemon::start().await;
    let set = daemon
        .result(
            "system.setOptions",
            json!({"allProxy": tinyproxy.url("http"), "noProxy": "example.invalid"}),
        )
        .await;
    assert_eq!(set["allProxy"], tinyproxy.shown("http"));
    assert_eq!(set["noProxy"], "example.invalid");

    let refused = daemon
        .call(
            "system.setOptions",
            json!({"httpsProxy": "ftp://ada:s3cret@127.0.0.1:1", "noProxy": ""}),
        )
        .await;
    insta::assert_json_snapshot!("set_options_bad_proxy", refused);
    assert_eq!(daemon.result("system.getOptions", json!({})).await, set);

    let gid = daemon.add(json!({"url": server.url("/f.bin")})).await;
    let status = daemon.finished(&gid).await;
    assert_eq!(status["state"], "complete", "{status}");
    assert_eq!(status["proxy"], tinyproxy.shown("http"));
    assert_eq!(
        sha256_file(std::path::Path::new(status["path"].as_str().unwrap())),
        sha256(&data)
    );

    let cleared = daemon
        .result("system.setOptions", json!({"allProxy": "", "noProxy": ""}))
        .await;
    assert_eq!(cleared["allProxy"], json!(null));
    assert_eq!(cleared["noProxy"], json!(null));
    let status = daemon.result("download.status", json!({"gid": gid})).await;
    assert_eq!(status["proxy"], json!(null));
}

#[tokio::test]
async fn an_https_proxy_is_reached_over_tls_with_its_credentials() {
    let Some(tinyproxy) = ProxyServer::start(Program::Tinyproxy, Some(("ada", "s3cret"))).await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new("haul proxy authority", dir.path());
    let cert = authority.issue(Leaf::Server(&["localhost"]), "proxy");
    let Some(front) = TlsFront::start(tinyproxy.port, &cert.cert, &cert.key).await else {
        return;
    };
    let (server, data) = origin().await;
    let proxy_url = format!("https://ada:s3cret@localhost:{}", front.port);
    let engine = TestEngine::start_with(|config| {
        config.network.ca_certificates = vec![authority.pem_path()];
        config.network.proxies = Proxies {
            all: proxy(&proxy_url),
            ..Proxies::default()
        };
    })
    .await;
    let done = engine
        .download(AddRequest {
            connections: Some(4),
            ..AddRequest::new(server.url("/f.bin"))
        })
        .await;
    assert_eq!(done.state, State::Complete, "{done:#?}");
    assert_eq!(
        done.proxy.as_deref(),
        Some(format!("https://localhost:{}", front.port).as_str())
    );
    assert_eq!(sha256_file(done.path.as_ref().unwrap()), sha256(&data));
    // Every connection the origin saw came through tinyproxy, which only
    // nginx's TLS front reaches.
    assert_eq!(
        relayed(&tinyproxy),
        server.connections(),
        "{}",
        tinyproxy.log()
    );

    // A proxy whose certificate the daemon does not trust is refused, as
    // any server's would be.
    let untrusting = TestEngine::start_with(|config| {
        config.network.proxies = Proxies {
            all: proxy(&proxy_url),
            ..Proxies::default()
        };
    })
    .await;
    let refused = untrusting
        .download(AddRequest::new(server.url("/f.bin")))
        .await;
    assert_eq!(refused.state, State::Error, "{refused:#?}");
}
