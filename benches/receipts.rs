//! Receipt, ledger and verify benchmarks, each with its baseline in the same run:
//!
//! - `receipt/evaluate` vs `receipt/seal`: one evaluation of a shipped gate against
//!   the cost of its receipt (RFC 8785 canonicalization, SHA-256, HMAC; no fsync).
//!   Target: seal ≤ 5% of an evaluation.
//! - `append/*`: durable appends (fsync before acknowledging) of the same receipt
//!   bytes: Andon's ledger one-by-one and with group commit, against SQLite in WAL
//!   mode with `synchronous=FULL` inserting the same bytes per row, one row per
//!   transaction and the same number of rows per transaction. Same directory, same
//!   disk. Andon's side also seals each receipt (SQLite gets ready-made bytes).
//!   Target: group commit ≥ 1.0× SQLite.
//! - `verify/*`: `andon verify` (hashes, links and HMACs) against plain SHA-256 of
//!   the same file. Target: ≥ 0.5×.
//!
//! Ratios are printed at the end (interleaved timing rounds); see BENCHMARKS.md.

use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

use andon_core::run;
use andon_core::{AndonEngine, GuestRequest, Incident, Limits, LoadedComponent};
use andon_ledger::keys::HmacKey;
use andon_ledger::ledger::verify::{self, VerifyOptions};
use andon_ledger::ledger::{self, Ledger, Options};
use andon_ledger::receipt::{self, Body, Draft, Links};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::Digest as _;

const EVIDENCE: &str = r#"{"incident_id":"INC-B-1","kind":"approval_request","severity":"high",
  "evidence":{"request":{"amount":1200000,"currency":"USD","threshold":1000000,"purpose":"lease"},
              "authorities":{"cfo_available":false,"board_available":true}}}"#;

/// Rows (receipts) per group commit / SQLite transaction.
const GROUP: usize = 64;
/// Receipts in the ledger that verify reads.
const VERIFY_RECEIPTS: u64 = 20_000;

struct Fixture {
    engine: AndonEngine,
    loaded: LoadedComponent,
    request: GuestRequest,
    draft: Draft,
    key: HmacKey,
}

fn fixture() -> Fixture {
    let engine = AndonEngine::new().unwrap();
    let bytes = andon_recipes::shipped("approval-threshold").unwrap().bytes;
    let loaded = LoadedComponent::load(&engine, bytes).unwrap();
    let incident = Incident::from_bytes(EVIDENCE.as_bytes(), 1 << 20).unwrap();
    let request = GuestRequest::from_incident(&incident);
    let recorded = run::evaluate_loaded(&engine, "approval-threshold", &loaded, &request, &Limits::default()).unwrap();
    let draft = Draft::from_runs(&incident, &[recorded], andon_core::record::EngineInfo::of(&engine), false);
    Fixture { engine, loaded, request, draft, key: HmacKey::from_bytes([7; 32]) }
}

fn body(fixture: &Fixture, seq: u64) -> Body {
    Body::from_draft(
        fixture.draft.clone(),
        Links { seq, prev_hash: "ab".repeat(32), incident_prev_hash: Some("cd".repeat(32)) },
        fixture.key.key_id().into(),
        receipt::rfc3339_now(),
    )
}

fn sqlite(path: &Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(path.join("bench.sqlite")).unwrap();
    db.pragma_update(None, "journal_mode", "WAL").unwrap();
    db.pragma_update(None, "synchronous", "FULL").unwrap();
    db.execute_batch("CREATE TABLE IF NOT EXISTS receipts (seq INTEGER PRIMARY KEY, line BLOB NOT NULL)").unwrap();
    db
}

fn sqlite_insert(db: &mut rusqlite::Connection, line: &[u8], rows: usize) {
    let tx = db.transaction().unwrap();
    {
        let mut insert = tx.prepare_cached("INSERT INTO receipts (line) VALUES (?1)").unwrap();
        for _ in 0..rows {
            insert.execute([line]).unwrap();
        }
    }
    tx.commit().unwrap();
}

fn sha256_file(path: &Path) -> [u8; 32] {
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    hasher.finalize().into()
}

fn verify_ledger(path: &Path, key: &HmacKey) {
    let options = VerifyOptions { keys: vec![key.clone()], ..Default::default() };
    let report = verify::verify(path, &options, &mut |_, _| {}).unwrap();
    assert!(report.ok);
}

/// Mean time of `f(input())` with `input` outside the timing.
fn mean_with<I, S: FnMut() -> I, F: FnMut(I)>(rounds: u32, mut input: S, mut f: F) -> Duration {
    f(input());
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let value = input();
        let start = Instant::now();
        f(value);
        total += start.elapsed();
    }
    total / rounds
}

fn mean_of<F: FnMut()>(rounds: u32, mut f: F) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..rounds {
        f();
    }
    start.elapsed() / rounds
}

fn benches(c: &mut Criterion) {
    let fx = fixture();
    let limits = Limits::default();
    let sample = body(&fx, 1);
    let line = receipt::seal(&sample, &fx.key).unwrap().line;
    eprintln!("receipt line: {} bytes", line.len());

    let mut group = c.benchmark_group("receipt");
    group.bench_function("evaluate", |b| b.iter(|| fx.loaded.evaluate(&fx.engine, &fx.request, &limits).unwrap()));
    group.bench_function("seal", |b| b.iter(|| receipt::seal(&sample, &fx.key).unwrap()));
    group.bench_function("draft_and_seal", |b| b.iter(|| receipt::seal(&body(&fx, 1), &fx.key).unwrap()));
    group.finish();

    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut ledger = Ledger::open(&dir.path().join("append"), fx.key.clone(), Options::default()).unwrap();
    let prealloc = Options { preallocate: ledger::PREALLOCATE, ..Options::default() };
    let mut padded = Ledger::open(&dir.path().join("padded"), fx.key.clone(), prealloc).unwrap();
    let mut db = sqlite(dir.path());
    let mut group = c.benchmark_group("append");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1));
    // Drafts are cloned in the untimed setup: SQLite is handed ready bytes too.
    let one = || fx.draft.clone();
    let many = || vec![fx.draft.clone(); GROUP];
    let small = criterion::BatchSize::SmallInput;
    group.bench_function("andon_one_per_fsync", |b| b.iter_batched(one, |d| ledger.append(d).unwrap(), small));
    group.bench_function("andon_one_per_fsync_preallocated", |b| {
        b.iter_batched(one, |d| padded.append(d).unwrap(), small)
    });
    group.bench_function("sqlite_wal_full_one_per_txn", |b| b.iter(|| sqlite_insert(&mut db, &line, 1)));
    group.throughput(Throughput::Elements(GROUP as u64));
    group.bench_function("andon_group_commit_64", |b| b.iter_batched(many, |d| ledger.append_batch(d).unwrap(), small));
    group.bench_function("andon_group_commit_64_preallocated", |b| {
        b.iter_batched(many, |d| padded.append_batch(d).unwrap(), small)
    });
    group.bench_function("sqlite_wal_full_64_per_txn", |b| b.iter(|| sqlite_insert(&mut db, &line, GROUP)));
    group.finish();

    let verify_path = dir.path().join("verify");
    let mut big = Ledger::open(&verify_path, fx.key.clone(), Options::default()).unwrap();
    for _ in 0..VERIFY_RECEIPTS / 1000 {
        big.append_batch(vec![fx.draft.clone(); 1000]).unwrap();
    }
    drop(big);
    let file = verify_path.join("receipts.jsonl");
    let size = std::fs::metadata(&file).unwrap().len();
    let mut group = c.benchmark_group("verify");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size));
    group.bench_function("andon_verify_with_hmac", |b| b.iter(|| verify_ledger(&verify_path, &fx.key)));
    group.bench_function("plain_sha256_of_the_file", |b| b.iter(|| sha256_file(&file)));
    group.finish();
    if std::env::var_os("ANDON_BENCH_NO_SUMMARY").is_some() {
        return;
    }

    // Interleaved summary so both sides of each ratio see the same machine state.
    let (mut eval, mut seal, mut one, mut sql_one, mut grouped, mut sql_grouped, mut ver, mut sha) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut one_padded, mut grouped_padded) = (Vec::new(), Vec::new());
    let one_draft = || fx.draft.clone();
    let many_drafts = || vec![fx.draft.clone(); GROUP];
    for _ in 0..3 {
        eval.push(mean_of(2000, || {
            fx.loaded.evaluate(&fx.engine, &fx.request, &limits).unwrap();
        }));
        seal.push(mean_of(2000, || {
            receipt::seal(&sample, &fx.key).unwrap();
        }));
        one.push(mean_with(50, one_draft, |d| {
            ledger.append(d).unwrap();
        }));
        one_padded.push(mean_with(50, one_draft, |d| {
            padded.append(d).unwrap();
        }));
        sql_one.push(mean_of(50, || sqlite_insert(&mut db, &line, 1)));
        grouped.push(
            mean_with(20, many_drafts, |d| {
                ledger.append_batch(d).unwrap();
            }) / GROUP as u32,
        );
        grouped_padded.push(
            mean_with(20, many_drafts, |d| {
                padded.append_batch(d).unwrap();
            }) / GROUP as u32,
        );
        sql_grouped.push(mean_of(20, || sqlite_insert(&mut db, &line, GROUP)) / GROUP as u32);
        ver.push(mean_of(5, || verify_ledger(&verify_path, &fx.key)));
        sha.push(mean_of(5, || {
            sha256_file(&file);
        }));
    }
    let min = |v: &[Duration]| v.iter().min().unwrap().as_secs_f64();
    let mb = |t: f64| size as f64 / t / 1e6;
    eprintln!("\nsummary (min of 3 interleaved rounds):");
    eprintln!("  evaluation (approval-threshold)   : {:>10.2} µs", min(&eval) * 1e6);
    eprintln!("  receipt seal (RFC 8785+SHA+HMAC)  : {:>10.2} µs", min(&seal) * 1e6);
    eprintln!("  ratio receipt / evaluation        : {:>10.3}  (target ≤ 0.05)", min(&seal) / min(&eval));
    eprintln!("  andon append, 1 per fsync         : {:>10.0} receipts/s", 1.0 / min(&one));
    eprintln!("  sqlite WAL FULL, 1 row per txn    : {:>10.0} rows/s", 1.0 / min(&sql_one));
    eprintln!("  andon append, 1 per fsync, prealloc: {:>9.0} receipts/s", 1.0 / min(&one_padded));
    eprintln!(
        "  ratio andon / sqlite (1 per sync) : {:>10.3}  (preallocated: {:.3})",
        min(&sql_one) / min(&one),
        min(&sql_one) / min(&one_padded)
    );
    eprintln!("  andon group commit of {GROUP}        : {:>10.0} receipts/s", 1.0 / min(&grouped));
    eprintln!("  sqlite WAL FULL, {GROUP} rows per txn : {:>10.0} rows/s", 1.0 / min(&sql_grouped));
    eprintln!("  andon group commit, preallocated  : {:>10.0} receipts/s", 1.0 / min(&grouped_padded));
    eprintln!(
        "  ratio andon / sqlite ({GROUP} per sync): {:>10.3}  (preallocated: {:.3}; target ≥ 1.0)",
        min(&sql_grouped) / min(&grouped),
        min(&sql_grouped) / min(&grouped_padded)
    );
    eprintln!("  andon verify (with HMAC)          : {:>10.0} MB/s over {size} bytes", mb(min(&ver)));
    eprintln!("  plain SHA-256 of the file         : {:>10.0} MB/s", mb(min(&sha)));
    eprintln!("  ratio verify / sha256             : {:>10.3}  (target ≥ 0.5)", min(&sha) / min(&ver));
}

criterion_group!(receipts, benches);
criterion_main!(receipts);
