//! `andon mcp` (stdio) and `andon serve` (streamable HTTP + `/metrics`).

use std::sync::Arc;
use std::time::Duration;

use andon_core::AndonEngine;
use andon_ledger::keys;
use std::collections::HashMap;

use andon_service::auth::Role;
use andon_service::auth::tokens::Tokens;
use andon_service::listener::{self as net, Limits, Tls};
use andon_service::mcp::{AndonMcp, Authenticator, HttpLimits, Routes};
use andon_service::service::{self, Governance, Service, ServiceError};
use andon_work::bundle::load::Bundle;
use andon_work::bundle::trust::TrustPolicy;
use anyhow::Context as _;
use rmcp::ServiceExt as _;
use tokio_util::sync::CancellationToken;

use crate::cli::serve::{McpArgs, ServeArgs, ServerArgs};
use crate::exit::Exit;

/// How long HTTP connections get to finish after the service has drained.
const HTTP_GRACE: Duration = Duration::from_secs(5);

fn start(args: &ServerArgs) -> anyhow::Result<Arc<Service>> {
    let trust = TrustPolicy::load(&args.trust)?;
    let engine = Arc::new(AndonEngine::new()?);
    let mut bundles = Vec::new();
    for path in &args.bundles {
        let bundle = Bundle::load_for_ledger(&engine, path, Some(&trust), &args.ledger)
            .with_context(|| format!("cannot load bundle {}", path.display()))?;
        bundles.push(bundle);
    }
    let hmac_key = keys::load_hmac_key(&args.keys.join(keys::HMAC_FILE))?;
    let signing_key = keys::load_signing_key(&args.keys.join(keys::SIGNING_FILE))?;
    let mut governance = Governance {
        wip_limit: usize::from(args.wip_limit),
        queue_capacity: args.queue_capacity as usize,
        ..Governance::default()
    };
    for (severity, deadline) in &args.sla {
        governance.sla[service::rank(*severity)] = *deadline;
    }
    let config = service::Config {
        export_dir: args.export_dir.clone().unwrap_or_else(|| args.ledger.join("exports")),
        ledger_dir: args.ledger.clone(),
        hmac_key,
        signing_key,
        bundles,
        governance,
        engine,
    };
    match Service::start(config) {
        Ok(service) => Ok(Arc::new(service)),
        // Keep the ledger error itself in the chain so its exit code (busy, damaged) holds.
        Err(ServiceError::Ledger(e)) => Err(anyhow::Error::new(e).context("cannot open the ledger")),
        Err(e) => Err(e.into()),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("andon-io").build()?)
}

/// Resolves on SIGINT or SIGTERM.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// Drains the service: running evaluations finish, queued ones are refused with
/// receipts, a final checkpoint is written.
async fn drain(service: &Arc<Service>) {
    let service = Arc::clone(service);
    let _ = tokio::task::spawn_blocking(move || service.shutdown()).await;
}

pub fn mcp(args: &McpArgs) -> anyhow::Result<Exit> {
    let service = start(&args.server)?;
    tracing::info!(ledger = %service.ledger_dir().display(), "andon mcp: serving MCP on stdio");
    runtime()?.block_on(async {
        let running = AndonMcp::new(Arc::clone(&service))
            .serve(andon_service::mcp::stdio::transport(
                tokio::io::stdin(),
                tokio::io::stdout(),
                andon_service::mcp::stdio::MAX_LINE_BYTES,
            ))
            .await
            .context("MCP initialization over stdio failed")?;
        let cancel = running.cancellation_token();
        tokio::select! {
            result = running.waiting() => {
                if let Err(e) = result {
                    tracing::warn!("MCP session ended: {e}");
                }
            }
            () = stop_signal() => {
                tracing::info!("signal received; draining");
                drain(&service).await;
                cancel.cancel();
            }
        }
        drain(&service).await;
        anyhow::Ok(())
    })?;
    Ok(Exit::Ok)
}

/// The network face's settings from the arguments: TLS, who may call, and the
/// guard; refuses a non-loopback address without TLS and authentication unless
/// `--insecure-allow-plaintext`.
fn network(args: &ServeArgs, address: std::net::SocketAddr) -> anyhow::Result<(Option<Arc<Tls>>, Routes)> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let roles: HashMap<String, Role> = args.client_cert_roles.iter().cloned().collect();
            Some(Arc::new(Tls::load(cert, key, args.client_ca.as_deref(), roles)?))
        }
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut routes = Routes::default();
    if !address.ip().is_unspecified() {
        routes.guard.hosts.push(address.ip().to_string());
    }
    routes.guard.hosts.extend(args.allow_hosts.iter().cloned());
    routes.guard.origins.extend(args.allow_origins.iter().cloned());
    routes.limits =
        HttpLimits { body_timeout: args.body_timeout, rate_per_second: args.rate_limit, burst: args.rate_burst };
    let resource = args.resource.clone().unwrap_or_else(|| format!("{scheme}://{address}/mcp"));
    let authenticated = args.tokens.is_some() || !args.jwt_issuers.is_empty() || args.client_ca.is_some();
    if authenticated {
        let tokens = args.tokens.as_deref().map(Tokens::load).transpose()?;
        let jwt = if args.jwt_issuers.is_empty() {
            None
        } else {
            Some(andon_service::auth::jwt::Verifier::load(&resource, &args.jwt_issuers)?)
        };
        routes.auth = Some(Arc::new(Authenticator { tokens, jwt, resource }));
    }
    let protected = tls.is_some() && authenticated;
    if !address.ip().is_loopback() && !protected {
        let missing = match (tls.is_some(), authenticated) {
            (false, false) => "TLS (--tls-cert/--tls-key) and authentication (--tokens, --jwt-issuer or --client-ca)",
            (false, true) => "TLS (--tls-cert/--tls-key)",
            _ => "authentication (--tokens, --jwt-issuer or --client-ca)",
        };
        if !args.insecure_allow_plaintext {
            anyhow::bail!(
                "refusing to listen on the non-loopback address {address} without {missing}; \
                 --insecure-allow-plaintext overrides this"
            );
        }
        eprintln!("andon: WARNING ******************************************************************");
        eprintln!("andon: WARNING listening on {address} without {missing} (--insecure-allow-plaintext):");
        eprintln!("andon: WARNING anyone who reaches this port can read traffic and act in every role.");
        eprintln!("andon: WARNING ******************************************************************");
    }
    Ok((tls, routes))
}

pub fn serve(args: &ServeArgs) -> anyhow::Result<Exit> {
    // Check the network settings before the (slower) service starts.
    let planned = network(args, args.listen);
    if let Err(e) = planned {
        eprintln!("error: {e:#}");
        return Ok(Exit::BadInput);
    }
    let service = start(&args.server)?;
    runtime()?.block_on(async {
        let cancel = CancellationToken::new();
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|source| andon_core::Error::Io { path: args.listen.to_string().into(), source })?;
        let address = listener.local_addr()?;
        let (tls, routes) = network(args, address)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let router = andon_service::mcp::router_with(Arc::clone(&service), cancel.child_token(), &routes);
        eprintln!("andon: listening on {scheme}://{address}/mcp (metrics: {scheme}://{address}/metrics)");
        let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
        let limits = Limits { max_connections: args.max_connections, header_timeout: args.header_timeout };
        let stopped = async move {
            let _ = drained_rx.await;
        };
        let server = tokio::spawn(net::serve(listener, router, tls, limits, stopped, HTTP_GRACE));
        stop_signal().await;
        tracing::info!("signal received; draining");
        // Drain first so every waiting caller gets its decision or refusal over
        // HTTP, then stop taking connections and end the MCP sessions.
        drain(&service).await;
        let _ = drained_tx.send(());
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
        match tokio::time::timeout(HTTP_GRACE + Duration::from_secs(1), server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!("HTTP server: {e}"),
            Ok(Err(e)) => tracing::warn!("HTTP server task: {e}"),
            Err(_) => tracing::warn!("HTTP connections did not finish within {HTTP_GRACE:?}; closing"),
        }
        anyhow::Ok(())
    })?;
    eprintln!("andon: stopped; every accepted submission has a terminal receipt");
    Ok(Exit::Ok)
}
