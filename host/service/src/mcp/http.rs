//! The HTTP face of `andon serve`: one function, [`router_with`], builds every
//! route. Read-only routes that need no MCP session (`/metrics`, `/healthz`, and
//! later `/checkpoint`, `/tile/…`) go in [`read_only_routes`]; every route is
//! behind the `Host`/`Origin` [`Guard`](super::Guard).

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use super::authn::{self, Authenticator};
use super::throttle::{self, HttpLimits, RateLimiter};
use super::{AndonMcp, Guard};
use crate::service::Service;

/// How the routes are guarded.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    /// The `Host` and `Origin` allow-lists (default: loopback only).
    pub guard: Guard,
    /// Who may call: `None` serves everyone as unauthenticated (loopback only;
    /// `andon serve` refuses other addresses without credentials).
    pub auth: Option<Arc<Authenticator>>,
    /// Body deadline and per-principal rate.
    pub limits: HttpLimits,
}

/// The HTTP routes of `andon serve` with the default (loopback) guard; see
/// [`router_with`].
pub fn router(service: Arc<Service>, cancel: tokio_util::sync::CancellationToken) -> axum::Router {
    router_with(service, cancel, &Routes::default())
}

/// The HTTP routes of `andon serve`: MCP streamable HTTP at `/mcp` and the
/// [`read_only_routes`], all behind the guard. Cancelling `cancel` ends the MCP
/// sessions.
pub fn router_with(
    service: Arc<Service>,
    cancel: tokio_util::sync::CancellationToken,
    routes: &Routes,
) -> axum::Router {
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
    // The guard below checks Host and Origin on every route, this one included,
    // with one set of rules; rmcp's own copies of those checks are turned off so
    // the two cannot disagree.
    let config = StreamableHttpServerConfig::default()
        .with_sse_keep_alive(None)
        .with_cancellation_token(cancel)
        .disable_allowed_hosts()
        .disable_allowed_origins();
    // One server (tool router, compiled input schemas) shared by every session.
    let server = AndonMcp::new(Arc::clone(&service));
    let factory = move || Ok(server.clone());
    let mcp = StreamableHttpService::new(factory, Arc::new(LocalSessionManager::default()), config);
    let guard = Arc::new(routes.guard.clone());
    let auth = routes.auth.clone();
    let limiter = Arc::new(RateLimiter::new(&routes.limits));
    let body_timeout = routes.limits.body_timeout;
    let metadata = routes.auth.as_ref().map(|a| a.metadata());
    let well_known = move || {
        let metadata = metadata.clone();
        async move {
            match metadata {
                Some(document) => axum::Json(document).into_response(),
                None => (axum::http::StatusCode::NOT_FOUND, "this server has no authentication configured\n")
                    .into_response(),
            }
        }
    };
    axum::Router::new()
        .nest_service("/mcp", mcp)
        .merge(read_only_routes(service))
        .route("/.well-known/oauth-protected-resource", axum::routing::get(well_known.clone()))
        .route("/.well-known/oauth-protected-resource/mcp", axum::routing::get(well_known))
        // Layers run outside in: the guard, the body deadline, authentication,
        // then the principal's rate.
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let limiter = Arc::clone(&limiter);
            async move { throttle::rate_limit(&limiter, request, next).await }
        }))
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let auth = auth.clone();
            async move { authn::authenticate(auth, request, next).await }
        }))
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            throttle::read_body(body_timeout, request, next)
        }))
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let guard = Arc::clone(&guard);
            async move { guarded(&guard, request, next).await }
        }))
}

/// Routes that read and change nothing: Prometheus `/metrics`, `/healthz`, and the
/// log's `/checkpoint` and `/tile/…` (public; see `log_routes`).
/// Add further read-only routes here (they inherit the guard).
fn read_only_routes(service: Arc<Service>) -> axum::Router {
    let ledger_dir = service.ledger_dir().to_path_buf();
    let metrics = move || {
        let body = service.metrics().encode();
        async move {
            ([(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body)
        }
    };
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .merge(super::log_routes::routes(ledger_dir))
}

async fn guarded(guard: &Guard, request: Request, next: Next) -> Response {
    if let Err(refused) = guard.check(request.uri(), request.headers()) {
        return *refused;
    }
    next.run(request).await
}
