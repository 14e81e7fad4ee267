//! MCP conformance of `andon mcp` (stdio) and `andon serve` (HTTP), one test per
//! defect of issue 13: the server names itself; `Host` and `Origin` are checked on
//! every route; malformed calls are `-32602` naming the problem, schema violations
//! are tool errors listing valid values; export paths are absolute; unparseable
//! and over-long stdio lines are answered; tools have titles, annotations and a
//! fixed order; receipt resources are paginated with cursors; submissions report
//! progress; stderr has no colour codes when it is not a terminal.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::mcp_http::{Server, raw_http};
use crate::support::Host;

const TIMEOUT: Duration = Duration::from_secs(60);

const APPROVAL: &str = r#"{"incident_id":"ID","kind":"approval_request","severity":"high","evidence":{"request":{"amount":1200000,"currency":"USD","threshold":1000000},"authorities":{"cfo_available":false,"board_available":true}}}"#;

fn approval(id: &str) -> Value {
    serde_json::from_str(&APPROVAL.replace("\"ID\"", &format!("\"{id}\""))).unwrap()
}

/// `andon mcp` started with paths relative to the host's directory (as the README
/// does), driven line by line.
struct Session {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Value>,
    next_id: u64,
    /// The `initialize` result.
    init: Value,
    /// Notifications seen while waiting for responses.
    notifications: Vec<Value>,
}

impl Session {
    fn start(host: &Host) -> Session {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin!("andon"))
            .current_dir(host.path(""))
            .args(["mcp", "--bundle", "bundle", "--trust", "trust.json", "--ledger", "ledger", "--keys", "keys"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(host.path("mcp-stderr.log")).unwrap())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                let value: Value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let mut session = Session { child, stdin, lines, next_id: 0, init: Value::Null, notifications: Vec::new() };
        let init = session.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}),
        );
        session.init = init["result"].clone();
        assert!(session.init.is_object(), "{init}");
        session.send_line(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string());
        session
    }

    fn send_line(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).unwrap();
        self.stdin.write_all(b"\n").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next message that is not a notification, keeping notifications.
    fn response(&mut self) -> Value {
        loop {
            let message = self.lines.recv_timeout(TIMEOUT).expect("a message from andon mcp within 60 s");
            if message.get("method").is_some() && message.get("id").is_none() {
                self.notifications.push(message);
            } else {
                return message;
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send_line(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string());
        let response = self.response();
        assert_eq!(response["id"], json!(id), "{response}");
        response
    }

    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn error_of(response: &Value) -> (i64, String) {
    let error = &response["error"];
    (error["code"].as_i64().unwrap_or_else(|| panic!("not an error: {response}")), error["message"].to_string())
}

/// A tool result that is a tool error; its text.
fn tool_error(response: &Value) -> String {
    assert_eq!(response["result"]["isError"], json!(true), "{response}");
    response["result"]["content"][0]["text"].as_str().unwrap().to_string()
}

#[test]
fn defect_1_server_info_names_andon_on_stdio_and_http() {
    let host = Host::new();
    let session = Session::start(&host);
    assert_eq!(session.init["serverInfo"]["name"], json!("andon"), "{}", session.init);
    assert_eq!(session.init["serverInfo"]["version"], json!(env!("CARGO_PKG_VERSION")));
    drop(session);

    let server = Server::start(&host, &[]);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params":
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let (status, _, text) = raw_http(&server.base, "POST", "/mcp", &[], Some(&body.to_string()));
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""serverInfo":{"name":"andon""#), "{text}");
    assert!(!text.contains("rmcp"), "{text}");
}

#[test]
fn defect_2_host_and_origin_are_checked_on_every_route() {
    let host = Host::new();
    let server = Server::start(&host, &["--allow-origin", "https://console.example"]);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params":
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
    .to_string();
    for path in ["/healthz", "/metrics"] {
        let (status, _, _) = raw_http(&server.base, "GET", path, &[], None);
        assert_eq!(status, 200, "{path}");
        let (status, _, text) = raw_http(&server.base, "GET", path, &[("Host", "evil.example")], None);
        assert_eq!(status, 403, "{path} with a foreign Host: {text}");
        assert!(text.contains("Host `evil.example` is not allowed"), "{text}");
        let (status, _, text) = raw_http(&server.base, "GET", path, &[("Origin", "http://evil.example")], None);
        assert_eq!(status, 403, "{path} with a foreign Origin: {text}");
        assert!(text.contains("Origin `http://evil.example` is not allowed"), "{text}");
    }
    let (status, _, text) = raw_http(&server.base, "POST", "/mcp", &[("Origin", "http://evil.example")], Some(&init));
    assert_eq!(status, 403, "{text}");
    let (status, _, text) = raw_http(&server.base, "POST", "/mcp", &[("Origin", "null")], Some(&init));
    assert_eq!(status, 403, "{text}");
    for allowed in ["http://localhost:6274", "https://console.example"] {
        let (status, _, text) = raw_http(&server.base, "POST", "/mcp", &[("Origin", allowed)], Some(&init));
        assert_eq!(status, 200, "{allowed}: {text}");
    }
}

#[test]
fn defects_3_and_6_malformed_calls_are_invalid_params_and_bad_arguments_are_tool_errors() {
    let host = Host::new();
    let mut s = Session::start(&host);
    let (code, message) = error_of(&s.request("tools/call", json!({"arguments": {}})));
    assert_eq!(code, -32602, "{message}");
    assert!(message.contains("no tool `name`"), "{message}");
    let (code, message) = error_of(&s.request("tools/call", json!({"name": "list_bundles", "arguments": 5})));
    assert_eq!(code, -32602, "{message}");
    assert!(message.contains("`arguments` must be an object, not a number"), "{message}");
    let (code, message) = error_of(&s.request("tools/call", json!({"name": 7})));
    assert_eq!(code, -32602, "{message}");
    let (code, message) = error_of(&s.call("no_such_tool", json!({})));
    assert_eq!(code, -32602, "{message}");
    assert!(message.contains("`no_such_tool`") && message.contains("submit_incident"), "{message}");

    // Schema violations are tool results with isError, naming the member and,
    // for an enumeration, the valid values.
    let text = tool_error(&s.call("record_outcome", json!({"incident_id": "X", "status": "done"})));
    assert!(
        text.contains("arguments/status") && text.contains("\"executed\"") && text.contains("\"failed\""),
        "{text}"
    );
    let text = tool_error(&s.call("replay_receipt", json!({"seq": "one"})));
    assert!(text.contains("arguments/seq"), "{text}");
    let text = tool_error(&s.call("submit_incident", json!({"evidence": approval("C-1"), "bogus": true})));
    assert!(text.contains("bogus"), "{text}");
    let text = tool_error(&s.call("submit_incident", json!({"evaluation_mode": false})));
    assert!(text.contains("exactly one of `evidence`"), "{text}");
    // Nothing of those was recorded.
    assert!(!host.path("ledger/receipts.jsonl").exists() || !host.ledger_text().contains("C-1"));
}

#[test]
fn defect_4_export_paths_are_absolute_with_relative_server_paths() {
    let host = Host::new();
    let mut s = Session::start(&host);
    let submitted = s.call("submit_incident", json!({"evidence": approval("EXP-1")}));
    assert_eq!(submitted["result"]["structuredContent"]["status"], json!("planned"), "{submitted}");
    let exported = s.call("export_incident", json!({"incident_id": "EXP-1"}));
    let path = std::path::PathBuf::from(exported["result"]["structuredContent"]["path"].as_str().unwrap());
    assert!(path.is_absolute(), "{}", path.display());
    assert!(path.is_file(), "{}", path.display());
    host.audit(&path).success();
}

#[test]
fn defect_5_unparseable_and_over_long_lines_are_answered_and_logged_without_colour() {
    let host = Host::new();
    let mut s = Session::start(&host);
    s.send_line("{not json");
    let parse = s.response();
    assert_eq!(parse["id"], Value::Null, "{parse}");
    assert_eq!(parse["error"]["code"], json!(-32700), "{parse}");
    let long = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(17 << 20)
    );
    s.send_line(&long);
    let refused = s.response();
    assert_eq!(refused["error"]["code"], json!(-32600), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("longer than the limit of 16777216 bytes"));
    // The session goes on.
    let pong = s.request("ping", json!({}));
    assert!(pong.get("result").is_some(), "{pong}");
    drop(s);
    let log = std::fs::read_to_string(host.path("mcp-stderr.log")).unwrap();
    assert!(log.contains("unparseable message line") && log.contains("longer than the limit"), "{log}");
    assert!(!log.contains('\u{1b}'), "stderr is a file: no ANSI colour codes: {log:?}");
}

#[test]
fn defect_7_tools_have_titles_annotations_and_a_fixed_order() {
    let host = Host::new();
    let mut s = Session::start(&host);
    let listed = s.request("tools/list", json!({}));
    let tools = listed["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 9);
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        assert!(tool["title"].as_str().is_some_and(|t| !t.is_empty()), "{name} has a title");
        let a = &tool["annotations"];
        for hint in ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] {
            assert!(a[hint].is_boolean(), "{name} declares {hint}: {a}");
        }
        let read_only = ["list_bundles", "list_recipes", "incident_status", "verify_ledger", "replay_receipt"];
        assert_eq!(a["readOnlyHint"], json!(read_only.contains(&name)), "{name}");
    }
    let again = s.request("tools/list", json!({}));
    assert_eq!(again["result"]["tools"], listed["result"]["tools"]);
}

#[test]
fn defect_7_receipt_resources_are_paginated_and_bogus_cursors_refused() {
    let host = Host::new();
    let mut s = Session::start(&host);
    for i in 0..45 {
        let r = s.call("submit_incident", json!({"evidence": approval(&format!("PAGE-{i:02}"))}));
        assert_eq!(r["result"]["structuredContent"]["status"], json!("planned"), "{r}");
    }
    let total = host.ledger_text().lines().count();
    assert!(total > 100, "{total} receipts");
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params = cursor.as_ref().map_or(json!({}), |c| json!({"cursor": c}));
        let page = s.request("resources/list", params);
        let items = page["result"]["resources"].as_array().unwrap();
        assert!(items.len() <= 100);
        seen.extend(items.iter().map(|r| r["uri"].as_str().unwrap().to_string()));
        match page["result"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (1..=total).rev().map(|seq| format!("andon://receipts/{seq}")).collect();
    assert_eq!(seen, expected, "every receipt once, newest first");
    for bogus in ["abc", "receipts-before-999999", "receipts-before-1"] {
        let (code, message) = error_of(&s.request("resources/list", json!({"cursor": bogus})));
        assert_eq!(code, -32602, "{bogus}: {message}");
    }
}

#[test]
fn defect_7_a_submission_with_a_progress_token_reports_progress() {
    let host = Host::new();
    let mut s = Session::start(&host);
    let r = s.request(
        "tools/call",
        json!({"name": "submit_incident", "arguments": {"evidence": approval("PROG-1")}, "_meta": {"progressToken": "p-1"}}),
    );
    assert_eq!(r["result"]["structuredContent"]["status"], json!("planned"), "{r}");
    let progress: Vec<&Value> = s
        .notifications
        .iter()
        .filter(|n| n["method"] == json!("notifications/progress") && n["params"]["progressToken"] == json!("p-1"))
        .collect();
    let steps: Vec<f64> = progress.iter().map(|n| n["params"]["progress"].as_f64().unwrap()).collect();
    assert_eq!(steps.first(), Some(&1.0), "{progress:?}");
    assert_eq!(steps.last(), Some(&3.0), "{progress:?}");
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "progress increases: {steps:?}");
    assert!(progress.iter().all(|n| n["params"]["total"] == json!(3.0)));
    // Without a token: no progress notifications.
    let before = s.notifications.len();
    s.call("submit_incident", json!({"evidence": approval("PROG-2")}));
    assert_eq!(s.notifications.len(), before);
}

#[test]
fn metrics_have_units_and_every_histogram_from_the_start() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let (status, _, text) = raw_http(&server.base, "GET", "/metrics", &[], None);
    assert_eq!(status, 200);
    for name in ["andon_time_to_decision_seconds", "andon_queue_wait_seconds"] {
        assert!(text.contains(&format!("# UNIT {name} seconds")), "{text}");
        for severity in ["critical", "high", "medium", "low"] {
            assert!(text.contains(&format!("{name}_count{{severity=\"{severity}\"}} 0")), "{name} {severity}: {text}");
        }
    }
}
