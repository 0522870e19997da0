//! Commands that meet: every command ends in the state it promised, whatever
//! else happens to the download at the same moment, and a download never
//! stays wedged.
#![cfg(feature = "server")]

use crate::support;

use std::time::Duration;

use haul::engine::{
    AddRequest, EngineError, EngineEvent, FailureCode, Gid, Overwrite, RestartReason, State,
    Subscription,
};
use support::*;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

/// A download that takes several seconds, already transferring.
async fn slow_download(t: &TestEngine, server: &TestServer) -> Gid {
    let gid = t.add(request(server.url("/slow"))).await;
    wait_until(&t.engine, gid, |s| s.completed_length > 0).await;
    gid
}

async fn slow_server() -> TestServer {
    TestServer::start([Resource::file("/slow", random_bytes(4 * MIB, 7)).rate(256 * KIB as u64)])
        .await
}

/// Every event of `gid` until `until` matches one (inclusive), or 30 s.
async fn events_of(
    events: &mut Subscription,
    gid: Gid,
    until: impl Fn(&EngineEvent) -> bool,
) -> Vec<EngineEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
        if event.gid() != gid || matches!(event, EngineEvent::Progress { .. }) {
            continue;
        }
        let last = until(&event);
        seen.push(event);
        if last {
            return seen;
        }
    }
    panic!("no final event for {gid} in 30 s; saw {seen:?}");
}

#[tokio::test]
async fn a_remove_during_a_pause_in_flight_wins_and_the_pause_says_so() {
    let server = slow_server().await;
    let t = TestEngine::start().await;
    let mut events = t.engine.subscribe();
    let gid = slow_download(&t, &server).await;
    // join! polls in order: the pause is in flight when the remove arrives.
    let (paused, removed) = tokio::join!(t.engine.pause(gid), t.engine.remove(gid, true));
    removed.unwrap();
    assert!(
        matches!(paused, Err(EngineError::NotFound { .. })),
        "the pause answers what became of the download: {paused:?}"
    );
    assert!(matches!(
        t.engine.status(gid),
        Err(EngineError::NotFound { .. })
    ));
    let seen = events_of(&mut events, gid, |e| {
        matches!(e, EngineEvent::Removed { .. })
    })
    .await;
    assert!(
        !seen.iter().any(|e| matches!(e, EngineEvent::Paused { .. })),
        "{seen:?}"
    );
    let left: Vec<_> = std::fs::read_dir(t.engine.download_root())
        .unwrap()
        .collect();
    assert!(left.is_empty(), "the remove deleted the files: {left:?}");
}

#[tokio::test]
async fn a_resume_during_a_pause_in_flight_leaves_the_download_to_finish() {
    let server = slow_server().await;
    let t = TestEngine::start().await;
    let gid = slow_download(&t, &server).await;
    let (paused, resumed) = tokio::join!(t.engine.pause(gid), t.engine.resume(gid));
    let (paused, resumed) = (paused.unwrap(), resumed.unwrap());
    // Both answer once the stop settled, with the state it settled in.
    for status in [&paused, &resumed] {
        assert!(
            matches!(status.state, State::Queued | State::Active),
            "{status:#?}"
        );
    }
    assert_complete(&wait_finished(&t.engine, gid).await);
}

#[tokio::test]
async fn a_second_pause_answers_only_once_the_download_is_paused() {
    let server = slow_server().await;
    let t = TestEngine::start().await;
    let gid = slow_download(&t, &server).await;
    let (first, second) = tokio::join!(t.engine.pause(gid), t.engine.pause(gid));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!((first.state, second.state), (State::Paused, State::Paused));
    assert_eq!(second.connections, 0, "its connections are closed");
    // Checkpointed: a reopened engine knows as many bytes.
    let completed = second.completed_length;
    let (root, state) = (t.root, t.state);
    t.engine.shutdown().await;
    let config = test_config(root.path().to_owned(), Some(state.path().to_owned()));
    let reopened = haul::engine::Engine::open(config).await.unwrap();
    assert_eq!(reopened.status(gid).unwrap().completed_length, completed);
    reopened.shutdown().await;
}

#[tokio::test]
async fn commands_on_a_settled_download_are_idempotent() {
    let server = slow_server().await;
    let t = TestEngine::start().await;
    let gid = slow_download(&t, &server).await;
    for _ in 0..2 {
        assert_eq!(t.engine.pause(gid).await.unwrap().state, State::Paused);
    }
    for _ in 0..2 {
        let state = t.engine.resume(gid).await.unwrap().state;
        assert!(matches!(state, State::Queued | State::Active), "{state:?}");
    }
    let (a, b) = tokio::join!(t.engine.remove(gid, false), t.engine.remove(gid, false));
    a.unwrap();
    b.unwrap();
}

#[tokio::test]
async fn a_content_range_past_the_largest_integer_fails_the_download_and_the_next_one_runs() {
    let data = random_bytes(64 * KIB, 3);
    let server = TestServer::start([
        Resource::file("/liar", data.clone()).content_range("bytes 0-18446744073709551615/*"),
        Resource::file("/fine", data.clone()),
    ])
    .await;
    let t = TestEngine::start_with(|c| c.max_concurrent = 1).await;
    let failed = t.download(request(server.url("/liar"))).await;
    assert_eq!(failed.state, State::Error, "{failed:#?}");
    assert_eq!(failed.error.unwrap().code, FailureCode::InvalidResponse);
    let next = t.download(request(server.url("/fine"))).await;
    assert_eq!(sha256_file(&assert_complete(&next)), sha256(&data));
}

#[tokio::test]
async fn a_remote_file_replaced_mid_download_is_downloaded_again_from_zero() {
    // Two connections, two ranges of 2 MiB: the first one's second request
    // (after the probe's first MiB) is answered by the new version.
    let (old, new) = (random_bytes(4 * MIB, 11), random_bytes(4 * MIB, 12));
    let server = TestServer::start([Resource::file("/f", old).rate(512 * KIB as u64)]).await;
    let t = TestEngine::start().await;
    let mut events = t.engine.subscribe();
    let mut request = request(server.url("/f"));
    request.connections = Some(2);
    let gid = t.add(request).await;
    wait_until(&t.engine, gid, |s| s.completed_length > 256 * KIB as u64).await;
    // Same length, new ETag: only the validators tell the versions apart.
    server.replace("/f", new.clone());
    let status = wait_finished(&t.engine, gid).await;
    assert_eq!(
        sha256_file(&assert_complete(&status)),
        sha256(&new),
        "never a mix"
    );
    let seen = events_of(&mut events, gid, |e| {
        matches!(e, EngineEvent::Complete { .. })
    })
    .await;
    let starts: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Started {
                resumed, restarted, ..
            } => Some((*resumed, *restarted)),
            _ => None,
        })
        .collect();
    assert_eq!(
        starts,
        [(false, None), (false, Some(RestartReason::RemoteChanged))],
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_remote_file_without_validators_that_changes_length_restarts_too() {
    let (old, new) = (random_bytes(4 * MIB, 21), random_bytes(4 * MIB + 5, 22));
    let server =
        TestServer::start([Resource::file("/f", old).no_etag().rate(512 * KIB as u64)]).await;
    let t = TestEngine::start().await;
    let mut request = request(server.url("/f"));
    request.connections = Some(2);
    let gid = t.add(request).await;
    wait_until(&t.engine, gid, |s| s.completed_length > 256 * KIB as u64).await;
    server.replace("/f", new.clone());
    let status = wait_finished(&t.engine, gid).await;
    assert_eq!(status.total_length, Some(new.len() as u64));
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&new));
}

#[tokio::test]
async fn a_remote_file_that_keeps_changing_fails_instead_of_looping() {
    let server = TestServer::start([Resource::file("/f", random_bytes(2 * MIB, 31))
        .etag_per_request()
        .rate(512 * KIB as u64)])
    .await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/f"))).await;
    assert_eq!(status.state, State::Error, "{status:#?}");
    let error = status.error.unwrap();
    assert_eq!(error.code, FailureCode::InvalidResponse);
    assert!(error.message.contains("kept changing"), "{}", error.message);
    assert!(
        server.requests("/f") <= 2 * 4 + 2,
        "a bounded number of starts"
    );
}

#[tokio::test]
async fn downloads_finishing_onto_taken_names_at_once_never_overwrite_each_other() {
    const N: usize = 8;
    let files: Vec<Vec<u8>> = (0..N)
        .map(|i| random_bytes(256 * KIB, 40 + i as u64))
        .collect();
    let server =
        TestServer::start(files.iter().enumerate().map(|(i, data)| {
            Resource::file(&format!("/{i}"), data.clone()).rate(256 * KIB as u64)
        }))
        .await;
    let t = TestEngine::start_with(|c| c.max_concurrent = N).await;
    let mut gids = Vec::new();
    for i in 0..N {
        let request = AddRequest {
            file_name: Some("same.bin".into()),
            overwrite: Overwrite::Rename,
            ..request(server.url(&format!("/{i}")))
        };
        gids.push(t.add(request).await);
    }
    // Once every download has chosen its name, someone takes all of them:
    // each must find another at the end, and two finishing at once must not
    // find the same one.
    for gid in &gids {
        wait_until(&t.engine, *gid, |s| s.path.is_some()).await;
    }
    let mut squatted = Vec::new();
    for gid in &gids {
        let path = t.engine.status(*gid).unwrap().path.unwrap();
        std::fs::write(&path, b"a user's file").unwrap();
        squatted.push(path);
    }
    let mut paths = std::collections::HashSet::new();
    for (gid, data) in gids.iter().zip(&files) {
        let path = assert_complete(&wait_finished(&t.engine, *gid).await);
        assert_eq!(sha256_file(&path), sha256(data), "{}", path.display());
        assert!(paths.insert(path), "two downloads finished onto one name");
    }
    for path in squatted {
        assert_eq!(std::fs::read(&path).unwrap(), b"a user's file");
    }
}
