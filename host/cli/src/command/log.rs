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
use crate::exit::Exit;

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
        (None, Some(hash)) => find_seq(&args.ledger, hash, at.checkpoint.size)?,
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
/// cosigned of the log, then cosign the newer checkpoint and remember it.
pub fn witness(args: &WitnessArgs) -> anyhow::Result<Exit> {
    let (_, log_key) = keys::load_verifying_key(&args.log_public_key)?;
    let log = NoteVerifier::new(&args.origin, log_key)?;
    let (_, witness_key) = keys::load_signing_key(&args.witness_key)?;
    let cosigner = Cosigner::new(&args.name, witness_key)?;
    if args.print_verifier_key {
        outln!("{}", cosigner.verifier());
        return Ok(Exit::Ok);
    }
    let proof_path = args.proof.as_deref().context("a consistency proof file is required")?;
    let bytes = andon_core::evidence::read_file_capped(proof_path, andon_ledger::note::MAX_PROOF_FILE_BYTES)?;
    let proof = ConsistencyProof::parse(&bytes).with_context(|| format!("proof {}", proof_path.display()))?;
    let state_dir = args.state.as_deref().context("--state is required")?;
    std::fs::create_dir_all(state_dir).with_context(|| format!("cannot create {}", state_dir.display()))?;
    // One state file per log: the last checkpoint cosigned.
    let state = state_dir.join(args.origin.replace('/', "_"));
    let old = if state.is_file() {
        let (old, _) = LogCheckpoint::open(&read_note_file(&state)?, &args.origin, std::slice::from_ref(&log))
            .with_context(|| format!("witness state {}", state.display()))?;
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
            LogCheckpoint::from_note(&proof.checkpoint, &args.origin).map_err(|e| log_error(e.to_string()))?
        }
    };
    let mut note = proof.checkpoint.clone();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    cosigner.cosign(&mut note, now)?;
    andon_work::bundle::write_atomic(&state, &note.to_bytes())
        .with_context(|| format!("cannot write {}", state.display()))?;
    match old {
        Some(old) => eprintln!("cosigned {} at size {} (consistent with size {})", args.origin, new.size, old.size),
        None => eprintln!("cosigned {} at size {} (first checkpoint seen of this log)", args.origin, new.size),
    }
    emit(args.output.as_deref(), &note.to_bytes())?;
    Ok(Exit::Ok)
}

/// Parses `--witness` verifier keys.
pub fn witness_keys(keys: &[String]) -> anyhow::Result<Vec<CosignatureVerifier>> {
    keys.iter().map(|k| CosignatureVerifier::parse(k).map_err(anyhow::Error::from)).collect()
}

/// `andon cosigned`: store witnesses' cosignatures with the ledger's notes, so
/// exports carry them.
pub fn cosigned(args: &CosignedArgs) -> anyhow::Result<Exit> {
    let verifier = verifier(&args.ledger, &args.public_key)?;
    for path in &args.notes {
        let signed = ledger_log::open_note(&read_note_file(path)?, &verifier)
            .with_context(|| format!("cosigned note {}", path.display()))?;
        ledger_log::record_note(&args.ledger, &signed)?;
        outln!(
            "stored     size {}: {} signature(s) ({})",
            signed.checkpoint.size,
            signed.note.signatures().len(),
            path.display()
        );
    }
    Ok(Exit::Ok)
}
