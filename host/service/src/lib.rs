//! `andon-service`: the governed decision service (severity queue, WIP limit, SLA
//! watcher, bounded capacity, graceful shutdown, restart recovery), the MCP server
//! over stdio and streamable HTTP, and its Prometheus metrics.

#![deny(missing_docs)]

pub mod auth;
pub mod listener;
pub mod mcp;
pub mod service;
