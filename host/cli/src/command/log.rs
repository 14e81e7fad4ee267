//! `andon checkpoint`, `andon prove`, `andon consistency`, `andon witness`: the
//! ledger as a publicly verifiable log (formats in docs/log.md).

use std::path::Path;

use andon_ledger::keys;
use andon_ledger::ledger::log::{self as ledger_log, SignedCheckpoint};
use andon_ledger::ledger::{Ledger, LedgerError, Options};
use andon_ledger::note::{
    ConsistencyProof, CosignatureVerifier, Cosigner, LogCheckpoint, MAX_NOTE_BYTES, NoteVerifier,
};
use anyhow::Context as _;

use crate::cli::log::{CheckpointNoteArgs, ConsistencyArgs, CosignedArgs, ProveArgs, WitnessArgs};
use crate::exit::{BadArgument, Exit};

/// Writes `bytes` to `output` durably, or to stdout.
fn emit(output: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            andon_work::bundle::write_atomic(path, bytes).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => crate::output::write_bytes(bytes),
    }
    Ok(())
}

fn log_error(message: String) -> anyhow::Error {
    LedgerError::Log(message).into()
}

fn read_note_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    Ok(andon_core::evidence::read_file_capped(path, MAX_NOTE_BYTES)?)
}

/// The ledger's note verifier for the public key file.
fn verifier(ledger: &Path, public_key: &Path) -> anyhow::Result<NoteVerifier> {
    let (_, key) = keys::load_verifying_key(public_key)?;
    if !ledger.join(andon_ledger::ledger::RECEIPTS_FILE).is_file() {
        return Err(LedgerError::NotALedger { path: ledger.into() }.into());
    }
    if !ledger.join(andon_ledger::ledger::ORIGIN_FILE).is_file() {
        return Err(log_error(format!(
            "{} has no checkpoint note yet (no {} file): run `andon checkpoint` first",
            ledger.display(),
            andon_ledger::ledger::ORIGIN_FILE
        )));
    }
    Ok(ledger_log::verifier(ledger, &key)?)
}

/// A note given as a file, or the newest one the ledger stores.
fn note_or_latest(ledger: &Path, file: Option<&Path>, verifier: &NoteVerifier) -> anyhow::Result<SignedCheckpoint> {
    match file {
        Some(path) => ledger_log::open_note(&read_note_file(path)?, verifier)
            .with_context(|| format!("checkpoint note {}", path.display())),
        None => ledger_log::latest_note(ledger, verifier)?.ok_or_else(|| {
            log_error(format!("{} stores no checkpoint note: run `andon checkpoint`", ledger.display()))
        }),
    }
}

/// `andon checkpoint`: sign a checkpoint of the ledger now; print the note.
pub fn checkpoint(args: &CheckpointNoteArgs) -> anyhow::Result<Exit> {
    // Never turns a mistyped folder into a ledger.
    if !args.ledger.join(andon_ledger::ledger::RECEIPTS_FILE).is_file() {
        return Err(LedgerError::NotALedger { path: args.ledger.clone() }.into());
    }
    let key = keys::load_hmac_key(&args.key)?;
    let signing_key = keys::load_signing_key(&args.signing_key)?;
    let options = Options { signing_key: Some(signing_key), ..Options::default() };
    let mut ledger = Ledger::open(&args.ledger, key, options)?;
    ledger.checkpoint()?;
    let note = ledger.last_note().expect("a checkpoint signs a note").to_bytes();
    emit(args.output.as_deref(), &note)?;
    Ok(Exit::Ok)
}

/// `andon prove`: the inclusion proof of one receipt.
pub fn prove(args: &ProveArgs) -> anyhow::Result<Exit> {
    let verifier = verifier(&args.ledger, &args.public_key)?;
    let at = note_or_latest(&args.ledger, args.checkpoint.as_deref(), &verifier)?;
    let seq = match (args.seq, &args.hash) {
        (Some(seq), _) => seq,
        (None, Some(hash)) if andon_ledger::store::is_hash(hash) => find_seq(&args.ledger, hash, at.checkpoint.size)?,
        (None, Some(hash)) => {
            return Err(BadArgument(format!("--hash `{hash}` is not a receipt hash (64 lowercase hex digits)")).into());
        }
        (None, None) => unreachable!("clap requires --seq or --hash"),
    };
    let (proof, line) = ledger_log::prove(&args.ledger, seq, &at)?;
    // Never hand out a proof that does not verify.
    proof
        .verify(&line, verifier.name(), std::slice::from_ref(&verifier))
        .map_err(|e| log_error(format!("the proof of seq {seq} does not verify: {e}")))?;
    if let Some(path) = &args.leaf_output {
        emit(Some(path), &line)?;
    }
    emit(args.output.as_deref(), &proof.to_bytes())?;
    Ok(Exit::Ok)
}

/// The seq of the receipt whose hash is `hash`, among the first `size`.
fn find_seq(ledger: &Path, hash: &str, size: u64) -> anyhow::Result<u64> {
    let mut found = None;
    andon_ledger::ledger::each_receipt(ledger, |_, receipt| {
        if receipt.hash == hash {
            found = Some(receipt.body.seq);
        }
        found.is_none() && receipt.body.seq < size
    })?;
    found.ok_or_else(|| log_error(format!("no receipt with hash {hash} in the tree of size {size}")))
}

/// `andon consistency`: the proof that the log of the newer note extends the older.
pub fn consistency(args: &ConsistencyArgs) -> anyhow::Result<Exit> {
    let verifier = verifier(&args.ledger, &args.public_key)?;
    let old = ledger_log::open_note(&read_note_file(&args.old)?, &verifier)
        .with_context(|| format!("old checkpoint note {}", args.old.display()))?;
    let new = note_or_latest(&args.ledger, args.new.as_deref(), &verifier)?;
    let proof = ledger_log::consistency(&args.ledger, &old.checkpoint, &new)?;
    proof
        .verify(&old.checkpoint, std::slice::from_ref(&verifier))
        .map_err(|e| log_error(format!("the consistency proof does not verify: {e}")))?;
    emit(args.output.as_deref(), &proof.to_bytes())?;
    Ok(Exit::Ok)
}

/// `andon witness`: check a consistency proof from the last checkpoint this witness
/// cosigned of the log, then cosign the newer checkpoint and remember it. The state
/// of each log is read, checked and replaced under an exclusive lock, so two runs
/// at once cannot both cosign (one of two forks would be refused).
pub fn witness(args: &WitnessArgs) -> anyhow::Result<Exit> {
    let (_, witness_key) = keys::load_signing_key(&args.witness_key)?;
    let cosigner = Cosigner::new(&args.name, witness_key)?;
    if args.print_verifier_key {
        outln!("{}", cosigner.verifier());
        return Ok(Exit::Ok);
    }
    let (Some(log_key), Some(origin), Some(proof_path), Some(state_dir)) =
        (&args.log_public_key, &args.origin, &args.proof, &args.state)
    else {
        return Err(BadArgument("a PROOF, --log-public-key, --origin and --state are needed to cosign".into()).into());
    };
    let (_, log_key) = keys::load_verifying_key(log_key)?;
    let log = NoteVerifier::new(origin, log_key)?;
    let bytes = andon_core::evidence::read_file_capped(proof_path, andon_ledger::note::MAX_PROOF_FILE_BYTES)?;
    let proof = ConsistencyProof::parse(&bytes).with_context(|| format!("proof {}", proof_path.display()))?;
    std::fs::create_dir_all(state_dir).with_context(|| format!("cannot create {}", state_dir.display()))?;
    // One state file per log, named by the hex of its origin (any origin, no clash).
    let name = hex::encode(origin.as_bytes());
    let state = state_dir.join(format!("{name}.checkpoint"));
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(state_dir.join(format!("{name}.lock")))
        .with_context(|| format!("cannot open the witness lock in {}", state_dir.display()))?;
    lock.lock().with_context(|| format!("cannot lock the witness state in {}", state_dir.display()))?;
    let old = if state.is_file() {
        let (old, _) = LogCheckpoint::open(&read_note_file(&state)?, origin, std::slice::from_ref(&log))
            .with_context(|| format!("witness state {} (another log key or origin?)", state.display()))?;
        Some(old)
    } else {
        None
    };
    let new = match &old {
        Some(old) => proof.verify(old, std::slice::from_ref(&log)).map_err(|e| {
            log_error(format!(
                "refused to cosign: the checkpoint does not extend the last one this witness cosigned (size {}): {e}",
                old.size
            ))
        })?,
        // Trust on first use: the log's signature alone.
        None => {
            proof
                .checkpoint
                .verify(std::slice::from_ref(&log))
                .map_err(|e| log_error(format!("refused to cosign: {e}")))?;
            LogCheckpoint::from_note(&proof.checkpoint, origin).map_err(|e| log_error(e.to_string()))?
        }
    };
    let mut note = proof.checkpoint.clone();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    cosigner.cosign(&mut note, now)?;
    andon_work::bundle::write_atomic(&state, &note.to_bytes())
        .with_context(|| format!("cannot write {}", state.display()))?;
    drop(lock);
    match old {
        Some(old) => note!("cosigned {origin} at size {} (consistent with size {})", new.size, old.size),
        None => note!("cosigned {origin} at size {} (first checkpoint seen of this log)", new.size),
    }
    emit(args.output.as_deref(), &note.to_bytes())?;
    Ok(Exit::Ok)
}

/// Parses `--witness` verifier keys; the same witness named twice counts once.
pub fn witness_keys(keys: &[String]) -> anyhow::Result<Vec<CosignatureVerifier>> {
    let mut verifiers: Vec<CosignatureVerifier> = Vec::new();
    for key in keys {
        let verifier = CosignatureVerifier::parse(key)?;
        if !verifiers.contains(&verifier) {
            verifiers.push(verifier);
        }
    }
    Ok(verifiers)
}

/// `andon cosigned`: store witnesses' cosignatures with the ledger's notes, so
/// exports carry them. Each note must be the log's own (signature, and the tree of
/// the ledger's receipts); only cosignature lines that verify with a `--witness`
/// key are kept.
pub fn cosigned(args: &CosignedArgs) -> anyhow::Result<Exit> {
    let verifier = verifier(&args.ledger, &args.public_key)?;
    let witnesses = witness_keys(&args.witnesses)?;
    for path in &args.notes {
        let signed = ledger_log::open_note(&read_note_file(path)?, &verifier)
            .with_context(|| format!("cosigned note {}", path.display()))?;
        ledger_log::check_note(&args.ledger, &signed).with_context(|| format!("cosigned note {}", path.display()))?;
        let mut kept = andon_ledger::note::Note::signed_by(&signed.note, &verifier);
        let mut names = Vec::new();
        for witness in &witnesses {
            if let Some(line) = witness.cosignature_of(&signed.note)? {
                kept.add_signature(line.clone())?;
                names.push(witness.name().to_string());
            }
        }
        if names.is_empty() {
            return Err(log_error(format!(
                "{} carries no cosignature by the --witness keys given: nothing is stored",
                path.display()
            )));
        }
        let kept = SignedCheckpoint { checkpoint: signed.checkpoint.clone(), note: kept };
        ledger_log::record_note(&args.ledger, &kept)?;
        outln!("stored     size {}: cosigned by {} ({})", signed.checkpoint.size, names.join(", "), path.display());
    }
    Ok(Exit::Ok)
}
