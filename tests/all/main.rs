//! Integration tests of the Andon host: one binary, one module per area.

mod archive;
mod bounded_input;
mod bundle;
mod cache;
mod cli;
mod crash;
mod exit_codes;
mod golden;
mod golden_ledger;
mod hostile;
mod hostile_input;
mod incident;
mod intake;
mod integrity;
mod jcs;
mod ledger;
mod limits;
mod mcp_http;
mod mcp_stdio;
mod receipts;
mod replay;
mod rollback;
mod service;
mod support;
mod tamper;
mod tlog;
