//! How the client reaches the daemon, for calls and for event streams
//! alike: the token's header, whom TLS trusts (the system's roots, or only
//! the CAs the caller gives, [`trust`]), and unix sockets (`unix:/run/haul/haul.sock`,
//! spoken to as WebSocket: jsonrpsee's HTTP client only dials TCP).

use std::path::PathBuf;
use std::sync::Arc;

use jsonrpsee::client_transport::ws::WsTransportClientBuilder;
use jsonrpsee::http_client::{HeaderMap, HttpClient, HttpClientBuilder};
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use url::Url;

use super::{ClientError, MAX_MESSAGE_SIZE, REQUEST_TIMEOUT};

/// Everything a connection to the daemon is opened with.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) headers: HeaderMap,
    /// Whom TLS trusts, when the caller gave CAs; else jsonrpsee's default
    /// (the system's roots).
    tls: Option<rustls::ClientConfig>,
    /// The socket every connection goes to, for a `unix:` URL.
    pub(crate) unix: Option<PathBuf>,
}

/// The URL a unix socket's WebSocket is asked for: the Host the daemon's
/// loopback guard accepts, the path it serves.
pub(crate) const UNIX_WS_URL: &str = "ws://localhost/jsonrpc/ws";

impl Link {
    pub(crate) fn new(
        headers: HeaderMap,
        tls: Option<rustls::ClientConfig>,
        unix: Option<PathBuf>,
    ) -> Link {
        Link { headers, tls, unix }
    }

    pub(crate) fn http(&self, url: &str) -> Result<HttpClient, jsonrpsee::core::ClientError> {
        let mut builder = HttpClientBuilder::default()
            .set_headers(self.headers.clone())
            .request_timeout(REQUEST_TIMEOUT)
            .max_request_size(MAX_MESSAGE_SIZE)
            .max_response_size(MAX_MESSAGE_SIZE);
        if let Some(tls) = &self.tls {
            builder = builder.with_custom_cert_store(tls.clone());
        }
        builder.build(url)
    }

    /// A WebSocket client for calls, on `url` or on the unix socket.
    pub(crate) async fn ws(&self, url: &Url) -> Result<WsClient, ClientError> {
        let mut builder = WsClientBuilder::default()
            .set_headers(self.headers.clone())
            .request_timeout(REQUEST_TIMEOUT)
            .max_request_size(MAX_MESSAGE_SIZE)
            .max_response_size(MAX_MESSAGE_SIZE);
        if let Some(tls) = &self.tls {
            builder = builder.with_custom_cert_store(tls.clone());
        }
        let built = match &self.unix {
            None => builder.build(url.as_str()).await,
            Some(path) => {
                let stream = self.unix_stream(url, path).await?;
                builder.build_with_stream(UNIX_WS_URL, stream).await
            }
        };
        built.map_err(|e| ClientError::from_jsonrpsee(url, e))
    }

    /// The builder of an event stream's WebSockets.
    pub(crate) fn ws_transport(&self) -> WsTransportClientBuilder {
        let mut builder = WsTransportClientBuilder::default()
            .set_headers(self.headers.clone())
            .max_response_size(MAX_MESSAGE_SIZE)
            .max_request_size(MAX_MESSAGE_SIZE);
        if let Some(tls) = &self.tls {
            builder = builder.with_custom_cert_store(tls.clone());
        }
        builder
    }

    pub(crate) async fn unix_stream(
        &self,
        url: &Url,
        path: &PathBuf,
    ) -> Result<tokio::net::UnixStream, ClientError> {
        tokio::net::UnixStream::connect(path)
            .await
            .map_err(|e| ClientError::Unreachable {
                url: url.to_string(),
                source: Box::new(e),
            })
    }
}

/// A TLS configuration that trusts the CA certificates in `pems` (PEM, one
/// or more each) and nothing else: a daemon's private authority, as the
/// TypeScript and Python SDKs' `ca` options trust it.
pub(crate) fn trust(pems: &[Vec<u8>]) -> Result<rustls::ClientConfig, ClientError> {
    let invalid = |reason: String| ClientError::InvalidCertificate { reason };
    let mut roots = rustls::RootCertStore::empty();
    for pem in pems {
        let before = roots.len();
        for certificate in CertificateDer::pem_slice_iter(pem) {
            let certificate = certificate.map_err(|e| invalid(e.to_string()))?;
            roots.add(certificate).map_err(|e| invalid(e.to_string()))?;
        }
        if roots.len() == before {
            return Err(invalid("no PEM certificate in it".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
