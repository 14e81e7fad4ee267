//! `andon mcp` driven over stdio by a real MCP client this project did not write: the
//! official Python SDK (`mcp` from PyPI, pinned in `tests/python/requirements.txt`,
//! installed into `target/py-venv` by `support::python()`). The client script
//! (`tests/python/mcp_stdio_client.py`) lists the tools, submits the approval-rule
//! incident and a refusal, reads a receipt as a resource, records the outcome, closes,
//! checks tool errors and protocol errors, exports, verifies and replays; the exported
//! file must then pass `andon audit`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use crate::support::{Host, python, root};

#[test]
fn python_sdk_client_drives_the_incident_lifecycle_and_the_export_audits_clean() {
    let python = python();
    let host = Host::new();
    let started = Instant::now();
    let out = Command::new(&python)
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .arg(root().join("tests/python/mcp_stdio_client.py"))
        .arg(assert_cmd::cargo::cargo_bin!("andon"))
        .args(host.server_args())
        .output()
        .expect("run the Python MCP client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the MCP client failed ({}) after {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status,
        started.elapsed()
    );
    let last = stdout.lines().last().unwrap_or_default();
    let summary: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("last stdout line is not the summary ({e}): {last:?}\n--- stderr\n{stderr}"));
    assert_eq!(summary["incident_id"], "INC-2026-0001", "{summary}");
    assert!(summary["checks"].as_u64().unwrap_or(0) >= 150, "{summary}");

    let export = Path::new(summary["export_path"].as_str().expect("export_path"));
    let exports = host.path("exports").canonicalize().unwrap();
    assert!(
        export.canonicalize().unwrap().starts_with(&exports),
        "the export {} is under --export-dir {}",
        export.display(),
        exports.display()
    );
    host.audit(export).success().stdout(predicates::str::contains("verdict    PASS"));
}
