//! Evaluation benchmarks, baseline in the same run:
//!
//! - `compile/<id>`: compiling each shipped component (cold, no cache).
//! - `call/bare_wasmtime_default`: the same gate through `InstancePre` with the pooling
//!   allocator, no fuel, no epochs: instantiate + call.
//! - `call/bare_wasmtime_matched`: the same, with the engine configured exactly as
//!   Andon's (fuel, epochs, NaN canonicalization, pooling, CoW): instantiate + call.
//! - `call/andon_evaluate`: `LoadedComponent::evaluate` (fresh store and instance,
//!   limits, canonical output, hashing).
//! - `call/warm_instance`: one instance called repeatedly (Andon never does this; it
//!   shows the instantiation share).
//!
//! Ratios are printed at the end; see BENCHMARKS.md.

use std::time::{Duration, Instant};

use andon_core::bindings::gate::GatePre;
use andon_core::bindings::wit;
use andon_core::{AndonEngine, GuestRequest, Incident, Limits, LoadedComponent};
use criterion::{Criterion, criterion_group, criterion_main};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

const EVIDENCE: &str = r#"{"incident_id":"INC-B-1","kind":"approval_request","severity":"high",
  "evidence":{"request":{"amount":1200000,"currency":"USD","threshold":1000000,"purpose":"lease"},
              "authorities":{"cfo_available":false,"board_available":true}}}"#;

fn wit_request(request: &GuestRequest) -> wit::Request {
    wit::Request {
        envelope: wit::Envelope {
            incident_id: request.envelope.incident_id.clone(),
            kind: request.envelope.kind.clone(),
            severity: wit::Severity::High,
        },
        evidence: request.evidence_json.clone(),
        settings: request.settings_json.clone(),
    }
}

fn bare_engine(matched: bool) -> Engine {
    let mut config = Config::new();
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(32).total_core_instances(128).total_memories(64).total_tables(128);
    pool.max_memory_size(256 << 20);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if matched {
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .cranelift_nan_canonicalization(true)
            .wasm_relaxed_simd(false)
            .max_wasm_stack(512 << 10)
            .memory_init_cow(true);
    }
    Engine::new(&config).unwrap()
}

fn bare_pre(engine: &Engine, bytes: &[u8]) -> GatePre<()> {
    let component = Component::new(engine, bytes).unwrap();
    let linker: Linker<()> = Linker::new(engine);
    GatePre::new(linker.instantiate_pre(&component).unwrap()).unwrap()
}

fn bare_call(engine: &Engine, pre: &GatePre<()>, request: &wit::Request, matched: bool) -> wit::GateVerdict {
    let mut store = Store::new(engine, ());
    if matched {
        store.set_fuel(200_000_000).unwrap();
        store.set_epoch_deadline(500);
    }
    let gate = pre.instantiate(&mut store).unwrap();
    gate.andon_policy_policy_gate().call_check(&mut store, request).unwrap()
}

fn mean_of<F: FnMut()>(mut f: F) -> Duration {
    // A plain timing loop for the ratio summary; criterion's own report is the
    // detailed record.
    for _ in 0..200 {
        f();
    }
    let n = 3000;
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

fn benches(c: &mut Criterion) {
    let component = andon_recipes::shipped("approval-threshold").unwrap();
    let incident = Incident::from_bytes(EVIDENCE.as_bytes(), 1 << 20).unwrap();
    let request = GuestRequest::from_incident(&incident);
    let wit_req = wit_request(&request);

    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    let compile_engine = bare_engine(true);
    for shipped in andon_recipes::SHIPPED {
        group.bench_function(shipped.id, |b| b.iter(|| Component::new(&compile_engine, shipped.bytes).unwrap()));
    }
    group.finish();

    let default_engine = bare_engine(false);
    let default_pre = bare_pre(&default_engine, component.bytes);
    let matched_engine = bare_engine(true);
    let matched_pre = bare_pre(&matched_engine, component.bytes);
    let andon = AndonEngine::new().unwrap();
    let loaded = LoadedComponent::load(&andon, component.bytes).unwrap();
    let limits = Limits::default();

    let mut group = c.benchmark_group("call");
    group.bench_function("bare_wasmtime_default", |b| {
        b.iter(|| bare_call(&default_engine, &default_pre, &wit_req, false))
    });
    group.bench_function("bare_wasmtime_matched", |b| {
        b.iter(|| bare_call(&matched_engine, &matched_pre, &wit_req, true))
    });
    group.bench_function("andon_evaluate", |b| b.iter(|| loaded.evaluate(&andon, &request, &limits).unwrap()));
    group.bench_function("warm_instance", |b| {
        let mut store = Store::new(&default_engine, ());
        let gate = default_pre.instantiate(&mut store).unwrap();
        b.iter(|| gate.andon_policy_policy_gate().call_check(&mut store, &wit_req).unwrap())
    });
    group.finish();

    // Interleaved summary so both sides see the same machine state.
    let mut bare_default = Vec::new();
    let mut bare_matched = Vec::new();
    let mut host = Vec::new();
    for _ in 0..3 {
        bare_default.push(mean_of(|| {
            bare_call(&default_engine, &default_pre, &wit_req, false);
        }));
        bare_matched.push(mean_of(|| {
            bare_call(&matched_engine, &matched_pre, &wit_req, true);
        }));
        host.push(mean_of(|| {
            loaded.evaluate(&andon, &request, &limits).unwrap();
        }));
    }
    let min = |v: &[Duration]| *v.iter().min().unwrap();
    let (d, m, h) = (min(&bare_default), min(&bare_matched), min(&host));
    eprintln!("\nsummary (min of 3 interleaved rounds of 3000 calls):");
    eprintln!("  bare wasmtime, default config : {d:?} per instantiate+call");
    eprintln!("  bare wasmtime, Andon's config : {m:?} per instantiate+call");
    eprintln!("  andon evaluate                : {h:?} per evaluation");
    eprintln!("  ratio andon / bare(matched)   : {:.3}", h.as_secs_f64() / m.as_secs_f64());
    eprintln!("  ratio andon / bare(default)   : {:.3}", h.as_secs_f64() / d.as_secs_f64());
}

criterion_group!(eval, benches);
criterion_main!(eval);
