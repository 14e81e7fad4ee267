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
//! | `http` | the HTTP routes of `andon serve` |

mod handler;
mod http;
mod params;
mod results;
mod tools;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;

use crate::service::Service;

pub use http::router;
pub use params::{CloseArgs, IncidentArgs, NoArgs, OutcomeArgs, OutcomeStatus, ReplayArgs, SubmitArgs};
pub use results::{
    BundleInfo, BundleList, ComponentInfo, Exported, IncidentStatus, RecipeInfo, RecipeList, Replayed, RouteInfo,
    Transition, Verified,
};
pub use tools::Fail;

/// How many receipts `resources/list` lists (the newest); older ones are read by URI.
pub const LISTED_RECEIPTS: usize = 100;

/// The MCP server over a shared [`Service`].
#[derive(Clone)]
pub struct AndonMcp {
    service: Arc<Service>,
    tool_router: ToolRouter<AndonMcp>,
    /// Each tool's compiled input schema: arguments are checked against the schema
    /// the tool declares before it runs, and a violation is a protocol error
    /// (`-32602`) naming the member.
    inputs: Arc<std::collections::HashMap<String, jsonschema::Validator>>,
}

impl std::fmt::Debug for AndonMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AndonMcp").field("service", &self.service).finish_non_exhaustive()
    }
}
