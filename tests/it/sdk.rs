//! The typed Rust SDK against a real daemon, over both transports.

use crate::support;

use std::time::Duration;

use futures::StreamExt;
use haul::api::{
    DownloadAddParams, DownloadListParams, DownloadNotFoundErrorData, DownloadState,
    DownloadStatusParams, ErrorCode, Notification, SystemSetOptionsParams,
};
use haul::client::Event;
use haul::{Client, ClientError};
use support::daemon::Daemon;
use support::{random_bytes, sha256, sha256_file, Resource, TestServer};

#[tokio::test]
async fn every_typed_call_works_over_http_and_websocket() {
    let daemon = Daemon::start().await;
    for url in [daemon.url(), daemon.ws_url()] {
        let client = Client::connect(&url, &daemon.token).await.unwrap();
        let version = client.system_get_version().await.unwrap();
        assert_eq!(version.version, env!("CARGO_PKG_VERSION"));
        let mut add = DownloadAddParams::new("http://127.0.0.1:9/x");
        add.paused = Some(true);
        let gid = client.download_add(&add).await.unwrap().gid;
        let status = client
            .download_status(&DownloadStatusParams::new(gid.clone()))
            .await
            .unwrap();
        assert_eq!(status.state, DownloadState::Paused);
        let list = client
            .download_list(&DownloadListParams {
                states: Some(vec![DownloadState::Paused]),
                ..Default::default()
            })
            .await;
        assert!(list.unwrap().downloads.iter().any(|d| d.gid == gid));
        let options = client
            .system_set_options(&SystemSetOptionsParams {
                max_concurrent: Some(3),
                ..SystemSetOptionsParams::new()
            })
            .await;
        assert_eq!(options.unwrap().max_concurrent, 3);
        let document = client.rpc_discover().await.unwrap();
        assert_eq!(document.get(), haul::api::OPENRPC_JSON.trim_end());
        let info: serde_json::Value = serde_json::from_str(document.get()).unwrap();
        assert_eq!(info["info"]["version"], haul::api::API_VERSION);
    }
}

#[tokio::test]
async fn api_errors_arrive_typed_with_their_data() {
    let daemon = Daemon::start().await;
    let client = Client::connect(&daemon.url(), &daemon.token).await.unwrap();
    let error = client
        .download_status(&DownloadStatusParams::new("0123456789abcdef"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(ErrorCode::DownloadNotFound));
    assert_eq!(
        error.data::<DownloadNotFoundErrorData>().unwrap().gid,
        "0123456789abcdef"
    );
    assert_eq!(
        error.to_string(),
        r#"Download not found (code -32001, data {"gid":"0123456789abcdef"})"#
    );
}

#[tokio::test]
async fn a_wrong_token_is_the_unauthorized_error_on_both_transports() {
    let daemon = Daemon::start().await;
    let http = Client::connect(&daemon.url(), "wrong").await.unwrap();
    assert_eq!(
        http.system_get_stats().await.unwrap_err().code(),
        Some(ErrorCode::Unauthorized)
    );
    let ws = Client::connect(&daemon.ws_url(), "wrong")
        .await
        .unwrap_err();
    assert_eq!(ws.code(), Some(ErrorCode::Unauthorized));
    let mut events = http.events();
    let refused = events.ready().await.unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::Unauthorized));
    let ended = events.next().await.expect("the error").unwrap_err();
    assert_eq!(ended.code(), Some(ErrorCode::Unauthorized));
    assert!(events.next().await.is_none(), "then the stream ends");
}

#[tokio::test]
async fn an_absent_daemon_is_reported_with_its_address() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::connect(&format!("http://{addr}/jsonrpc"), "t")
        .await
        .unwrap();
    let error = client.system_get_stats().await.unwrap_err();
    assert!(
        matches!(error, ClientError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot reach the daemon at http://{addr}/jsonrpc")),
        "{error}"
    );
    let error = Client::connect("ftp://host/x", "t").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid daemon url `ftp://host/x`: unsupported scheme `ftp`: use http, https, ws, wss or unix"
    );
}

#[tokio::test]
async fn events_stream_a_downloads_life_in_order() {
    let data = random_bytes(1 << 20, 5);
    let server = TestServer::start([Resource::file("/e.bin", data.clone()).rate(1 << 20)]).await;
    let daemon = Daemon::start().await;
    let client = Client::connect(&daemon.url(), &daemon.token).await.unwrap();
    let mut events = client.events();
    events.ready().await.unwrap();
    let mut add = DownloadAddParams::new(server.url("/e.bin"));
    add.connections = Some(1);
    let gid = client.download_add(&add).await.unwrap().gid;

    let mut methods = Vec::new();
    let mut last_seq = 0;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.next())
            .await
            .expect("an event")
            .expect("open")
            .unwrap();
        let Event::Notification(event) = event else {
            panic!("no resync without a reconnect: {event:?}")
        };
        let (seq, done) = match &event {
            Notification::DownloadStarted(e) => (e.seq, false),
            Notification::DownloadProgress(e) => (e.seq, false),
            Notification::DownloadComplete(e) => {
                assert_eq!(sha256_file(std::path::Path::new(&e.path)), sha256(&data));
                (e.seq, e.gid == gid)
            }
            other => panic!("unexpected {other:?}"),
        };
        assert!(seq > last_seq, "in order");
        last_seq = seq;
        if methods.last() != Some(&event.method()) {
            methods.push(event.method());
        }
        if done {
            break;
        }
    }
    assert_eq!(
        methods,
        ["download.started", "download.progress", "download.complete"]
    );
}
