//! The compiled-code cache: a hit evaluates exactly like an uncached load, and an
//! entry the cache did not itself write and authenticate is never deserialized.

use std::path::Path;
use std::sync::OnceLock;

use andon_core::cache::{CacheError, CacheOutcome, CacheStats, CodeCache, KEY_FILE};
use andon_core::{AndonEngine, EngineOptions, Error, Evaluation, Limits, LoadedComponent};

use crate::support::{request, wat};

const APPROVAL: &str = r#"{"incident_id":"INC-C-1","kind":"approval_request","severity":"high",
  "evidence":{"request":{"amount":1200000,"currency":"USD","threshold":1000000},
              "authorities":{"cfo_available":false,"board_available":true}}}"#;

fn engine() -> &'static AndonEngine {
    static ENGINE: OnceLock<AndonEngine> = OnceLock::new();
    ENGINE.get_or_init(|| AndonEngine::new().unwrap())
}

fn gate_bytes() -> &'static [u8] {
    andon_recipes::shipped("approval-threshold").unwrap().bytes
}

fn evaluate(engine: &AndonEngine, component: &LoadedComponent) -> Evaluation {
    component.evaluate(engine, &request(APPROVAL), &Limits::default()).unwrap()
}

fn rejected_reason(outcome: CacheOutcome) -> String {
    match outcome {
        CacheOutcome::Rejected { reason } => reason,
        other => panic!("expected a rejected entry, got {other:?}"),
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".cwasm"))
        .collect();
    names.sort();
    names
}

#[test]
fn miss_then_hit_and_the_hit_evaluates_exactly_like_an_uncached_load() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let cache = CodeCache::open(&dir.path().join("cache")).unwrap();

    let (cold, first) = cache.load(engine, gate_bytes()).unwrap();
    assert_eq!(first, CacheOutcome::Miss);
    let (warm, second) = cache.load(engine, gate_bytes()).unwrap();
    assert_eq!(second, CacheOutcome::Hit);
    assert_eq!(cache.stats(), CacheStats { hits: 1, misses: 1, rejected: 0 });

    let uncached = LoadedComponent::load(engine, gate_bytes()).unwrap();
    let (expected, from_miss, from_hit) =
        (evaluate(engine, &uncached), evaluate(engine, &cold), evaluate(engine, &warm));
    assert_eq!(expected.decision.outcome(), "pass");
    for got in [&from_miss, &from_hit] {
        assert_eq!(got.output, expected.output, "different output bytes");
        assert_eq!(got.fuel_consumed, expected.fuel_consumed, "different fuel");
        assert_eq!(got.component_sha256, expected.component_sha256);
    }
    assert_eq!(warm.info(), uncached.info());

    let name = cache.entry_path(engine, gate_bytes()).file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(entries(cache.path()), std::slice::from_ref(&name));
    assert!(name.starts_with(&format!("{}-", uncached.sha256())), "{name}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(cache.path()), 0o700);
        assert_eq!(mode(&cache.path().join(KEY_FILE)), 0o600);
        assert_eq!(mode(&cache.path().join(&name)), 0o600);
    }
}

#[test]
fn a_flipped_byte_in_an_entry_is_rejected_recompiled_and_overwritten() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let cache = CodeCache::open(dir.path()).unwrap();
    cache.load(engine, gate_bytes()).unwrap();
    let entry = cache.entry_path(engine, gate_bytes());
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&entry, &bytes).unwrap();

    let (loaded, outcome) = cache.load(engine, gate_bytes()).unwrap();
    let reason = rejected_reason(outcome);
    assert!(reason.contains("MAC does not verify"), "{reason}");
    let uncached = LoadedComponent::load(engine, gate_bytes()).unwrap();
    assert_eq!(evaluate(engine, &loaded).output, evaluate(engine, &uncached).output);
    // The entry was rewritten, so the next load is a hit again.
    assert_ne!(std::fs::read(&entry).unwrap(), bytes);
    assert_eq!(cache.load(engine, gate_bytes()).unwrap().1, CacheOutcome::Hit);
    assert_eq!(cache.stats(), CacheStats { hits: 1, misses: 1, rejected: 1 });
}

#[test]
fn a_truncated_entry_is_rejected() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let cache = CodeCache::open(dir.path()).unwrap();
    std::fs::write(cache.entry_path(engine, gate_bytes()), b"short").unwrap();
    let reason = rejected_reason(cache.load(engine, gate_bytes()).unwrap().1);
    assert!(reason.contains("truncated (5 bytes)"), "{reason}");
}

#[test]
fn an_entry_copied_from_another_cache_directory_is_rejected() {
    let engine = engine();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (cache_a, cache_b) = (CodeCache::open(a.path()).unwrap(), CodeCache::open(b.path()).unwrap());
    assert_ne!(std::fs::read(a.path().join(KEY_FILE)).unwrap(), std::fs::read(b.path().join(KEY_FILE)).unwrap());
    cache_a.load(engine, gate_bytes()).unwrap();
    // A well-formed entry, produced by wasmtime for this very component and engine,
    // but authenticated under another cache's key.
    std::fs::copy(cache_a.entry_path(engine, gate_bytes()), cache_b.entry_path(engine, gate_bytes())).unwrap();

    let reason = rejected_reason(cache_b.load(engine, gate_bytes()).unwrap().1);
    assert!(reason.contains("written by another cache"), "{reason}");
    assert_eq!(cache_b.load(engine, gate_bytes()).unwrap().1, CacheOutcome::Hit);
}

#[test]
fn an_entry_renamed_to_another_component_is_rejected() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let cache = CodeCache::open(dir.path()).unwrap();
    let other = andon_recipes::shipped("evidence-level").unwrap().bytes;
    cache.load(engine, other).unwrap();
    std::fs::copy(cache.entry_path(engine, other), cache.entry_path(engine, gate_bytes())).unwrap();
    let (loaded, outcome) = cache.load(engine, gate_bytes()).unwrap();
    assert!(rejected_reason(outcome).contains("for another component"));
    assert_eq!(loaded.sha256(), LoadedComponent::load(engine, gate_bytes()).unwrap().sha256());
    assert_eq!(evaluate(engine, &loaded).decision.outcome(), "pass");
}

#[test]
fn a_different_engine_configuration_misses_and_never_takes_the_other_entry() {
    let engine = engine();
    let other =
        AndonEngine::with_options(&EngineOptions { max_wasm_stack: 256 << 10, ..EngineOptions::default() }).unwrap();
    assert_ne!(engine.config_digest(), other.config_digest());
    let dir = tempfile::tempdir().unwrap();
    let cache = CodeCache::open(dir.path()).unwrap();

    assert_eq!(cache.load(engine, gate_bytes()).unwrap().1, CacheOutcome::Miss);
    assert_eq!(cache.load(&other, gate_bytes()).unwrap().1, CacheOutcome::Miss);
    assert_eq!(entries(dir.path()).len(), 2, "one entry per engine configuration");
    assert_eq!(cache.load(engine, gate_bytes()).unwrap().1, CacheOutcome::Hit);
    assert_eq!(cache.load(&other, gate_bytes()).unwrap().1, CacheOutcome::Hit);
    // A new engine with the same configuration (as in the next process) hits.
    let same = AndonEngine::new().unwrap();
    assert_eq!(same.config_digest(), engine.config_digest());
    assert_eq!(cache.load(&same, gate_bytes()).unwrap().1, CacheOutcome::Hit);

    // Even moved under the other configuration's name, an entry does not verify.
    std::fs::copy(cache.entry_path(engine, gate_bytes()), cache.entry_path(&other, gate_bytes())).unwrap();
    let reason = rejected_reason(cache.load(&other, gate_bytes()).unwrap().1);
    assert!(reason.contains("another engine configuration"), "{reason}");
}

#[test]
fn a_component_with_a_refused_import_is_refused_even_when_cached() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let cache = CodeCache::open(dir.path()).unwrap();
    let bytes = wat("clock-import.wat");
    for round in ["miss", "hit"] {
        let err = cache.load(engine, &bytes).unwrap_err();
        assert!(
            matches!(&err, Error::RefusedImport { import } if import == "wasi:clocks/monotonic-clock@0.2.0"),
            "{round}: {err:?}"
        );
        assert!(err.to_string().contains("wasi:clocks/monotonic-clock@0.2.0"));
        // The compiled code is cached: the second round is a hit, refused by the
        // same import check.
        assert!(cache.entry_path(engine, &bytes).exists(), "{round}");
    }
    assert_eq!(cache.stats(), CacheStats { hits: 1, misses: 1, rejected: 0 });
}

#[test]
fn bytes_that_are_not_a_component_are_refused_before_the_cache_is_touched() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let cache = CodeCache::open(dir.path()).unwrap();
    let err = cache.load(engine, &wat("core-module.wat")).unwrap_err();
    assert!(matches!(&err, Error::InvalidComponent { reason } if reason.contains("core WebAssembly module")));
    assert!(entries(dir.path()).is_empty());
    assert_eq!(cache.stats(), CacheStats::default());
}

#[test]
fn reopening_a_cache_keeps_its_key_and_its_entries() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    CodeCache::open(dir.path()).unwrap().load(engine, gate_bytes()).unwrap();
    let key = std::fs::read(dir.path().join(KEY_FILE)).unwrap();
    assert_eq!(key.len(), 32);
    let reopened = CodeCache::open(dir.path()).unwrap();
    assert_eq!(std::fs::read(dir.path().join(KEY_FILE)).unwrap(), key);
    assert_eq!(reopened.load(engine, gate_bytes()).unwrap().1, CacheOutcome::Hit);
}

#[cfg(unix)]
#[test]
fn a_key_other_users_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    drop(CodeCache::open(dir.path()).unwrap());
    let key = dir.path().join(KEY_FILE);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = CodeCache::open(dir.path()).unwrap_err();
    assert!(matches!(err, CacheError::Key { .. }), "{err:?}");
    assert!(err.to_string().contains("cache.key") && err.to_string().contains("mode 644"), "{err}");
}
