//! `haul get`, run as users run it: the real binary against the test server.
#![cfg(feature = "server")]

use crate::support;

use support::*;

async fn haul_get(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"))
        .arg("get")
        .args(args)
        .output()
        .await
        .expect("run haul")
}

#[tokio::test]
async fn haul_get_downloads_verifies_and_names_the_file() {
    let data = random_bytes(3 * 1024 * 1024, 1);
    let server = TestServer::start([Resource::file("/a.bin", data.clone())]).await;
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let checksum = format!("--checksum=sha-256={}", sha256(&data));
    let output = haul_get(&[
        "-x",
        "4",
        "-d",
        dir_arg,
        "-o",
        "copy.bin",
        &checksum,
        &server.url("/a.bin"),
    ])
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(sha256_file(&dir.path().join("copy.bin")), sha256(&data));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("copy.bin"),
        "plain progress lines when not on a terminal: {stderr}"
    );
}

#[tokio::test]
async fn haul_get_fails_with_the_reason_and_a_non_zero_status() {
    let server = TestServer::start([]).await;
    let dir = tempfile::tempdir().unwrap();
    let output = haul_get(&[
        "-d",
        dir.path().to_str().unwrap(),
        &server.url("/missing.bin"),
    ])
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("404") && stderr.contains("http-status"),
        "{stderr}"
    );
}

#[tokio::test]
async fn haul_get_names_the_flag_at_fault() {
    let output = haul_get(&["--checksum", "md5=00", "http://127.0.0.1:9/x"]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: invalid --checksum \"md5=00\""),
        "{stderr}"
    );
    let output = haul_get(&["--header", "no colon", "http://127.0.0.1:9/x"]).await;
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid --header"));
}
