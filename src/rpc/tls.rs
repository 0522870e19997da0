//! TLS on the RPC port (`--rpc-certificate`, `--rpc-private-key`): HTTPS
//! and WSS on the same port, the certificate read from PEM files and read
//! again on SIGHUP. A reload changes what the next handshake presents;
//! connections already open keep theirs, so none is dropped.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::engine::{read_key_pair, NetworkError};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{0}")]
    Read(#[from] NetworkError),
    #[error("cannot use the key in {}: {reason}", path.display())]
    Key { path: PathBuf, reason: String },
}

/// The port's certificate, as of the last (re)load.
pub struct RpcTls {
    cert: PathBuf,
    key: PathBuf,
    current: Arc<Current>,
    acceptor: TlsAcceptor,
}

#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

impl std::fmt::Debug for RpcTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcTls")
            .field("cert", &self.cert)
            .finish_non_exhaustive()
    }
}

impl RpcTls {
    pub fn load(cert: PathBuf, key: PathBuf) -> Result<RpcTls, TlsError> {
        let current = Arc::new(Current(RwLock::new(certified(&cert, &key)?)));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        // The port serves HTTP/1.1 (and its WebSocket upgrades) and h2.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(RpcTls {
            cert,
            key,
            current,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Reads the files again; on failure the certificate in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = certified(&self.cert, &self.key)?;
        *self.current.0.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    /// The server side of a handshake on `stream`, bounded in time like a
    /// request's headers: a client that opens and says nothing is dropped.
    pub async fn handshake<IO>(
        &self,
        stream: IO,
    ) -> Result<tokio_rustls::server::TlsStream<IO>, Box<dyn std::error::Error + Send + Sync>>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(stream)).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err("no TLS handshake in time".into()),
        }
    }
}

/// How long a client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn certified(cert: &PathBuf, key: &PathBuf) -> Result<Arc<CertifiedKey>, TlsError> {
    let (chain, private) = read_key_pair(cert, key)?;
    let signing =
        rustls::crypto::ring::sign::any_supported_type(&private).map_err(|e| TlsError::Key {
            path: key.clone(),
            reason: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, signing);
    // A key that is not the certificate's would fail every handshake.
    certified.keys_match().map_err(|e| TlsError::Key {
        path: key.clone(),
        reason: format!("{e} (is it the key of {}?)", cert.display()),
    })?;
    Ok(Arc::new(certified))
}
