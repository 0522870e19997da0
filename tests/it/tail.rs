//! No slow tail: over connections of very different speeds, the download
//! ends about when the fast connections alone would have finished it. (The
//! decisions behind it are unit-tested in `engine::segments`.)
#![cfg(feature = "server")]

use crate::support;

use std::time::{Duration, Instant};

use support::*;

const MIB: usize = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_connections_never_hold_the_tail_of_a_download() {
    // Connections alternate between 1 and 8 MiB/s for their whole life.
    let (slow, fast) = (MIB as u64, 8 * MIB as u64);
    let data = random_bytes(48 * MIB, 5);
    let server =
        TestServer::start([Resource::file("/mixed", data.clone()).rates(&[slow, fast])]).await;
    let t = TestEngine::start_with(|c| {
        c.max_connections_per_host = 16;
        c.progress_interval = Duration::from_millis(100);
    })
    .await;
    let started = Instant::now();
    let mut request = request(server.url("/mixed"));
    request.connections = Some(16);
    let status = t.download(request).await;
    let took = started.elapsed();
    assert_eq!(sha256_file(&assert_complete(&status)), sha256(&data));

    // The fast half alone: 48 MiB over 8 connections at 8 MiB/s.
    let fast_alone = Duration::from_secs_f64(48.0 / 64.0);
    let sent = server.bytes_sent_by_connection();
    let (mut by_slow, mut by_fast) = (0, 0);
    for (connection, bytes) in &sent {
        if connection % 2 == 0 {
            by_slow += bytes
        } else {
            by_fast += bytes
        }
    }
    eprintln!(
        "took {took:?} (fast alone {fast_alone:?}); slow connections sent {:.1} MiB, fast {:.1} MiB over {} connections",
        by_slow as f64 / MIB as f64,
        by_fast as f64 / MIB as f64,
        sent.len()
    );
    // Generous for a loaded machine; a slow connection holding the last
    // range costs far more (its last MiB alone takes a second).
    assert!(
        took < fast_alone * 3 / 2,
        "{took:?}: the slow connections held the tail (fast alone: {fast_alone:?})"
    );
    // What the slow connections can deliver while the fast ones do the
    // rest, and no more: their late bytes were raced, not waited for.
    let duplicated = (by_slow + by_fast).saturating_sub(data.len() as u64);
    assert!(
        duplicated < 4 * MIB as u64,
        "{:.1} MiB downloaded twice",
        duplicated as f64 / MIB as f64
    );
}
