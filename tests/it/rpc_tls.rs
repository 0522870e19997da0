//! TLS on the RPC port: HTTPS and WSS with the operator's certificate, a
//! certificate read again on SIGHUP without dropping a connection, and no
//! plain HTTP beyond loopback unless the operator says a TLS proxy fronts
//! the daemon.
#![cfg(feature = "server")]

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use support::daemon::Daemon;
use support::tls::{Authority, Issued, Leaf};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"system.getVersion"}"#;

fn https_client(authority: &Authority) -> reqwest::Client {
    let pem = std::fs::read(authority.pem_path()).unwrap();
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap()
}

async fn call(client: &reqwest::Client, daemon: &Daemon) -> Result<u16, reqwest::Error> {
    let response = client
        .post(format!("https://{}/jsonrpc", daemon.addr))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", daemon.token))
        .body(CALL)
        .send()
        .await?;
    Ok(response.status().as_u16())
}

fn leaf(authority: &Authority, file: &str) -> Issued {
    authority.issue(Leaf::Server(&["127.0.0.1", "localhost"]), file)
}

async fn tls_daemon(cert: &Issued) -> Daemon {
    Daemon::start_with(&[
        "--rpc-certificate",
        cert.cert.to_str().unwrap(),
        "--rpc-private-key",
        cert.key.to_str().unwrap(),
    ])
    .await
}

#[tokio::test]
async fn the_port_serves_https_and_wss_with_its_certificate_and_no_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new("haul rpc authority", dir.path());
    let daemon = tls_daemon(&leaf(&authority, "rpc")).await;
    assert_eq!(call(&https_client(&authority), &daemon).await.unwrap(), 200);

    // WSS: a rustls client trusting the authority, then the WebSocket.
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(authority.pem_path()).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(&daemon.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    let mut request = format!("wss://{}/jsonrpc/ws", daemon.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", daemon.token).parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::client_async(request, tls).await.unwrap();
    socket.send(Message::text(CALL)).await.unwrap();
    let answer = loop {
        match socket.next().await.unwrap().unwrap() {
            Message::Text(text) if text.contains("\"id\":1") => break text.to_string(),
            _ => {}
        }
    };
    assert!(answer.contains("\"version\""), "{answer}");

    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .post(format!("http://{}/jsonrpc", daemon.addr))
        .header("authorization", format!("Bearer {}", daemon.token))
        .body(CALL)
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}

#[tokio::test]
async fn sighup_reads_the_certificate_again_and_keeps_the_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        std::fs::create_dir(dir.path().join(name)).unwrap();
    }
    let (first, second) = (
        Authority::new("first authority", &dir.path().join("a")),
        Authority::new("second authority", &dir.path().join("b")),
    );
    let cert = leaf(&first, "rpc");
    let daemon = tls_daemon(&cert).await;
    let old = https_client(&first);
    assert_eq!(call(&old, &daemon).await.unwrap(), 200);
    let new = https_client(&second);
    assert!(call(&new, &daemon).await.is_err(), "not trusted yet");

    let renewed = leaf(&second, "renewed");
    std::fs::copy(&renewed.cert, &cert.cert).unwrap();
    std::fs::copy(&renewed.key, &cert.key).unwrap();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &daemon.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let mut served = false;
    for _ in 0..100 {
        if call(&new, &daemon).await.is_ok() {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "the new certificate is presented after SIGHUP");
    // The connection the old client opened before is still there.
    assert_eq!(call(&old, &daemon).await.unwrap(), 200);
}

#[tokio::test]
async fn plain_http_beyond_loopback_is_refused_unless_a_tls_proxy_is_said_to_front_it() {
    let dirs = tempfile::tempdir().unwrap();
    let run = |extra: &'static [&'static str]| {
        let dirs = dirs.path().to_owned();
        async move {
            let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"))
                .args([
                    "daemon",
                    "--listen",
                    "127.0.0.1:0",
                    "--rpc-listen-all",
                    "--dir",
                ])
                .arg(dirs.join("dl"))
                .arg("--state-dir")
                .arg(dirs.join("state"))
                .args(extra)
                .env_remove("HAUL_RPC_SECRET")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let exited = tokio::time::timeout(Duration::from_secs(3), child.wait()).await;
            let _ = child.start_kill();
            let output = child.wait_with_output().await.unwrap();
            (
                exited.is_ok(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        }
    };
    let (exited, stderr) = run(&[]).await;
    assert!(exited, "refused at start-up");
    assert!(
        stderr.contains("would send the token")
            && stderr.contains("--rpc-certificate FILE --rpc-private-key FILE")
            && stderr.contains("--rpc-allow-insecure"),
        "{stderr}"
    );
    let (exited, stderr) = run(&["--rpc-allow-insecure"]).await;
    assert!(!exited, "it serves: {stderr}");
    assert!(
        stderr.contains("over plain HTTP (--rpc-allow-insecure)"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_rust_sdk_calls_and_streams_over_https_and_wss_trusting_a_ca_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new("haul rpc authority", dir.path());
    let daemon = tls_daemon(&leaf(&authority, "rpc")).await;
    let ca = std::fs::read(authority.pem_path()).unwrap();
    for url in [
        format!("https://{}/jsonrpc", daemon.addr),
        format!("wss://{}/jsonrpc/ws", daemon.addr),
    ] {
        let client = haul::Client::builder(&url, &daemon.token)
            .ca_certificate(ca.clone())
            .connect()
            .await
            .unwrap();
        support::sdk_calls_and_events(&client).await;
    }

    // Without the CA, the system's roots do not vouch for the certificate.
    let untrusting =
        haul::Client::connect(&format!("https://{}/jsonrpc", daemon.addr), &daemon.token)
            .await
            .unwrap();
    let error = untrusting.system_get_version().await.unwrap_err();
    let chain = format!("{error:?}");
    assert!(
        matches!(error, haul::ClientError::Unreachable { .. }) && chain.contains("UnknownIssuer"),
        "{chain}"
    );
    let error = haul::Client::builder(&daemon.url(), &daemon.token)
        .ca_certificate("not a certificate")
        .connect()
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(error, "invalid CA certificate: no PEM certificate in it");
}

#[tokio::test]
async fn the_cli_reaches_an_https_daemon_with_rpc_ca_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new("haul rpc authority", dir.path());
    let daemon = tls_daemon(&leaf(&authority, "rpc")).await;
    let haul = |ca: Option<&std::path::Path>| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"));
        command
            .args(["ls", "--url"])
            .arg(format!("https://{}/jsonrpc", daemon.addr))
            .env("HAUL_STATE_DIR", &daemon.state)
            .env_remove("HAUL_RPC_SECRET")
            .env_remove("HAUL_RPC_CA_CERTIFICATE");
        if let Some(ca) = ca {
            command.arg("--rpc-ca-certificate").arg(ca);
        }
        command.output()
    };
    let trusted = haul(Some(&authority.pem_path())).await.unwrap();
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    let untrusted = haul(None).await.unwrap();
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(
        !untrusted.status.success() && stderr.contains("UnknownIssuer"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_aria2_port_serves_https_on_the_same_certificate_like_rpc_secure() {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new("haul rpc authority", dir.path());
    let cert = leaf(&authority, "rpc");
    let daemon = Daemon::start_with(&[
        "--rpc-certificate",
        cert.cert.to_str().unwrap(),
        "--rpc-private-key",
        cert.key.to_str().unwrap(),
        "--aria2-listen",
        "127.0.0.1:0",
    ])
    .await;
    let aria2 = daemon.aria2.clone().expect("the aria2 port");
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": "1", "method": "aria2.getVersion",
        "params": [format!("token:{}", daemon.token)],
    });
    let answer = https_client(&authority)
        .post(format!("https://{aria2}/jsonrpc"))
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert!(answer["result"]["version"].is_string(), "{answer}");
    // No plain HTTP there either.
    let plain = reqwest::Client::new()
        .post(format!("http://{aria2}/jsonrpc"))
        .body(body.to_string())
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}
