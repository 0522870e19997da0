//! Credentials a download carries: `user:password@` in its URL (sent as
//! Basic auth, never shown), and `Authorization`/`Cookie` headers, which a
//! redirect to another host leaves behind, for the probe and for every
//! range after it.
#![cfg(feature = "server")]

use crate::support;

use std::collections::BTreeMap;

use haul::engine::{AddRequest, State};
use serde_json::json;
use support::daemon::Daemon;
use support::http_server::Secrets;
use support::{random_bytes, sha256, sha256_file, Resource, TestEngine, TestServer};

const LEN: usize = 3 * 1024 * 1024 + 9;

#[tokio::test]
async fn credentials_in_the_url_are_sent_as_basic_auth_and_never_shown() {
    let data = random_bytes(LEN, 21);
    let server = TestServer::start([Resource::file("/f.bin", data.clone())]).await;
    let url = server
        .url("/f.bin")
        .replace("http://", "http://ada:s3cret@");
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    let mut seen = Vec::new();
    ws.call(
        r#"{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{}}"#,
        &mut seen,
    )
    .await;
    let gid = daemon.add(json!({"url": url, "connections": 3})).await;
    let status = daemon.finished(&gid).await;
    assert_eq!(status["state"], "complete", "{status}");
    assert_eq!(
        status["url"],
        server.url("/f.bin").replace("http://", "http://ada@")
    );
    assert_eq!(
        sha256_file(std::path::Path::new(status["path"].as_str().unwrap())),
        sha256(&data)
    );
    // ada:s3cret, as RFC 7617 encodes it.
    let basic = Some("Basic YWRhOnMzY3JldA==".to_owned());
    let sent = server.secrets("/f.bin");
    assert!(sent.len() >= 2, "{sent:?}");
    assert!(sent.iter().all(|s| s.authorization == basic), "{sent:?}");

    let notifications = ws
        .notifications_until(std::time::Duration::from_secs(10), |n| {
            n["method"] == "download.complete"
        })
        .await;
    let shown = format!(
        "{status}{}{}",
        daemon.result("download.list", json!({})).await,
        serde_json::to_string(&notifications).unwrap()
    );
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[tokio::test]
async fn a_redirect_to_another_host_leaves_authorization_and_cookies_behind() {
    let data = random_bytes(LEN, 22);
    let elsewhere = TestServer::start([Resource::file("/f.bin", data.clone())]).await;
    let origin = TestServer::start([Resource::redirect("/f.bin", &elsewhere.url("/f.bin"))]).await;
    let engine = TestEngine::start().await;
    let headers = BTreeMap::from([
        (
            "Authorization".to_owned(),
            "Bearer only-for-origin".to_owned(),
        ),
        ("Cookie".to_owned(), "session=only-for-origin".to_owned()),
    ]);
    let done = engine
        .download(AddRequest {
            headers,
            connections: Some(3),
            ..AddRequest::new(origin.url("/f.bin"))
        })
        .await;
    assert_eq!(done.state, State::Complete, "{done:#?}");
    assert_eq!(sha256_file(done.path.as_ref().unwrap()), sha256(&data));
    assert_eq!(
        origin.secrets("/f.bin"),
        vec![Secrets {
            authorization: Some("Bearer only-for-origin".into()),
            cookie: Some("session=only-for-origin".into()),
        }]
    );
    let received = elsewhere.secrets("/f.bin");
    assert!(
        received.len() >= 3,
        "the probe and the later ranges: {received:?}"
    );
    assert!(
        received.iter().all(|s| *s == Secrets::default()),
        "{received:?}"
    );
}

/// The sorted `name=value` pairs of a `Cookie` header (a jar keeps no order).
fn pairs(cookie: &Option<String>) -> Vec<String> {
    let mut pairs: Vec<String> = cookie
        .iter()
        .flat_map(|c| c.split("; ").map(str::to_owned))
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn a_downloads_cookies_and_those_its_server_sets_reach_every_later_request() {
    let data = random_bytes(LEN, 23);
    let server = TestServer::start([
        Resource::file("/f.bin", data.clone()).set_cookie("session=from-server; Path=/")
    ])
    .await;
    let engine = TestEngine::start().await;
    let done = engine
        .download(AddRequest {
            cookies: Some("lang=en; token=given".into()),
            connections: Some(3),
            ..AddRequest::new(server.url("/f.bin"))
        })
        .await;
    assert_eq!(done.state, State::Complete, "{done:#?}");
    assert_eq!(sha256_file(done.path.as_ref().unwrap()), sha256(&data));
    let sent = server.secrets("/f.bin");
    assert!(sent.len() >= 3, "{sent:?}");
    assert_eq!(
        pairs(&sent[0].cookie),
        ["lang=en", "token=given"],
        "the probe"
    );
    for later in &sent[1..] {
        assert_eq!(
            pairs(&later.cookie),
            ["lang=en", "session=from-server", "token=given"],
            "{sent:?}"
        );
    }
}

#[tokio::test]
async fn the_daemons_cookies_txt_goes_only_to_the_hosts_and_paths_it_names() {
    let data = random_bytes(64 * 1024, 24);
    let server = TestServer::start([
        Resource::file("/f.bin", data.clone()),
        Resource::file("/g.bin", data),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cookies.txt");
    std::fs::write(
        &file,
        "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/f.bin\tFALSE\t0\tfrom_file\tyes\n",
    )
    .unwrap();
    let daemon = Daemon::start_with(&["--load-cookies", file.to_str().unwrap()]).await;
    let named = server.url("/f.bin");
    // The same server by another name, and another path of its own.
    let by_name = named.replace("127.0.0.1", "localhost");
    let other_path = server.url("/g.bin");
    for url in [&named, &by_name, &other_path] {
        let gid = daemon.add(json!({"url": url})).await;
        let status = daemon.finished(&gid).await;
        assert_eq!(status["state"], "complete", "{status}");
    }
    let cookies = |path| -> Vec<Option<String>> {
        server.secrets(path).into_iter().map(|s| s.cookie).collect()
    };
    let at_f = cookies("/f.bin");
    let named_requests = at_f.iter().filter(|c| c.is_some()).count();
    assert!(named_requests >= 1, "{at_f:?}");
    assert!(
        at_f.iter().flatten().all(|c| c == "from_file=yes"),
        "{at_f:?}"
    );
    assert!(
        at_f.iter().any(Option::is_none),
        "localhost got none: {at_f:?}"
    );
    assert!(cookies("/g.bin").iter().all(Option::is_none));
}

#[tokio::test]
async fn a_netrc_login_reaches_every_request_of_its_host_and_only_where_the_url_names_no_user() {
    let data = random_bytes(LEN, 25);
    let server = TestServer::start([
        Resource::file("/f.bin", data.clone()),
        Resource::file("/own.bin", data),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let netrc = dir.path().join("netrc");
    std::fs::write(&netrc, "machine 127.0.0.1 login ada password s3cret\n").unwrap();
    let daemon = Daemon::start_with(&["--netrc", netrc.to_str().unwrap()]).await;
    let own = server.url("/own.bin").replace("http://", "http://bob:pw@");
    for url in [server.url("/f.bin"), own] {
        let gid = daemon.add(json!({"url": url, "connections": 3})).await;
        let status = daemon.finished(&gid).await;
        assert_eq!(status["state"], "complete", "{status}");
        assert!(!status.to_string().contains("s3cret"), "{status}");
    }
    let ada = Some("Basic YWRhOnMzY3JldA==".to_owned());
    let bob = Some("Basic Ym9iOnB3".to_owned());
    let by_netrc = server.secrets("/f.bin");
    assert!(
        by_netrc.len() >= 3 && by_netrc.iter().all(|s| s.authorization == ada),
        "{by_netrc:?}"
    );
    let by_url = server.secrets("/own.bin");
    assert!(by_url.iter().all(|s| s.authorization == bob), "{by_url:?}");
}

#[tokio::test]
async fn an_apache_that_wants_digest_auth_gets_it_on_every_request_and_a_wrong_password_fails() {
    use haul::engine::FailureCode;
    use support::webservers::{Age, DigestUser, Kind, Settings, WebServer};
    let settings = Settings {
        digest: Some(DigestUser {
            realm: "haul tests",
            user: "ada",
            password: "s3cret",
        }),
        ..Settings::default()
    };
    let Some(apache) = WebServer::start(Kind::Apache, settings).await else {
        return;
    };
    let served = apache.file(Age::Old);
    let with = |credentials: &str| {
        served
            .url
            .replace("http://", &format!("http://{credentials}@"))
    };
    let engine = TestEngine::start().await;
    let done = engine
        .download(AddRequest {
            connections: Some(4),
            ..AddRequest::new(with("ada:s3cret"))
        })
        .await;
    assert_eq!(done.state, State::Complete, "{done:#?}");
    assert_eq!(
        sha256_file(done.path.as_ref().unwrap()),
        sha256(&served.data)
    );

    for (credentials, file) in [(Some("ada:wrong"), "wrong.bin"), (None, "none.bin")] {
        let url = credentials.map_or_else(|| served.url.clone(), with);
        let refused = engine
            .download(AddRequest {
                file_name: Some(file.into()),
                ..AddRequest::new(url)
            })
            .await;
        assert_eq!(refused.state, State::Error, "{refused:#?}");
        let error = refused.error.unwrap();
        assert_eq!(error.code, FailureCode::HttpStatus, "{error:?}");
        assert!(error.message.contains("401"), "{error:?}");
    }
    let log = apache.stop().await;
    let statuses: Vec<u16> = log.iter().map(|l| l.status).collect();
    let ranges = statuses.iter().filter(|s| **s == 206).count();
    let challenges = statuses.iter().filter(|s| **s == 401).count();
    // The probe and the four connections answered from the first challenge
    // on (each later request sends its answer up front); then one challenge
    // and one refused answer for the wrong password, one for none.
    assert!(ranges >= 4, "{statuses:?}");
    assert!(challenges <= 4, "{statuses:?}");
}

#[tokio::test]
async fn cookies_a_server_set_outlive_a_restart_of_the_daemon() {
    let data = random_bytes(LEN, 24);
    let server = TestServer::start([Resource::file("/f.bin", data.clone())
        .rate(1 << 20)
        .set_cookie("session=from-server; Path=/; Max-Age=3600")])
    .await;
    let daemon = Daemon::start().await;
    let gid = daemon
        .add(json!({"url": server.url("/f.bin"), "connections": 1}))
        .await;
    daemon
        .status_until(&gid, |s| s["completedLength"].as_u64() > Some(0))
        .await;
    daemon.result("download.pause", json!({"gid": gid})).await;
    let before = server.secrets("/f.bin").len();
    let (daemon, _) = daemon.restart(&[]).await;
    daemon.result("download.resume", json!({"gid": gid})).await;
    let done = daemon.finished(&gid).await;
    assert_eq!(done["state"], "complete", "{done}");
    let sent = server.secrets("/f.bin");
    assert!(sent.len() > before, "{sent:?}");
    // The first request after the restart (its probe) has it already.
    assert_eq!(
        pairs(&sent[before].cookie),
        ["session=from-server"],
        "{sent:?}"
    );
    let everything = format!("{done}{}", daemon.result("download.list", json!({})).await);
    assert!(!everything.contains("from-server"), "{everything}");
}
