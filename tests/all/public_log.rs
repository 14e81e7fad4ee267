//! The ledger as a public log, used as its users would, through the real `andon`
//! binary: the writer keeps the tiles and signs checkpoint notes; `andon prove` and
//! `andon consistency` hand out proofs that Go's `x/mod/sumdb` code accepts; every
//! export carries a checkpoint note and one inclusion proof per receipt, which
//! `andon audit` checks with the public key alone; witnesses cosign and refuse forks.

use std::path::Path;

use andon_ledger::ledger::RECEIPTS_FILE;
use andon_ledger::tlog::{self, FileTileStore, MemoryTree, TILES_DIR};
use andon_work::export::{LOG_CHECKPOINT, proof_name};

use crate::integrity::{CFO_ABSENT, ID, closed_incident, files_of, resigned};
use crate::support::{Host, andon};
use crate::tlog::{assert_go_accepts, assert_go_refuses};

fn ledger(host: &Host) -> std::path::PathBuf {
    host.path("ledger")
}

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> std::process::Output {
    andon().args(args.iter().map(|a| a.as_ref())).output().unwrap()
}

fn ok(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<u8> {
    let out = run(args);
    assert!(out.status.success(), "andon failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn checkpoint(host: &Host, out: &Path) -> Vec<u8> {
    let key = host.path("keys/hmac.key");
    let signing = host.path("keys/ed25519.key");
    ok(&[&"checkpoint", &ledger(host), &"--key", &key, &"--signing-key", &signing, &"-o", &out]);
    std::fs::read(out).unwrap()
}

fn vkey(host: &Host) -> String {
    let origin = std::fs::read_to_string(ledger(host).join("origin")).unwrap();
    let key = andon_ledger::keys::load_verifying_key(&host.path("keys/ed25519.pub")).unwrap().1;
    andon_ledger::note::NoteVerifier::new(origin.trim_end(), key).unwrap().to_string()
}

fn lines(host: &Host) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(ledger(host).join(RECEIPTS_FILE)).unwrap();
    bytes.split_inclusive(|&b| b == b'\n').map(|l| l.strip_suffix(b"\n").unwrap().to_vec()).collect()
}

#[test]
fn the_writer_keeps_tiles_and_notes_and_andon_proofs_satisfy_the_go_verifier() {
    let host = Host::new();
    closed_incident(&host);
    let pubkey = host.path("keys/ed25519.pub");
    let old = host.path("old.checkpoint");
    let old_note = checkpoint(&host, &old);
    let vkey = vkey(&host);
    assert!(String::from_utf8_lossy(&old_note).starts_with("andon.local/ledger-"), "origin line");
    assert_go_accepts(&[&"checkpoint", &"-vkey", &vkey, &old]);

    // More receipts, then a newer checkpoint; the stored tiles are the tree of the receipts.
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    let new = host.path("new.checkpoint");
    checkpoint(&host, &new);
    let all = lines(&host);
    let store = FileTileStore::open(&ledger(&host).join(TILES_DIR), false).unwrap();
    assert!(tlog::check(&store, all.iter().map(Ok::<_, std::io::Error>)).unwrap().is_clean());
    let root = tlog::root(&mut MemoryTree::from_lines(&all), all.len() as u64).unwrap();
    let text = assert_go_accepts(&[&"checkpoint", &"-vkey", &vkey, &new]);
    assert!(text.contains(&format!("size {}", all.len())), "{text}");
    assert!(text.contains(&andon_ledger_base64(&root)), "{text}");

    // `andon prove` by seq and by hash: the Go verifier accepts both.
    for seq in [1u64, 3, all.len() as u64] {
        let proof = host.path(&format!("{seq}.tlog-proof"));
        let leaf = host.path(&format!("{seq}.leaf"));
        ok(&[
            &"prove",
            &ledger(&host),
            &"--seq",
            &seq.to_string(),
            &"--public-key",
            &pubkey,
            &"-o",
            &proof,
            &"--leaf-output",
            &leaf,
        ]);
        assert_eq!(std::fs::read(&leaf).unwrap(), all[seq as usize - 1]);
        let mut leaf_line = all[seq as usize - 1].clone();
        leaf_line.push(b'\n');
        std::fs::write(&leaf, &leaf_line).unwrap();
        assert_go_accepts(&[&"inclusion", &"-vkey", &vkey, &proof, &leaf]);
        // The wrong receipt for the proof: refused.
        let other = all[(seq as usize) % all.len()].clone();
        std::fs::write(&leaf, [&other[..], b"\n"].concat()).unwrap();
        assert_go_refuses(&[&"inclusion", &"-vkey", &vkey, &proof, &leaf], "");
    }
    let hash = serde_json::from_slice::<serde_json::Value>(&all[1]).unwrap()["hash"].as_str().unwrap().to_string();
    let by_hash = ok(&[&"prove", &ledger(&host), &"--hash", &hash, &"--public-key", &pubkey]);
    assert!(String::from_utf8_lossy(&by_hash).contains("index 1\n"));
    // Against the old checkpoint, a receipt appended after it is not provable: exit 25.
    let late = (all.len()).to_string();
    let out = run(&[&"prove", &ledger(&host), &"--seq", &late, &"--public-key", &pubkey, &"--checkpoint", &old]);
    assert_eq!(out.status.code(), Some(25), "{}", String::from_utf8_lossy(&out.stderr));

    // `andon consistency` old → new: Go accepts it; new → old is refused.
    let proof = host.path("old-new.consistency");
    ok(&[&"consistency", &ledger(&host), &old, &new, &"--public-key", &pubkey, &"-o", &proof]);
    assert_go_accepts(&[&"consistency", &"-vkey", &vkey, &old, &proof]);
    let out = run(&[&"consistency", &ledger(&host), &new, &old, &"--public-key", &pubkey]);
    assert_eq!(out.status.code(), Some(25));

    // Another key: nothing verifies.
    let other = host.path("other-keys");
    ok(&[&"keys", &"generate", &"--out", &other]);
    let out = run(&[&"prove", &ledger(&host), &"--seq", &"1", &"--public-key", &other.join("ed25519.pub")]);
    assert_eq!(out.status.code(), Some(25), "{}", String::from_utf8_lossy(&out.stderr));
}

fn andon_ledger_base64(hash: &[u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(hash)
}

#[test]
fn deleted_or_damaged_tiles_are_rebuilt_from_the_receipts_and_proofs_still_hold() {
    let host = Host::new();
    closed_incident(&host);
    checkpoint(&host, &host.path("a.checkpoint"));
    // Damage one stored tile and delete another: derived data, rebuilt at the next open.
    let tiles = ledger(&host).join(TILES_DIR);
    std::fs::remove_dir_all(&tiles).unwrap();
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0003"), &[]);
    checkpoint(&host, &host.path("b.checkpoint"));
    let all = lines(&host);
    let store = FileTileStore::open(&tiles, false).unwrap();
    assert!(tlog::check(&store, all.iter().map(Ok::<_, std::io::Error>)).unwrap().is_clean());
    let proof = host.path("p");
    let pubkey = host.path("keys/ed25519.pub");
    ok(&[&"consistency", &ledger(&host), &host.path("a.checkpoint"), &"--public-key", &pubkey, &"-o", &proof]);
}

#[test]
fn every_export_carries_inclusion_proofs_that_audit_checks_with_the_public_key_alone() {
    let host = Host::new();
    closed_incident(&host);
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    let archive = host.export(ID);
    let files = files_of(&archive);
    assert!(files.contains_key(LOG_CHECKPOINT));
    for seq in 1..=5 {
        assert!(files.contains_key(&proof_name(seq)), "proof of seq {seq}");
    }
    let out = host.audit(&archive).success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("5 inclusion proofs verified"), "{text}");
    // The proofs are standard files: the Go verifier accepts one as it is.
    let proof = host.path("seq3.tlog-proof");
    std::fs::write(&proof, &files[&proof_name(3)]).unwrap();
    let leaf = host.path("seq3.leaf");
    std::fs::write(&leaf, [&lines(&host)[2][..], b"\n"].concat()).unwrap();
    assert_go_accepts(&[&"inclusion", &"-vkey", &vkey(&host), &proof, &leaf]);

    // Whoever re-signs an export with the operator's key still cannot change what
    // the log holds: a missing, altered or foreign proof fails, naming the file.
    let mut missing = files.clone();
    missing.remove(&proof_name(4));
    let bad = resigned(&host, missing, "missing-proof.tar.gz");
    let out = host.audit(&bad).code(24);
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("log/proofs/4.tlog-proof"));

    let mut altered = files.clone();
    let text = String::from_utf8(altered[&proof_name(2)].clone()).unwrap();
    let line = text.lines().nth(2).unwrap().to_string();
    let flipped = if line.starts_with('A') { line.replacen('A', "B", 1) } else { format!("A{}", &line[1..]) };
    altered.insert(proof_name(2), text.replacen(&line, &flipped, 1).into_bytes());
    let bad = resigned(&host, altered, "altered-proof.tar.gz");
    let out = host.audit(&bad).code(24);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("log/proofs/2.tlog-proof") && text.contains("not in the signed log"), "{text}");

    // A receipt moved into the export from another log (same keys, same incident):
    // the chain may look whole, but it is not in the signed log.
    let mut swapped = files.clone();
    swapped.insert(proof_name(9), files[&proof_name(5)].clone());
    let bad = resigned(&host, swapped, "extra-proof.tar.gz");
    let out = host.audit(&bad).code(24);
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("proves no exported receipt"));

    let mut no_note = files;
    no_note.remove(LOG_CHECKPOINT);
    let bad = resigned(&host, no_note, "no-note.tar.gz");
    host.audit(&bad).code(24);
}

#[test]
fn witnesses_cosign_only_consistent_checkpoints_and_audit_requires_their_quorum() {
    let host = Host::new();
    closed_incident(&host);
    let pubkey = host.path("keys/ed25519.pub");
    let origin = std::fs::read_to_string(ledger(&host).join("origin")).unwrap().trim_end().to_string();
    let first = host.path("first.checkpoint");
    checkpoint(&host, &first);
    let witness_keys = host.path("witness");
    ok(&[&"keys", &"generate", &"--out", &witness_keys]);
    let wkey = witness_keys.join("ed25519.key");
    let state = host.path("witness-state");
    let witness = |proof: &Path, out: &Path| {
        run(&[
            &"witness",
            &proof,
            &"--log-public-key",
            &pubkey,
            &"--origin",
            &origin,
            &"--witness-key",
            &wkey,
            &"--name",
            &"witness.example/w1",
            &"--state",
            &state,
            &"-o",
            &out,
        ])
    };
    let wvkey = String::from_utf8(ok(&[
        &"witness",
        &"--print-verifier-key",
        &"--log-public-key",
        &pubkey,
        &"--origin",
        &origin,
        &"--witness-key",
        &wkey,
        &"--name",
        &"witness.example/w1",
    ]))
    .unwrap()
    .trim()
    .to_string();

    // First contact: the witness accepts the log's signed checkpoint (trust on first use).
    let proof0 = host.path("0.consistency");
    ok(&[&"consistency", &ledger(&host), &first, &first, &"--public-key", &pubkey, &"-o", &proof0]);
    let cosigned = host.path("cosigned-1");
    assert!(witness(&proof0, &cosigned).status.success());

    // Export now: no cosignature is stored with the ledger yet, so a quorum of 1 fails.
    let archive = host.export(ID);
    let out = andon()
        .arg("audit")
        .arg(&archive)
        .arg("--public-key")
        .arg(&pubkey)
        .args(["--witness", &wvkey, "--quorum", "1"])
        .assert()
        .code(24);
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("the quorum is 1"));

    // The operator stores the cosignature; the next export carries it and passes.
    ok(&[&"cosigned", &ledger(&host), &cosigned, &"--public-key", &pubkey, &"--witness", &wvkey]);
    std::fs::remove_file(&archive).unwrap();
    let archive = host.export(ID);
    let out = andon()
        .arg("audit")
        .arg(&archive)
        .arg("--public-key")
        .arg(&pubkey)
        .args(["--witness", &wvkey, "--quorum", "1"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("witnesses  1 cosigned: witness.example/w1"));

    // The log grows; the witness cosigns the consistent newer checkpoint.
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    let second = host.path("second.checkpoint");
    checkpoint(&host, &second);
    let proof = host.path("1-2.consistency");
    ok(&[&"consistency", &ledger(&host), &first, &second, &"--public-key", &pubkey, &"-o", &proof]);
    assert!(witness(&proof, &host.path("cosigned-2")).status.success());

    // A fork: a copy of the ledger as it was at `first`, grown differently, signed by
    // the same operator key. The witness refuses it (exit 25), whatever proof is sent.
    let fork = host.path("fork");
    copy_dir(&ledger(&host), &fork);
    let lines_at_first = {
        let size: usize =
            String::from_utf8(std::fs::read(&first).unwrap()).unwrap().lines().nth(1).unwrap().parse().unwrap();
        lines(&host)[..size].iter().map(|l| [&l[..], b"\n"].concat()).collect::<Vec<_>>().concat()
    };
    std::fs::write(fork.join(RECEIPTS_FILE), lines_at_first).unwrap();
    std::fs::remove_dir_all(fork.join(TILES_DIR)).unwrap();
    for dir in ["log-checkpoints", "checkpoints.jsonl"] {
        let _ = std::fs::remove_dir_all(fork.join(dir));
        let _ = std::fs::remove_file(fork.join(dir));
    }
    let mut cmd = andon();
    cmd.args(["incident", "submit"]).arg(host.path("evidence.json"));
    std::fs::write(host.path("evidence.json"), CFO_ABSENT.replace(ID, "INC-FORK").replace("1200000", "1300000"))
        .unwrap();
    cmd.arg("--bundle").arg(host.path("bundle")).arg("--trust").arg(host.path("trust.json"));
    cmd.arg("--ledger").arg(&fork).arg("--keys").arg(host.path("keys")).assert().code(0);
    let fork_checkpoint = host.path("fork.checkpoint");
    ok(&[
        &"checkpoint",
        &fork,
        &"--key",
        &host.path("keys/hmac.key"),
        &"--signing-key",
        &host.path("keys/ed25519.key"),
        &"-o",
        &fork_checkpoint,
    ]);
    let fork_proof = host.path("fork.consistency");
    ok(&[&"consistency", &fork, &first, &fork_checkpoint, &"--public-key", &pubkey, &"-o", &fork_proof]);
    let out = witness(&fork_proof, &host.path("cosigned-fork"));
    assert_eq!(out.status.code(), Some(25), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused to cosign"));
    // The fork has as many receipts as the witnessed log: the operator claims it is
    // the same tree (an empty proof between equal sizes). Two roots, one size: refused.
    let size_line =
        |note: &Path| String::from_utf8(std::fs::read(note).unwrap()).unwrap().lines().nth(1).unwrap().to_string();
    assert_eq!(size_line(&fork_checkpoint), size_line(&second), "the fork is as long as the log");
    let same_size = host.path("same-size.consistency");
    std::fs::write(
        &same_size,
        [format!("old {}\n\n", size_line(&second)).into_bytes(), std::fs::read(&fork_checkpoint).unwrap()].concat(),
    )
    .unwrap();
    let out = witness(&same_size, &host.path("cosigned-fork"));
    assert_eq!(out.status.code(), Some(25), "{}", String::from_utf8_lossy(&out.stderr));
    // And `andon consistency` cannot prove the fork extends the witnessed checkpoint.
    let out = run(&[&"consistency", &fork, &second, &fork_checkpoint, &"--public-key", &pubkey]);
    assert_eq!(out.status.code(), Some(25), "{}", String::from_utf8_lossy(&out.stderr));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn verify_text(host: &Host, extra: &[&dyn AsRef<std::ffi::OsStr>]) -> (i32, String) {
    let key = host.path("keys/hmac.key");
    let pubkey = host.path("keys/ed25519.pub");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
        vec![&"verify", &"--key", &key, &"--public-key", &pubkey, &"--format", &"text"];
    let ledger = ledger(host);
    args.insert(1, &ledger);
    args.extend_from_slice(extra);
    let out = run(&args);
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).to_string())
}

#[test]
fn verify_checks_the_tiles_every_note_and_that_the_log_only_grew_since_a_held_note() {
    let host = Host::new();
    closed_incident(&host);
    let held = host.path("held.checkpoint");
    checkpoint(&host, &held);
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    checkpoint(&host, &host.path("newer.checkpoint"));
    let (code, text) = verify_text(&host, &[&"--since", &held]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("1 held notes consistent") && text.contains("signatures checked"), "{text}");
    assert!(text.contains("(1 incident index)"), "{text}");

    // A held note of the same log (same origin and key) over other receipts: the
    // ledger was rewritten since the auditor kept it.
    let lines = lines(&host);
    let size = lines.len() as u64;
    let mut forged = lines.clone();
    forged[1][10] ^= 1;
    let root = tlog::root(&mut MemoryTree::from_lines(&forged), size).unwrap();
    let signing = crate::integrity::signing(&host);
    let note = andon_ledger::ledger::log::sign_note(&ledger(&host), size, root, Vec::new(), &signing).unwrap();
    let other = host.path("other.checkpoint");
    std::fs::write(&other, note.note.to_bytes()).unwrap();
    let (code, text) = verify_text(&host, &[&"--since", &other]);
    assert_eq!(code, 20, "{text}");
    assert!(text.contains("NotConsistent"), "{text}");

    // A damaged tile is named.
    let tile = ledger(&host).join(TILES_DIR).join("tile/0/000.p").join(size.to_string());
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[40] ^= 0xff;
    std::fs::write(&tile, bytes).unwrap();
    let (code, text) = verify_text(&host, &[]);
    assert_eq!(code, 20, "{text}");
    assert!(text.contains("TileMismatch") && text.contains(&format!("tile/0/000.p/{size}")), "{text}");
}

/// One binary-safe HTTP/1.1 GET: status and body.
fn get(base: &str, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read as _, Write as _};
    let authority = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let at = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..at]).to_string();
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, response[at + 4..].to_vec())
}

#[test]
fn andon_serve_publishes_the_checkpoint_and_tiles_that_a_go_monitor_verifies() {
    let host = Host::new();
    closed_incident(&host);
    let note = host.path("c.checkpoint");
    checkpoint(&host, &note);
    let size = lines(&host).len();
    let server = crate::mcp_http::Server::start(&host, &[]);
    let (status, served) = get(&server.base, "/checkpoint");
    assert_eq!(status, 200);
    assert_eq!(served, std::fs::read(&note).unwrap());
    // Mirror the tiles the checkpoint needs over HTTP; Go recomputes the signed root
    // from them and proves a leaf with its own code.
    let mirror = host.path("mirror");
    let path = format!("tile/0/000.p/{size}");
    let (status, tile) = get(&server.base, &format!("/{path}"));
    assert_eq!((status, tile.len()), (200, 32 * size));
    std::fs::create_dir_all(mirror.join("tile/0/000.p")).unwrap();
    std::fs::write(mirror.join(&path), &tile).unwrap();
    let served_note = host.path("served.checkpoint");
    std::fs::write(&served_note, &served).unwrap();
    let leaf = host.path("leaf");
    std::fs::write(&leaf, [&lines(&host)[1][..], b"\n"].concat()).unwrap();
    assert_go_accepts(&[&"tiles", &"-vkey", &vkey(&host), &served_note, &mirror, &"1", &leaf]);
    // A narrower version is served from the wider one; nothing else is reachable.
    assert_eq!(get(&server.base, "/tile/0/000.p/2").1, tile[..64].to_vec());
    assert_eq!(get(&server.base, "/tile/0/000").0, 404, "no full tile yet");
    assert_eq!(get(&server.base, "/tile/0/x001/000").0, 404);
    assert_eq!(get(&server.base, "/tile/0/../../receipts.jsonl").0, 400);
    assert_eq!(get(&server.base, "/tile/0/000.p/0").0, 400);
}

#[test]
fn an_export_that_leaves_out_the_incidents_last_receipts_fails_on_the_incident_index() {
    use andon_ledger::checkpoint::Checkpoint;
    use andon_work::export::{CHECKPOINT, LOG_INDEX, RECEIPT_CHAIN};
    let host = Host::new();
    closed_incident(&host);
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    let archive = host.export(ID);
    let files = files_of(&archive);
    assert!(files.contains_key(LOG_INDEX));
    host.audit(&archive).success();

    // The operator, holding every key, hides the `closed` receipt (seq 5): the chain
    // is cut after seq 4, its proof dropped, checkpoint.json re-signed at seq 4.
    let mut cut = files.clone();
    let chain: Vec<&[u8]> = files[RECEIPT_CHAIN].split_inclusive(|&b| b == b'\n').collect();
    assert_eq!(chain.len(), 5);
    cut.insert(RECEIPT_CHAIN.into(), chain[..4].concat());
    cut.remove(&proof_name(5));
    let fourth: serde_json::Value = serde_json::from_slice(chain[3]).unwrap();
    let signing = crate::integrity::signing(&host);
    let key_id = andon_ledger::keys::ed25519_key_id(&signing.verifying_key());
    let forged = Checkpoint::sign(4, fourth["hash"].as_str().unwrap().into(), &key_id, &signing);
    cut.insert(CHECKPOINT.into(), forged.to_line());
    let bad = resigned(&host, cut, "cut-closed.tar.gz");
    let out = host.audit(&bad).code(24);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains(LOG_INDEX) && text.contains("receipts of the incident are missing"), "{text}");

    // verify recomputes the index the newest note commits to from the receipts.
    let (code, text) = verify_text(&host, &[]);
    assert_eq!(code, 0, "{text}");
}
