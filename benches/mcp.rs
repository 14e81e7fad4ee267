//! Decisions per second through MCP over streamable HTTP versus calling the library
//! directly, on the same machine and in the same run, plus p50/p99 time to decision
//! at a fixed offered load.
//!
//! - `mcp/library_submit`: `incident::submit` on a ledger, one incident after the
//!   other (intake, decision, receipts, one fsync per incident): the library without
//!   the server.
//! - `mcp/service_direct`: `Service::submit` from `CONCURRENCY` threads (governance,
//!   queue, WIP 3, group commit), no transport.
//! - `mcp/mcp_http`: `submit_incident` through the rmcp streamable-HTTP client to the
//!   same kind of service behind `andon serve`'s router on loopback, `CONCURRENCY`
//!   calls in flight.
//!
//! Each iteration decides `BATCH` new incidents. The ratios are printed at the end,
//! followed by an open-loop run at `OFFERED_RATE` decisions/s for `OPEN_LOOP` through
//! MCP/HTTP and directly, with p50/p99 of time to decision. Run with
//! `cargo bench -p andon-cli --bench mcp`; figures are in BENCHMARKS.md.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use andon_core::AndonEngine;
use andon_ledger::keys;
use andon_ledger::ledger::{Ledger, Options};
use andon_service::service::{self, Governance, Service};
use andon_work::bundle::build;
use andon_work::bundle::load::{Bundle, LoadOptions};
use andon_work::incident;
use criterion::{Criterion, criterion_group, criterion_main};
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};

const BATCH: usize = 200;
const CONCURRENCY: usize = 32;
const OFFERED_RATE: f64 = 200.0;
const OPEN_LOOP: Duration = Duration::from_secs(5);

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The approval-rule incident under a fresh id.
fn next_incident() -> Value {
    let doc: Value = serde_json::from_slice(
        &std::fs::read(root().join("recipes-wasm/scenarios/approval_request/cfo_absent_escalates_to_board.json"))
            .unwrap(),
    )
    .unwrap();
    let mut incident = doc["incident"].clone();
    incident["incident_id"] = json!(format!("BENCH-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed)));
    incident
}

fn bundle(engine: &AndonEngine) -> Bundle {
    let (_, files) = build::build(&root().join("recipes-wasm"), &build::shipped(), build::UNSIGNED_KEY_ID).unwrap();
    Bundle::load(engine, &files, LoadOptions::default()).unwrap()
}

fn service(engine: &Arc<AndonEngine>, keys_dir: &Path, ledger: &Path) -> Arc<Service> {
    let config = service::Config {
        ledger_dir: ledger.to_path_buf(),
        hmac_key: keys::load_hmac_key(&keys_dir.join("hmac.key")).unwrap(),
        signing_key: keys::load_signing_key(&keys_dir.join("ed25519.key")).unwrap(),
        bundles: vec![bundle(engine)],
        export_dir: ledger.join("exports"),
        governance: Governance { queue_capacity: 100_000, ..Governance::default() },
        engine: Arc::clone(engine),
    };
    Arc::new(Service::start(config).unwrap())
}

fn direct_batch(service: &Arc<Service>, count: usize) {
    let per_thread = count / CONCURRENCY;
    std::thread::scope(|s| {
        for _ in 0..CONCURRENCY {
            s.spawn(|| {
                for _ in 0..per_thread {
                    let bytes = serde_json::to_vec(&next_incident()).unwrap();
                    let decided = service.submit(&bytes, None, false).unwrap();
                    assert_eq!(decided.status, "planned");
                }
            });
        }
    });
}

type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

async fn call(client: &Client) -> f64 {
    let args = json!({ "evidence": next_incident() });
    let result = client
        .call_tool(CallToolRequestParams::new("submit_incident").with_arguments(args.as_object().unwrap().clone()))
        .await
        .unwrap();
    let out = result.structured_content.unwrap();
    assert_eq!(out["status"], json!("planned"));
    out["decision_ms"].as_f64().unwrap()
}

async fn http_batch(clients: &[Arc<Client>], count: usize) {
    let per_client = count / clients.len();
    let mut tasks = Vec::new();
    for client in clients {
        for _ in 0..(CONCURRENCY / clients.len()) {
            let client = Arc::clone(client);
            let n = per_client / (CONCURRENCY / clients.len());
            tasks.push(tokio::spawn(async move {
                for _ in 0..n {
                    call(&client).await;
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    keys::generate(&keys_dir).unwrap();
    let engine = Arc::new(AndonEngine::new().unwrap());

    // Library, one after the other.
    let lib_bundle = bundle(&engine);
    let mut ledger = Ledger::open(
        &dir.path().join("ledger-lib"),
        keys::load_hmac_key(&keys_dir.join("hmac.key")).unwrap(),
        Options::default(),
    )
    .unwrap();

    let direct = service(&engine, &keys_dir, &dir.path().join("ledger-direct"));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let http_service = service(&engine, &keys_dir, &dir.path().join("ledger-http"));
    let cancel = tokio_util::sync::CancellationToken::new();
    let url = rt.block_on(async {
        let router = andon_service::mcp::router(Arc::clone(&http_service), cancel.child_token());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{address}/mcp")
    });
    let clients: Vec<Arc<Client>> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(Arc::new(().serve(StreamableHttpClientTransport::from_uri(url.clone())).await.unwrap()));
        }
        v
    });

    let mut group = c.benchmark_group("mcp");
    group.sample_size(10).measurement_time(Duration::from_secs(15));
    group.throughput(criterion::Throughput::Elements(BATCH as u64));
    let mut times = [Duration::ZERO; 3];
    let mut iters = [0u64; 3];
    group.bench_function("library_submit", |b| {
        b.iter_custom(|n| {
            let start = Instant::now();
            for _ in 0..n {
                for _ in 0..BATCH {
                    let bytes = serde_json::to_vec(&next_incident()).unwrap();
                    incident::submit(&engine, &lib_bundle, &mut ledger, &bytes, false).unwrap();
                }
            }
            let t = start.elapsed();
            times[0] += t;
            iters[0] += n;
            t
        });
    });
    group.bench_function("service_direct", |b| {
        b.iter_custom(|n| {
            let start = Instant::now();
            for _ in 0..n {
                direct_batch(&direct, BATCH);
            }
            let t = start.elapsed();
            times[1] += t;
            iters[1] += n;
            t
        });
    });
    group.bench_function("mcp_http", |b| {
        b.iter_custom(|n| {
            let start = Instant::now();
            for _ in 0..n {
                rt.block_on(http_batch(&clients, BATCH));
            }
            let t = start.elapsed();
            times[2] += t;
            iters[2] += n;
            t
        });
    });
    group.finish();
    let rate = |i: usize| (iters[i] as f64 * BATCH as f64) / times[i].as_secs_f64();
    let (lib, direct_rate, http) = (rate(0), rate(1), rate(2));
    println!("decisions/s: library_submit {lib:.0}, service_direct {direct_rate:.0}, mcp_http {http:.0}");
    println!(
        "ratio mcp_http / service_direct = {:.2}; mcp_http / library_submit = {:.2}",
        http / direct_rate,
        http / lib
    );

    // Open loop at a fixed offered load: time to decision as the service measures
    // it (acceptance → durable decision) and as the client sees it (round trip).
    let interval = Duration::from_secs_f64(1.0 / OFFERED_RATE);
    let (server_ms, client_ms) = rt.block_on(async {
        let mut tasks = Vec::new();
        let start = Instant::now();
        let mut k = 0usize;
        while start.elapsed() < OPEN_LOOP {
            let due = start + interval * u32::try_from(k).unwrap();
            tokio::time::sleep_until(due.into()).await;
            let client = Arc::clone(&clients[k % clients.len()]);
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let server = call(&client).await;
                (server, sent.elapsed().as_secs_f64() * 1000.0)
            }));
            k += 1;
        }
        let mut server = Vec::new();
        let mut client = Vec::new();
        for t in tasks {
            let (s, c) = t.await.unwrap();
            server.push(s);
            client.push(c);
        }
        (server, client)
    });
    let direct_ms: Vec<f64> = {
        let start = Instant::now();
        let mut handles = Vec::new();
        let mut k = 0u32;
        while start.elapsed() < OPEN_LOOP {
            let due = start + interval * k;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let service = Arc::clone(&direct);
            handles.push(std::thread::spawn(move || {
                let sent = Instant::now();
                let bytes = serde_json::to_vec(&next_incident()).unwrap();
                service.submit(&bytes, None, false).unwrap();
                sent.elapsed().as_secs_f64() * 1000.0
            }));
            k += 1;
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    };
    for (name, mut v) in
        [("mcp_http server-side", server_ms), ("mcp_http client round trip", client_ms), ("service_direct", direct_ms)]
    {
        v.sort_by(f64::total_cmp);
        println!(
            "open loop {OFFERED_RATE:.0}/s for {OPEN_LOOP:?}, {name}: n={} p50 {:.2} ms p99 {:.2} ms",
            v.len(),
            percentile(&v, 0.50),
            percentile(&v, 0.99)
        );
    }
    cancel.cancel();
}

criterion_group!(mcp, benches);
criterion_main!(mcp);
