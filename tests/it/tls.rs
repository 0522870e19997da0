//! HTTPS downloads from a real nginx whose certificates come from an
//! authority the test makes: trusted through the system's store
//! (`SSL_CERT_FILE`, as OpenSSL reads it), `--ca-certificate`, or not at
//! all; for the wrong host; expired; a server that demands a client
//! certificate; and `insecure`, one download at a time.
#![cfg(feature = "server")]

use crate::support;

use std::path::Path;

use haul::engine::{AddRequest, FailureCode, State, Status};
use serde_json::json;
use support::daemon::Daemon;
use support::tls::{Authority, Issued, Leaf};
use support::webservers::{Age, Kind, ServerTls, Settings, WebServer};
use support::{sha256, sha256_file, TestEngine};

const LEN: usize = 3 * 1024 * 1024 + 17;

/// An nginx serving HTTPS with `cert`, demanding client certificates of
/// `client_ca` when given.
async fn https_nginx(cert: &Issued, client_ca: Option<&Path>) -> Option<WebServer> {
    let settings = Settings {
        len: LEN,
        tls: Some(ServerTls {
            cert: cert.cert.clone(),
            key: cert.key.clone(),
            client_ca: client_ca.map(Path::to_owned),
        }),
        ..Settings::default()
    };
    WebServer::start(Kind::Nginx, settings).await
}

/// An authority, and an nginx serving `localhost` with a certificate of it.
struct Site {
    authority: Authority,
    server: WebServer,
    _dir: tempfile::TempDir,
}

async fn site(leaf: Leaf<'_>) -> Option<Site> {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new("haul test authority", dir.path());
    let cert = authority.issue(leaf, "server");
    let server = https_nginx(&cert, None).await?;
    Some(Site {
        authority,
        server,
        _dir: dir,
    })
}

async fn engine_trusting(ca: Option<&Path>) -> TestEngine {
    TestEngine::start_with(|config| {
        config.network.ca_certificates = ca.into_iter().map(Path::to_owned).collect();
    })
    .await
}

fn failed_with_tls(status: &Status) -> &str {
    assert_eq!(status.state, State::Error, "{status:#?}");
    let error = status.error.as_ref().unwrap();
    assert_eq!(error.code, FailureCode::Tls, "{error:?}");
    &error.message
}

#[tokio::test]
async fn haul_get_trusts_an_authority_in_the_systems_store_as_ssl_cert_file_names_it() {
    let Some(site) = site(Leaf::Server(&["localhost"])).await else {
        return;
    };
    let served = site.server.file(Age::Old);
    let out = tempfile::tempdir().unwrap();
    let run = |cert_file: Option<&Path>| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"));
        command
            .args(["get", "-x", "4", "-d"])
            .arg(out.path())
            .arg(&served.url)
            .env_remove("SSL_CERT_DIR");
        match cert_file {
            Some(file) => command.env("SSL_CERT_FILE", file),
            None => command.env_remove("SSL_CERT_FILE"),
        };
        command.output()
    };

    let untrusted = run(None).await.unwrap();
    assert!(!untrusted.status.success());
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(
        stderr.contains("tls: the server's certificate is signed by an unknown authority")
            && stderr.contains("--ca-certificate"),
        "{stderr}"
    );

    let trusted = run(Some(&site.authority.pem_path())).await.unwrap();
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert_eq!(
        sha256_file(&out.path().join("old.bin")),
        sha256(&served.data)
    );
}

#[tokio::test]
async fn ca_certificate_trusts_the_authority_and_an_unknown_one_fails_with_the_tls_code() {
    let Some(site) = site(Leaf::Server(&["localhost"])).await else {
        return;
    };
    let served = site.server.file(Age::Old);

    let untrusting = engine_trusting(None).await;
    let failed = untrusting.download(AddRequest::new(&served.url)).await;
    let message = failed_with_tls(&failed);
    assert!(message.contains("unknown authority"), "{message}");
    assert!(message.contains("--ca-certificate FILE"), "{message}");

    let trusting = engine_trusting(Some(&site.authority.pem_path())).await;
    let done = trusting.download(AddRequest::new(&served.url)).await;
    assert_eq!(done.state, State::Complete, "{done:#?}");
    assert_eq!(
        sha256_file(done.path.as_ref().unwrap()),
        sha256(&served.data)
    );
}

#[tokio::test]
async fn insecure_skips_verification_for_that_download_only() {
    let Some(site) = site(Leaf::Server(&["localhost"])).await else {
        return;
    };
    let served = site.server.file(Age::Old);
    let engine = engine_trusting(None).await;
    let insecure = engine.add(AddRequest {
        insecure: true,
        ..AddRequest::new(&served.url)
    });
    let verified = engine.add(AddRequest::new(&served.url));
    let (insecure, verified) = (insecure.await, verified.await);
    let insecure = support::wait_finished(&engine.engine, insecure).await;
    let verified = support::wait_finished(&engine.engine, verified).await;
    assert_eq!(insecure.state, State::Complete, "{insecure:#?}");
    assert!(insecure.insecure);
    assert_eq!(
        sha256_file(insecure.path.as_ref().unwrap()),
        sha256(&served.data)
    );
    failed_with_tls(&verified);
    assert!(!verified.insecure);
}

#[tokio::test]
async fn a_certificate_for_another_host_fails_saying_so() {
    let Some(site) = site(Leaf::Server(&["other.example"])).await else {
        return;
    };
    let engine = engine_trusting(Some(&site.authority.pem_path())).await;
    let failed = engine
        .download(AddRequest::new(site.server.file(Age::Old).url))
        .await;
    let message = failed_with_tls(&failed);
    assert!(message.contains("is not valid for this host"), "{message}");
}

#[tokio::test]
async fn an_expired_certificate_fails_naming_its_validity() {
    let Some(site) = site(Leaf::ExpiredServer(&["localhost"])).await else {
        return;
    };
    let engine = engine_trusting(Some(&site.authority.pem_path())).await;
    let failed = engine
        .download(AddRequest::new(site.server.file(Age::Old).url))
        .await;
    let message = failed_with_tls(&failed);
    assert!(message.contains("outside its validity period"), "{message}");
}

#[tokio::test]
async fn a_server_that_demands_a_client_certificate_gets_the_configured_one() {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new("haul test authority", dir.path());
    let cert = authority.issue(Leaf::Server(&["localhost"]), "server");
    let client = authority.issue(Leaf::Client("haul"), "client");
    let Some(server) = https_nginx(&cert, Some(&authority.pem_path())).await else {
        return;
    };
    let served = server.file(Age::Old);

    let anonymous = engine_trusting(Some(&authority.pem_path())).await;
    let refused = anonymous.download(AddRequest::new(&served.url)).await;
    assert_eq!(refused.state, State::Error, "{refused:#?}");
    let error = refused.error.unwrap();
    // nginx answers the request without a certificate with 400.
    assert_eq!(error.code, FailureCode::HttpStatus, "{error:?}");
    assert!(error.message.contains("400"), "{error:?}");

    let identified = TestEngine::start_with(|config| {
        config.network.ca_certificates = vec![authority.pem_path()];
        config.network.client_certificate = Some((client.cert.clone(), client.key.clone()));
    })
    .await;
    let done = identified.download(AddRequest::new(&served.url)).await;
    assert_eq!(done.state, State::Complete, "{done:#?}");
    assert_eq!(
        sha256_file(done.path.as_ref().unwrap()),
        sha256(&served.data)
    );
}

#[tokio::test]
async fn the_daemon_reports_insecure_and_the_tls_failure_on_the_wire() {
    let Some(site) = site(Leaf::Server(&["localhost"])).await else {
        return;
    };
    let served = site.server.file(Age::Old);
    let daemon = Daemon::start().await;
    let insecure = daemon
        .add(json!({"url": served.url, "insecure": true, "fileName": "insecure.bin"}))
        .await;
    let verified = daemon
        .add(json!({"url": served.url, "fileName": "verified.bin"}))
        .await;
    let insecure = daemon.finished(&insecure).await;
    assert_eq!(insecure["state"], "complete", "{insecure}");
    assert_eq!(insecure["insecure"], true);
    assert_eq!(insecure["proxy"], json!(null));
    let verified = daemon.finished(&verified).await;
    insta::assert_json_snapshot!("tls_failure_status", verified, {
        ".gid" => "[gid]",
        ".url" => "[url]",
        ".sources[].url" => "[url]",
        ".createdAt" => "[time]",
    });
}
