//! `andon serve` over loopback HTTP, driven by the rmcp streamable-HTTP client:
//! 10,000 concurrent incidents of mixed severity, a tiny queue that overflows, and
//! a graceful shutdown with work still queued. The server is a real subprocess;
//! afterwards its ledger is read and verified with `andon verify`.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};

use crate::support::Host;

fn andon_bin() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("andon"))
}

/// A running `andon serve`.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    pub(crate) base: String,
    stderr: std::thread::JoinHandle<String>,
}

impl Server {
    pub(crate) fn start(host: &Host, extra: &[&str]) -> Server {
        let mut child = Command::new(andon_bin())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(host.server_args())
            .args(extra)
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let mut seen = String::new();
        let url = loop {
            line.clear();
            if stderr.read_line(&mut line).unwrap() == 0 {
                panic!("andon serve exited before listening: {seen}");
            }
            seen.push_str(&line);
            if let Some(rest) = line.strip_prefix("andon: listening on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        let base = url.trim_end_matches("/mcp").to_string();
        let stderr = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            rest
        });
        Server { child, url, base, stderr }
    }

    /// Peak resident memory (VmHWM) in KiB.
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }

    fn metrics(&self) -> String {
        http_get(&format!("{}/metrics", self.base))
    }

    /// SIGKILL, no drain.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait for a clean exit.
    fn stop(mut self) -> String {
        let status = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        let code = loop {
            if let Some(code) = self.child.try_wait().unwrap() {
                break code;
            }
            assert!(Instant::now() < deadline, "andon serve did not stop within 60 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = std::mem::replace(&mut self.stderr, std::thread::spawn(String::new)).join().unwrap();
        assert!(code.success(), "andon serve exited with {code}: {stderr}");
        stderr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave its server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET on loopback.
fn http_get(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "GET {url}: {response}");
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default()
}

/// One HTTP/1.1 request to `base` (`http://host:port`): status, head and body
/// (de-chunked). A POST carries JSON and accepts JSON or an event stream.
pub(crate) fn raw_http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, String) {
    let authority = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {authority}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.into() };
    (status, head.to_string(), body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

/// The value of a metric sample line `name{labels} value` (labels as written).
fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric sample `{sample}` in:\n{text}"))
}

/// The scenario incidents shipped with the recipes (one per route case).
fn scenario_incidents() -> Vec<Value> {
    let mut out = Vec::new();
    let dir = crate::support::root().join("recipes-wasm/scenarios");
    let mut kinds: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    kinds.sort();
    for kind in kinds {
        let mut files: Vec<_> = std::fs::read_dir(&kind).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let doc: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
            out.push(doc["incident"].clone());
        }
    }
    assert!(out.len() >= 8);
    out
}

const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// Incident `i` of a mixed load: a scenario, a fresh id and a severity
/// (10 % critical, 20 % high, 30 % medium, 40 % low).
fn incident(scenarios: &[Value], prefix: &str, i: usize) -> Value {
    let mut doc = scenarios[i % scenarios.len()].clone();
    doc["incident_id"] = json!(format!("{prefix}-{i:05}"));
    let severity = match i % 10 {
        0 => "critical",
        1 | 2 => "high",
        3..=5 => "medium",
        _ => "low",
    };
    doc["severity"] = json!(severity);
    doc
}

type Client = RunningService<rmcp::RoleClient, ()>;

async fn connect(url: &str) -> Client {
    ().serve(StreamableHttpClientTransport::from_uri(url.to_string())).await.expect("MCP client connects")
}

/// One `submit_incident` call; `None` when it got no answer within `timeout`
/// (the server was stopped or killed under it).
async fn submit(client: &Client, evidence: Value, timeout: Duration) -> Option<Value> {
    let args = json!({ "evidence": evidence });
    let call = client
        .call_tool(CallToolRequestParams::new("submit_incident").with_arguments(args.as_object().unwrap().clone()));
    let result = tokio::time::timeout(timeout, call).await.ok()?.ok()?;
    assert_ne!(result.is_error, Some(true), "submit_incident tool error: {:?}", result.content);
    Some(result.structured_content.expect("structured content"))
}

/// Submits `count` incidents with `concurrency` requests in flight over `clients`
/// MCP sessions; returns every structured result.
fn load(url: &str, incidents: Vec<Value>, clients: usize, concurrency: usize) -> Vec<Value> {
    let answers = try_load(url, incidents, clients, concurrency, Duration::from_secs(300));
    answers.into_iter().map(|a| a.expect("every submission is answered")).collect()
}

/// As [`load`], but a call without an answer within `timeout` gives `None`.
fn try_load(
    url: &str,
    incidents: Vec<Value>,
    clients: usize,
    concurrency: usize,
    timeout: Duration,
) -> Vec<Option<Value>> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let mut sessions = Vec::new();
        for _ in 0..clients {
            sessions.push(Arc::new(connect(url).await));
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut tasks = Vec::new();
        for (i, doc) in incidents.into_iter().enumerate() {
            let client = Arc::clone(&sessions[i % sessions.len()]);
            let permit = Arc::clone(&permits).acquire_owned().await.unwrap();
            tasks.push(tokio::spawn(async move {
                let out = submit(&client, doc, timeout).await;
                drop(permit);
                out
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        for s in sessions {
            if let Ok(s) = Arc::try_unwrap(s) {
                let _ = tokio::time::timeout(Duration::from_secs(5), s.cancel()).await;
            }
        }
        out
    })
}

fn ledger_receipts(host: &Host) -> Vec<Value> {
    host.ledger_text().lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn verify_ledger(host: &Host) {
    let out = Command::new(andon_bin())
        .arg("verify")
        .arg(host.path("ledger"))
        .arg("--key")
        .arg(host.path("keys/hmac.key"))
        .arg("--public-key")
        .arg(host.path("keys/ed25519.pub"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success() && report["ok"] == json!(true), "ledger does not verify: {report}");
}

const TERMINAL: [&str; 3] = ["planned", "refused", "overloaded"];

/// Every incident id → the kinds of its receipts, in order.
fn kinds_by_incident(receipts: &[Value]) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for r in receipts {
        if let Some(id) = r["incident_id"].as_str() {
            map.entry(id.into()).or_default().push(r["kind"].as_str().unwrap().into());
        }
    }
    map
}

#[test]
fn ten_thousand_concurrent_incidents_keep_severity_order_wip_limit_and_lose_nothing() {
    const COUNT: usize = 10_000;
    const WIP: usize = 3;
    let host = Host::new();
    // Low incidents get a 2 s deadline, so a backlog behind critical work breaches
    // it and the SLA watcher must record it; critical keeps the doctrine's 3 min.
    let server = Server::start(&host, &["--wip-limit", "3", "--queue-capacity", "4096", "--sla", "low=2s"]);
    let scenarios = scenario_incidents();
    let incidents: Vec<Value> = (0..COUNT).map(|i| incident(&scenarios, "LOAD", i)).collect();
    let started = Instant::now();
    let results = load(&server.url, incidents, 8, 512);
    let elapsed = started.elapsed();
    assert_eq!(results.len(), COUNT);

    let mut by_status: HashMap<String, usize> = HashMap::new();
    for r in &results {
        *by_status.entry(r["status"].as_str().unwrap().into()).or_default() += 1;
    }
    assert_eq!(by_status.get("overloaded"), None, "the queue (4096) exceeds the concurrency (512): {by_status:?}");
    assert_eq!(by_status.values().sum::<usize>(), COUNT);

    let metrics = server.metrics();
    let max_in_flight = metric(&metrics, "andon_evaluations_in_flight_max");
    assert!(max_in_flight >= 1.0 && max_in_flight <= WIP as f64, "WIP limit exceeded per metrics: {max_in_flight}");
    let decided = metric(&metrics, "andon_decisions_total{outcome=\"planned\"}")
        + metric(&metrics, "andon_decisions_total{outcome=\"refused\"}");
    assert_eq!(decided as usize, COUNT);
    assert!(metric(&metrics, "andon_fuel_consumed_total") > 0.0);
    assert!(metrics.contains("andon_time_to_decision_seconds_bucket{"), "{metrics}");
    assert_eq!(metric(&metrics, "andon_queue_depth{severity=\"low\"}"), 0.0);
    let peak_kib = server.peak_rss_kib();
    let stderr = server.stop();

    let receipts = ledger_receipts(&host);
    let kinds = kinds_by_incident(&receipts);
    let mut queued_ms: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut max_wip_in_receipts = 0;
    for r in &receipts {
        if matches!(r["kind"].as_str(), Some("planned" | "refused")) {
            let g = &r["annotation"]["governance"];
            max_wip_in_receipts = max_wip_in_receipts.max(g["wip_in_flight"].as_u64().unwrap());
            let severity = SEVERITIES.iter().find(|s| **s == g["severity"].as_str().unwrap()).unwrap();
            queued_ms.entry(severity).or_default().push(g["queued_ms"].as_f64().unwrap());
        }
    }
    for i in 0..COUNT {
        let id = format!("LOAD-{i:05}");
        let k = kinds.get(&id).unwrap_or_else(|| panic!("{id} has no receipt"));
        assert_eq!(k[0], "reported", "{id}: {k:?}");
        assert!(k.iter().any(|k| TERMINAL.contains(&k.as_str())), "{id} has no terminal receipt: {k:?}");
    }
    assert!(max_wip_in_receipts <= WIP as u64, "WIP limit exceeded per receipts: {max_wip_in_receipts}");
    let mean = |s: &str| {
        let v = &queued_ms[s];
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (critical, low) = (mean("critical"), mean("low"));
    assert!(critical < low, "critical incidents waited {critical:.1} ms on average, low ones {low:.1} ms");
    let breaches = receipts.iter().filter(|r| r["kind"] == json!("sla_breached")).count();
    let critical_breaches = receipts
        .iter()
        .filter(|r| r["kind"] == json!("sla_breached") && r["annotation"]["severity"] == json!("critical"))
        .count();
    assert_eq!(critical_breaches, 0, "no critical incident may miss its 3-minute deadline here");
    verify_ledger(&host);
    let report = json!({
        "incidents": COUNT,
        "seconds": elapsed.as_secs_f64(),
        "decisions_per_second": COUNT as f64 / elapsed.as_secs_f64(),
        "by_status": by_status,
        "mean_queued_ms": { "critical": critical, "high": mean("high"), "medium": mean("medium"), "low": low },
        "max_in_flight": max_in_flight,
        "sla_breached_receipts": breaches,
        "receipts": receipts.len(),
        "server_peak_rss_mib": peak_kib as f64 / 1024.0,
    });
    eprintln!("load report: {report}");
    std::fs::write(crate::support::root().join("target/load-report.json"), report.to_string()).unwrap();
    assert!(peak_kib < 1024 * 1024, "server peak RSS {peak_kib} KiB exceeds 1 GiB: {stderr}");
}

#[test]
fn a_tiny_queue_refuses_excess_submissions_as_overloaded_with_receipts() {
    const COUNT: usize = 60;
    let host = Host::new();
    let server = Server::start(&host, &["--wip-limit", "1", "--queue-capacity", "2"]);
    let scenarios = scenario_incidents();
    let incidents: Vec<Value> = (0..COUNT).map(|i| incident(&scenarios, "OVER", i)).collect();
    let results = load(&server.url, incidents, 4, COUNT);
    let metrics = server.metrics();
    server.stop();

    let overloaded: Vec<&Value> = results.iter().filter(|r| r["status"] == json!("overloaded")).collect();
    assert!(!overloaded.is_empty(), "60 concurrent submissions into a queue of 2 must overflow");
    for r in &overloaded {
        let refusal = &r["decision"]["refusal"];
        assert_eq!(refusal["reason"], json!("overloaded"), "{r}");
        assert!(refusal["next_lawful_step"].as_str().unwrap().contains("again"), "{r}");
        assert_eq!(refusal["policy_reference"], json!("ANDON-GOVERNANCE-CAPACITY"));
        assert_eq!(r["receipts"][0]["kind"], json!("overloaded"), "{r}");
    }
    assert_eq!(metric(&metrics, "andon_decisions_total{outcome=\"overloaded\"}") as usize, overloaded.len());
    assert!(metric(&metrics, "andon_evaluations_in_flight_max") <= 1.0);

    // Nothing lost: every submission has exactly the receipts it was told about,
    // and a terminal one.
    let receipts = ledger_receipts(&host);
    let kinds = kinds_by_incident(&receipts);
    for r in &results {
        let id = r["incident_id"].as_str().unwrap();
        let k = &kinds[id];
        assert!(TERMINAL.contains(&k.last().unwrap().as_str()), "{id}: {k:?}");
        let told: Vec<u64> = r["receipts"].as_array().unwrap().iter().map(|x| x["seq"].as_u64().unwrap()).collect();
        for seq in told {
            assert_eq!(receipts[usize::try_from(seq).unwrap() - 1]["incident_id"], json!(id));
        }
    }
    assert_eq!(kinds.len(), COUNT);
    verify_ledger(&host);

    // An overloaded incident may be submitted again, and is then decided.
    let again = overloaded[0]["incident_id"].as_str().unwrap().to_string();
    let server = Server::start(&host, &["--wip-limit", "1", "--queue-capacity", "2"]);
    let index: usize = again.strip_prefix("OVER-").unwrap().parse().unwrap();
    let doc = incident(&scenarios, "OVER", index);
    let result = load(&server.url, vec![doc], 1, 1).pop().unwrap();
    server.stop();
    assert!(matches!(result["status"].as_str(), Some("planned" | "refused")), "{result}");
    verify_ledger(&host);
}

#[test]
fn shutdown_with_work_queued_refuses_it_with_receipts() {
    const COUNT: usize = 40;
    let host = Host::new();
    let server = Server::start(&host, &["--wip-limit", "1", "--queue-capacity", "1000"]);
    let scenarios = scenario_incidents();
    let url = server.url.clone();
    let incidents: Vec<Value> = (0..COUNT).map(|i| incident(&scenarios, "STOP", i)).collect();
    // Requests cut off by the shutdown may go unanswered; that is fine as long as
    // whatever was accepted is recorded.
    let clients = std::thread::spawn(move || try_load(&url, incidents, 2, COUNT, Duration::from_secs(20)));
    // Let some work get accepted, then stop with a backlog.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let m = server.metrics();
        if metric(&m, "andon_decisions_total{outcome=\"planned\"}")
            + metric(&m, "andon_decisions_total{outcome=\"refused\"}")
            >= 2.0
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let stderr = server.stop();
    let answered = clients.join().unwrap();
    let receipts = ledger_receipts(&host);
    let kinds = kinds_by_incident(&receipts);
    assert!(!kinds.is_empty());
    for (id, k) in &kinds {
        assert!(
            TERMINAL.contains(&k.last().unwrap().as_str()),
            "{id} left without a terminal receipt: {k:?} ({stderr})"
        );
    }
    for r in answered.iter().flatten() {
        assert!(TERMINAL.contains(&r["status"].as_str().unwrap()), "{r}");
        let id = r["incident_id"].as_str().unwrap();
        assert_eq!(kinds[id].last().map(String::as_str), r["status"].as_str(), "{id}: the answer is the last receipt");
    }
    verify_ledger(&host);
    // The final checkpoint covers the whole ledger.
    let checkpoints = std::fs::read_to_string(host.path("ledger/checkpoints.jsonl")).unwrap();
    let last: Value = serde_json::from_str(checkpoints.lines().last().unwrap()).unwrap();
    assert_eq!(last["seq"].as_u64().unwrap() as usize, receipts.len());
}

fn decided(metrics: &str) -> f64 {
    metric(metrics, "andon_decisions_total{outcome=\"planned\"}")
        + metric(metrics, "andon_decisions_total{outcome=\"refused\"}")
}

#[test]
fn a_server_killed_with_work_queued_decides_it_after_restart() {
    const COUNT: usize = 40;
    let host = Host::new();
    let server = Server::start(&host, &["--wip-limit", "1", "--queue-capacity", "1000"]);
    let scenarios = scenario_incidents();
    let url = server.url.clone();
    let incidents: Vec<Value> = (0..COUNT).map(|i| incident(&scenarios, "KILL", i)).collect();
    let clients = std::thread::spawn(move || try_load(&url, incidents, 2, COUNT, Duration::from_secs(10)));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && decided(&server.metrics()) < 2.0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    let _ = clients.join();

    // Reported but undecided work is in the ledger now (a SIGKILL drains nothing).
    let before = kinds_by_incident(&ledger_receipts(&host));
    let undecided: Vec<&String> =
        before.iter().filter(|(_, k)| !k.iter().any(|k| TERMINAL.contains(&k.as_str()))).map(|(id, _)| id).collect();
    assert!(!undecided.is_empty(), "the kill left no undecided incident to recover: {before:?}");

    // The restarted server queues them again and decides every one.
    let server = Server::start(&host, &["--wip-limit", "1", "--queue-capacity", "1000"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline && (decided(&server.metrics()) as usize) < undecided.len() {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.stop();
    let after = kinds_by_incident(&ledger_receipts(&host));
    assert_eq!(after.len(), before.len());
    for (id, k) in &after {
        assert!(TERMINAL.contains(&k.last().unwrap().as_str()), "{id} was lost across the crash: {k:?}");
        assert_eq!(k.iter().filter(|k| k.as_str() == "reported").count(), 1, "{id}: {k:?}");
    }
    verify_ledger(&host);
}
