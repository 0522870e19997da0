//! The Rust SDK's event stream survives the network: dropped connections,
//! a restarted daemon, a replay window exceeded, and a proxy that refuses
//! WebSocket upgrades — each state change delivered exactly once, in order,
//! or a typed resync when that is impossible.

use crate::support;

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use haul::api::{
    DownloadAddParams, DownloadRemoveParams, DownloadResumeParams, EventsPollParams, Notification,
    NotificationKind,
};
use haul::client::{Event, Events, EventsMode, EventsOptions, ResyncReason};
use haul::Client;
use serde_json::json;
use support::daemon::Daemon;
use support::proxy::Proxy;
use support::{random_bytes, Resource, TestServer};

async fn next(events: &mut Events) -> Event {
    tokio::time::timeout(Duration::from_secs(30), events.next())
        .await
        .expect("an event within 30 s")
        .expect("the stream goes on")
        .expect("no error")
}

/// A notification's method, gid and seq.
fn parts(n: &Notification) -> (&'static str, String, u64) {
    let value = serde_json::to_value(n).unwrap();
    (
        n.method(),
        value["params"]["gid"].as_str().unwrap().to_owned(),
        value["params"]["seq"].as_u64().unwrap(),
    )
}

/// A daemon with a proxy in front of it, a client calling the daemon
/// directly, and one calling through the proxy.
struct Setup {
    daemon: Daemon,
    proxy: Proxy,
    direct: Client,
    proxied: Client,
}

impl Setup {
    async fn start(flags: &[&str]) -> Setup {
        let daemon = Daemon::start_with(flags).await;
        let proxy = Proxy::start(&daemon.addr).await;
        let direct = Client::connect(&daemon.url(), &daemon.token).await.unwrap();
        let proxied = Client::connect(&proxy.url(), &daemon.token).await.unwrap();
        Setup {
            daemon,
            proxy,
            direct,
            proxied,
        }
    }
}

/// `client`'s event stream with `options`, once notifications flow.
async fn connected(client: &Client, options: EventsOptions) -> Events {
    let mut events = client.events_with(options);
    events.ready().await.unwrap();
    events
}

/// Backoff short enough for a test that takes the proxy down for a moment.
fn quick_retries() -> EventsOptions {
    EventsOptions {
        max_backoff: Duration::from_millis(200),
        ..EventsOptions::default()
    }
}

/// A paused download of a URL nothing serves: it publishes nothing until removed.
async fn add_paused(client: &Client) -> String {
    let mut add = DownloadAddParams::new("http://127.0.0.1:9/f");
    add.paused = Some(true);
    client.download_add(&add).await.unwrap().gid
}

async fn remove(client: &Client, gid: &str) {
    client
        .download_remove(&DownloadRemoveParams::new(gid.to_owned()))
        .await
        .unwrap();
}

async fn expect_removed(events: &mut Events, gid: &str) {
    match next(events).await {
        Event::Notification(Notification::DownloadRemoved(removed)) => assert_eq!(removed.gid, gid),
        other => panic!("expected the removal of {gid}, got {other:?}"),
    }
}

async fn add(client: &Client, url: String, name: &str) -> String {
    let mut add = DownloadAddParams::new(url);
    add.connections = Some(1);
    add.file_name = Some(name.to_owned());
    client.download_add(&add).await.unwrap().gid
}

#[tokio::test]
async fn the_stream_survives_dropped_connections_delivering_every_state_change_once_in_order() {
    let server =
        TestServer::start([Resource::file("/f.bin", random_bytes(1 << 20, 9)).rate(512 << 10)])
            .await;
    let Setup {
        daemon: _running,
        proxy,
        direct,
        proxied,
    } = Setup::start(&[]).await;
    let mut events = connected(&proxied, EventsOptions::default()).await;

    let mut gids = Vec::new();
    for i in 0..3 {
        gids.push(add(&direct, server.url("/f.bin"), &format!("{i}.bin")).await);
    }
    // Cut the stream's connection a few times while the downloads run.
    let cutter = tokio::spawn(async move {
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            proxy.cut();
        }
        proxy
    });

    let mut states: HashMap<String, Vec<&'static str>> = HashMap::new();
    let mut last_seq = 0;
    while gids.iter().any(|g| {
        states
            .get(g)
            .is_none_or(|s| s.last() != Some(&"download.complete"))
    }) {
        match next(&mut events).await {
            Event::Notification(n) => {
                let (method, gid, seq) = parts(&n);
                assert!(
                    seq > last_seq,
                    "in order, no duplicate: {seq} after {last_seq}"
                );
                last_seq = seq;
                if method != "download.progress" {
                    states.entry(gid).or_default().push(method);
                }
            }
            Event::Resync(r) => panic!("the daemon kept everything, no resync expected: {r:?}"),
        }
    }
    let proxy = cutter.await.unwrap();
    for gid in &gids {
        assert_eq!(
            states[gid],
            ["download.started", "download.complete"],
            "{gid}"
        );
    }
    drop(proxy);
}

#[tokio::test]
async fn a_restarted_daemon_yields_a_resync_with_every_download_then_the_stream_continues() {
    let server =
        TestServer::start([Resource::file("/f.bin", random_bytes(2 << 20, 3)).rate(1 << 20)]).await;
    let Setup {
        daemon,
        proxy,
        direct,
        proxied,
    } = Setup::start(&[]).await;
    let mut events = connected(&proxied, EventsOptions::default()).await;
    let gid = add(&direct, server.url("/f.bin"), "r.bin").await;
    loop {
        if let Event::Notification(Notification::DownloadStarted(_)) = next(&mut events).await {
            break;
        }
    }

    let (daemon, status) = daemon.restart(&[]).await;
    assert!(status.success());
    proxy.retarget(&daemon.addr);
    let resync = loop {
        match next(&mut events).await {
            Event::Resync(resync) => break resync,
            Event::Notification(n) => assert_ne!(
                n.method(),
                "download.started",
                "no event of the old stream after the restart"
            ),
        }
    };
    assert_eq!(resync.reason, ResyncReason::Restarted);
    assert_eq!(
        resync
            .downloads
            .iter()
            .map(|d| d.gid.as_str())
            .collect::<Vec<_>>(),
        [gid.as_str()]
    );
    loop {
        if let Event::Notification(Notification::DownloadComplete(done)) = next(&mut events).await {
            assert_eq!(done.gid, gid);
            break;
        }
    }
}

#[tokio::test]
async fn events_missed_while_disconnected_are_replayed_in_order_not_resynced() {
    let setup = Setup::start(&[]).await;
    let mut events = connected(&setup.proxied, quick_retries()).await;

    setup.proxy.set_down(true);
    let missed = add_paused(&setup.direct).await;
    let live = add_paused(&setup.direct).await;
    remove(&setup.direct, &missed).await;
    setup.proxy.set_down(false);
    remove(&setup.direct, &live).await;
    expect_removed(&mut events, &missed).await;
    expect_removed(&mut events, &live).await;
}

#[tokio::test]
async fn a_connection_that_went_silent_without_closing_is_noticed_and_replaced() {
    let setup = Setup::start(&[]).await;
    let options = EventsOptions {
        liveness: Duration::from_millis(300),
        ..EventsOptions::default()
    };
    let mut events = connected(&setup.proxied, options).await;

    setup.proxy.freeze();
    let gid = add_paused(&setup.direct).await;
    remove(&setup.direct, &gid).await;
    expect_removed(&mut events, &gid).await;
}

#[tokio::test]
async fn an_absence_longer_than_the_window_yields_a_window_exceeded_resync() {
    let Setup {
        daemon: _running,
        proxy,
        direct,
        proxied,
    } = Setup::start(&["--event-window", "3"]).await;
    let mut events = connected(&proxied, quick_retries()).await;

    proxy.set_down(true);
    for _ in 0..5 {
        let gone = add_paused(&direct).await;
        remove(&direct, &gone).await;
    }
    let kept = add_paused(&direct).await;
    proxy.set_down(false);
    match next(&mut events).await {
        Event::Resync(resync) => {
            assert_eq!(resync.reason, ResyncReason::WindowExceeded);
            assert_eq!(resync.downloads.len(), 1);
            assert_eq!(resync.downloads[0].gid, kept);
        }
        other => panic!("expected a resync, got {other:?}"),
    }
    remove(&direct, &kept).await;
    expect_removed(&mut events, &kept).await;
}

#[tokio::test]
async fn a_proxy_that_refuses_upgrades_falls_back_to_polling_with_the_same_events() {
    let server =
        TestServer::start([Resource::file("/f.bin", random_bytes(1 << 20, 4)).rate(512 << 10)])
            .await;
    let daemon = Daemon::start().await;
    let proxy = Proxy::start(&daemon.addr).await;
    proxy.refuse_upgrades(true);
    let client = Client::connect(&proxy.url(), &daemon.token).await.unwrap();

    let mut refused = client.events();
    let error = refused.ready().await.unwrap_err();
    assert!(error.to_string().contains("403"), "{error}");

    let options = EventsOptions {
        polling: Some(Duration::from_millis(100)),
        ..EventsOptions::default()
    };
    let mut events = connected(&client, options).await;
    assert_eq!(events.mode(), EventsMode::Polling);
    match next(&mut events).await {
        Event::Resync(resync) => assert_eq!(resync.reason, ResyncReason::Polling),
        other => panic!("polling starts from the current state: {other:?}"),
    }
    let gid = add(&client, server.url("/f.bin"), "p.bin").await;
    let stream = client
        .events_poll(&EventsPollParams::default())
        .await
        .unwrap();
    let mut methods = Vec::new();
    let mut last_seq = 0;
    loop {
        let Event::Notification(n) = next(&mut events).await else {
            panic!("one resync only")
        };
        let value = serde_json::to_value(&n).unwrap();
        // The daemon's own notifications: its stream, its seq.
        assert_eq!(value["params"]["streamId"], json!(stream.stream_id));
        let seq = value["params"]["seq"].as_u64().unwrap();
        assert!(seq > last_seq, "{seq} after {last_seq}");
        last_seq = seq;
        let (method, of, _) = parts(&n);
        assert_eq!(of, gid);
        if methods.last() != Some(&method) {
            methods.push(method);
        }
        if method == "download.complete" {
            break;
        }
    }
    assert_eq!(
        methods,
        ["download.started", "download.progress", "download.complete"]
    );
}

#[tokio::test]
async fn polling_sees_a_download_that_starts_and_finishes_between_two_polls() {
    let server = TestServer::start([Resource::file("/f.bin", random_bytes(64 << 10, 6))]).await;
    let daemon = Daemon::start().await;
    let proxy = Proxy::start(&daemon.addr).await;
    proxy.refuse_upgrades(true);
    let client = Client::connect(&proxy.url(), &daemon.token).await.unwrap();
    let options = EventsOptions {
        polling: Some(Duration::from_secs(2)),
        ..EventsOptions::default()
    };
    let mut events = connected(&client, options).await;
    assert!(matches!(next(&mut events).await, Event::Resync(_)));
    let gid = add(&client, server.url("/f.bin"), "quick.bin").await;
    let mut methods = Vec::new();
    while methods.last() != Some(&"download.complete") {
        let Event::Notification(n) = next(&mut events).await else {
            panic!("one resync only")
        };
        let (method, of, _) = parts(&n);
        assert_eq!(of, gid);
        methods.push(method);
    }
    // All in one poll, all of them: diffing two lists saw `complete` alone.
    assert_eq!(methods.first(), Some(&"download.started"), "{methods:?}");
}

#[tokio::test]
async fn a_stream_delivers_only_the_downloads_and_kinds_it_was_given() {
    let server = TestServer::start([Resource::file("/f.bin", random_bytes(64 << 10, 5))]).await;
    let daemon = Daemon::start().await;
    let client = Client::connect(&daemon.url(), &daemon.token).await.unwrap();
    let paused = |name: &str| {
        let mut add = DownloadAddParams::new(server.url("/f.bin"));
        add.paused = Some(true);
        add.file_name = Some(name.to_owned());
        add
    };
    let other = client.download_add(&paused("b.bin")).await.unwrap().gid;
    let mine = client.download_add(&paused("a.bin")).await.unwrap().gid;
    let kinds = |k: &[NotificationKind]| Some(k.to_vec());
    let everything = EventsOptions {
        kinds: kinds(&[NotificationKind::DownloadComplete]),
        ..EventsOptions::default()
    };
    let mut everything = connected(&client, everything).await;
    let filtered = EventsOptions {
        gids: Some(vec![mine.clone()]),
        kinds: kinds(&[
            NotificationKind::DownloadComplete,
            NotificationKind::DownloadRemoved,
        ]),
        ..EventsOptions::default()
    };
    let mut filtered = connected(&client, filtered).await;
    for gid in [&other, &mine] {
        client
            .download_resume(&DownloadResumeParams::new(gid.clone()))
            .await
            .unwrap();
    }
    let mut complete = Vec::new();
    while complete.len() < 2 {
        if let Event::Notification(n) = next(&mut everything).await {
            complete.push(parts(&n).1);
        }
    }
    // The other download's events come first: they would show first.
    for gid in [&other, &mine] {
        remove(&client, gid).await;
    }
    let mut seen = Vec::new();
    for _ in 0..2 {
        let Event::Notification(n) = next(&mut filtered).await else {
            panic!("no resync expected")
        };
        let (method, gid, _) = parts(&n);
        seen.push((method, gid));
    }
    assert_eq!(
        seen,
        [
            ("download.complete", mine.clone()),
            ("download.removed", mine)
        ]
    );
}

#[tokio::test]
async fn a_progress_interval_paces_one_stream_while_another_keeps_the_daemons_pace() {
    let server =
        TestServer::start([Resource::file("/f.bin", random_bytes(1 << 20, 6)).rate(512 << 10)])
            .await;
    let daemon = Daemon::start().await;
    let client = Client::connect(&daemon.url(), &daemon.token).await.unwrap();
    let kinds = Some(vec![
        NotificationKind::DownloadProgress,
        NotificationKind::DownloadComplete,
    ]);
    let paced = EventsOptions {
        kinds: kinds.clone(),
        progress_interval: Some(1000),
        ..EventsOptions::default()
    };
    let mut paced = connected(&client, paced).await;
    let unpaced = EventsOptions {
        kinds,
        ..EventsOptions::default()
    };
    let mut unpaced = connected(&client, unpaced).await;
    let started = std::time::Instant::now();
    let gid = add(&client, server.url("/f.bin"), "paced.bin").await;
    async fn progress_until_complete(events: &mut Events, gid: &str) -> usize {
        let mut count = 0;
        loop {
            match next(events).await {
                Event::Notification(Notification::DownloadComplete(c)) if c.gid == gid => {
                    return count
                }
                Event::Notification(Notification::DownloadProgress(p)) if p.gid == gid => {
                    count += 1
                }
                _ => {}
            }
        }
    }
    let (slow, fast) = tokio::join!(
        progress_until_complete(&mut paced, &gid),
        progress_until_complete(&mut unpaced, &gid)
    );
    let seconds = started.elapsed().as_secs_f64().ceil() as usize;
    assert!(
        slow <= seconds,
        "at most one progress per second: {slow} in {seconds} s"
    );
    assert!(
        fast > slow,
        "the other stream keeps the daemon's pace: {fast} against {slow}"
    );
}

#[tokio::test]
async fn ready_reports_a_failed_first_poll_instead_of_waiting_for_ever() {
    let daemon = Daemon::start().await;
    let proxy = Proxy::start(&daemon.addr).await;
    proxy.refuse_upgrades(true);
    let client = Client::connect(&proxy.url(), &daemon.token).await.unwrap();
    // Upgrades are refused and behind the proxy nothing answers HTTP either.
    proxy.retarget("127.0.0.1:9");
    let mut events = client.events_with(EventsOptions {
        polling: Some(Duration::from_millis(100)),
        ..EventsOptions::default()
    });
    let ready = tokio::time::timeout(Duration::from_secs(30), events.ready()).await;
    assert!(ready.expect("an answer within 30 s").is_err());
    assert_eq!(events.mode(), EventsMode::Polling);
}
