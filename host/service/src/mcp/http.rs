//! The HTTP face of `andon serve`.

use std::sync::Arc;

use super::AndonMcp;
use crate::service::Service;

/// The HTTP routes of `andon serve`: MCP streamable HTTP at `/mcp`, Prometheus
/// `/metrics` and `/healthz`. Cancelling `cancel` ends the MCP sessions.
pub fn router(service: Arc<Service>, cancel: tokio_util::sync::CancellationToken) -> axum::Router {
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
    let mut config = StreamableHttpServerConfig::default().with_sse_keep_alive(None);
    config.cancellation_token = cancel;
    // One server (tool router, compiled input schemas) shared by every session.
    let server = AndonMcp::new(Arc::clone(&service));
    let factory = move || Ok(server.clone());
    let mcp = StreamableHttpService::new(factory, Arc::new(LocalSessionManager::default()), config);
    let metrics = move || {
        let body = service.metrics().encode();
        async move {
            ([(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body)
        }
    };
    axum::Router::new()
        .nest_service("/mcp", mcp)
        .route("/metrics", axum::routing::get(metrics))
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
}
