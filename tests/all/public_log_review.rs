//! The public log under the cases an outside review tried (each failed before):
//! concurrent witnesses, forged or foreign cosignatures, notes beyond the ledger, a
//! lost origin file, FIFOs and wrong tiles in a ledger folder, and exit codes.

use std::path::Path;
use std::time::{Duration, Instant};

use predicates::str::contains;

use crate::integrity::{CFO_ABSENT, ID, closed_incident};
use crate::support::{Host, andon};

fn checkpoint(host: &Host, out: &Path) {
    andon()
        .arg("checkpoint")
        .arg(host.path("ledger"))
        .arg("--key")
        .arg(host.path("keys/hmac.key"))
        .arg("--signing-key")
        .arg(host.path("keys/ed25519.key"))
        .arg("-o")
        .arg(out)
        .assert()
        .success();
}

fn verify(host: &Host) -> (i32, String) {
    let out = andon()
        .arg("verify")
        .arg(host.path("ledger"))
        .arg("--public-key")
        .arg(host.path("keys/ed25519.pub"))
        .args(["--format", "text"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string())
}

struct Witness {
    key: std::path::PathBuf,
    vkey: String,
}

fn witness(host: &Host, name: &str) -> Witness {
    let dir = host.path(&format!("witness-{}", name.replace('/', "_")));
    andon().args(["keys", "generate", "--out"]).arg(&dir).assert().success();
    let key = dir.join("ed25519.key");
    let out =
        andon().args(["witness", "--print-verifier-key", "--name", name, "--witness-key"]).arg(&key).output().unwrap();
    Witness { key, vkey: String::from_utf8(out.stdout).unwrap().trim().to_string() }
}

#[test]
fn a_witness_holds_its_state_lock_while_it_checks_and_cosigns() {
    let host = Host::new();
    closed_incident(&host);
    let note = host.path("c.note");
    checkpoint(&host, &note);
    let origin = std::fs::read_to_string(host.path("ledger/origin")).unwrap().trim_end().to_string();
    let proof = host.path("p");
    andon()
        .arg("consistency")
        .arg(host.path("ledger"))
        .arg(&note)
        .arg("--public-key")
        .arg(host.path("keys/ed25519.pub"))
        .arg("-o")
        .arg(&proof)
        .assert()
        .success();
    let w = witness(&host, "witness.example/w1");
    let state = host.path("state");
    std::fs::create_dir_all(&state).unwrap();
    // Another run holds the lock: this one waits for it, then cosigns.
    let lock = std::fs::File::create(state.join(format!("{}.lock", hex::encode(origin.as_bytes())))).unwrap();
    lock.lock().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("andon"))
        .arg("witness")
        .arg(&proof)
        .arg("--log-public-key")
        .arg(host.path("keys/ed25519.pub"))
        .args(["--origin", &origin, "--name", "witness.example/w1", "--witness-key"])
        .arg(&w.key)
        .arg("--state")
        .arg(&state)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the witness did not wait for the state lock");
    drop(lock);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    assert!(state.join(format!("{}.checkpoint", hex::encode(origin.as_bytes()))).is_file());
}

#[test]
fn cosigned_keeps_only_verified_cosignatures_of_named_witnesses_and_only_of_this_log() {
    let host = Host::new();
    closed_incident(&host);
    let note = host.path("c.note");
    checkpoint(&host, &note);
    let pubkey = host.path("keys/ed25519.pub");
    let w1 = witness(&host, "witness.example/w1");
    let origin = std::fs::read_to_string(host.path("ledger/origin")).unwrap().trim_end().to_string();
    let proof = host.path("p");
    andon()
        .arg("consistency")
        .arg(host.path("ledger"))
        .arg(&note)
        .arg("--public-key")
        .arg(&pubkey)
        .arg("-o")
        .arg(&proof)
        .assert()
        .success();
    let cosigned = host.path("cosigned.note");
    andon()
        .arg("witness")
        .arg(&proof)
        .arg("--log-public-key")
        .arg(&pubkey)
        .args(["--origin", &origin, "--name", "witness.example/w1", "--witness-key"])
        .arg(&w1.key)
        .arg("--state")
        .arg(host.path("state"))
        .arg("-o")
        .arg(&cosigned)
        .assert()
        .success();
    // A forged line in w1's name (its key id, a junk signature) is refused, and
    // nothing is stored.
    let mut forged = andon_ledger::note::Note::parse(&std::fs::read(&cosigned).unwrap()).unwrap();
    let mut line = forged.signatures().iter().find(|sig| sig.name == "witness.example/w1").unwrap().clone();
    line.signature[20] ^= 1;
    forged.add_signature(line).unwrap();
    std::fs::write(host.path("forged.note"), forged.to_bytes()).unwrap();
    let stored_before = std::fs::read(host.path("ledger/log-checkpoints/5")).unwrap();
    let cosign = |file: &str, vkeys: &[&str]| {
        let mut cmd = andon();
        cmd.arg("cosigned").arg(host.path("ledger")).arg(host.path(file)).arg("--public-key").arg(&pubkey);
        for v in vkeys {
            cmd.args(["--witness", v]);
        }
        cmd.assert()
    };
    cosign("forged.note", &[&w1.vkey]).code(25).stderr(contains("does not verify"));
    assert_eq!(std::fs::read(host.path("ledger/log-checkpoints/5")).unwrap(), stored_before);
    // A genuine cosignature by a witness not named: nothing stored either.
    let w2 = witness(&host, "witness.example/w2");
    cosign("cosigned.note", &[&w2.vkey]).code(25).stderr(contains("no cosignature by the --witness keys"));
    cosign("cosigned.note", &[&w1.vkey]).success();
    assert!(std::fs::read_to_string(host.path("ledger/log-checkpoints/5")).unwrap().contains("witness.example/w1"));
    // The same witness named twice counts once toward a quorum.
    let archive = host.export(ID);
    andon()
        .arg("audit")
        .arg(&archive)
        .arg("--public-key")
        .arg(&pubkey)
        .args(["--witness", &w1.vkey, "--witness", &w1.vkey, "--quorum", "2"])
        .assert()
        .code(3);
    // A note of a tree the ledger does not have (signed with the log key) is refused.
    let root = andon_ledger::tlog::EMPTY_ROOT;
    let signing = crate::integrity::signing(&host);
    let big = andon_ledger::note::LogCheckpoint::new(&origin, 1_000_000, root);
    let signer = andon_ledger::note::NoteSigner::new(&origin, signing).unwrap();
    let mut big_note = big.sign(&signer).unwrap();
    andon_ledger::note::Cosigner::new("witness.example/w1", andon_ledger::keys::load_signing_key(&w1.key).unwrap().1)
        .unwrap()
        .cosign(&mut big_note, 1)
        .unwrap();
    std::fs::write(host.path("big.note"), big_note.to_bytes()).unwrap();
    cosign("big.note", &[&w1.vkey]).code(25).stderr(contains("1000000"));
    assert!(!host.path("ledger/log-checkpoints/1000000").exists());
}

#[test]
fn a_lost_origin_is_restored_from_the_notes_and_verify_says_so() {
    let host = Host::new();
    closed_incident(&host);
    checkpoint(&host, &host.path("a.note"));
    let origin = std::fs::read_to_string(host.path("ledger/origin")).unwrap();
    std::fs::remove_file(host.path("ledger/origin")).unwrap();
    let (code, text) = verify(&host);
    assert_eq!(code, 20, "{text}");
    assert!(text.contains("the origin file is missing") && text.contains(origin.trim_end()), "{text}");
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    assert_eq!(std::fs::read_to_string(host.path("ledger/origin")).unwrap(), origin, "restored, not renamed");
    let (code, text) = verify(&host);
    assert_eq!(code, 0, "{text}");
    host.audit(&host.export(ID)).success();
}

#[test]
fn a_fifo_in_a_ledger_folder_is_refused_not_waited_on() {
    let host = Host::new();
    closed_incident(&host);
    checkpoint(&host, &host.path("a.note"));
    for name in ["origin", "tiles/checkpoint", "log-checkpoints/5"] {
        let path = host.path("ledger").join(name);
        let saved = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let made = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(made.success());
        let start = Instant::now();
        let (code, text) = verify(&host);
        assert!(start.elapsed() < Duration::from_secs(50), "verify waited on the FIFO {name}");
        assert_ne!(code, 0, "{name}: {text}");
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, saved).unwrap();
    }
    assert_eq!(verify(&host).0, 0);
}

#[test]
fn wrong_tiles_never_stop_the_receipts_and_ledger_repair_rebuilds_them() {
    let host = Host::new();
    closed_incident(&host);
    checkpoint(&host, &host.path("a.note"));
    let tiles = host.path("ledger/tiles");
    // A tile that lies, and later the whole tiles folder replaced by a file.
    let tile = tiles.join("tile/0/000.p/5");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    assert_eq!(verify(&host).0, 20);
    std::fs::remove_dir_all(&tiles).unwrap();
    std::fs::write(&tiles, b"not a folder").unwrap();
    let (code, json) = host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    assert_eq!(code, 0, "the receipts are written whatever the tiles: {json}");
    let mut repair = andon();
    repair.args(["ledger", "repair"]).arg(host.path("ledger")).arg("--key").arg(host.path("keys/hmac.key"));
    repair.arg("--signing-key").arg(host.path("keys/ed25519.key")).args(["--format", "text"]);
    repair.assert().success().stdout(contains("tiles      did not match the receipts: rebuilt"));
    assert!(tiles.is_dir() && host.path("ledger/tiles.superseded-1").is_file());
    checkpoint(&host, &host.path("b.note"));
    let (code, text) = verify(&host);
    assert_eq!(code, 0, "{text}");
    // What the tile API serves must be a stored note.
    std::fs::write(tiles.join("checkpoint"), b"not a note\n").unwrap();
    let (code, text) = verify(&host);
    assert_eq!(code, 20, "{text}");
    assert!(text.contains("tiles/checkpoint (served as /checkpoint)"), "{text}");
}

#[test]
fn log_commands_answer_with_their_documented_codes() {
    let host = Host::new();
    closed_incident(&host);
    let note = host.path("a.note");
    checkpoint(&host, &note);
    let w = witness(&host, "witness.example/w1");
    let garbage = host.path("garbage.proof");
    std::fs::write(&garbage, b"old 1\nnot base64!!\n\nnot a note\n").unwrap();
    andon()
        .arg("witness")
        .arg(&garbage)
        .arg("--log-public-key")
        .arg(host.path("keys/ed25519.pub"))
        .args(["--origin", "andon.example/x", "--name", "witness.example/w1", "--witness-key"])
        .arg(&w.key)
        .arg("--state")
        .arg(host.path("state"))
        .assert()
        .code(25);
    let archive = host.export(ID);
    andon()
        .arg("audit")
        .arg(&archive)
        .args(["--witness", "not-a-key"])
        .assert()
        .code(3)
        .stderr(contains("malformed verifier key"));
    andon()
        .args(["prove"])
        .arg(host.path("ledger"))
        .args(["--hash", "ABC"])
        .arg("--public-key")
        .arg(host.path("keys/ed25519.pub"))
        .assert()
        .code(3)
        .stderr(contains("is not a receipt hash"));
    let folder = host.path("not-a-ledger");
    std::fs::create_dir_all(&folder).unwrap();
    andon()
        .arg("checkpoint")
        .arg(&folder)
        .arg("--key")
        .arg(host.path("keys/hmac.key"))
        .arg("--signing-key")
        .arg(host.path("keys/ed25519.key"))
        .assert()
        .code(4)
        .stderr(contains("is not a ledger"));
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0, "nothing was created");
}

#[test]
fn a_file_smuggled_into_a_resigned_export_is_named() {
    let host = Host::new();
    closed_incident(&host);
    let files = crate::integrity::files_of(&host.export(ID));
    for name in ["notes.txt", "log/other/x", "log/proofs/07.tlog-proof", "components/not-a-hash.wasm"] {
        let mut extra = files.clone();
        extra.insert(name.into(), b"anything".to_vec());
        let archive = crate::integrity::resigned(&host, extra, "extra.tar.gz");
        let out = host.audit(&archive).code(24);
        let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(text.contains(&format!("{name}: not a file of an evidence bundle")), "{name}: {text}");
    }
}

#[test]
fn verify_reads_every_stored_tile_version_as_any_client_may() {
    let host = Host::new();
    closed_incident(&host);
    checkpoint(&host, &host.path("a.note"));
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    checkpoint(&host, &host.path("b.note"));
    assert_eq!(verify(&host).0, 0);
    let partial = host.path("ledger/tiles/tile/0/000.p");
    // A narrower version kept for the older checkpoint, altered.
    let narrow = partial.join("5");
    let saved = std::fs::read(&narrow).unwrap();
    let mut bytes = saved.clone();
    bytes[3] ^= 1;
    std::fs::write(&narrow, bytes).unwrap();
    let (code, text) = verify(&host);
    assert_eq!(code, 20, "{text}");
    assert!(text.contains("tiles/tile/0/000.p/5: hash 0 is not the hash of the receipts"), "{text}");
    std::fs::write(&narrow, saved).unwrap();
    // A tile far beyond the receipts, and a file that is no tile.
    std::fs::create_dir_all(host.path("ledger/tiles/tile/0/x001")).unwrap();
    std::fs::write(host.path("ledger/tiles/tile/0/x001/000"), vec![0u8; 8192]).unwrap();
    std::fs::write(host.path("ledger/tiles/tile/0/notes.txt"), b"x").unwrap();
    let (code, text) = verify(&host);
    assert_eq!(code, 20, "{text}");
    assert!(text.contains("tiles/tile/0/x001/000: hash 0 lies beyond the 8 receipts"), "{text}");
    assert!(text.contains("tiles/tile/0/notes.txt: not a tile path"), "{text}");
}
