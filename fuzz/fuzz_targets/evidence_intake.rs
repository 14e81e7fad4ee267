//! Evidence intake: any bytes through `Incident::from_bytes` (strict parse, envelope
//! checks, canonicalization, hash) and redaction. Never a panic; an accepted
//! incident's canonical bytes are the reference RFC 8785 form, they hash to its
//! `sha256`, and they come back unchanged through intake.
#![no_main]

use andon_core::evidence::{DEFAULT_MAX_EVIDENCE_BYTES, Incident, sha256_hex};
use andon_fuzz::reference_canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let incident = match Incident::from_bytes(data, DEFAULT_MAX_EVIDENCE_BYTES) {
        Ok(incident) => incident,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    assert_eq!(incident.canonical, reference_canonical(&incident.document));
    assert_eq!(incident.sha256, sha256_hex(&incident.canonical));
    let evidence = &incident.document["evidence"];
    assert_eq!(incident.evidence_json.as_bytes(), reference_canonical(evidence));

    // Intake of the canonical form is a fixed point.
    let again = Incident::from_bytes(&incident.canonical, DEFAULT_MAX_EVIDENCE_BYTES)
        .expect("the canonical form of an accepted incident is accepted");
    assert_eq!(again.canonical, incident.canonical);
    assert_eq!(again.envelope, incident.envelope);

    // Redaction never panics and leaves a document that still canonicalizes and
    // is accepted again.
    let mut redacted = incident.document.clone();
    let _ = andon_core::redact::redact(&mut redacted);
    let bytes = andon_core::evidence::canonical_bytes(&redacted);
    andon_core::evidence::parse_strict("redacted", &bytes, usize::MAX).expect("redacted evidence parses");
});
