//! Loading all shipped components through the compiled-code cache, cold versus warm,
//! in the same run:
//!
//! - `bundle_load/uncached`: `LoadedComponent::load` of each component (the baseline:
//!   compile, import check, pre-instantiation; no cache at all).
//! - `bundle_load/cold`: a fresh, empty cache directory each iteration: open it
//!   (creating its key), then load every component (compile, serialize, MAC, write).
//! - `bundle_load/warm`: the cache already populated: open it, then load every
//!   component (read, verify the MAC, deserialize, import check, pre-instantiation).
//!
//! The warm/cold speedup is printed at the end (target ≥ 10×); see BENCHMARKS.md.
//! Run with `cargo bench -p andon-cli --bench bundle_load`.

use std::time::{Duration, Instant};

use andon_core::cache::{CacheOutcome, CodeCache};
use andon_core::{AndonEngine, LoadedComponent};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn load_all(cache: &CodeCache, engine: &AndonEngine, expected: &CacheOutcome) {
    for shipped in andon_recipes::SHIPPED {
        let (_, outcome) = cache.load(engine, shipped.bytes).unwrap();
        assert_eq!(&outcome, expected, "{}", shipped.id);
    }
}

fn cold(engine: &AndonEngine) {
    let dir = tempfile::tempdir().unwrap();
    load_all(&CodeCache::open(dir.path()).unwrap(), engine, &CacheOutcome::Miss);
}

fn warm(engine: &AndonEngine, dir: &std::path::Path) {
    load_all(&CodeCache::open(dir).unwrap(), engine, &CacheOutcome::Hit);
}

fn uncached(engine: &AndonEngine) {
    for shipped in andon_recipes::SHIPPED {
        LoadedComponent::load(engine, shipped.bytes).unwrap();
    }
}

fn mean_of(rounds: u32, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..rounds {
        f();
    }
    start.elapsed() / rounds
}

fn benches(c: &mut Criterion) {
    let engine = AndonEngine::new().unwrap();
    let populated = tempfile::tempdir().unwrap();
    load_all(&CodeCache::open(populated.path()).unwrap(), &engine, &CacheOutcome::Miss);

    let mut group = c.benchmark_group("bundle_load");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("uncached", |b| b.iter(|| uncached(&engine)));
    group.bench_function("cold", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |dir| load_all(&CodeCache::open(dir.path()).unwrap(), &engine, &CacheOutcome::Miss),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("warm", |b| b.iter(|| warm(&engine, populated.path())));
    group.finish();

    // Interleaved summary so both sides see the same machine state.
    let (mut cold_times, mut warm_times, mut uncached_times) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        cold_times.push(mean_of(3, || cold(&engine)));
        warm_times.push(mean_of(30, || warm(&engine, populated.path())));
        uncached_times.push(mean_of(3, || uncached(&engine)));
    }
    let min = |v: &[Duration]| *v.iter().min().unwrap();
    let (c, w, u) = (min(&cold_times), min(&warm_times), min(&uncached_times));
    let n = andon_recipes::SHIPPED.len();
    eprintln!("\nsummary (min of 3 interleaved rounds; {n} shipped components per load):");
    eprintln!("  uncached (LoadedComponent::load) : {u:?}");
    eprintln!("  cold cache (compile + store)     : {c:?}");
    eprintln!("  warm cache (verify + deserialize): {w:?}");
    eprintln!("  speedup warm vs cold             : {:.1}x", c.as_secs_f64() / w.as_secs_f64());
    eprintln!("  speedup warm vs uncached         : {:.1}x", u.as_secs_f64() / w.as_secs_f64());
}

criterion_group!(bundle_load, benches);
criterion_main!(bundle_load);
