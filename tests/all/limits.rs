//! docs/limits.md is the one table of caps: each row's default must be the value of
//! the constant it names.

use std::collections::BTreeMap;

use andon_core::Limits;
use andon_service::service::Governance;
use andon_work::bundle::archive::ArchiveLimits;

fn documented() -> BTreeMap<String, u64> {
    let text = std::fs::read_to_string(crate::support::root().join("docs/limits.md")).unwrap();
    text.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let key = cells[1].trim_matches('`').to_string();
            let default =
                cells[3].parse().unwrap_or_else(|_| panic!("row {key}: default `{}` is not a number", cells[3]));
            (key, default)
        })
        .collect()
}

#[test]
fn every_cap_in_docs_limits_md_matches_its_constant() {
    let limits = Limits::default();
    let archive = ArchiveLimits::default();
    let governance = Governance::default();
    let code: BTreeMap<&str, u64> = [
        ("evidence_bytes", andon_core::evidence::DEFAULT_MAX_EVIDENCE_BYTES as u64),
        ("json_depth", andon_core::evidence::MAX_DEPTH as u64),
        ("incident_id_bytes", andon_core::evidence::MAX_INCIDENT_ID_BYTES as u64),
        ("component_bytes", andon_core::MAX_COMPONENT_BYTES as u64),
        ("fuel", limits.fuel),
        ("memory_bytes", limits.memory_bytes),
        ("deadline_ms", limits.deadline_ms),
        ("output_bytes", limits.max_output_bytes),
        ("memories", andon_core::limits::MAX_MEMORIES as u64),
        ("tables", andon_core::limits::MAX_TABLES as u64),
        ("instances", andon_core::limits::MAX_INSTANCES as u64),
        ("table_elements", andon_core::limits::MAX_TABLE_ELEMENTS as u64),
        ("archive_entries", archive.max_entries as u64),
        ("archive_entry_bytes", archive.max_entry_bytes),
        ("archive_total_bytes", archive.max_total_bytes),
        ("archive_path_bytes", andon_work::bundle::archive::MAX_PATH_BYTES as u64),
        ("document_bytes", andon_work::bundle::MAX_DOCUMENT_BYTES as u64),
        ("key_file_bytes", andon_ledger::keys::MAX_KEY_FILE_BYTES),
        ("checkpoint_file_bytes", andon_ledger::checkpoint::MAX_CHECKPOINT_BYTES as u64),
        ("ledger_line_bytes", andon_ledger::ledger::MAX_LINE_BYTES as u64),
        ("checkpoint_every", andon_ledger::ledger::DEFAULT_CHECKPOINT_EVERY),
        ("queue_capacity", governance.queue_capacity as u64),
        ("wip_limit", governance.wip_limit as u64),
        ("http_connections", andon_service::listener::DEFAULT_MAX_CONNECTIONS as u64),
        ("http_header_timeout_s", andon_service::listener::DEFAULT_HEADER_TIMEOUT_SECS),
        ("http_body_timeout_s", andon_service::mcp::DEFAULT_BODY_TIMEOUT_SECS),
        ("http_body_bytes", andon_service::mcp::MAX_BODY_BYTES as u64),
        ("http_rate_per_second", u64::from(andon_service::mcp::DEFAULT_RATE_PER_SECOND)),
        ("http_rate_burst", u64::from(andon_service::mcp::DEFAULT_BURST)),
        ("stdio_line_bytes", andon_service::mcp::stdio::MAX_LINE_BYTES as u64),
        ("receipts_page", andon_service::mcp::LISTED_RECEIPTS as u64),
        ("tokens_file_bytes", andon_service::auth::tokens::MAX_TOKENS_FILE_BYTES as u64),
        ("jwks_bytes", andon_service::auth::jwt::MAX_JWKS_BYTES as u64),
    ]
    .into_iter()
    .collect();
    let documented = documented();
    assert_eq!(
        documented.keys().map(String::as_str).collect::<Vec<_>>(),
        code.keys().copied().collect::<Vec<_>>(),
        "docs/limits.md and this test list the same caps"
    );
    for (key, value) in &code {
        assert_eq!(documented[*key], *value, "docs/limits.md row `{key}`");
    }
}
