//! The handle: queue order, limits, state transitions, events, errors, reopen.
#![cfg(feature = "server")]

use crate::support;

use std::time::{Duration, Instant};

use haul::engine::{AddRequest, Engine, EngineError, EngineEvent, Gid, State};
use support::*;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn downloads_beyond_max_concurrent_wait_their_turn_in_order() {
    let server =
        TestServer::start(
            [Resource::file("/a", random_bytes(256 * KIB, 1)).rate(256 * KIB as u64)],
        )
        .await;
    let t = TestEngine::start_with(|c| c.max_concurrent = 1).await;
    let mut gids: Vec<Gid> = Vec::new();
    for _ in 0..3 {
        gids.push(t.add(request(server.url("/a"))).await);
    }
    let first = wait_until(&t.engine, gids[0], |s| s.state == State::Active).await;
    assert_eq!(first.state, State::Active);
    let stats = t.engine.stats();
    assert_eq!((stats.active, stats.queued), (1, 2));
    assert_eq!(t.engine.status(gids[1]).unwrap().state, State::Queued);

    let page = t.engine.list(&[State::Queued], 1, 10, None);
    let total = page.total;
    let page = page.downloads;
    assert_eq!(total, 2);
    assert_eq!(
        page.iter().map(|s| s.gid).collect::<Vec<_>>(),
        vec![gids[2]]
    );

    for gid in &gids {
        assert_complete(&wait_finished(&t.engine, *gid).await);
    }
    let done: Vec<_> = gids
        .iter()
        .map(|g| t.engine.status(*g).unwrap().completed_at.unwrap())
        .collect();
    assert!(done.windows(2).all(|w| w[0] <= w[1]), "FIFO order");
    let listed = t.engine.list(&[], 0, 100, None);
    let (all, total) = (listed.downloads, listed.total);
    assert_eq!(total, 3);
    assert_eq!(
        all.iter().map(|s| s.gid).collect::<Vec<_>>(),
        gids,
        "listed by creation"
    );
}

#[tokio::test]
async fn connections_to_one_host_are_capped_across_downloads() {
    let server =
        TestServer::start([Resource::file("/a", random_bytes(2 * MIB, 2)).rate(2 * MIB as u64)])
            .await;
    let t = TestEngine::start_with(|c| {
        c.max_connections_per_host = 3;
        c.min_split = 512 * KIB as u64;
    })
    .await;
    let mut gids: Vec<Gid> = Vec::new();
    for _ in 0..2 {
        gids.push(t.add(request(server.url("/a"))).await);
    }
    // The engine's own count of open connections, summed over downloads.
    // (The server's count would include connections the engine already
    // dropped, e.g. a slow range's after a racer won, until it notices.)
    let mut most = 0;
    while t.engine.stats().active > 0 || t.engine.stats().queued > 0 {
        let all = t.engine.list(&[], 0, 10, None).downloads;
        most = most.max(all.iter().map(|s| s.connections).sum::<u32>());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for gid in gids {
        assert_complete(&wait_finished(&t.engine, gid).await);
    }
    assert!((2..=3).contains(&most), "{most} connections open at once");
}

#[tokio::test]
async fn a_speed_limit_holds_and_can_be_lifted_without_restart() {
    let server = TestServer::start([Resource::file("/a", random_bytes(4 * MIB, 3))]).await;
    let t = TestEngine::start().await;
    let mut request = request(server.url("/a"));
    request.speed_limit = Some(256 * KIB as u64);
    let gid = t.add(request).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let slowed = t.engine.status(gid).unwrap();
    assert!(
        slowed.completed_length < 2 * MIB as u64,
        "{}",
        slowed.completed_length
    );
    t.engine.set_speed_limit(gid, 0).await.unwrap();
    assert_complete(&wait_finished(&t.engine, gid).await);
}

#[tokio::test]
async fn the_global_speed_limit_applies_to_all_downloads_and_can_change() {
    let server = TestServer::start([Resource::file("/a", random_bytes(2 * MIB, 4))]).await;
    let t = TestEngine::start_with(|c| c.global_speed_limit = 256 * KIB as u64).await;
    let started = Instant::now();
    let a = t.add(request(server.url("/a"))).await;
    let b = t.add(request(server.url("/a"))).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let done =
        t.engine.status(a).unwrap().completed_length + t.engine.status(b).unwrap().completed_length;
    assert!(
        done < 2 * MIB as u64,
        "{done} bytes in {:?}",
        started.elapsed()
    );
    t.engine.set_global_speed_limit(0);
    assert_complete(&wait_finished(&t.engine, a).await);
    assert_complete(&wait_finished(&t.engine, b).await);
}

#[tokio::test]
async fn events_tell_the_whole_story_of_a_download() {
    let data = random_bytes(MIB, 5);
    let server =
        TestServer::start([Resource::file("/a.bin", data.clone()).rate(2 * MIB as u64)]).await;
    let t = TestEngine::start().await;
    let mut events = t.engine.subscribe();
    let gid = t.add(request(server.url("/a.bin"))).await;
    let mut seen = Vec::new();
    while let Some(event) = events.recv().await {
        assert_eq!(event.gid(), gid);
        let last = matches!(event, EngineEvent::Complete { .. });
        seen.push(event);
        if last {
            break;
        }
    }
    assert_eq!(seen[0], EngineEvent::Activated { gid }, "a slot first");
    assert!(matches!(
        &seen[1],
        EngineEvent::Started { file_name, total_length: Some(len), resumed: false, .. }
            if file_name == "a.bin" && *len == data.len() as u64
    ));
    assert!(seen[2..seen.len() - 1]
        .iter()
        .all(|e| matches!(e, EngineEvent::Progress { .. })));
    assert!(seen.len() > 3, "progress was reported");
    assert!(matches!(
        seen.last(),
        Some(EngineEvent::Complete { total_length, .. }) if *total_length == data.len() as u64
    ));

    t.engine.remove(gid, true).await.unwrap();
    assert_eq!(events.recv().await, Some(EngineEvent::Removed { gid }));
    assert!(
        std::fs::read_dir(t.engine.download_root())
            .unwrap()
            .next()
            .is_none(),
        "files deleted"
    );
    assert!(matches!(
        t.engine.status(gid),
        Err(EngineError::NotFound { .. })
    ));
}

#[tokio::test]
async fn removing_an_active_download_stops_it_and_deletes_its_part() {
    let server =
        TestServer::start([Resource::file("/a", random_bytes(4 * MIB, 6)).rate(MIB as u64)]).await;
    let t = TestEngine::start().await;
    let gid = t.add(request(server.url("/a"))).await;
    let active = wait_until(&t.engine, gid, |s| s.download_speed > 0).await;
    assert!(active.connections > 0);
    assert!(active.eta.is_some());
    t.engine.remove(gid, true).await.unwrap();
    assert!(t.engine.status(gid).is_err());
    assert!(std::fs::read_dir(t.engine.download_root())
        .unwrap()
        .next()
        .is_none());
}

#[tokio::test]
async fn state_transitions_that_make_no_sense_are_refused() {
    let server = TestServer::start([Resource::file("/a", vec![1; 10])]).await;
    let t = TestEngine::start().await;
    let gid = t.add(request(server.url("/a"))).await;
    wait_finished(&t.engine, gid).await;
    assert!(matches!(
        t.engine.pause(gid).await,
        Err(EngineError::InvalidState {
            state: State::Complete,
            ..
        })
    ));
    assert!(matches!(
        t.engine.resume(gid).await,
        Err(EngineError::InvalidState { .. })
    ));
    let unknown: Gid = "0123456789abcdef".parse().unwrap();
    assert!(matches!(
        t.engine.status(unknown),
        Err(EngineError::NotFound { .. })
    ));

    let mut paused = request(server.url("/a"));
    paused.paused = true;
    let gid = t.add(paused).await;
    assert_eq!(t.engine.status(gid).unwrap().state, State::Paused);
    // Pausing what is paused changes nothing (the contract says so).
    t.engine.pause(gid).await.unwrap();
    assert_eq!(t.engine.status(gid).unwrap().state, State::Paused);
    t.engine.resume(gid).await.unwrap();
    assert_complete(&wait_finished(&t.engine, gid).await);
}

#[tokio::test]
async fn invalid_requests_are_refused_with_the_value_at_fault() {
    let t = TestEngine::start_with(|c| c.max_downloads = 1).await;
    for url in ["ftp://example.com/x", "no url", "file:///etc/passwd"] {
        match t.engine.add(request(url.into())).await {
            Err(EngineError::InvalidUrl { url: bad, .. }) => assert_eq!(bad, url),
            other => panic!("{url:?}: {other:?}"),
        }
    }
    let mut zero = request("http://127.0.0.1:9/x".into());
    zero.connections = Some(0);
    assert!(matches!(
        t.engine.add(zero).await,
        Err(EngineError::InvalidParam {
            name: "connections",
            ..
        })
    ));
    let mut paused = request("http://127.0.0.1:9/x".into());
    paused.paused = true;
    t.add(paused.clone()).await;
    assert!(matches!(
        t.engine.add(paused).await,
        Err(EngineError::LimitExceeded { max: 1, .. })
    ));
}

#[tokio::test]
async fn reopening_keeps_history_and_paused_and_resumes_active_downloads() {
    let data = random_bytes(4 * MIB, 7);
    let server = TestServer::start([
        Resource::file("/slow", data.clone()).rate(MIB as u64),
        Resource::file("/done", vec![1; 10]),
    ])
    .await;
    let t = TestEngine::start().await;
    let done = t.download(request(server.url("/done"))).await.gid;
    let mut paused = request(server.url("/done"));
    paused.paused = true;
    let paused = t.add(paused).await;
    let active = t.add(request(server.url("/slow"))).await;
    wait_until(&t.engine, active, |s| s.completed_length > MIB as u64).await;
    t.engine.shutdown().await;
    let before = t.engine.status(active).unwrap().completed_length;

    let engine = Engine::open(t.config.clone()).await.unwrap();
    assert_eq!(engine.status(done).unwrap().state, State::Complete);
    assert_eq!(engine.status(paused).unwrap().state, State::Paused);
    let resumed = engine.status(active).unwrap();
    assert_eq!(resumed.state, State::Active);
    assert!(
        resumed.completed_length >= before - before / 4,
        "{} < {before}",
        resumed.completed_length
    );
    let status = wait_finished(&engine, active).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
}

#[tokio::test]
async fn a_second_engine_on_the_same_state_directory_is_refused() {
    let t = TestEngine::start().await;
    assert!(Engine::open(t.config.clone()).await.is_err());
}

#[test]
fn a_request_round_trips_through_json_for_storage() {
    let mut request = AddRequest::new("http://example.com/a");
    request.checksum = Some(format!("sha-256={}", "ab".repeat(32)).parse().unwrap());
    request.headers.insert("A".into(), "b".into());
    let json = serde_json::to_string(&request).unwrap();
    assert_eq!(serde_json::from_str::<AddRequest>(&json).unwrap(), request);
}

#[tokio::test]
async fn a_crash_between_the_rename_and_its_record_completes_without_downloading_again() {
    let server = TestServer::start([Resource::file("/a.bin", random_bytes(MIB, 8))]).await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/a.bin"))).await;
    let path = assert_complete(&status);
    t.engine.shutdown().await;
    // What the store holds if the process died right after the rename.
    {
        use haul::engine::{SqliteStore, Store, Write};
        let mut store = SqliteStore::open(Some(t.state.path())).unwrap();
        let mut record = store.load().unwrap().remove(0);
        record.state = State::Active;
        record.completed_at = None;
        store.apply(&[Write::Save(Box::new(record))]).unwrap();
    }
    let requests = server.requests("/a.bin");
    let engine = Engine::open(t.config.clone()).await.unwrap();
    let again = wait_finished(&engine, status.gid).await;
    assert_eq!(assert_complete(&again), path);
    assert_eq!(
        server.requests("/a.bin"),
        requests,
        "nothing was downloaded again"
    );
    assert_eq!(
        std::fs::read_dir(t.engine.download_root()).unwrap().count(),
        1
    );
}

#[tokio::test]
async fn raising_max_concurrent_at_run_time_starts_queued_downloads() {
    let server =
        TestServer::start([Resource::file("/a", random_bytes(MIB, 9)).rate(256 * KIB as u64)])
            .await;
    let t = TestEngine::start_with(|c| c.max_concurrent = 1).await;
    let mut gids: Vec<Gid> = Vec::new();
    for _ in 0..3 {
        gids.push(t.add(request(server.url("/a"))).await);
    }
    assert_eq!(t.engine.stats().queued, 2);
    t.engine.set_max_concurrent(3);
    assert_eq!(t.engine.options().max_concurrent, 3);
    assert_eq!((t.engine.stats().active, t.engine.stats().queued), (3, 0));
    for gid in gids {
        assert_complete(&wait_finished(&t.engine, gid).await);
    }
}

#[tokio::test]
async fn a_download_that_keeps_failing_lends_its_slot_to_the_queue() {
    // Nothing listens there: every try fails, and with no limit on tries
    // (`--max-tries 0`) the download retries for ever.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let data = random_bytes(256 * KIB, 9);
    let server = TestServer::start([Resource::file("/ok", data.clone())]).await;
    let t = TestEngine::start_with(|c| {
        c.max_concurrent = 1;
        c.max_tries = 0;
        c.retry_base_delay = Duration::from_millis(300);
    })
    .await;
    let failing = t.add(request(format!("http://{closed}/never"))).await;
    wait_until(&t.engine, failing, |s| s.state == State::Active).await;
    let next = t.add(request(server.url("/ok"))).await;
    let started = Instant::now();
    let done = wait_until(&t.engine, next, |s| s.state.is_finished()).await;
    assert_eq!(done.state, State::Complete, "{done:#?}");
    assert_eq!(sha256_file(done.path.as_ref().unwrap()), sha256(&data));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // It still retries, in its place: active, never failed.
    let failing = t.engine.status(failing).unwrap();
    assert_eq!((failing.state, failing.error), (State::Active, None));
    // A slot is lent, not given: max-concurrent still holds for the rest.
    let (third, fourth) = (
        t.add(request(server.url("/ok"))).await,
        t.add(AddRequest {
            paused: false,
            ..request(server.url("/ok"))
        })
        .await,
    );
    wait_until(&t.engine, third, |s| s.state.is_finished()).await;
    wait_until(&t.engine, fourth, |s| s.state.is_finished()).await;
}
