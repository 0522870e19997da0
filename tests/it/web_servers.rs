//! haul against the servers users really download from (Apache httpd,
//! lighttpd, nginx, as Debian ships them): ranged downloads, a pause and
//! resume, and a file replaced during a pause. Each server is tested on a
//! file written just before the download (Apache then marks its ETag weak
//! and its Last-Modified equals Date: no If-Range may carry them) and on one
//! modified an hour ago (strong validators); Apache also without ETags,
//! where Last-Modified is the only validator. The access logs show what was
//! asked and answered. HAUL_SKIP_WEBSERVERS=1 skips a server that is not
//! installed instead of failing.
#![cfg(feature = "server")]

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use support::daemon::{Daemon, Ws};
use support::webservers::{Age, Kind, Logged, Settings, WebServer};
use support::{sha256, sha256_file};

/// The daemon's downloads: four connections on four 1 MiB ranges (and an
/// odd tail), throttled so that none is done at the first progress report
/// with bytes in it (the reports come every 500 ms), where the test pauses.
fn throttled(kind: Kind) -> Settings {
    let kib_per_second = match kind {
        // Apache's and nginx's limits are smooth: a range takes a second.
        Kind::Apache | Kind::Nginx => 1024,
        // lighttpd sends each second's allowance at once, as the wall
        // clock's second begins: in under a second a connection gets at
        // most two (its first second's and the next), which must stay under
        // a range even if the pause comes late.
        Kind::Lighttpd => 384,
    };
    Settings {
        len: 4 * 1024 * 1024 + 4321,
        kib_per_second: Some(kib_per_second),
        ..Settings::default()
    }
}
const CONNECTIONS: u64 = 4;

#[tokio::test]
async fn apache_serving_a_fresh_file_is_downloaded_with_ranges() {
    downloads_with_ranges(Kind::Apache, Age::Fresh).await;
}

#[tokio::test]
async fn apache_serving_an_old_file_is_downloaded_with_ranges() {
    downloads_with_ranges(Kind::Apache, Age::Old).await;
}

/// Without ETags, a date is the only validator, and Apache takes one for
/// weak until the file is a minute old: an If-Range carrying it would get
/// the whole file on every range.
#[tokio::test]
async fn apache_without_etags_serving_a_recent_file_is_downloaded_with_ranges() {
    downloads_with_ranges_from(Kind::Apache, Age::Recent, false).await;
}

#[tokio::test]
async fn apache_without_etags_serving_an_old_file_is_downloaded_with_ranges() {
    downloads_with_ranges_from(Kind::Apache, Age::Old, false).await;
}

#[tokio::test]
async fn lighttpd_serving_a_fresh_file_is_downloaded_with_ranges() {
    downloads_with_ranges(Kind::Lighttpd, Age::Fresh).await;
}

#[tokio::test]
async fn lighttpd_serving_an_old_file_is_downloaded_with_ranges() {
    downloads_with_ranges(Kind::Lighttpd, Age::Old).await;
}

#[tokio::test]
async fn nginx_serving_a_fresh_file_is_downloaded_with_ranges() {
    downloads_with_ranges(Kind::Nginx, Age::Fresh).await;
}

#[tokio::test]
async fn nginx_serving_an_old_file_is_downloaded_with_ranges() {
    downloads_with_ranges(Kind::Nginx, Age::Old).await;
}

#[tokio::test]
async fn apache_serving_a_fresh_file_resumes_a_paused_download() {
    resumes_after_a_pause(Kind::Apache, Age::Fresh).await;
}

#[tokio::test]
async fn apache_serving_an_old_file_resumes_a_paused_download() {
    resumes_after_a_pause(Kind::Apache, Age::Old).await;
}

#[tokio::test]
async fn lighttpd_serving_a_fresh_file_resumes_a_paused_download() {
    resumes_after_a_pause(Kind::Lighttpd, Age::Fresh).await;
}

#[tokio::test]
async fn lighttpd_serving_an_old_file_resumes_a_paused_download() {
    resumes_after_a_pause(Kind::Lighttpd, Age::Old).await;
}

#[tokio::test]
async fn nginx_serving_a_fresh_file_resumes_a_paused_download() {
    resumes_after_a_pause(Kind::Nginx, Age::Fresh).await;
}

#[tokio::test]
async fn nginx_serving_an_old_file_resumes_a_paused_download() {
    resumes_after_a_pause(Kind::Nginx, Age::Old).await;
}

#[tokio::test]
async fn apache_replacing_a_fresh_file_during_a_pause_restarts_the_download() {
    restarts_when_replaced_during_a_pause(Kind::Apache, Age::Fresh).await;
}

#[tokio::test]
async fn apache_replacing_an_old_file_during_a_pause_restarts_the_download() {
    restarts_when_replaced_during_a_pause(Kind::Apache, Age::Old).await;
}

#[tokio::test]
async fn lighttpd_replacing_a_fresh_file_during_a_pause_restarts_the_download() {
    restarts_when_replaced_during_a_pause(Kind::Lighttpd, Age::Fresh).await;
}

#[tokio::test]
async fn lighttpd_replacing_an_old_file_during_a_pause_restarts_the_download() {
    restarts_when_replaced_during_a_pause(Kind::Lighttpd, Age::Old).await;
}

#[tokio::test]
async fn nginx_replacing_a_fresh_file_during_a_pause_restarts_the_download() {
    restarts_when_replaced_during_a_pause(Kind::Nginx, Age::Fresh).await;
}

#[tokio::test]
async fn nginx_replacing_an_old_file_during_a_pause_restarts_the_download() {
    restarts_when_replaced_during_a_pause(Kind::Nginx, Age::Old).await;
}

async fn downloads_with_ranges(kind: Kind, age: Age) {
    downloads_with_ranges_from(kind, age, true).await;
}

/// `haul get -x 8`: eight ranges, each sent If-Range only with a strong
/// validator from the first answer: its ETag if strong, else (when it had
/// none) a Last-Modified a minute older than Date, which only the old file
/// has.
async fn downloads_with_ranges_from(kind: Kind, age: Age, etags: bool) {
    let settings = Settings {
        etags,
        ..Settings::default()
    };
    let Some(server) = WebServer::start(kind, settings).await else {
        return;
    };
    let file = server.file(age);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["get", "-x", "8", "-d"])
        .arg(dir.path())
        .arg(&file.url)
        .output()
        .await
        .expect("run haul");
    let log = server.stop().await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}\n{log:#?}");
    assert_eq!(
        sha256_file(&dir.path().join(&file.path[1..])),
        sha256(&file.data)
    );

    let ranges: Vec<&Logged> = log.iter().filter(|r| r.path == file.path).collect();
    assert!(
        ranges.len() >= 8 && ranges.iter().all(|r| r.status == 206),
        "eight connections, each answered with a range: {log:#?}"
    );
    // The first request (the probe) cannot know a validator yet; the
    // others send If-Range with the one it got, if that one was strong.
    let probe = ranges
        .iter()
        .find(|r| {
            r.if_range.is_none()
                && r.range
                    .as_deref()
                    .is_some_and(|r| r.starts_with("bytes=0-"))
        })
        .unwrap_or_else(|| panic!("no first request from byte 0: {log:#?}"));
    if (kind, age) == (Kind::Apache, Age::Fresh) {
        // What this case is about: validators no If-Range may carry.
        assert!(
            probe.etag.as_deref().is_some_and(|e| e.starts_with("W/")),
            "Apache marks a fresh file's ETag weak: {log:#?}"
        );
    }
    let strong = match &probe.etag {
        Some(etag) => Some(etag.clone()).filter(|e| !e.starts_with("W/")),
        None => probe.last_modified.clone().filter(|_| age == Age::Old),
    };
    assert_eq!(probe.etag.is_some(), etags, "{log:#?}");
    let with_if_range = ranges.iter().filter(|r| r.if_range.is_some()).count();
    let expected = if strong.is_some() {
        ranges.len() - 1
    } else {
        0
    };
    assert_eq!(with_if_range, expected, "{log:#?}");
    assert!(
        ranges
            .iter()
            .all(|r| r.if_range.is_none() || r.if_range == strong),
        "If-Range carries the strong validator, or nothing: {log:#?}"
    );
}

/// Paused midway through a throttled download and resumed: it continues
/// with ranges of the same version and ends with the same bytes.
async fn resumes_after_a_pause(kind: Kind, age: Age) {
    let Some(server) = WebServer::start(kind, throttled(kind)).await else {
        return;
    };
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    let file = server.file(age);
    let gid = daemon
        .add(json!({"url": file.url, "connections": CONNECTIONS}))
        .await;
    let mut events = pause_midway(&daemon, &mut ws, &gid, file.data.len()).await;
    daemon.result("download.resume", json!({"gid": gid})).await;
    events.extend(life_of(&mut ws, &gid, &["download.complete", "download.error"]).await);
    let log = server.stop().await;

    let last = events.last().expect("events");
    assert_eq!(last["method"], "download.complete", "{events:#?}\n{log:#?}");
    let starts: Vec<(&Value, &Value)> = started(&events)
        .map(|p| (&p["resumed"], &p["restarted"]))
        .collect();
    assert_eq!(
        starts,
        [(&json!(false), &Value::Null), (&json!(true), &Value::Null)],
        "{events:#?}\n{log:#?}"
    );
    assert!(
        log.iter().all(|r| r.status == 206),
        "every answer a range: {log:#?}"
    );
    assert_eq!(
        sha256_file(&daemon.root().join(&file.path[1..])),
        sha256(&file.data)
    );
}

/// The file is replaced by other bytes of the same length while the
/// download is paused: the resume must notice (a whole body for If-Range, or
/// other validators on a range) and start over, ending with the new bytes.
async fn restarts_when_replaced_during_a_pause(kind: Kind, age: Age) {
    let Some(server) = WebServer::start(kind, throttled(kind)).await else {
        return;
    };
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    let file = server.file(age);
    let gid = daemon
        .add(json!({"url": file.url, "connections": CONNECTIONS}))
        .await;
    let mut events = pause_midway(&daemon, &mut ws, &gid, file.data.len()).await;
    let paused_at = events.len();
    let replacement = server.replace(age).await;
    daemon.result("download.resume", json!({"gid": gid})).await;
    events.extend(life_of(&mut ws, &gid, &["download.complete", "download.error"]).await);
    let log = server.stop().await;

    let last = events.last().expect("events");
    assert_eq!(last["method"], "download.complete", "{events:#?}\n{log:#?}");
    // A server may still answer with the old version for a moment
    // (lighttpd's stat cache keeps a file for up to a second), so the
    // resume may first continue; the change must be caught before the end.
    let restarted: Vec<&Value> = started(&events[paused_at..])
        .map(|p| &p["restarted"])
        .collect();
    assert_eq!(
        restarted.last(),
        Some(&&json!("remote-changed")),
        "{events:#?}\n{log:#?}"
    );
    assert_eq!(
        sha256_file(&daemon.root().join(&file.path[1..])),
        sha256(&replacement),
        "the new version, not a mix: {log:#?}"
    );
    assert_ne!(replacement, file.data);
}

/// Waits until some bytes are in, pauses, and waits for the pause; the
/// gid's events so far.
async fn pause_midway(daemon: &Daemon, ws: &mut Ws, gid: &str, len: usize) -> Vec<Value> {
    let len = len as u64;
    let mut events = life_of_until(ws, gid, |n| {
        n["method"] == "download.progress" && n["params"]["completedLength"].as_u64() > Some(0)
            || n["method"] == "download.complete"
            || n["method"] == "download.error"
    })
    .await;
    assert_eq!(
        events.last().expect("events")["method"],
        "download.progress",
        "{events:#?}"
    );
    daemon.result("download.pause", json!({"gid": gid})).await;
    events.extend(life_of(ws, gid, &["download.paused"]).await);
    let paused = &events.last().expect("events")["params"]["completedLength"];
    assert!(
        paused.as_u64().is_some_and(|n| n > 0 && n < len),
        "paused midway: {events:#?}"
    );
    events
}

fn started(events: &[Value]) -> impl Iterator<Item = &Value> {
    events
        .iter()
        .filter(|e| e["method"] == "download.started")
        .map(|e| &e["params"])
}

async fn life_of(ws: &mut Ws, gid: &str, until: &[&str]) -> Vec<Value> {
    life_of_until(ws, gid, |n| {
        until.contains(&n["method"].as_str().unwrap_or_default())
    })
    .await
}

/// The gid's notifications until `done` holds for one of them.
async fn life_of_until(ws: &mut Ws, gid: &str, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    ws.notifications_until(Duration::from_secs(30), |n| {
        n["params"]["gid"] == gid && done(n)
    })
    .await
    .into_iter()
    .filter(|n| n["params"]["gid"] == gid)
    .collect()
}
