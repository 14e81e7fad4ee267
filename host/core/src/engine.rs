//! The wasmtime engine, configured for determinism and recorded as a config digest.
//!
//! Determinism settings: NaN canonicalization on, threads and shared memory off,
//! relaxed SIMD off, fuel metering on (fuel is part of every result), epoch
//! interruption on as a wall-clock backstop only (it never changes a successful
//! result, it only turns a runaway guest into a `deadline` fault). Pooling allocation
//! and copy-on-write memory images keep instantiation cheap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;

use crate::errors::{Error, Result};
use crate::evidence::{canonical_bytes_of, sha256_hex};

/// Interval of the epoch ticker; deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Wasmtime version this host was built against.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// Host (andon) version.
pub const HOST_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything about the engine that can influence a result, recorded in receipts
/// through its digest ([`AndonEngine::config_digest`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EngineSettings {
    /// Wasmtime version.
    pub wasmtime: String,
    /// Compilation target triple.
    pub target: String,
    /// Cranelift optimization level.
    pub opt_level: String,
    /// NaN canonicalization.
    pub nan_canonicalization: bool,
    /// Threads proposal.
    pub threads: bool,
    /// Relaxed SIMD proposal.
    pub relaxed_simd: bool,
    /// Deterministic relaxed SIMD lowering.
    pub relaxed_simd_deterministic: bool,
    /// Fuel metering.
    pub fuel: bool,
    /// Epoch interruption (wall-clock backstop).
    pub epoch_interruption: bool,
    /// Maximum wasm stack in bytes (stack-overflow point).
    pub max_wasm_stack: usize,
    /// Pooling instance allocator.
    pub pooling: bool,
    /// Copy-on-write memory images.
    pub memory_cow: bool,
}

/// Options for building an [`AndonEngine`].
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Use the pooling allocator (default true).
    pub pooling: bool,
    /// Number of concurrent instances the pool holds.
    pub pool_instances: u32,
    /// Largest linear memory a pooled instance may have, in bytes.
    pub pool_max_memory_bytes: usize,
    /// Maximum wasm stack in bytes.
    pub max_wasm_stack: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { pooling: true, pool_instances: 32, pool_max_memory_bytes: 256 << 20, max_wasm_stack: 512 << 10 }
    }
}

/// A configured wasmtime engine plus its epoch ticker and config digest.
///
/// Cloning is cheap; the ticker stops when the last clone is dropped.
#[derive(Clone)]
pub struct AndonEngine {
    engine: wasmtime::Engine,
    settings: Arc<EngineSettings>,
    digest: Arc<str>,
    _ticker: Arc<Ticker>,
}

impl std::fmt::Debug for AndonEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AndonEngine").field("config_digest", &self.digest).finish_non_exhaustive()
    }
}

struct Ticker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

impl AndonEngine {
    /// Builds an engine with the default options.
    ///
    /// # Errors
    /// [`Error::Engine`] when wasmtime rejects the configuration (for example when
    /// the pooling allocator cannot reserve its address space).
    pub fn new() -> Result<AndonEngine> {
        AndonEngine::with_options(&EngineOptions::default())
    }

    /// Builds an engine with `options`.
    ///
    /// # Errors
    /// [`Error::Engine`] when wasmtime rejects the configuration.
    pub fn with_options(options: &EngineOptions) -> Result<AndonEngine> {
        let settings = EngineSettings {
            wasmtime: WASMTIME_VERSION.into(),
            target: target_triple(),
            opt_level: "speed".into(),
            nan_canonicalization: true,
            threads: false,
            relaxed_simd: false,
            relaxed_simd_deterministic: true,
            fuel: true,
            epoch_interruption: true,
            max_wasm_stack: options.max_wasm_stack,
            pooling: options.pooling,
            memory_cow: true,
        };
        // Threads are off by construction: the `threads` cargo feature of wasmtime is
        // not enabled, so neither the proposal nor shared memories can be turned on.
        let mut config = wasmtime::Config::new();
        config
            .wasm_component_model(true)
            .cranelift_opt_level(wasmtime::OptLevel::Speed)
            .cranelift_nan_canonicalization(settings.nan_canonicalization)
            .shared_memory(false)
            .wasm_relaxed_simd(settings.relaxed_simd)
            .relaxed_simd_deterministic(settings.relaxed_simd_deterministic)
            .consume_fuel(settings.fuel)
            .epoch_interruption(settings.epoch_interruption)
            .max_wasm_stack(settings.max_wasm_stack)
            .memory_init_cow(settings.memory_cow)
            .parallel_compilation(true);
        if options.pooling {
            let mut pool = wasmtime::PoolingAllocationConfig::new();
            pool.total_component_instances(options.pool_instances)
                .total_core_instances(options.pool_instances * 4)
                .total_memories(options.pool_instances * 2)
                .total_tables(options.pool_instances * 4)
                .max_memory_size(options.pool_max_memory_bytes)
                .max_memories_per_module(1)
                .max_tables_per_module(2)
                .max_core_instances_per_component(8)
                .max_memories_per_component(2)
                .max_tables_per_component(4);
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = wasmtime::Engine::new(&config).map_err(|e| Error::Engine(format!("{e:#}")))?;
        let digest = sha256_hex(&canonical_bytes_of(&settings).map_err(|e| Error::Engine(e.to_string()))?);

        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("andon-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::park_timeout(EPOCH_TICK);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| Error::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(AndonEngine {
            engine,
            settings: Arc::new(settings),
            digest: digest.into(),
            _ticker: Arc::new(Ticker { stop, handle: Some(handle) }),
        })
    }

    /// The wasmtime engine.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.engine
    }

    /// The settings that went into [`AndonEngine::config_digest`].
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// SHA-256 (lowercase hex) of the RFC 8785 form of [`EngineSettings`].
    pub fn config_digest(&self) -> &str {
        &self.digest
    }
}

fn target_triple() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}
