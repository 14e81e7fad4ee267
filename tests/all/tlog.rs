//! The ledger as a publicly verifiable log: receipts appended to a real ledger, tiles
//! kept beside it, checkpoints signed as C2SP notes, and every proof checked by an
//! independent verifier in Go (`tests/go/verify`, built against Debian's
//! `golang.org/x/mod/sumdb/{note,tlog}`), which must also refuse tampered proofs,
//! tampered notes, wrong keys and damaged tiles.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use andon_ledger::keys::HmacKey;
use andon_ledger::ledger::{Ledger, Options};
use andon_ledger::note::{ConsistencyProof, LogCheckpoint, Note, NoteSigner, NoteVerifier, TlogProof};
use andon_ledger::tlog::{self, FileTileStore, TILES_DIR, TileReader, TileWriter};
use ed25519_dalek::SigningKey;
use sha2::{Digest as _, Sha256};

use crate::support::root;

const ORIGIN: &str = "andon.example/ledger-demo";
/// Where Debian's golang-golang-x-mod-dev installs the sources (GOPATH mode).
const GOPATH: &str = "/usr/share/gocode";

/// The Go verifier, built once per `main.go` content into the cargo target's tmp dir
/// (`go build` in GOPATH mode; an exclusive lock keeps concurrent test processes from
/// building over each other). Panics with the remedy when Go is missing: this test
/// never skips silently.
fn go_verifier() -> PathBuf {
    static VERIFIER: OnceLock<PathBuf> = OnceLock::new();
    VERIFIER.get_or_init(build_go_verifier).clone()
}

fn build_go_verifier() -> PathBuf {
    let source = root().join("tests/go/verify");
    let main = std::fs::read(source.join("main.go")).expect("tests/go/verify/main.go");
    let digest = hex::encode(&Sha256::digest(&main)[..8]);
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go-verify");
    std::fs::create_dir_all(&out_dir).unwrap();
    let binary = out_dir.join(format!("verify-{digest}"));
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out_dir.join("build.lock"))
        .expect("open the Go build lock");
    lock.lock().expect("lock the Go build lock");
    if binary.is_file() {
        return binary;
    }
    assert!(
        Path::new(GOPATH).join("src/golang.org/x/mod/sumdb/tlog/tlog.go").is_file(),
        "golang.org/x/mod is not in {GOPATH}: install golang-go and golang-golang-x-mod-dev (scripts/test.sh does)"
    );
    let temp = out_dir.join(format!("verify-{digest}.tmp-{}", std::process::id()));
    let output = Command::new("go")
        .current_dir(root())
        .args(["build", "-o"])
        .arg(&temp)
        .arg("./tests/go/verify")
        .env("GO111MODULE", "off")
        .env("GOPATH", GOPATH)
        .env("GOCACHE", out_dir.join("cache"))
        .env("GOFLAGS", "")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `go` ({e}): install golang-go and golang-golang-x-mod-dev"));
    assert!(output.status.success(), "go build failed:\n{}", String::from_utf8_lossy(&output.stderr));
    std::fs::rename(&temp, &binary).unwrap();
    binary
}

/// Runs the Go verifier; (success, stdout + stderr).
pub(crate) fn go(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (bool, String) {
    let output = Command::new(go_verifier()).args(args.iter().map(|a| a.as_ref())).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

pub(crate) fn assert_go_accepts(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let (ok, text) = go(args);
    assert!(ok, "the Go verifier refused: {text}");
    assert!(text.starts_with("ok "), "{text}");
    text
}

pub(crate) fn assert_go_refuses(args: &[&dyn AsRef<std::ffi::OsStr>], reason: &str) {
    let (ok, text) = go(args);
    assert!(!ok, "the Go verifier accepted what it must refuse: {text}");
    assert!(text.contains(reason), "expected `{reason}` in: {text}");
}

/// The lines of `receipts.jsonl` (without their `\n`).
fn lines_of(ledger: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(ledger.join("receipts.jsonl")).unwrap();
    let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    assert_eq!(lines.pop().as_deref(), Some(&b""[..]), "receipts.jsonl ends with a newline");
    lines
}

fn append(ledger: &mut Ledger, from: u64, count: u64) {
    let drafts = (from..from + count).map(|i| andon_test_fixtures::synthetic_draft(&format!("INC-{}", i % 3), i));
    ledger.append_batch(drafts.collect()).unwrap();
}

fn signer(seed: u8) -> NoteSigner {
    NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[seed; 32])).unwrap()
}

/// A tree head of the store at `size`, signed.
fn checkpoint(store: &FileTileStore, size: u64, signer: &NoteSigner) -> (LogCheckpoint, Note) {
    let root = tlog::root(&mut TileReader::new(store, size), size).unwrap();
    let checkpoint = LogCheckpoint::new(ORIGIN, size, root);
    let note = checkpoint.sign(signer).unwrap();
    (checkpoint, note)
}

#[test]
fn an_independent_go_verifier_accepts_the_logs_proofs_and_refuses_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path();
    let path = files.join("ledger");
    // The ledger's own tree is off: this test keeps the tiles itself, step by step.
    let options = Options { tree: false, ..Options::default() };
    let mut ledger = Ledger::open(&path, HmacKey::from_bytes([5; 32]), options).unwrap();
    append(&mut ledger, 0, 150);

    // Tiles of the first 150 receipts, and a checkpoint of them.
    let store = FileTileStore::open(&path.join(TILES_DIR), true).unwrap();
    let lines = lines_of(&path);
    assert_eq!(lines.len(), 150);
    let mut writer = TileWriter::new(&store);
    for line in &lines {
        writer.push_line(line).unwrap();
    }
    writer.flush().unwrap();
    let signer = signer(9);
    let vkey = signer.verifier().to_string();
    let (old, old_note) = checkpoint(&store, 150, &signer);
    std::fs::write(files.join("old.checkpoint"), old_note.to_bytes()).unwrap();

    // The ledger grows past a full tile; a new writer continues the tiles.
    append(&mut ledger, 150, 180);
    drop(ledger);
    let lines = lines_of(&path);
    assert_eq!(lines.len(), 330);
    let mut writer = TileWriter::resume(&store, tlog::stored_size(&store).unwrap()).unwrap();
    for line in &lines[150..] {
        writer.push_line(line).unwrap();
    }
    writer.flush().unwrap();
    assert!(tlog::check(&store, lines.iter().map(Ok::<_, std::io::Error>)).unwrap().is_clean());
    assert!(path.join("tiles/tile/0/000").is_file() && path.join("tiles/tile/0/001.p/74").is_file());
    assert!(path.join("tiles/tile/1/000.p/1").is_file());
    let (new, new_note) = checkpoint(&store, 330, &signer);
    let new_checkpoint = files.join("new.checkpoint");
    std::fs::write(&new_checkpoint, new_note.to_bytes()).unwrap();
    assert_eq!(new.root, tlog::root(&mut tlog::MemoryTree::from_lines(&lines), 330).unwrap());

    let text = assert_go_accepts(&[&"checkpoint", &"-vkey", &vkey, &new_checkpoint]);
    assert_eq!(text.trim(), format!("ok checkpoint {ORIGIN} size 330 root {}", base64_of(&new.root)));

    // Inclusion proofs, each of one receipt line, in both checkpoints.
    let mut reader = TileReader::new(&store, 330);
    for (checkpoint, note, index) in [
        (&new, &new_note, 0),
        (&new, &new_note, 137),
        (&new, &new_note, 255),
        (&new, &new_note, 256),
        (&new, &new_note, 329),
        (&old, &old_note, 0),
        (&old, &old_note, 149),
    ] {
        let path = tlog::inclusion_proof(&mut reader, index, checkpoint.size).unwrap();
        let proof = TlogProof { extra: None, index, path, checkpoint: note.clone() };
        let proof_file = files.join(format!("leaf-{index}-{}.tlog-proof", checkpoint.size));
        let leaf_file = files.join(format!("leaf-{index}.jsonl"));
        std::fs::write(&proof_file, proof.to_bytes()).unwrap();
        std::fs::write(&leaf_file, [&lines[index as usize][..], b"\n"].concat()).unwrap();
        let text = assert_go_accepts(&[&"inclusion", &"-vkey", &vkey, &proof_file, &leaf_file]);
        assert_eq!(text.trim(), format!("ok inclusion leaf {index} in {ORIGIN} size {}", checkpoint.size));
        // The Rust reader of the same file agrees.
        let parsed = TlogProof::parse(&std::fs::read(&proof_file).unwrap()).unwrap();
        let verified = parsed.verify(&lines[index as usize], ORIGIN, &[signer.verifier()]).unwrap();
        assert_eq!(&verified, checkpoint);
    }
    assert!(reader.tiles_read() <= 4, "{} tiles read", reader.tiles_read());

    // The consistency proof from the old checkpoint to the new one.
    let consistency = ConsistencyProof {
        old_size: 150,
        path: tlog::consistency_proof(&mut reader, 150, 330).unwrap(),
        checkpoint: new_note.clone(),
    };
    let consistency_file = files.join("150-330.consistency");
    std::fs::write(&consistency_file, consistency.to_bytes()).unwrap();
    let old_checkpoint = files.join("old.checkpoint");
    let text = assert_go_accepts(&[&"consistency", &"-vkey", &vkey, &old_checkpoint, &consistency_file]);
    assert_eq!(text.trim(), format!("ok consistency {ORIGIN} size 150 -> 330"));
    assert_eq!(consistency.verify(&old, &[signer.verifier()]).unwrap(), new);

    // Go recomputes both roots from the tiles (it authenticates every tile it reads
    // against the signed root) and proves a leaf from them with its own code.
    let tiles = path.join(TILES_DIR);
    let leaf_file = files.join("leaf-137.jsonl");
    assert_go_accepts(&[&"tiles", &"-vkey", &vkey, &new_checkpoint, &tiles, &"137", &leaf_file]);
    assert_go_accepts(&[&"tiles", &"-vkey", &vkey, &old_checkpoint, &tiles, &"137", &leaf_file]);

    // Refusals. A proof with one changed hash:
    let proof_file = files.join("leaf-137-330.tlog-proof");
    let good_proof = std::fs::read_to_string(&proof_file).unwrap();
    let hash_line = good_proof.lines().nth(2).unwrap().to_string();
    let tampered_hash = format!("{}{}", if hash_line.starts_with('A') { "B" } else { "A" }, &hash_line[1..]);
    let tampered = files.join("tampered.tlog-proof");
    std::fs::write(&tampered, good_proof.replacen(&hash_line, &tampered_hash, 1)).unwrap();
    assert_go_refuses(
        &[&"inclusion", &"-vkey", &vkey, &tampered, &leaf_file],
        "inclusion proof of leaf 137 in tree 330",
    );
    // ...or the proof of another receipt:
    assert_go_refuses(
        &[&"inclusion", &"-vkey", &vkey, &proof_file, &files.join("leaf-0.jsonl")],
        "invalid transparency proof",
    );
    // A changed receipt line:
    let changed_leaf = files.join("changed-leaf.jsonl");
    let changed =
        String::from_utf8(lines[137].clone()).unwrap().replace("\"fuel_consumed\":1137", "\"fuel_consumed\":1138");
    assert_ne!(changed.as_bytes(), &lines[137][..]);
    std::fs::write(&changed_leaf, changed).unwrap();
    assert_go_refuses(&[&"inclusion", &"-vkey", &vkey, &proof_file, &changed_leaf], "invalid transparency proof");
    // A checkpoint note whose size (or root) was changed after signing:
    let tampered_note = files.join("tampered.checkpoint");
    let note_text = String::from_utf8(new_note.to_bytes()).unwrap();
    std::fs::write(&tampered_note, note_text.replacen("\n330\n", "\n331\n", 1)).unwrap();
    assert_go_refuses(&[&"checkpoint", &"-vkey", &vkey, &tampered_note], "invalid signature for key");
    let tampered_in_proof = files.join("tampered-note.tlog-proof");
    std::fs::write(&tampered_in_proof, good_proof.replacen(&base64_of(&new.root), &base64_of(&old.root), 1)).unwrap();
    assert_go_refuses(&[&"inclusion", &"-vkey", &vkey, &tampered_in_proof, &leaf_file], "invalid signature for key");
    // The right note, checked with another key of the same name:
    let wrong_key = signer_vkey(8);
    assert_ne!(wrong_key, vkey);
    assert_go_refuses(&[&"checkpoint", &"-vkey", &wrong_key, &new_checkpoint], "no verifiable signatures");
    assert_go_refuses(&[&"inclusion", &"-vkey", &wrong_key, &proof_file, &leaf_file], "no verifiable signatures");
    assert_go_refuses(
        &[&"consistency", &"-vkey", &wrong_key, &old_checkpoint, &consistency_file],
        "no verifiable signatures",
    );
    // A checkpoint of another log under the expected name:
    assert_go_refuses(&[&"checkpoint", &"-vkey", &vkey, &"-origin", &"andon.example/other", &new_checkpoint], "origin");
    // A fork: an old checkpoint of another history signed by the same key.
    let forked =
        LogCheckpoint::new(ORIGIN, 150, tlog::root(&mut tlog::MemoryTree::from_lines(&lines[1..151]), 150).unwrap());
    let forked_file = files.join("forked.checkpoint");
    std::fs::write(&forked_file, forked.sign(&signer).unwrap().to_bytes()).unwrap();
    assert_go_refuses(
        &[&"consistency", &"-vkey", &vkey, &forked_file, &consistency_file],
        "consistency proof from size 150 to 330",
    );
    // A consistency proof with a changed hash:
    let consistency_text = String::from_utf8(consistency.to_bytes()).unwrap();
    let first_hash = consistency_text.lines().nth(1).unwrap().to_string();
    let changed_hash = format!("{}{}", if first_hash.starts_with('A') { "B" } else { "A" }, &first_hash[1..]);
    let tampered_consistency = files.join("tampered.consistency");
    std::fs::write(&tampered_consistency, consistency_text.replacen(&first_hash, &changed_hash, 1)).unwrap();
    assert_go_refuses(
        &[&"consistency", &"-vkey", &vkey, &old_checkpoint, &tampered_consistency],
        "invalid transparency proof",
    );
    // A damaged tile (one bit of a stored leaf hash). The root alone does not read
    // it (the level 1 tile holds its hash); proving a leaf under it does.
    let tile = tiles.join("tile/0/000");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    assert_go_accepts(&[&"tiles", &"-vkey", &vkey, &new_checkpoint, &tiles]);
    assert_go_refuses(&[&"tiles", &"-vkey", &vkey, &new_checkpoint, &tiles, &"137", &leaf_file], "from the tiles");
    let report = tlog::check(&store, lines.iter().map(Ok::<_, std::io::Error>)).unwrap();
    assert_eq!(report.problems[0].tile.path(), "tile/0/000");
}

fn signer_vkey(seed: u8) -> String {
    let verifier: NoteVerifier = signer(seed).verifier();
    verifier.to_string()
}

fn base64_of(hash: &tlog::Hash) -> String {
    // The checkpoint's own encoding of a root (third line of its text).
    LogCheckpoint::new(ORIGIN, 1, *hash).text().lines().nth(2).unwrap().to_string()
}
