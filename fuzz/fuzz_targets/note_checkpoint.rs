//! Signed-note checkpoints (C2SP `signed-note`, `tlog-checkpoint`, `tlog-proof`)
//! and the ledger's own `andon.checkpoint/1` lines. The first input byte picks the
//! parser; the rest is its input.
//!
//! Never a panic, and the parsers are strict: an accepted note or checkpoint text
//! is written back byte for byte. Whatever text the signer accepts, the signed
//! note it makes opens under the signer's key with the same text.
#![no_main]

use andon_ledger::checkpoint::Checkpoint;
use andon_ledger::note::{ConsistencyProof, LogCheckpoint, Note, NoteSigner, NoteVerifier, TlogProof};
use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;

const ORIGIN: &str = "andon.example/fuzz";

fn signer() -> &'static (NoteSigner, NoteVerifier) {
    static KEYS: std::sync::OnceLock<(NoteSigner, NoteVerifier)> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let signer = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[5; 32])).expect("a key name");
        let verifier = signer.verifier();
        (signer, verifier)
    })
}

fn checkpoint_text(text: &str) {
    if let Ok(checkpoint) = LogCheckpoint::parse_text(text) {
        assert_eq!(checkpoint.text(), text, "a checkpoint text is not written back as read");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let (signer, verifier) = signer();
    match pick % 6 {
        0 => {
            let Ok(note) = Note::parse(bytes) else {
                return;
            };
            assert_eq!(note.to_bytes(), bytes, "a note is not written back as read");
            checkpoint_text(note.text());
            let _ = note.verify(std::slice::from_ref(verifier));
            let _ = LogCheckpoint::open(bytes, ORIGIN, std::slice::from_ref(verifier));
        }
        1 => {
            if let Ok(text) = std::str::from_utf8(bytes) {
                checkpoint_text(text);
            }
        }
        2 => {
            let Ok(text) = std::str::from_utf8(bytes) else {
                return;
            };
            let Ok(note) = Note::signed(text, signer) else {
                return;
            };
            let opened = Note::open(&note.to_bytes(), std::slice::from_ref(verifier)).expect("a signed note opens");
            assert_eq!(opened.text(), text);
            if let Ok(checkpoint) = LogCheckpoint::parse_text(text) {
                let note = checkpoint.sign(signer).expect("a parsed checkpoint signs");
                let (again, _) =
                    LogCheckpoint::open(&note.to_bytes(), &checkpoint.origin, std::slice::from_ref(verifier))
                        .expect("a signed checkpoint opens");
                assert_eq!(again, checkpoint);
            }
        }
        3 => {
            if let Ok(proof) = TlogProof::parse(bytes) {
                assert_eq!(proof.to_bytes(), bytes, "a tlog proof is not written back as read");
            }
        }
        4 => {
            if let Ok(proof) = ConsistencyProof::parse(bytes) {
                assert_eq!(proof.to_bytes(), bytes, "a consistency proof is not written back as read");
            }
        }
        _ => {
            if let Ok(checkpoint) = Checkpoint::parse(bytes) {
                let line = checkpoint.to_line();
                assert_eq!(Checkpoint::parse(&line).expect("a written checkpoint parses"), checkpoint);
                let key = SigningKey::from_bytes(&[9; 32]).verifying_key();
                let _ = checkpoint.verify(&checkpoint.key_id, &key);
            }
        }
    }
});
