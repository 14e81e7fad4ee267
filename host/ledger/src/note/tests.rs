//! Known vectors (the C2SP signed-note example, Go's `sumdb/note` test key), strict
//! parsing, verification rules, checkpoints, proof files and the worked example of
//! `docs/log.md`.

use super::*;
use crate::tlog::{self, MemoryTree};

const PETER_TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SIG: &str =
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str =
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

/// Go's test signer: `PRIVATE+KEY+PeterNeumann+c74f20a3+` base64(0x01 ‖ seed).
fn peter() -> NoteSigner {
    let raw = decode_base64("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz").unwrap();
    NoteSigner::new("PeterNeumann", SigningKey::from_bytes(&raw[1..].try_into().unwrap())).unwrap()
}

#[test]
fn signs_and_names_keys_as_go_sumdb_note_does() {
    let signer = peter();
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.verifier().to_string(), PETER_VKEY);
    let note = Note::signed(PETER_TEXT, &signer).unwrap();
    assert_eq!(String::from_utf8(note.to_bytes()).unwrap(), format!("{PETER_TEXT}\n{PETER_SIG}"));
}

#[test]
fn verifies_the_c2sp_signed_note_example() {
    let verifier =
        NoteVerifier::parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k").unwrap();
    let note = "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    let opened = Note::open(note.as_bytes(), &[verifier]).unwrap();
    assert_eq!(opened.text(), "This is an example message.\n");
    assert_eq!(opened.to_bytes(), note.as_bytes());
}

#[test]
fn unknown_signatures_are_kept_and_ignored_known_bad_ones_refuse_the_note() {
    let verifier = NoteVerifier::parse(PETER_VKEY).unwrap();
    let both = format!("{PETER_TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    let note = Note::open(both.as_bytes(), std::slice::from_ref(&verifier)).unwrap();
    assert_eq!(note.signatures().len(), 2);
    assert_eq!(note.verify(std::slice::from_ref(&verifier)).unwrap().len(), 1);
    assert_eq!(note.to_bytes(), both.as_bytes());
    // Only an unknown key signed: refused.
    let enoch_only = format!("{PETER_TEXT}\n{ENOCH_SIG}");
    assert!(matches!(
        Note::open(enoch_only.as_bytes(), std::slice::from_ref(&verifier)),
        Err(NoteError::Unverified { .. })
    ));
    // A known key's bad signature refuses the whole note, even beside a good one.
    let mut tampered = PETER_SIG.to_string();
    // (past the key id, which takes the first 5⅓ base64 characters)
    tampered.replace_range(40..41, if &tampered[40..41] == "A" { "B" } else { "A" });
    let bad = format!("{PETER_TEXT}\n{ENOCH_SIG}{tampered}");
    assert!(matches!(
        Note::open(bad.as_bytes(), std::slice::from_ref(&verifier)),
        Err(NoteError::BadSignature { key_id: 0xc74f20a3, .. })
    ));
    // Another text under the same signature.
    let changed = format!("{}\n{PETER_SIG}", PETER_TEXT.replace("problem", "Problem"));
    assert!(matches!(
        Note::open(changed.as_bytes(), std::slice::from_ref(&verifier)),
        Err(NoteError::BadSignature { .. })
    ));
    // Same name, another key id: unknown, so ignored (and nothing else signed).
    let other_id = PETER_SIG.replace("x08go", "y08go");
    assert!(matches!(
        Note::open(format!("{PETER_TEXT}\n{other_id}").as_bytes(), &[verifier]),
        Err(NoteError::Unverified { .. } | NoteError::Malformed(_))
    ));
}

#[test]
fn malformed_notes_are_refused() {
    let good = format!("{PETER_TEXT}\n{PETER_SIG}");
    let cases: Vec<(&str, String)> = vec![
        ("no blank line", format!("{PETER_TEXT}{PETER_SIG}")),
        ("no signature", format!("{PETER_TEXT}\n")),
        ("no final newline", good.trim_end_matches('\n').to_string()),
        ("a carriage return", good.replace("problem,\n", "problem,\r\n")),
        ("a tab", good.replace("If you", "If\tyou")),
        ("a hyphen for the em dash", good.replace("— ", "- ")),
        ("no space after the dash", good.replace("— Peter", "—Peter")),
        ("a name with a plus", good.replace("PeterNeumann x", "Peter+Neumann x")),
        (
            "no signature bytes",
            good.replace(
                " x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
                " ",
            ),
        ),
        ("unpadded base64", good.replace("nAM=", "nAM")),
        ("non-canonical base64 bits", good.replace("nAM=", "nAN=")),
        (
            "a short signature",
            good.replace(
                "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
                "AAAA",
            ),
        ),
        ("a stray line after the signatures", format!("{good}trailer\n")),
    ];
    for (what, note) in cases {
        assert!(Note::parse(note.as_bytes()).is_err(), "{what} was accepted");
    }
    // The text ends at the *last* blank line: a blank line among signature lines
    // makes the lines before it text.
    let split = Note::parse(format!("{PETER_TEXT}\n{PETER_SIG}\n{ENOCH_SIG}").as_bytes()).unwrap();
    assert_eq!(split.text(), format!("{PETER_TEXT}\n{PETER_SIG}"));
    assert_eq!(split.signatures().len(), 1);
    let mut invalid_utf8 = good.clone().into_bytes();
    invalid_utf8[3] = 0xff;
    assert!(Note::parse(&invalid_utf8).is_err());
    let too_many = format!("{PETER_TEXT}\n{}", ENOCH_SIG.repeat(MAX_SIGNATURES + 1));
    assert!(matches!(Note::parse(too_many.as_bytes()), Err(NoteError::Malformed(_))));
    let huge = format!("{}\n{PETER_SIG}", "a".repeat(MAX_NOTE_BYTES));
    assert!(matches!(Note::parse(huge.as_bytes()), Err(NoteError::TooLarge { .. })));
    assert!(Note::signed("no newline", &peter()).is_err());
    assert!(Note::signed("a\u{7}bell\n", &peter()).is_err());
}

#[test]
fn verifier_keys_are_parsed_strictly() {
    let verifier = NoteVerifier::parse(PETER_VKEY).unwrap();
    assert_eq!((verifier.name(), verifier.key_id()), ("PeterNeumann", 0xc74f20a3));
    assert_eq!(verifier.to_string(), PETER_VKEY);
    // Every truncation and every one-byte change is refused (as Go's tests do).
    let bytes = PETER_VKEY.as_bytes();
    for i in 0..bytes.len() {
        for j in i + 1..=bytes.len() {
            if (i, j) != (0, bytes.len()) {
                assert!(NoteVerifier::parse(&PETER_VKEY[i..j]).is_err(), "{}", &PETER_VKEY[i..j]);
            }
        }
        let mut changed = bytes.to_vec();
        changed[i] += 1;
        assert!(NoteVerifier::parse(std::str::from_utf8(&changed).unwrap()).is_err());
    }
    // Uppercase hex, another type byte, a wrong length (each with a matching key id).
    assert!(NoteVerifier::parse(&PETER_VKEY.replace("c74f20a3", "C74F20A3")).is_err());
    assert!(NoteVerifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").is_err());
    assert!(NoteVerifier::parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==").is_err());
    assert!(NoteSigner::new("has space", SigningKey::from_bytes(&[1; 32])).is_err());
    assert!(NoteSigner::new("", SigningKey::from_bytes(&[1; 32])).is_err());
    assert!(!format!("{:?}", peter()).contains("810a"));
}

#[test]
fn checkpoints_round_trip_and_refuse_malformed_bodies() {
    let checkpoint = LogCheckpoint::new("example.com/behind-the-sofa", 20852163, tlog::EMPTY_ROOT);
    let text = checkpoint.text();
    assert_eq!(text, "example.com/behind-the-sofa\n20852163\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
    assert_eq!(LogCheckpoint::parse_text(&text).unwrap(), checkpoint);
    let mut extended = checkpoint.clone();
    extended.extensions.push("an extension".into());
    assert_eq!(LogCheckpoint::parse_text(&extended.text()).unwrap(), extended);
    let empty = LogCheckpoint::new("origin", 0, tlog::EMPTY_ROOT);
    assert_eq!(LogCheckpoint::parse_text(&empty.text()).unwrap(), empty);
    for bad in [
        "origin\n12\n",
        "\n12\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "origin\n012\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "origin\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "origin\n+1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "origin\n18446744073709551616\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "origin\n12\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n",
        "origin\n12\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuA==\n",
        "origin\n12\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "origin\n12\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
        "origin\n0\niCIyX9zBGYmFCm/YdY4s/TS+RFsIwip/Dy1kUEzu4k8=\n",
    ] {
        assert!(LogCheckpoint::parse_text(bad).is_err(), "{bad:?}");
    }
    let signer = peter();
    let mut broken = checkpoint.clone();
    broken.origin = "two\nlines".into();
    assert!(broken.sign(&signer).is_err());
    // The origin is checked, after the signature.
    let note = LogCheckpoint::new("PeterNeumann", 1, [1; 32]).sign(&signer).unwrap();
    let trusted = [signer.verifier()];
    assert!(LogCheckpoint::open(&note.to_bytes(), "PeterNeumann", &trusted).is_ok());
    assert!(matches!(
        LogCheckpoint::open(&note.to_bytes(), "other.example/log", &trusted),
        Err(NoteError::WrongOrigin { .. })
    ));
}

fn demo_signer() -> NoteSigner {
    NoteSigner::new("andon.example/ledger-demo", SigningKey::from_bytes(&[9; 32])).unwrap()
}

const DEMO_LINES: [&str; 3] = [r#"{"seq":1}"#, r#"{"seq":2}"#, r#"{"seq":3}"#];

#[test]
fn proof_files_round_trip_verify_and_refuse_tampering() {
    let signer = demo_signer();
    let trusted = [signer.verifier()];
    let origin = signer.name().to_string();
    let mut tree = MemoryTree::from_lines(DEMO_LINES);
    let old = LogCheckpoint::new(&origin, 2, tlog::root(&mut tree, 2).unwrap());
    let new = LogCheckpoint::new(&origin, 3, tlog::root(&mut tree, 3).unwrap());
    let new_note = new.sign(&signer).unwrap();

    let proof = TlogProof {
        extra: None,
        index: 1,
        path: tlog::inclusion_proof(&mut tree, 1, 3).unwrap(),
        checkpoint: new_note.clone(),
    };
    let bytes = proof.to_bytes();
    let parsed = TlogProof::parse(&bytes).unwrap();
    assert_eq!(parsed, proof);
    assert_eq!(parsed.verify(DEMO_LINES[1].as_bytes(), &origin, &trusted).unwrap(), new);
    assert!(matches!(parsed.verify(DEMO_LINES[2].as_bytes(), &origin, &trusted), Err(NoteError::Proof(_))));
    let with_extra = TlogProof { extra: Some(b"context".to_vec()), ..proof.clone() };
    assert_eq!(TlogProof::parse(&with_extra.to_bytes()).unwrap(), with_extra);

    let consistency =
        ConsistencyProof { old_size: 2, path: tlog::consistency_proof(&mut tree, 2, 3).unwrap(), checkpoint: new_note };
    let parsed = ConsistencyProof::parse(&consistency.to_bytes()).unwrap();
    assert_eq!(parsed, consistency);
    assert_eq!(parsed.verify(&old, &trusted).unwrap(), new);
    let forked = LogCheckpoint::new(&origin, 2, [0; 32]);
    assert!(matches!(parsed.verify(&forked, &trusted), Err(NoteError::Proof(_))));
    let older = LogCheckpoint::new(&origin, 1, tlog::root(&mut tree, 1).unwrap());
    assert!(matches!(parsed.verify(&older, &trusted), Err(NoteError::MalformedProof(_))));
    let other_log = LogCheckpoint { origin: "other.example/log".into(), ..old.clone() };
    assert!(matches!(parsed.verify(&other_log, &trusted), Err(NoteError::WrongOrigin { .. })));
    assert!(matches!(parsed.verify(&old, &[peter().verifier()]), Err(NoteError::Unverified { .. })));

    let text = String::from_utf8(bytes).unwrap();
    for bad in [
        text.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
        text.replace("index 1\n", "index 01\n"),
        text.replace("index 1\n", ""),
        text.replacen("=\n\n", "=\n", 1),
        text.replacen("=\n", "\n", 1),
        format!("{}\n", text),
    ] {
        assert!(TlogProof::parse(bad.as_bytes()).is_err(), "{bad}");
    }
    let long = text.replacen(
        "index 1\n",
        &format!("index 1\n{}", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n".repeat(64)),
        1,
    );
    assert!(TlogProof::parse(long.as_bytes()).is_err());
    assert!(ConsistencyProof::parse(text.as_bytes()).is_err());
}

/// The worked example of `docs/log.md`: a tree of three lines, the key seed [9; 32].
/// Every value shown there is recomputed here and must appear in the page verbatim.
#[test]
fn the_worked_example_of_docs_log_md_holds() {
    let signer = demo_signer();
    let mut tree = MemoryTree::from_lines(DEMO_LINES);
    let leaves = tree.leaf_hashes().to_vec();
    let root = tlog::root(&mut tree, 3).unwrap();
    let note = LogCheckpoint::new(signer.name(), 3, root).sign(&signer).unwrap();
    let path = tlog::inclusion_proof(&mut tree, 1, 3).unwrap();
    let proof = TlogProof { extra: None, index: 1, path, checkpoint: note.clone() };
    let path = tlog::consistency_proof(&mut tree, 2, 3).unwrap();
    let consistency = ConsistencyProof { old_size: 2, path, checkpoint: note.clone() };
    // The tile file of the tree, as the file store writes it.
    let dir = tempfile::tempdir().unwrap();
    let store = tlog::FileTileStore::open(&dir.path().join(tlog::TILES_DIR), true).unwrap();
    tlog::rebuild(&store, DEMO_LINES.iter().map(Ok::<_, std::io::Error>)).unwrap();
    let tile = std::fs::read(dir.path().join("tiles/tile/0/000.p/3")).unwrap();
    assert_eq!(tile, leaves.concat());
    assert_eq!(note.to_bytes().len(), 197);
    let mut shown = vec![
        hex::encode(tlog::node_hash(&leaves[0], &leaves[1])),
        hex::encode(root),
        encode_base64(&root),
        format!("{:08x}", signer.key_id()),
        signer.verifier().to_string(),
        hex::encode(signer.verifier().key().as_bytes()),
        String::from_utf8(note.to_bytes()).unwrap(),
        String::from_utf8(proof.to_bytes()).unwrap(),
        String::from_utf8(consistency.to_bytes()).unwrap(),
        tile.chunks(32).map(hex::encode).collect::<Vec<_>>().join("\n"),
    ];
    shown.extend(leaves.iter().map(hex::encode));
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/log.md")).unwrap();
    for value in &shown {
        assert!(docs.contains(value.as_str()), "docs/log.md lacks\n{value}\n(all values: {shown:#?})");
    }
}

#[test]
fn verifier_keys_whose_base64_holds_a_plus_sign_parse() {
    // The key name has no `+`; the base64 key may (a regression: it was split on
    // every `+`). Find seeds whose keys show it, for both signature types.
    let mut seen = 0;
    for seed in 0..=255u8 {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let log = NoteSigner::new("andon.example/log", key.clone()).unwrap().verifier().to_string();
        if log.rsplit('+').count() > 3 {
            assert_eq!(NoteVerifier::parse(&log).unwrap().to_string(), log);
            seen += 1;
        }
        let witness = super::Cosigner::new("witness.example/w", key).unwrap().verifier().to_string();
        if witness.rsplit('+').count() > 3 {
            assert_eq!(super::CosignatureVerifier::parse(&witness).unwrap().to_string(), witness);
            seen += 1;
        }
    }
    assert!(seen > 10, "only {seen} keys with a `+` in their base64");
}
