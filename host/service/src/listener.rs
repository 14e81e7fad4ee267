//! The connection layer of `andon serve`: TCP or TLS (rustls, optionally
//! requiring client certificates), a cap on concurrent connections, a deadline for
//! the TLS handshake and the request head (slowloris), and graceful shutdown.
//!
//! A connection over the cap is accepted and closed at once, so the listen
//! backlog never fills with waiting sockets. Each connection is served by hyper
//! (HTTP/1.1 or HTTP/2) with the router; a verified client certificate becomes
//! the [`ClientCertificate`] of every request on its connection.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::auth::{Method, Principal, Role};
use crate::mcp::ClientCertificate;

/// Connection limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; more are closed on accept.
    pub max_connections: usize,
    /// Time to complete the TLS handshake and, on each request, to send the whole
    /// request head.
    pub header_timeout: Duration,
}

/// Default [`Limits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default [`Limits::header_timeout`] in seconds.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECS),
        }
    }
}

/// A TLS setup problem (at start).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {what} from {path}: {reason}")]
    Pem {
        /// What the file should hold.
        what: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("invalid TLS configuration: {0}")]
    Config(String),
}

/// TLS settings: the server's certificate chain and key, and optionally the CA
/// that client certificates must chain to, with the role of each known client
/// certificate (by the SHA-256 of its DER bytes).
pub struct Tls {
    acceptor: TlsAcceptor,
    client_roles: HashMap<String, Role>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("client_certificates", &self.client_roles.len()).finish_non_exhaustive()
    }
}

fn pem_error<'a>(what: &'static str, path: &'a Path) -> impl Fn(String) -> TlsError + 'a {
    move |reason| TlsError::Pem { what, path: path.into(), reason }
}

impl Tls {
    /// Loads PEM files. With `client_ca`, clients must present a certificate
    /// issued by it (mTLS); `client_roles` maps certificate SHA-256 fingerprints
    /// (hex) to roles.
    ///
    /// # Errors
    /// [`TlsError`] when a file is unreadable or the configuration is refused.
    pub fn load(
        cert: &Path,
        key: &Path,
        client_ca: Option<&Path>,
        client_roles: HashMap<String, Role>,
    ) -> Result<Tls, TlsError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| pem_error("certificates", cert)(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| pem_error("certificates", cert)(e.to_string()))?;
        if chain.is_empty() {
            return Err(pem_error("certificates", cert)("no certificate found".into()));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error("a private key", key)(e.to_string()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = match client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for der in
                    CertificateDer::pem_file_iter(ca).map_err(|e| pem_error("CA certificates", ca)(e.to_string()))?
                {
                    let der = der.map_err(|e| pem_error("CA certificates", ca)(e.to_string()))?;
                    roots.add(der).map_err(|e| TlsError::Config(e.to_string()))?;
                }
                // A certificate is optional: a client without one may still present
                // a bearer token; one with a certificate must chain to this CA.
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .allow_unauthenticated()
                    .build()
                    .map_err(|e| TlsError::Config(e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(chain, key).map_err(|e| TlsError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let client_roles = client_roles.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        Ok(Tls { acceptor: TlsAcceptor::from(Arc::new(config)), client_roles })
    }

    /// The principal of a verified client certificate: its fingerprint, with the
    /// role mapped to it (none when it is not mapped).
    fn client_principal(&self, certificate: &CertificateDer<'_>) -> Principal {
        let fingerprint = hex::encode(Sha256::digest(certificate.as_ref()));
        let roles = self.client_roles.get(&fingerprint).map(|r| vec![*r]).unwrap_or_default();
        Principal { method: Method::Mtls, issuer: None, subject: format!("sha256:{fingerprint}"), roles }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open
/// connections finish for up to `grace`.
///
/// # Errors
/// Never, today: accept errors (such as running out of file descriptors) are
/// logged and retried after a pause.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<Arc<Tls>>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // No protocol sniffing (hyper-util's would wait for bytes without a deadline):
    // plain connections speak HTTP/1.1, whose every request head (the first one
    // included) has the deadline; TLS connections speak what ALPN chose.
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let mut http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    http2.timer(TokioTimer::new()).keep_alive_interval(limits.header_timeout);
    let (http1, http2) = (Arc::new(http1), Arc::new(http2));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tracing::warn!(%peer, limit = limits.max_connections, "connection refused: too many connections");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let (http1, http2) = (Arc::clone(&http1), Arc::clone(&http2));
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => {
                    let service = TowerToHyperService::new(router.map_request(
                        |mut r: axum::http::Request<hyper::body::Incoming>| {
                            r.extensions_mut().insert(ClientCertificate(None));
                            r
                        },
                    ));
                    let _ = watcher.watch(http1.serve_connection(TokioIo::new(stream), service)).await;
                }
                Some(tls) => {
                    let handshake = tokio::time::timeout(limits.header_timeout, tls.acceptor.accept(stream)).await;
                    let stream = match handshake {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, "TLS handshake failed: {e}");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let client = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .map(|leaf| tls.client_principal(leaf));
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(&b"h2"[..]);
                    let certificate = ClientCertificate(client);
                    let service = TowerToHyperService::new(router.map_request(
                        move |mut r: axum::http::Request<hyper::body::Incoming>| {
                            r.extensions_mut().insert(certificate.clone());
                            r
                        },
                    ));
                    let io = TokioIo::new(stream);
                    if h2 {
                        let _ = watcher.watch(http2.serve_connection(io, service)).await;
                    } else {
                        let _ = watcher.watch(http1.serve_connection(io, service)).await;
                    }
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("HTTP connections did not finish within {grace:?}; closing");
    }
    Ok(())
}
