//! File names and directories: nothing ever lands outside the download root.
#![cfg(feature = "server")]

use crate::support;

use std::path::Path;

use haul::engine::{EngineError, FailureCode, Overwrite, State};
use support::*;

const HOSTILE: &[&str] = &[
    "../x",
    "../../../../../../etc/passwd",
    "/etc/passwd",
    "..\\x",
    "..\\..\\windows\\system32",
    "a\0b",
    "..",
    ".",
    "CON",
    "nul.txt",
    "evil\u{202e}gpj.exe",
    "a\u{2215}..\u{2215}b",
    "\u{ff0f}etc\u{ff0f}passwd",
    ".hidden",
    "x\r\nSet-Cookie: a",
];

fn long_name() -> String {
    "ü".repeat(300) + ".bin"
}

/// Every regular file or link under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn hostile_file_names_from_users_are_refused() {
    let t = TestEngine::start().await;
    let long = long_name();
    for name in HOSTILE.iter().copied().chain([long.as_str()]) {
        let mut request = request("http://127.0.0.1:9/x".into());
        request.file_name = Some(name.to_owned());
        match t.engine.add(request).await {
            Err(EngineError::OutsideRoot { .. } | EngineError::InvalidParam { .. }) => {}
            other => panic!("{name:?} was not refused: {other:?}"),
        }
    }
}

#[tokio::test]
async fn hostile_directories_are_refused_even_through_symlinks() {
    let t = TestEngine::start().await;
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), t.engine.download_root().join("escape")).unwrap();
    for dir in [
        "../x",
        "/tmp",
        "a/../../x",
        "escape",
        "escape/deeper",
        "a\\..\\..\\x",
        "a\0b",
    ] {
        let mut request = request("http://127.0.0.1:9/x".into());
        request.dir = Some(dir.to_owned());
        match t.engine.add(request).await {
            Err(EngineError::OutsideRoot { .. } | EngineError::InvalidParam { .. }) => {}
            other => panic!("{dir:?} was not refused: {other:?}"),
        }
    }
    assert!(files_under(outside.path()).is_empty());
    assert!(
        std::fs::read_dir(outside.path()).unwrap().next().is_none(),
        "nothing was created outside"
    );
}

#[tokio::test]
async fn hostile_names_from_servers_are_made_plain_inside_the_root() {
    let long = long_name();
    let mut resources = Vec::new();
    let names: Vec<&str> = HOSTILE.iter().copied().chain([long.as_str()]).collect();
    for (i, name) in names.iter().enumerate() {
        let quoted =
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
        resources.push(
            Resource::file(&format!("/cd/{i}"), vec![i as u8; 10])
                .content_disposition(&format!("attachment; filename*=UTF-8''{quoted}")),
        );
    }
    let server = TestServer::start(resources).await;
    let t = TestEngine::start().await;
    let root = t.engine.download_root().to_owned();
    for (i, hostile) in names.iter().enumerate() {
        let mut request = request(server.url(&format!("/cd/{i}")));
        request.dir = Some("sub".into());
        let path = assert_complete(&t.download(request).await);
        assert_eq!(
            path.parent(),
            Some(root.join("sub").as_path()),
            "{hostile:?}"
        );
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            !name.starts_with('.') && !name.contains(['/', '\\', '\0', '\r', '\n']),
            "{name:?}"
        );
        assert!(name.len() <= 255);
    }
    assert_eq!(files_under(&root).len(), names.len());
}

#[tokio::test]
async fn url_names_are_decoded_and_sanitised() {
    let server = TestServer::start([
        Resource::file("/a/%2E%2E%2Fescape.txt", vec![1]),
        Resource::file("/", vec![2]),
    ])
    .await;
    let t = TestEngine::start().await;
    let root = t.engine.download_root().to_owned();
    let status = t
        .download(request(server.url("/a/%2E%2E%2Fescape.txt")))
        .await;
    assert_eq!(assert_complete(&status), root.join("escape.txt"));
    let status = t.download(request(server.url("/"))).await;
    assert_eq!(assert_complete(&status), root.join("download"));
}

#[tokio::test]
async fn a_taken_name_is_renamed_overwritten_or_refused_as_asked() {
    let server = TestServer::start([Resource::file("/report.pdf", b"new".to_vec())]).await;
    let t = TestEngine::start().await;
    let root = t.engine.download_root().to_owned();
    std::fs::write(root.join("report.pdf"), b"old").unwrap();

    let status = t.download(request(server.url("/report.pdf"))).await;
    assert_eq!(assert_complete(&status), root.join("report (1).pdf"));

    let mut overwrite = request(server.url("/report.pdf"));
    overwrite.overwrite = Overwrite::Overwrite;
    assert_eq!(
        assert_complete(&t.download(overwrite).await),
        root.join("report.pdf")
    );
    assert_eq!(std::fs::read(root.join("report.pdf")).unwrap(), b"new");

    let mut fail = request(server.url("/report.pdf"));
    fail.overwrite = Overwrite::Fail;
    let status = t.download(fail.clone()).await;
    assert_eq!(status.state, State::Error);
    assert_eq!(status.error.unwrap().code, FailureCode::DestinationExists);

    fail.file_name = Some("report.pdf".into());
    assert!(matches!(
        t.engine.add(fail).await,
        Err(EngineError::DestinationExists { .. })
    ));
}

#[tokio::test]
async fn a_planted_symlink_at_the_part_name_is_not_followed() {
    let server = TestServer::start([Resource::file("/f", b"data".to_vec())]).await;
    let t = TestEngine::start().await;
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("victim");
    std::fs::write(&target, b"precious").unwrap();
    let root = t.engine.download_root().to_owned();
    std::os::unix::fs::symlink(&target, root.join("f.part")).unwrap();
    let mut request = request(server.url("/f"));
    request.file_name = Some("f".into());
    request.overwrite = Overwrite::Overwrite;
    let status = t.download(request).await;
    assert_eq!(status.state, State::Error, "{status:?}");
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
}

#[tokio::test]
async fn two_downloads_of_the_same_name_get_different_files() {
    let server = TestServer::start([Resource::file("/same.bin", vec![5; 1000]).rate(10_000)]).await;
    let t = TestEngine::start().await;
    let a = t.add(request(server.url("/same.bin"))).await;
    let b = t.add(request(server.url("/same.bin"))).await;
    let a = assert_complete(&wait_finished(&t.engine, a).await);
    let b = assert_complete(&wait_finished(&t.engine, b).await);
    assert_ne!(a, b);
}
