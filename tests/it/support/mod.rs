//! Code shared by the integration tests: a local HTTP server with faults,
//! small helpers around the engine, a real daemon process to talk to, and
//! the real web servers (Apache, lighttpd, nginx) to download from, and a
//! private PostgreSQL for the cluster's tests.

pub mod http_server;

pub use http_server::{Resource, TestServer};

use sha2::{Digest, Sha256};

/// Deterministic pseudo-random bytes: compressible data would hide bugs.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

pub fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn sha256_file(path: &std::path::Path) -> String {
    match std::fs::read(path) {
        Ok(data) => sha256(&data),
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

#[cfg(feature = "server")]
pub mod aria2;
#[cfg(feature = "server")]
pub mod daemon;
#[cfg(feature = "server")]
mod engine;
#[cfg(feature = "cluster")]
pub mod postgres;
pub mod proxies;
pub mod proxy;
pub mod tls;
#[cfg(feature = "server")]
pub mod webservers;
#[cfg(feature = "server")]
pub use engine::*;

/// Calls over `client`, then sees the removal of a download it added and
/// removed on its own event stream.
pub async fn sdk_calls_and_events(client: &haul::Client) {
    use futures::StreamExt;
    use haul::api::{DownloadAddParams, DownloadRemoveParams, Notification};
    use haul::client::Event;
    client.system_get_version().await.unwrap();
    let mut events = client.events();
    tokio::time::timeout(std::time::Duration::from_secs(10), events.ready())
        .await
        .expect("the stream connects in time")
        .unwrap();
    let mut add = DownloadAddParams::new("http://127.0.0.1:9/f");
    add.paused = Some(true);
    let gid = client.download_add(&add).await.unwrap().gid;
    client
        .download_remove(&DownloadRemoveParams::new(gid.clone()))
        .await
        .unwrap();
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
            .await
            .expect("a notification in time")
            .expect("the stream goes on")
            .unwrap();
        if let Event::Notification(Notification::DownloadRemoved(removed)) = event {
            assert_eq!(removed.gid, gid);
            return;
        }
    }
}
