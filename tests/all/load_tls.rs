//! 10,000 incidents over HTTPS with bearer-token authentication, while a slowloris
//! flood holds half-sent requests open: nothing is lost (every incident has a
//! terminal receipt naming its principal), the ledger verifies, and the flood's
//! connections are cut off by the header deadline while real clients are answered.

use std::io::Write as _;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::auth::create_token;
use crate::http_client::{Client, Mcp};
use crate::support::Host;
use crate::tls::Pki;

#[test]
fn ten_thousand_incidents_over_https_with_auth_during_a_slowloris_flood_lose_nothing() {
    const COUNT: usize = 10_000;
    const CLIENTS: usize = 24;
    let host = Host::new();
    let pki = Pki::new(&host);
    let (token_id, operator) = create_token(&host, "operator");
    let tokens = host.path("tokens.json");
    let mut args = Pki::server_args(&host);
    args.extend(
        [
            "--tokens",
            tokens.to_str().unwrap(),
            "--header-timeout",
            "2s",
            "--queue-capacity",
            "4096",
            "--wip-limit",
            "3",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = crate::mcp_http::Server::start(&host, &args);
    let client = Client::new(&server.url, Some(pki.client_config(false)));

    // The flood: 300 connections that never finish their request head, renewed as
    // the server cuts them, for as long as the load runs.
    let authority = client.authority.clone();
    let done = Arc::new(AtomicUsize::new(0));
    let flood = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut opened = 0usize;
            while done.load(Ordering::Relaxed) == 0 {
                let mut held: Vec<TcpStream> = Vec::new();
                for _ in 0..300 {
                    if let Ok(mut s) = TcpStream::connect(&authority) {
                        // A TLS ClientHello is never sent: just the first bytes of one.
                        let _ = s.write_all(&[0x16, 0x03, 0x01]);
                        held.push(s);
                        opened += 1;
                    }
                }
                std::thread::sleep(Duration::from_millis(2500));
            }
            opened
        })
    };

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let client = client.clone();
            let operator = operator.clone();
            let next = Arc::clone(&next);
            std::thread::spawn(move || {
                let mut session = Mcp::new(client, Some(&operator));
                assert_eq!(session.initialize().status, 200);
                let mut answers = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= COUNT {
                        break;
                    }
                    let mut doc = crate::auth::approval(&format!("TLS-LOAD-{i:05}"));
                    doc["severity"] = json!(["critical", "high", "medium", "low"][i % 4]);
                    answers.push(session.ok("submit_incident", json!({"evidence": doc})));
                }
                answers
            })
        })
        .collect();
    let answers: Vec<Value> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    let elapsed = started.elapsed();
    done.store(1, Ordering::Relaxed);
    let flooded = flood.join().unwrap();
    assert_eq!(answers.len(), COUNT);
    assert!(answers.iter().all(|a| a["status"] == json!("planned")), "every answer is a plan");
    let metrics = client.send("GET", "/metrics", &[("Authorization", &format!("Bearer {operator}"))], None);
    assert_eq!(metrics.status, 200);
    drop(server);

    let receipts: Vec<Value> =
        host.ledger_text().lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    let planned: Vec<&Value> = receipts.iter().filter(|r| r["kind"] == json!("planned")).collect();
    assert_eq!(planned.len(), COUNT, "one plan per incident: none lost, none twice");
    assert!(planned.iter().all(|r| r["annotation"]["principal"]["subject"] == json!(token_id)));
    crate::support::andon()
        .arg("verify")
        .arg(host.path("ledger"))
        .arg("--key")
        .arg(host.path("keys/hmac.key"))
        .arg("--public-key")
        .arg(host.path("keys/ed25519.pub"))
        .assert()
        .success();
    let report = json!({
        "incidents": COUNT,
        "clients": CLIENTS,
        "seconds": elapsed.as_secs_f64(),
        "decisions_per_second": COUNT as f64 / elapsed.as_secs_f64(),
        "slowloris_connections_opened": flooded,
        "transport": "HTTPS (rustls), bearer token, one TLS connection per request",
    });
    eprintln!("TLS load report: {report}");
    std::fs::write(crate::support::root().join("target/load-report-tls.json"), report.to_string()).unwrap();
}

/// Submits `count` incidents over `clients` sessions; decisions per second.
fn decisions_per_second(client: &Client, token: Option<&str>, prefix: &str, count: usize, clients: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (client, token, next, prefix) =
                (client.clone(), token.map(str::to_string), Arc::clone(&next), prefix.to_string());
            std::thread::spawn(move || {
                let mut session = Mcp::new(client, token.as_deref());
                assert_eq!(session.initialize().status, 200);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let doc = crate::auth::approval(&format!("{prefix}-{i:05}"));
                    assert_eq!(session.ok("submit_incident", json!({"evidence": doc}))["status"], json!("planned"));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// The cost of TLS and authentication: the same load of decisions over plain HTTP
/// (no authentication) and over HTTPS with a bearer token, on one machine in one run.
/// A benchmark, not a check: `cargo test -p andon-cli --test all -- --ignored https_with_auth_over_plain`.
#[test]
#[ignore = "benchmark; run with --ignored"]
fn https_with_auth_over_plain_http_decision_rate() {
    const COUNT: usize = 3000;
    const CLIENTS: usize = 16;
    let host = Host::new();
    let pki = Pki::new(&host);
    let (_, operator) = create_token(&host, "operator");
    let plain = crate::mcp_http::Server::start(&host, &["--queue-capacity", "4096"]);
    let plain_rate = decisions_per_second(&Client::new(&plain.url, None), None, "PLAIN", COUNT, CLIENTS);
    drop(plain);
    let tokens = host.path("tokens.json");
    let mut args = Pki::server_args(&host);
    args.extend(["--tokens", tokens.to_str().unwrap(), "--queue-capacity", "4096"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let secure = crate::mcp_http::Server::start(&host, &args);
    let client = Client::new(&secure.url, Some(pki.client_config(false)));
    let secure_rate = decisions_per_second(&client, Some(&operator), "SECURE", COUNT, CLIENTS);
    let report = json!({
        "incidents_each": COUNT,
        "clients": CLIENTS,
        "plain_http_decisions_per_second": plain_rate,
        "https_auth_decisions_per_second": secure_rate,
        "ratio": secure_rate / plain_rate,
    });
    eprintln!("transport benchmark: {report}");
}
