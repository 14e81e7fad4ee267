//! `andon mcp` (stdio) and `andon serve` (streamable HTTP + `/metrics`).

use std::sync::Arc;
use std::time::Duration;

use andon_core::AndonEngine;
use andon_ledger::keys;
use andon_service::mcp::AndonMcp;
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
            .serve(rmcp::transport::stdio())
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

pub fn serve(args: &ServeArgs) -> anyhow::Result<Exit> {
    let service = start(&args.server)?;
    runtime()?.block_on(async {
        let cancel = CancellationToken::new();
        let router = andon_service::mcp::router(Arc::clone(&service), cancel.child_token());
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|source| andon_core::Error::Io { path: args.listen.to_string().into(), source })?;
        let address = listener.local_addr()?;
        eprintln!("andon: listening on http://{address}/mcp (metrics: http://{address}/metrics)");
        let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = drained_rx.await;
        });
        let server = tokio::spawn(async move { server.await });
        stop_signal().await;
        tracing::info!("signal received; draining");
        // Drain first so every waiting caller gets its decision or refusal over
        // HTTP, then stop taking connections and end the MCP sessions.
        drain(&service).await;
        let _ = drained_tx.send(());
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
        match tokio::time::timeout(HTTP_GRACE, server).await {
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
