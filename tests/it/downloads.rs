//! Transfers against the local test server: connections, fallbacks, faults.
#![cfg(feature = "server")]

use crate::support;

use std::time::{Duration, Instant, SystemTime};

use haul::engine::{AddRequest, FailureCode, State};
use support::*;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn a_file_downloads_over_exactly_the_requested_connections_and_is_intact() {
    let data = random_bytes(4 * MIB, 1);
    // Throttled so that all connections overlap.
    let server =
        TestServer::start([Resource::file("/a.bin", data.clone()).rate(2 * MIB as u64)]).await;
    let t = TestEngine::start().await;
    let mut request = request(server.url("/a.bin"));
    request.connections = Some(4);
    let status = t.download(request).await;
    let path = assert_complete(&status);
    assert_eq!(sha256_file(&path), sha256(&data));
    assert_eq!(status.total_length, Some(data.len() as u64));
    assert_eq!(server.max_concurrent_responses(), 4);
    assert!(!haul_part(&path).exists());
}

/// The probe's body is the first range's: asking for those bytes again
/// would cost a request and up to a range of bytes thrown away. On several
/// threads, as the daemon and `haul get` run, since there spawned tasks do
/// not start in the order they were spawned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_request_serves_the_first_range_and_is_not_repeated() {
    let data = random_bytes(4 * MIB, 21);
    // Throttled, so that no connection is done before the others started
    // and races one of their ranges from its first byte.
    let server =
        TestServer::start([Resource::file("/a.bin", data.clone()).rate(2 * MIB as u64)]).await;
    let t = TestEngine::start().await;
    let mut request = request(server.url("/a.bin"));
    request.connections = Some(4);
    let status = t.download(request).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
    let starts = server.range_starts("/a.bin");
    assert_eq!(
        starts.iter().filter(|start| **start == Some(0)).count(),
        1,
        "one request from byte 0: {starts:?}"
    );
}

fn haul_part(path: &std::path::Path) -> std::path::PathBuf {
    let mut os = path.as_os_str().to_owned();
    os.push(".part");
    os.into()
}

#[tokio::test]
async fn a_server_without_ranges_is_read_in_one_stream() {
    let data = random_bytes(3 * MIB, 2);
    let server = TestServer::start([Resource::file("/a.bin", data.clone()).no_ranges()]).await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/a.bin"))).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
    assert_eq!(
        server.requests("/a.bin"),
        1,
        "the probe's body is the download"
    );
}

#[tokio::test]
async fn a_body_without_length_is_read_to_the_end() {
    let data = random_bytes(MIB + 17, 3);
    let server = TestServer::start([Resource::file("/a.bin", data.clone())
        .no_ranges()
        .no_length()])
    .await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/a.bin"))).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
    assert_eq!(status.total_length, Some(data.len() as u64));
}

#[tokio::test]
async fn an_empty_file_completes() {
    let server = TestServer::start([Resource::file("/empty", Vec::new())]).await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/empty"))).await;
    assert_eq!(std::fs::read(assert_complete(&status)).unwrap(), b"");
}

#[tokio::test]
async fn a_reset_connection_is_retried_and_the_file_is_intact() {
    let data = random_bytes(2 * MIB, 4);
    let server =
        TestServer::start([Resource::file("/a.bin", data.clone()).reset_after(100 * KIB, 3)]).await;
    let t = TestEngine::start_with(|c| c.min_split = 256 * KIB as u64).await;
    let status = t.download(request(server.url("/a.bin"))).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
    assert!(server.requests("/a.bin") > 3);
}

#[tokio::test]
async fn service_unavailable_for_the_first_requests_is_retried() {
    let data = random_bytes(MIB, 5);
    let server =
        TestServer::start([Resource::file("/a.bin", data.clone()).fail_first(503, 2)]).await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/a.bin"))).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
}

#[tokio::test]
async fn retry_after_on_503_and_429_is_waited_in_seconds_or_until_a_date() {
    let data = random_bytes(64 * KIB, 5);
    for (status, as_date) in [(503, false), (429, true)] {
        // A date names whole seconds: of two ahead, at least one is left.
        let asked = match as_date {
            false => "1".to_owned(),
            true => httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2)),
        };
        let at_least = Duration::from_millis(950);
        let resource = Resource::file("/a.bin", data.clone())
            .fail_first(status, 1)
            .retry_after(&asked);
        let server = TestServer::start([resource]).await;
        // Without Retry-After the retry would follow in about 10 ms.
        let t = TestEngine::start().await;
        let done = t.download(request(server.url("/a.bin"))).await;
        assert_eq!(sha256_file(&assert_complete(&done)), sha256(&data));
        let arrivals = server.arrivals("/a.bin");
        let waited = arrivals[1] - arrivals[0];
        assert!(
            waited >= at_least,
            "{status} Retry-After {asked}: retried after {waited:?}"
        );
    }
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_waits_only_the_cap() {
    let data = random_bytes(64 * KIB, 5);
    let server = TestServer::start([Resource::file("/a.bin", data.clone())
        .fail_first(503, 1)
        .retry_after("86400")])
    .await;
    let t = TestEngine::start_with(|c| c.max_retry_wait = Duration::from_millis(300)).await;
    let done = t.download(request(server.url("/a.bin"))).await;
    assert_eq!(sha256_file(&assert_complete(&done)), sha256(&data));
    let arrivals = server.arrivals("/a.bin");
    let waited = arrivals[1] - arrivals[0];
    assert!(waited >= Duration::from_millis(290), "{waited:?}");
}

#[tokio::test]
async fn cloudflares_origin_errors_are_transient_and_max_tries_zero_retries_for_ever() {
    let data = random_bytes(64 * KIB, 5);
    // More failures than the default five tries: only "for ever" gets past.
    let server =
        TestServer::start([Resource::file("/a.bin", data.clone()).fail_first(522, 8)]).await;
    let t = TestEngine::start_with(|c| {
        c.max_tries = 0;
        c.retry_base_delay = Duration::from_millis(1);
    })
    .await;
    let done = t.download(request(server.url("/a.bin"))).await;
    assert_eq!(sha256_file(&assert_complete(&done)), sha256(&data));
    assert_eq!(server.requests("/a.bin"), 9);
}

#[tokio::test]
async fn a_url_with_an_ipv6_literal_downloads_in_ranges() {
    let data = random_bytes(3 * MIB, 23);
    let server = TestServer::start_ipv6([Resource::file("/six.bin", data.clone())]).await;
    let url = server.url("/six.bin");
    assert!(url.starts_with("http://[::1]:"), "{url}");
    let t = TestEngine::start().await;
    let status = t
        .download(AddRequest {
            connections: Some(3),
            ..request(url)
        })
        .await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
    assert!(server.requests("/six.bin") >= 3);
}

/// A host name that resolves to `::1` only (an AAAA record and no A), in
/// a mount namespace of its own whose /etc/hosts says so: nothing on the
/// machine changes. Needs root (CI runs as root); elsewhere it is skipped
/// with a message.
#[tokio::test]
async fn a_host_name_with_only_an_ipv6_address_downloads() {
    let data = random_bytes(2 * MIB, 24);
    let server = TestServer::start_ipv6([Resource::file("/six.bin", data.clone())]).await;
    let port = server
        .url("/six.bin")
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "::1 v6only.haul.test\n").unwrap();
    let out = dir.path().join("six.bin");
    let script = format!(
        "mount --bind {hosts} /etc/hosts && exec {haul} get -x 3 -o {out} http://v6only.haul.test:{port}/six.bin",
        hosts = hosts.display(),
        haul = env!("CARGO_BIN_EXE_haul"),
        out = out.display(),
    );
    let run = tokio::process::Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .output()
        .await
        .expect("unshare runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    if !run.status.success() && (stderr.contains("unshare failed") || stderr.contains("mount:")) {
        assert!(
            std::env::var("HAUL_SKIP_NAMESPACES").is_ok_and(|v| v == "1"),
            "cannot make a mount namespace here (needs root): {stderr}\nhint: run as root, or set HAUL_SKIP_NAMESPACES=1"
        );
        return;
    }
    assert!(run.status.success(), "{stderr}");
    assert_eq!(sha256_file(&out), sha256(&data));
    assert!(server.requests("/six.bin") >= 2, "in ranges");
}

#[tokio::test]
async fn a_stalled_connection_is_dropped_and_retried() {
    let data = random_bytes(MIB, 6);
    let server =
        TestServer::start([Resource::file("/a.bin", data.clone()).stall_after(50 * KIB, 1)]).await;
    let t = TestEngine::start_with(|c| c.stall_timeout = Duration::from_millis(300)).await;
    let status = t.download(request(server.url("/a.bin"))).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
}

#[tokio::test]
async fn a_connection_that_stalls_every_time_fails_with_network() {
    let data = random_bytes(MIB, 7);
    let server =
        TestServer::start([Resource::file("/a.bin", data).stall_after(0, usize::MAX)]).await;
    let t = TestEngine::start_with(|c| {
        c.stall_timeout = Duration::from_millis(100);
        c.max_tries = 2;
    })
    .await;
    let mut request = request(server.url("/a.bin"));
    request.connections = Some(1);
    let status = t.download(request).await;
    assert_eq!(status.state, State::Error);
    let error = status.error.expect("an error");
    assert_eq!(error.code, FailureCode::Network);
    assert!(error.message.contains("no data"), "{}", error.message);
    assert_eq!(server.requests("/a.bin"), 2);
}

#[tokio::test]
async fn a_body_shorter_than_announced_once_is_retried() {
    let data = random_bytes(MIB, 8);
    let server = TestServer::start([Resource::file("/a.bin", data.clone())
        .no_ranges()
        .wrong_length(1)])
    .await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/a.bin"))).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
}

#[tokio::test]
async fn a_server_that_always_lies_about_the_length_fails_with_invalid_response() {
    let data = random_bytes(2 * MIB, 9);
    let server = TestServer::start([Resource::file("/a.bin", data).wrong_length(usize::MAX)]).await;
    let t = TestEngine::start_with(|c| c.max_tries = 2).await;
    let status = t.download(request(server.url("/a.bin"))).await;
    assert_eq!(status.state, State::Error);
    assert_eq!(
        status.error.expect("an error").code,
        FailureCode::InvalidResponse
    );
}

#[tokio::test]
async fn a_missing_file_fails_with_http_status_and_names_it() {
    let server = TestServer::start([]).await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/nope"))).await;
    assert_eq!(status.state, State::Error);
    let error = status.error.expect("an error");
    assert_eq!(error.code, FailureCode::HttpStatus);
    assert!(error.message.contains("404"), "{}", error.message);
    assert_eq!(server.connections(), 1, "a 404 is not retried");
}

#[tokio::test]
async fn a_server_error_that_persists_fails_after_the_configured_tries() {
    let server =
        TestServer::start([Resource::file("/a", vec![1]).fail_first(500, usize::MAX)]).await;
    let t = TestEngine::start_with(|c| c.max_tries = 3).await;
    let status = t.download(request(server.url("/a"))).await;
    assert_eq!(
        status.error.expect("an error").code,
        FailureCode::HttpStatus
    );
    assert_eq!(server.requests("/a"), 3);
}

#[tokio::test]
async fn redirects_are_followed_and_the_file_is_named_after_the_target() {
    let data = random_bytes(MIB, 10);
    let server = TestServer::start([
        Resource::redirect("/start", "/middle"),
        Resource::redirect("/middle", "/files/target.bin"),
        Resource::file("/files/target.bin", data.clone()),
    ])
    .await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/start"))).await;
    let path = assert_complete(&status);
    assert_eq!(path.file_name().unwrap(), "target.bin");
    assert_eq!(sha256_file(&path), sha256(&data));
}

#[tokio::test]
async fn a_redirect_loop_fails_with_invalid_response() {
    let server = TestServer::start([Resource::redirect("/loop", "/loop")]).await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/loop"))).await;
    let error = status.error.expect("an error");
    assert_eq!(error.code, FailureCode::InvalidResponse);
    assert!(error.message.contains("redirect"), "{}", error.message);
}

#[tokio::test]
async fn content_disposition_names_the_file_with_rfc_6266_names_preferred() {
    let server = TestServer::start(
        [Resource::file("/dl?id=1", vec![7; 10]).content_disposition(
            "attachment; filename=\"plain.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt",
        )],
    )
    .await;
    let t = TestEngine::start().await;
    let status = t.download(request(server.url("/dl?id=1"))).await;
    assert_eq!(status.file_name.as_deref(), Some("€ rates.txt"));
    assert_eq!(
        assert_complete(&status).parent(),
        Some(t.engine.download_root())
    );
}

#[tokio::test]
async fn a_slow_connection_does_not_hold_the_tail() {
    let data = random_bytes(4 * MIB, 11);
    // Connection 0 crawls: alone it would need 16 s for its quarter, which
    // is too small to split; a racer has to take it over.
    // (Only the first connection is slow; later ones are fast.)
    let mut rates = vec![4 * MIB as u64; 16];
    rates[0] = 64 * KIB as u64;
    let server = TestServer::start([Resource::file("/a.bin", data.clone()).rates(&rates)]).await;
    let t = TestEngine::start().await;
    let mut request = request(server.url("/a.bin"));
    request.connections = Some(4);
    let started = Instant::now();
    let status = t.download(request).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn idle_connections_steal_half_of_the_largest_range() {
    let data = random_bytes(8 * MIB, 16);
    let mut rates = vec![8 * MIB as u64; 16];
    rates[0] = 256 * KIB as u64;
    let server = TestServer::start([Resource::file("/a.bin", data.clone()).rates(&rates)]).await;
    let t = TestEngine::start().await;
    let mut request = request(server.url("/a.bin"));
    request.connections = Some(2);
    let status = t.download(request).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));
    // Two ranges of 4 MiB; the fast connection comes back for more.
    assert!(
        server.requests("/a.bin") > 3,
        "{} requests",
        server.requests("/a.bin")
    );
}

#[tokio::test]
async fn a_checksum_is_verified_before_the_final_name_appears() {
    let data = random_bytes(3 * MIB, 12);
    let server = TestServer::start([Resource::file("/a.bin", data.clone())]).await;
    let t = TestEngine::start().await;

    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha512::digest(&data))
    };
    let mut good = request(server.url("/a.bin"));
    good.checksum = Some(format!("sha-512={digest}").parse().unwrap());
    assert_eq!(
        sha256_file(&assert_complete(&t.download(good).await)),
        sha256(&data)
    );

    let mut bad = request(server.url("/a.bin"));
    bad.file_name = Some("bad.bin".into());
    bad.checksum = Some(format!("sha-256={}", "00".repeat(32)).parse().unwrap());
    let status = t.download(bad).await;
    assert_eq!(
        status.error.expect("an error").code,
        FailureCode::ChecksumMismatch
    );
    let path = status.path.expect("a path");
    assert!(
        !path.exists(),
        "a file that failed verification keeps its .part name"
    );
    assert_eq!(sha256_file(&haul_part(&path)), sha256(&data));

    // Resuming does not trust those bytes: they are downloaded again.
    let before = server.requests("/a.bin");
    t.engine.resume(status.gid).await.unwrap();
    let again = wait_finished(&t.engine, status.gid).await;
    assert_eq!(
        again.error.expect("an error").code,
        FailureCode::ChecksumMismatch
    );
    assert!(
        server.requests("/a.bin") > before + 1,
        "the body was fetched again"
    );
}

#[tokio::test]
async fn a_paused_download_resumes_where_it_stopped() {
    let data = random_bytes(4 * MIB, 13);
    let server = TestServer::start([Resource::file("/a.bin", data.clone()).rate(MIB as u64)]).await;
    let t = TestEngine::start().await;
    let mut events = t.engine.subscribe();
    let gid = t.add(request(server.url("/a.bin"))).await;
    wait_until(&t.engine, gid, |s| s.completed_length > MIB as u64).await;
    t.engine.pause(gid).await.unwrap();
    let paused = t.engine.status(gid).unwrap();
    assert_eq!(paused.state, State::Paused);
    assert!(paused.completed_length > MIB as u64);
    t.engine.resume(gid).await.unwrap();
    let status = wait_finished(&t.engine, gid).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));

    let mut starts = Vec::new();
    while let Some(event) = events.recv().await {
        match event {
            haul::engine::EngineEvent::Started { resumed, .. } => starts.push(resumed),
            haul::engine::EngineEvent::Complete { .. } => break,
            _ => {}
        }
    }
    assert_eq!(starts, vec![false, true]);
}

#[tokio::test]
async fn a_changed_remote_file_restarts_from_zero_and_says_so() {
    let old = random_bytes(4 * MIB, 14);
    let new = random_bytes(3 * MIB, 15);
    let server = TestServer::start([Resource::file("/a.bin", old).rate(MIB as u64)]).await;
    let t = TestEngine::start().await;
    let mut events = t.engine.subscribe();
    let gid = t.add(request(server.url("/a.bin"))).await;
    wait_until(&t.engine, gid, |s| s.completed_length > 0).await;
    t.engine.pause(gid).await.unwrap();
    server.replace("/a.bin", new.clone());
    t.engine.resume(gid).await.unwrap();
    let status = wait_finished(&t.engine, gid).await;
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&new));
    assert_eq!(status.total_length, Some(new.len() as u64));
    let mut starts = Vec::new();
    while let Some(event) = events.recv().await {
        match event {
            haul::engine::EngineEvent::Started { resumed, .. } => starts.push(resumed),
            haul::engine::EngineEvent::Complete { .. } => break,
            _ => {}
        }
    }
    assert_eq!(
        starts,
        vec![false, false],
        "a restart from zero is not a resume"
    );
}

#[tokio::test]
async fn custom_headers_are_sent_and_engine_headers_refused() {
    let server = TestServer::start([Resource::file("/a", vec![1; 100])]).await;
    let t = TestEngine::start().await;
    let mut request: AddRequest = request(server.url("/a"));
    request.headers.insert("X-Token".into(), "secret".into());
    assert_complete(&t.download(request.clone()).await);
    request.headers.insert("If-Range".into(), "x".into());
    assert!(t.engine.add(request).await.is_err());
}
