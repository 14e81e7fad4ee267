//! The public log's costs, each with its baseline in the same run (interleaved
//! rounds; ratios printed at the end, see BENCHMARKS.md):
//!
//! - group-commit append (64 receipts per fsync) with tree maintenance ÷ the same
//!   appends with `Options::tree` off. Target ≥ 0.9.
//! - an inclusion proof of one leaf of a tree of `ANDON_BENCH_LOG_LEAVES` leaves
//!   (default 1,000,000) from its tiles on disk, reading the tiles afresh each time
//!   and verifying the proof. Target < 1 ms, O(log n) tile reads.
//! - `andon verify` (hashes, links, HMACs, tree, tiles, notes) of a ledger of
//!   `ANDON_BENCH_LOG_RECEIPTS` receipts (default 1,000,000) ÷ plain SHA-256 of
//!   the same file. Target ≥ 0.5.
//!
//! Run: `cargo bench -p andon-cli --bench log` (building the 1M-receipt ledger takes
//! a few minutes and about 1 GB of temporary disk).

use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

use andon_ledger::keys::HmacKey;
use andon_ledger::ledger::verify::{self, VerifyOptions};
use andon_ledger::ledger::{Ledger, Options};
use andon_ledger::tlog::{self, FileTileStore, TileReader};
use sha2::Digest as _;

const GROUP: u64 = 64;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn min(v: &[Duration]) -> f64 {
    v.iter().min().unwrap().as_secs_f64()
}

/// Mean time of one group commit of `GROUP` synthetic receipts.
fn append_round(ledger: &mut Ledger, next: &mut u64, rounds: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let drafts = (*next..*next + GROUP)
            .map(|i| andon_test_fixtures::synthetic_draft(&format!("INC-{}", i % 97), i))
            .collect();
        *next += GROUP;
        let start = Instant::now();
        ledger.append_batch(drafts).unwrap();
        total += start.elapsed();
    }
    total / rounds as u32
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

fn main() {
    let dir = tempfile::tempdir_in(std::env::var_os("ANDON_BENCH_DIR").unwrap_or_else(|| std::env::temp_dir().into()))
        .unwrap();
    let key = HmacKey::from_bytes([7; 32]);
    // ANDON_BENCH_LOG_PARTS=append,proof,verify (the default: all three).
    let parts = std::env::var("ANDON_BENCH_LOG_PARTS").unwrap_or_else(|_| "append,proof,verify".into());
    let part = |name: &str| parts.split(',').any(|p| p == name);

    // 1. Append with and without the tree, interleaved.
    if part("append") {
        let with = Options { checkpoint_every: 0, ..Options::default() };
        let without = Options { tree: false, ..with.clone() };
        let mut a = Ledger::open(&dir.path().join("with-tree"), key.clone(), with).unwrap();
        let mut b = Ledger::open(&dir.path().join("without-tree"), key.clone(), without).unwrap();
        let (mut na, mut nb) = (0, 0);
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            ta.push(append_round(&mut a, &mut na, 40));
            tb.push(append_round(&mut b, &mut nb, 40));
        }
        drop((a, b));
        let per_receipt = |t: f64| t / GROUP as f64;
        eprintln!("append, group commit of {GROUP} (min of 5 interleaved rounds of 40 commits):");
        eprintln!("  with tree maintenance    : {:>10.0} receipts/s", 1.0 / per_receipt(min(&ta)));
        eprintln!("  without (Options::tree)  : {:>10.0} receipts/s", 1.0 / per_receipt(min(&tb)));
        eprintln!("  ratio with / without     : {:>10.3}  (target ≥ 0.9)", min(&tb) / min(&ta));
    }

    // 2. Inclusion proofs from the tiles of a large tree.
    if part("proof") {
        let leaves = env_or("ANDON_BENCH_LOG_LEAVES", 1_000_000);
        let store = FileTileStore::open(&dir.path().join("tiles"), true).unwrap();
        let start = Instant::now();
        let lines = (0..leaves).map(|i| Ok::<_, std::io::Error>(format!("{{\"seq\":{}}}", i + 1).into_bytes()));
        let size = tlog::rebuild(&store, lines).unwrap();
        let built = start.elapsed();
        let root = tlog::root(&mut TileReader::new(&store, size), size).unwrap();
        let mut times = Vec::new();
        let mut most_tiles = 0;
        for round in 0..2000u64 {
            let index = round.wrapping_mul(0x9E37_79B9_7F4A_7C15) % size;
            let leaf = tlog::leaf_hash(format!("{{\"seq\":{}}}", index + 1).as_bytes());
            let start = Instant::now();
            let mut reader = TileReader::new(&store, size);
            let proof = tlog::inclusion_proof(&mut reader, index, size).unwrap();
            tlog::verify_inclusion(&leaf, index, size, &proof, &root).unwrap();
            times.push(start.elapsed());
            most_tiles = most_tiles.max(reader.tiles_read());
        }
        times.sort();
        eprintln!("inclusion proof, tree of {size} leaves in tiles on disk (built in {:.1} s):", built.as_secs_f64());
        eprintln!(
            "  read tiles + prove + verify: median {:.3} ms, p99 {:.3} ms, at most {most_tiles} tiles read  (target < 1 ms)",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[times.len() * 99 / 100].as_secs_f64() * 1e3
        );
    }
    if !part("verify") {
        return;
    }

    // 3. verify of a large ledger ÷ SHA-256 of its file.
    let receipts = env_or("ANDON_BENCH_LOG_RECEIPTS", 1_000_000);
    let path = dir.path().join("big");
    let signing = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let id = andon_ledger::keys::ed25519_key_id(&signing.verifying_key());
    let options =
        Options { checkpoint_every: 100_000, signing_key: Some((id.clone(), signing.clone())), ..Options::default() };
    let start = Instant::now();
    let mut ledger = Ledger::open(&path, key.clone(), options).unwrap();
    let mut next = 0;
    while next < receipts {
        let n = (receipts - next).min(1000);
        let drafts =
            (next..next + n).map(|i| andon_test_fixtures::synthetic_draft(&format!("INC-{}", i % 997), i)).collect();
        ledger.append_batch(drafts).unwrap();
        next += n;
    }
    drop(ledger);
    let file = path.join(andon_ledger::ledger::RECEIPTS_FILE);
    let bytes = std::fs::metadata(&file).unwrap().len();
    eprintln!(
        "verify, ledger of {receipts} receipts, {bytes} bytes (written in {:.0} s):",
        start.elapsed().as_secs_f64()
    );
    let verify_options =
        VerifyOptions { keys: vec![key], public_key: Some((id, signing.verifying_key())), ..Default::default() };
    let (mut tv, mut ts) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let start = Instant::now();
        let report = verify::verify(&path, &verify_options, &mut |_, _| {}).unwrap();
        tv.push(start.elapsed());
        assert!(report.ok && report.log.notes_checked > 0, "{report:#?}");
        let start = Instant::now();
        sha256_file(&file);
        ts.push(start.elapsed());
    }
    let mb = |t: f64| bytes as f64 / t / 1e6;
    eprintln!("  andon verify (chain, HMAC, tree, tiles, notes): {:>8.0} MB/s", mb(min(&tv)));
    eprintln!("  plain SHA-256 of the file                     : {:>8.0} MB/s", mb(min(&ts)));
    eprintln!("  ratio verify / sha256                          : {:>8.3}  (target ≥ 0.5)", min(&ts) / min(&tv));
}
