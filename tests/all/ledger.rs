//! The ledger: sequence and chain links, group commit, the writer lock, automatic
//! and on-demand checkpoints, the content-addressed store and the key files.
//! Real files, real fsyncs.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use andon_core::evidence::sha256_hex;
use andon_ledger::keys::{self, HmacKey};
use andon_ledger::ledger::verify::{self, Report, VerifyOptions};
use andon_ledger::ledger::{self, Ledger, Options, group::GroupWriter};
use andon_ledger::receipt::{Draft, StoredReceipt, ZERO_HASH};
use andon_ledger::store::{self, ComponentStore};

/// A synthetic evaluated receipt for `incident`, attempt `i` (no wasm run).
pub fn draft(incident: &str, i: u64) -> Draft {
    andon_test_fixtures::synthetic_draft(incident, i)
}

/// Keys generated into `dir/keys`.
pub struct TestKeys {
    pub hmac: HmacKey,
    pub generated: keys::GeneratedKeys,
}

pub fn test_keys(dir: &Path) -> TestKeys {
    let generated = keys::generate(&dir.join("keys")).unwrap();
    TestKeys { hmac: keys::load_hmac_key(&generated.hmac_path).unwrap(), generated }
}

/// Options that sign a checkpoint every `every` receipts with the generated key.
pub fn signing_options(keys: &TestKeys, every: u64) -> Options {
    Options {
        checkpoint_every: every,
        signing_key: Some(keys::load_signing_key(&keys.generated.signing_path).unwrap()),
        ..Options::default()
    }
}

/// A ledger of `n` receipts over three incidents, with a checkpoint every 4.
pub fn ledger_with(dir: &Path, keys: &TestKeys, n: u64) -> std::path::PathBuf {
    let path = dir.join("ledger");
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), signing_options(keys, 4)).unwrap();
    for i in 0..n {
        ledger.append(draft(&format!("INC-{}", i % 3), i)).unwrap();
    }
    path
}

/// Verifies with the HMAC key and the public key.
pub fn verify_all(path: &Path, keys: &TestKeys) -> Report {
    let public_key = keys::load_verifying_key(&keys.generated.public_path).unwrap();
    let options = VerifyOptions {
        keys: vec![keys.hmac.clone()],
        public_key: Some(public_key),
        held: Vec::new(),
        since: Vec::new(),
    };
    verify::verify(path, &options, &mut |_, _| {}).unwrap()
}

/// `receipts.jsonl` without its zero padding (preallocated space).
pub fn content(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path.join("receipts.jsonl")).unwrap();
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    bytes.truncate(end);
    bytes
}

pub fn receipts(path: &Path) -> Vec<StoredReceipt> {
    ledger::read_lines(path).unwrap().map(|line| StoredReceipt::parse(&line.unwrap()).unwrap()).collect()
}

#[test]
fn receipts_are_numbered_from_1_and_chained_globally_and_per_incident() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 7);
    let all = receipts(&path);
    assert_eq!(all.iter().map(|r| r.body.seq).collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>());
    assert_eq!(all[0].body.prev_hash, ZERO_HASH);
    for pair in all.windows(2) {
        assert_eq!(pair[1].body.prev_hash, pair[0].hash, "global chain");
    }
    // Incidents INC-0, INC-1, INC-2 take turns: each links to the one three back.
    for (i, receipt) in all.iter().enumerate() {
        let expected = if i >= 3 { Some(all[i - 3].hash.clone()) } else { None };
        assert_eq!(receipt.body.incident_prev_hash, expected, "incident chain at seq {}", receipt.body.seq);
        assert_eq!(receipt.body.key_id, keys.generated.hmac_key_id);
    }
    let report = verify_all(&path, &keys);
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.receipts, 7);
    assert_eq!(report.ledger_checkpoints, 2, "a checkpoint after 4 receipts, one when the writer closed at 7");
}

#[test]
fn reopening_continues_the_chain_where_it_ended() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 3);
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap();
    assert_eq!(ledger.seq(), 3);
    assert!(ledger.repaired().is_none());
    let head = ledger.head_hash().to_string();
    let appended = ledger.append(draft("INC-0", 9)).unwrap();
    assert_eq!(appended.seq, 4);
    drop(ledger);
    let all = receipts(&path);
    assert_eq!(all[3].body.prev_hash, head);
    assert_eq!(all[3].body.incident_prev_hash.as_deref(), Some(all[0].hash.as_str()));
    assert!(verify_all(&path, &keys).ok);
}

#[test]
fn a_preallocated_ledger_ends_in_zero_padding_that_readers_and_verify_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = dir.path().join("ledger");
    let options = Options { preallocate: 1 << 20, ..signing_options(&keys, 3) };
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), options.clone()).unwrap();
    for i in 0..5 {
        ledger.append(draft("P", i)).unwrap();
    }
    drop(ledger);
    let size = std::fs::metadata(path.join("receipts.jsonl")).unwrap().len();
    let logical = content(&path).len() as u64;
    assert!(size >= 1 << 20 && logical < size, "the file is padded: {logical} of {size} bytes");
    assert_eq!(receipts(&path).len(), 5);
    let report = verify_all(&path, &keys);
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.bytes, logical);
    // Reopening (with or without preallocation) continues inside the padding.
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap();
    assert!(ledger.repaired().is_none());
    ledger.append(draft("P", 5)).unwrap();
    drop(ledger);
    assert_eq!(std::fs::metadata(path.join("receipts.jsonl")).unwrap().len(), size);
    assert_eq!(receipts(&path).len(), 6);
    assert!(verify_all(&path, &keys).ok);
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let key = HmacKey::from_bytes([5; 32]);
    let _first = Ledger::open(dir.path(), key.clone(), Options::default()).unwrap();
    let err = Ledger::open(dir.path(), key.clone(), Options::default()).unwrap_err();
    assert!(matches!(err, ledger::LedgerError::Busy { .. }), "{err}");
    assert!(err.to_string().contains("locked by another writer"), "{err}");
}

#[test]
fn append_batch_commits_many_receipts_at_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = dir.path().join("ledger");
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap();
    let appended = ledger.append_batch((0..50).map(|i| draft(&format!("B-{}", i % 5), i)).collect()).unwrap();
    assert_eq!(appended.iter().map(|a| a.seq).collect::<Vec<_>>(), (1..=50).collect::<Vec<_>>());
    assert_eq!(ledger.head_hash(), appended[49].hash);
    assert_eq!(ledger.incident_head("B-4"), Some(appended[49].hash.as_str()));
    drop(ledger);
    let report = verify_all(&path, &keys);
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.head_hash, appended[49].hash);
}

#[test]
fn group_writer_acknowledges_every_concurrent_append_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = dir.path().join("ledger");
    let ledger = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap();
    let writer = GroupWriter::spawn(ledger, 64);
    let mut seqs: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let writer = &writer;
                scope.spawn(move || {
                    (0..25).map(|i| writer.append(draft(&format!("T-{t}"), i)).unwrap().seq).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    let ledger = writer.close().unwrap();
    assert_eq!(ledger.seq(), 200);
    drop(ledger);
    assert!(verify_all(&path, &keys).ok);
}

#[test]
fn checkpoints_are_written_every_n_receipts_and_on_demand_and_verify_with_the_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = dir.path().join("ledger");
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), signing_options(&keys, 3)).unwrap();
    for i in 0..7 {
        ledger.append(draft("C", i)).unwrap();
    }
    let on_demand = ledger.checkpoint().unwrap();
    assert_eq!(on_demand.seq, 7);
    assert_eq!(on_demand.head_hash, ledger.head_hash());
    assert_eq!(on_demand.key_id, keys.generated.ed25519_key_id);
    drop(ledger);
    let lines = std::fs::read_to_string(path.join("checkpoints.jsonl")).unwrap();
    let seqs: Vec<u64> =
        lines.lines().map(|l| andon_ledger::checkpoint::Checkpoint::parse(l.as_bytes()).unwrap().seq).collect();
    assert_eq!(seqs, [3, 6, 7]);
    let report = verify_all(&path, &keys);
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.ledger_checkpoints, 3);
    assert!(report.checkpoint_signatures_checked);
}

#[test]
fn checkpoint_without_a_signing_key_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path(), HmacKey::from_bytes([1; 32]), Options::default()).unwrap();
    assert!(ledger.checkpoint().unwrap_err().to_string().contains("no Ed25519 signing key"));
}

#[test]
fn the_ledger_directory_holds_exactly_the_documented_entries() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 1);
    let mut names: Vec<String> =
        std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    // docs/ledger.md: the receipts, checkpoints, lock and store; the log's origin,
    // tiles and checkpoint notes (a checkpoint was signed when the writer closed).
    assert_eq!(names, ["LOCK", "checkpoints.jsonl", "log-checkpoints", "origin", "receipts.jsonl", "sha256", "tiles"]);
}

#[test]
fn store_keeps_bytes_by_hash_and_reports_altered_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = ComponentStore::open(dir.path(), true).unwrap();
    let bytes = andon_recipes::shipped("insurance-active").unwrap().bytes;
    let hash = store.put(bytes).unwrap();
    assert_eq!(hash, sha256_hex(bytes));
    assert!(store.contains(&hash));
    assert_eq!(store.get(&hash).unwrap(), bytes);
    assert_eq!(store.put(bytes).unwrap(), hash, "putting again is idempotent");
    let file = dir.path().join("sha256").join(format!("{hash}.wasm"));
    let mut altered = bytes.to_vec();
    altered[100] ^= 1;
    std::fs::write(&file, &altered).unwrap();
    let err = store.get(&hash).unwrap_err();
    assert!(matches!(err, store::StoreError::HashMismatch { .. }), "{err}");
    assert!(err.to_string().contains("component bytes do not match their hash"), "{err}");
    // Putting the right bytes again repairs the file.
    store.put(bytes).unwrap();
    assert_eq!(store.get(&hash).unwrap(), bytes);
    let leftovers = std::fs::read_dir(dir.path().join("sha256")).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file is left behind");
}

#[rstest::rstest]
#[case::parent_escape("../../etc/passwd")]
#[case::absolute("/etc/passwd")]
#[case::uppercase_hex(&"AB".repeat(32))]
#[case::too_short("abc")]
#[case::hex_with_a_slash(&format!("{}/", "a".repeat(63)))]
fn store_refuses_a_name_that_is_not_a_lowercase_sha256(#[case] name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let store = ComponentStore::open(dir.path(), true).unwrap();
    assert!(matches!(store.get(name), Err(store::StoreError::BadName(_))));
    assert!(!store.contains(name));
}

#[test]
fn keys_generate_writes_secret_files_0600_in_a_0700_directory_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys");
    let generated = keys::generate(&out).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&generated.hmac_path), 0o600);
    assert_eq!(mode(&generated.signing_path), 0o600);
    assert_eq!(mode(&generated.public_path), 0o644);
    assert!(generated.hmac_key_id.starts_with("hmac-") && generated.hmac_key_id.len() == 21);
    assert!(generated.ed25519_key_id.starts_with("ed25519-") && generated.ed25519_key_id.len() == 24);
    let again = keys::generate(&out).unwrap_err();
    assert!(andon_core::errors::chain(&again).contains("refusing to overwrite"), "{again}");
}

#[test]
fn key_ids_are_derived_from_the_key_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let generated = keys::generate(dir.path()).unwrap();
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&generated.hmac_path).unwrap()).unwrap();
    let key = hex::decode(file["key"].as_str().unwrap()).unwrap();
    assert_eq!(generated.hmac_key_id, format!("hmac-{}", &sha256_hex(&key)[..16]));
    let public: serde_json::Value = serde_json::from_slice(&std::fs::read(&generated.public_path).unwrap()).unwrap();
    let public = hex::decode(public["public"].as_str().unwrap()).unwrap();
    assert_eq!(generated.ed25519_key_id, format!("ed25519-{}", &sha256_hex(&public)[..16]));
}

#[test]
fn a_secret_key_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let generated = keys::generate(dir.path()).unwrap();
    std::fs::set_permissions(&generated.hmac_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = keys::load_hmac_key(&generated.hmac_path).unwrap_err();
    assert!(matches!(err, keys::KeyError::Permissions { mode: 0o644, .. }), "{err}");
}

#[test]
fn a_key_file_whose_key_id_does_not_match_its_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let generated = keys::generate(dir.path()).unwrap();
    let text = std::fs::read_to_string(&generated.hmac_path).unwrap();
    let forged = text.replace(&generated.hmac_key_id, "hmac-0000000000000000");
    std::fs::write(&generated.hmac_path, forged).unwrap();
    let err = keys::load_hmac_key(&generated.hmac_path).unwrap_err();
    assert!(err.to_string().contains("does not match the key"), "{err}");
}

#[test]
fn key_debug_output_and_receipts_never_contain_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let hmac_file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&keys.generated.hmac_path).unwrap()).unwrap();
    let secret = hmac_file["key"].as_str().unwrap().to_string();
    let signing_file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&keys.generated.signing_path).unwrap()).unwrap();
    let seed = signing_file["secret"].as_str().unwrap().to_string();
    assert!(!format!("{:?}", keys.hmac).contains(&secret));
    let path = ledger_with(dir.path(), &keys, 5);
    for file in ["receipts.jsonl", "checkpoints.jsonl"] {
        let text = std::fs::read_to_string(path.join(file)).unwrap();
        assert!(!text.contains(&secret) && !text.contains(&seed), "{file} leaks a key");
    }
}
