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
    let status = loop {
        let status = daemon.result("download.status", json!({"gid": gid})).await;
        if status["state"] == "complete" || status["state"] == "error" {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
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
