//! The MCP Inspector CLI (`@modelcontextprotocol/inspector`, pinned below, installed
//! from the npm registry by the test into `<target>/mcp-inspector`) drives
//! `andon serve` over HTTPS with a bearer token: `tools/list --strict` reports no
//! portability problem at all, and a submission through it is planned.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::auth::create_token;
use crate::mcp_http::Server;
use crate::support::Host;
use crate::tls::Pki;

const INSPECTOR: &str = "@modelcontextprotocol/inspector@2.12.0";

/// The Inspector's launcher script, installed once per process and once across
/// processes (an exclusive lock on `<target>/mcp-inspector.lock`). Panics with
/// npm's output when the install fails: the test never silently skips.
fn inspector() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let bin = PathBuf::from(assert_cmd::cargo::cargo_bin!("andon"));
        let target = bin.parent().and_then(Path::parent).unwrap().to_path_buf();
        let prefix = target.join("mcp-inspector");
        let launcher = prefix.join("node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js");
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(target.join("mcp-inspector.lock"))
            .unwrap();
        lock.lock().unwrap();
        let marker = prefix.join(format!(".installed-{}", INSPECTOR.replace('/', "_")));
        if !(marker.is_file() && launcher.is_file()) {
            std::fs::create_dir_all(&prefix).unwrap();
            let out = Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(&prefix)
                .arg(INSPECTOR)
                .output()
                .expect("npm (Node.js >= 20) is required for the MCP Inspector test");
            assert!(
                out.status.success() && launcher.is_file(),
                "npm install {INSPECTOR} failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::write(&marker, b"").unwrap();
        }
        launcher
    })
    .clone()
}

fn run(launcher: &Path, ca: &Path, url: &str, token: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("node")
        .arg(launcher)
        .args(["--cli", url, "--transport", "http", "--header", &format!("Authorization: Bearer {token}")])
        .args(args)
        .env("NODE_EXTRA_CA_CERTS", ca)
        .env("MCP_CATALOG_PATH", ca.with_file_name("inspector-catalog.json"))
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn the_mcp_inspector_lists_portable_tools_and_submits_over_https_with_a_bearer_token() {
    let launcher = inspector();
    let host = Host::new();
    Pki::new(&host);
    let (_, admin) = create_token(&host, "admin");
    let tokens = host.path("tokens.json");
    let mut args = Pki::server_args(&host);
    args.extend(["--tokens".to_string(), tokens.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&host, &args);
    let url = server.url.replace("127.0.0.1", "localhost");
    let ca = host.path("ca.pem");

    let (ok, stdout, stderr) = run(&launcher, &ca, &url, &admin, &["--method", "tools/list", "--strict"]);
    assert!(ok, "inspector tools/list --strict failed:\n{stdout}\n{stderr}");
    assert!(!stderr.contains("Warning") && !stderr.contains("Error"), "portability problems:\n{stderr}");
    let listed: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed["tools"].as_array().unwrap().len(), 9, "{stdout}");

    let evidence = crate::auth::approval("INSPECT-1").to_string();
    let (ok, stdout, stderr) = run(
        &launcher,
        &ca,
        &url,
        &admin,
        &["--method", "tools/call", "--tool-name", "submit_incident", "--tool-arg", &format!("evidence={evidence}")],
    );
    assert!(ok, "inspector tools/call failed:\n{stdout}\n{stderr}");
    let called: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(called["structuredContent"]["status"], "planned", "{stdout}");
}
