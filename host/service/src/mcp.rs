//! The Model Context Protocol face of the [`Service`]: `andon mcp` (stdio) and
//! `andon serve` (streamable HTTP, plus Prometheus `/metrics`).
//!
//! Every tool has an input and an output JSON Schema and returns structured
//! content. A policy refusal (and a capacity refusal) is a *successful* result
//! whose `status` says `refused` (or `overloaded`); a tool error (`isError`) means
//! a genuine failure — bad evidence, an unknown incident, an illegal transition, a
//! ledger failure; unknown tools and malformed arguments are protocol errors.
//! Receipts are resources: `andon://receipts/<seq>`. See `docs/mcp.md`.
//!
//! The server ([`AndonMcp`]) is transport-agnostic: `andon mcp` serves it over
//! stdio, and [`router`] mounts it on HTTP. Its parts:
//!
//! | module | job |
//! |---|---|
//! | `params` | the tools' arguments |
//! | `results` | the tools' structured results |
//! | `tools` | the tools themselves, over the [`Service`] |
//! | `handler` | the MCP handler: argument validation, server info, receipt resources |
//! | `progress` | progress notifications of a submission |
//! | `stdio` | `andon mcp`'s stdio framing: `-32700` for unparseable lines, a bound on line length |
//! | `authn` | who calls (bearer token, JWT, client certificate) and whether their role allows the call |
//! | `throttle` | body deadline and size cap, per-principal rate limit |
//! | `schema` | tool schemas portable clients accept (no type arrays, no untyped members) |
//! | `guard` | the `Host` and `Origin` checks of every HTTP route |
//! | `http` | the HTTP routes of `andon serve` |

mod authn;
mod guard;
mod handler;
mod http;
mod log_routes;
mod params;
mod progress;
mod results;
mod schema;
pub mod stdio;
mod throttle;
mod tools;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;

use crate::service::Service;

pub use authn::{Authenticator, ClientCertificate, MAX_BODY_BYTES};
pub use guard::Guard;
pub use http::{Routes, router, router_with};
pub use params::{CloseArgs, IncidentArgs, NoArgs, OutcomeArgs, OutcomeStatus, ReplayArgs, SubmitArgs};
pub use results::{
    BundleInfo, BundleList, ComponentInfo, Exported, IncidentStatus, RecipeInfo, RecipeList, Replayed, RouteInfo,
    Transition, Verified,
};
pub use throttle::{DEFAULT_BODY_TIMEOUT_SECS, DEFAULT_BURST, DEFAULT_RATE_PER_SECOND, HttpLimits};
pub use tools::Fail;

/// How many receipts `resources/list` lists (the newest); older ones are read by URI.
pub const LISTED_RECEIPTS: usize = 100;

/// The MCP server over a shared [`Service`].
#[derive(Clone)]
pub struct AndonMcp {
    service: Arc<Service>,
    tool_router: ToolRouter<AndonMcp>,
    /// Each tool's input schema, compiled: arguments are checked against the
    /// schema the tool declares before it runs, and a violation is a tool error
    /// naming the member (and the valid values of an enumeration).
    inputs: Arc<std::collections::HashMap<String, (jsonschema::Validator, serde_json::Value)>>,
    /// The tools as `tools/list` shows them, in name order, with portable schemas.
    tools: Arc<Vec<rmcp::model::Tool>>,
}

impl std::fmt::Debug for AndonMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AndonMcp").field("service", &self.service).finish_non_exhaustive()
    }
}

/// The principal of a call: the one the HTTP authenticator attached to the request,
/// or the local, trusted user of stdio. An HTTP request that carries none holds no
/// role.
fn principal_of(context: &rmcp::service::RequestContext<rmcp::RoleServer>) -> crate::auth::Principal {
    match context.extensions.get::<axum::http::request::Parts>() {
        Some(parts) => {
            parts.extensions.get::<crate::auth::Principal>().cloned().unwrap_or_else(|| crate::auth::Principal {
                method: crate::auth::Method::Unauthenticated,
                issuer: None,
                subject: "anonymous".into(),
                roles: Vec::new(),
            })
        }
        None => crate::auth::Principal::local(),
    }
}
