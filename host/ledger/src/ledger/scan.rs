//! Reading ledger lines fast: checking that a line is one strict RFC 8785 receipt,
//! locating `hash` and `signature` in it without building a JSON value, checking
//! the hash, the links and the MAC, and streaming a whole `receipts.jsonl` once.
//!
//! In the RFC 8785 form of a receipt, every member that sorts after `hash`
//! (`incident_id` … `timestamp`) is small and flat, and the big members
//! (`components`, `decision`, `evidence`) all sort before it. So the top-level
//! `hash` member is the *last* occurrence of the bytes `,"hash":"` in the line (a
//! comma directly followed by a quote can only be JSON structure, never string
//! content), and only the short tail after it needs parsing. The body bytes are the
//! line with the `hash` and `signature` members cut out; they are hashed in place,
//! in three slices, without copying.
//!
//! Before its hash is trusted, the whole line is checked in one pass to be exactly
//! the RFC 8785 form of one strictly parsed object with the receipt's members
//! (`strict.rs`): a line that is not JSON, has a duplicate member, whitespace or a
//! non-canonical string or number is `malformed`, even when its hash and MAC
//! match, so every reader reads the one value that was hashed.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::keys::HmacKey;
use crate::receipt::{FORMAT, ZERO_HASH};

/// Longest line accepted (a receipt embeds evidence and a decision, each capped far
/// below this).
pub const MAX_LINE: usize = 64 << 20;

/// What is wrong at a place in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The line is not a receipt of this format: not one strict RFC 8785 object
    /// (not JSON, whitespace, a duplicate member, a non-canonical string or
    /// number) or not exactly the receipt's members.
    Malformed,
    /// `hash` is not the SHA-256 of the body.
    HashMismatch,
    /// The sequence number is not the previous one plus one (duplicate, missing,
    /// or out-of-order record).
    UnexpectedSeq,
    /// `prev_hash` is not the previous receipt's `hash`.
    BrokenLink,
    /// `incident_prev_hash` is not the previous receipt of the incident.
    BrokenIncidentLink,
    /// The receipt names a key id that none of the given HMAC keys has.
    WrongKey,
    /// The HMAC does not verify.
    BadMac,
    /// The file ends in an unterminated fragment (a crash's torn tail, repaired on
    /// the next open for writing).
    TornTail,
    /// A checkpoint line is not a checkpoint.
    MalformedCheckpoint,
    /// A checkpoint was signed by another key than the given public key.
    CheckpointWrongKey,
    /// A checkpoint's Ed25519 signature does not verify.
    CheckpointBadSignature,
    /// The receipt at a checkpoint's seq has another hash (rollback or fork).
    CheckpointMismatch,
    /// The ledger ends before a checkpoint's seq (truncation).
    MissingTail,
    /// A stored tile is not the tree of the receipts (docs/log.md).
    TileMismatch,
    /// A checkpoint note is unreadable, of another log or key, or its signature fails.
    NoteInvalid,
    /// A checkpoint note's root is not the root of the receipts it covers (fork).
    NoteMismatch,
    /// A held checkpoint note is not consistent with the ledger (it did not only grow).
    NotConsistent,
}

/// A problem and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// The sequence number of the bad place: the seq the record at that place
    /// should have.
    pub seq: u64,
    /// 1-based line number in `receipts.jsonl` (or `checkpoints.jsonl` for
    /// checkpoint problems, or null for a held checkpoint).
    pub line: Option<u64>,
    /// Byte offset of that line.
    pub offset: Option<u64>,
    /// Details.
    pub message: String,
}

/// One receipt line, split.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    line: &'a [u8],
    head: &'a [u8],
    tail1: &'a [u8],
    tail2: &'a [u8],
    pub hash: &'a [u8],
    pub signature: &'a [u8],
    pub seq: u64,
    pub prev_hash: &'a [u8],
    pub incident_prev_hash: Option<&'a [u8]>,
    pub incident_id: Option<Cow<'a, str>>,
    pub key_id: Cow<'a, str>,
}

impl Record<'_> {
    /// SHA-256 of the body bytes.
    pub fn body_sha256(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.head);
        hasher.update(b",");
        hasher.update(self.tail1);
        hasher.update(b",");
        hasher.update(self.tail2);
        hasher.update(b"}");
        hasher.finalize().into()
    }

    /// SHA-256 of the body bytes, as lowercase hex ASCII.
    pub fn body_digest(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        hex::encode_to_slice(self.body_sha256(), &mut out).expect("64 hex digits fit");
        out
    }

    /// True when the recorded hash is the hash of the body.
    pub fn self_consistent(&self) -> bool {
        decode_hex32(self.hash) == Some(self.body_sha256())
    }

    /// Checks that the whole line is a strict RFC 8785 receipt line, then that the
    /// recorded hash is the hash of the body.
    pub fn check_hash(&self) -> Result<(), (ProblemKind, String)> {
        super::strict::check(self.line, Some(&super::strict::RECEIPT_MEMBERS))
            .map_err(|m| (ProblemKind::Malformed, format!("not a strict RFC 8785 receipt line: {m}")))?;
        self.check_body_hash()
    }

    /// Checks that the recorded hash is the hash of the body (only).
    fn check_body_hash(&self) -> Result<(), (ProblemKind, String)> {
        if decode_hex32(self.hash) != Some(self.body_sha256()) {
            let digest = self.body_digest();
            return Err((
                ProblemKind::HashMismatch,
                format!(
                    "recorded hash {} but the body hashes to {}",
                    String::from_utf8_lossy(self.hash),
                    String::from_utf8_lossy(&digest)
                ),
            ));
        }
        Ok(())
    }
}

/// Value of each byte as a lowercase hex digit, or 0xff.
const HEX: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

fn is_lower_hex(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |acc, &b| acc | (HEX[b as usize] & 0xf0)) == 0
}

/// Decodes 64 lowercase hex digits.
pub(crate) fn decode_hex32(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (i, pair) in text.chunks_exact(2).enumerate() {
        let (hi, lo) = (HEX[pair[0] as usize], HEX[pair[1] as usize]);
        bad |= (hi | lo) & 0xf0;
        out[i] = (hi << 4) | (lo & 0x0f);
    }
    (bad == 0).then_some(out)
}

/// Index just past the closing quote of the string starting at `start` (a `"`).
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    // The strings after `hash` are short: a plain loop beats a SIMD search here.
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

/// Index just past the JSON value starting at `start`.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    match *bytes.get(start)? {
        b'"' => string_end(bytes, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let len =
                bytes[start..].iter().position(|&b| matches!(b, b',' | b'}' | b']')).unwrap_or(bytes.len() - start);
            (len > 0).then_some(start + len)
        }
    }
}

fn string_value(raw: &[u8]) -> Option<Cow<'_, str>> {
    if raw.len() < 2 || raw[0] != b'"' || raw[raw.len() - 1] != b'"' {
        return None;
    }
    let inner = &raw[1..raw.len() - 1];
    if inner.contains(&b'\\') {
        serde_json::from_slice::<String>(raw).ok().map(Cow::Owned)
    } else {
        std::str::from_utf8(inner).ok().map(Cow::Borrowed)
    }
}

fn hash_value(raw: &[u8]) -> Option<&[u8]> {
    (raw.len() == 66 && raw[0] == b'"' && raw[65] == b'"' && is_lower_hex(&raw[1..65])).then(|| &raw[1..65])
}

/// Whether one receipt line (without its `\n`) is self-consistent: it is a strict
/// RFC 8785 receipt line and its `hash` is the SHA-256 of its body (see
/// [`check_line`]). Says nothing of the MAC or of the chain.
pub fn hash_matches_body(line: &[u8]) -> bool {
    check_line(line).is_ok()
}

/// Checks one receipt line (without its `\n`) on its own: it is exactly the RFC 8785
/// form of one strictly parsed JSON object (no duplicate member, no whitespace,
/// canonical strings and numbers, members in order) with exactly the members of a
/// receipt, and its `hash` is the SHA-256 of its body. Says nothing of the MAC or of
/// the chain links.
///
/// # Errors
/// [`ProblemKind::Malformed`] or [`ProblemKind::HashMismatch`], with details.
pub fn check_line(line: &[u8]) -> Result<(), (ProblemKind, String)> {
    let record = parse_record(line).map_err(|m| (ProblemKind::Malformed, m))?;
    record.check_hash()
}

/// Splits one receipt line (without its `\n`).
pub(crate) fn parse_record(line: &[u8]) -> Result<Record<'_>, String> {
    const HASH_KEY: &[u8] = b",\"hash\":\"";
    const FORMAT_TAIL: &[u8] = b"\"format\":\"andon.receipt/1\"";
    debug_assert_eq!(FORMAT_TAIL, format!("\"format\":\"{FORMAT}\"").as_bytes());
    if line.len() < 2 || line[0] != b'{' || line[line.len() - 1] != b'}' {
        return Err("not a JSON object on one line".into());
    }
    // The last occurrence: a forward SIMD search over the line is faster than a
    // reverse search over its tail.
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(HASH_KEY));
    let at = FINDER.find_iter(line).last().ok_or("no `hash` member")?;
    let head = &line[..at];
    if !head.ends_with(FORMAT_TAIL) {
        return Err(format!("`format` is not `{FORMAT}` or members are out of canonical order"));
    }
    let hash_start = at + HASH_KEY.len();
    let hash = line.get(hash_start..hash_start + 64).ok_or("truncated `hash`")?;
    if !is_lower_hex(hash) || line.get(hash_start + 64..hash_start + 66) != Some(b"\",") {
        return Err("`hash` is not 64 lowercase hex digits".into());
    }
    let tail = &line[hash_start + 66..line.len() - 1];
    // The members after `hash` are fixed by the format, in canonical order.
    let mut c = Cursor { bytes: tail, at: 0 };
    c.literal(b"\"incident_id\":", "incident_id")?;
    let incident_id = match c.null_or(Cursor::string, "incident_id")? {
        Some(raw) => Some(string_value(raw).ok_or("`incident_id` is not a string")?),
        None => None,
    };
    c.literal(b",\"incident_prev_hash\":", "incident_prev_hash")?;
    let incident_prev_hash = c.null_or(Cursor::hash, "incident_prev_hash")?;
    c.literal(b",\"key_id\":", "key_id")?;
    let key_id = string_value(c.string("key_id")?).ok_or("`key_id` is not a string")?;
    c.literal(b",\"kind\":", "kind")?;
    c.string("kind")?;
    c.literal(b",\"prev_hash\":", "prev_hash")?;
    let prev_hash = c.hash("prev_hash")?;
    c.literal(b",\"repair\":", "repair")?;
    c.null_or(Cursor::object, "repair")?;
    c.literal(b",\"seq\":", "seq")?;
    let seq = c.integer("seq")?;
    let tail1_end = c.at;
    c.literal(b",\"signature\":", "signature")?;
    let signature = c.hash("signature")?;
    let tail2_start = c.at + 1;
    c.literal(b",\"timestamp\":", "timestamp")?;
    c.string("timestamp")?;
    if c.at != tail.len() {
        return Err("unexpected members after `timestamp`".into());
    }
    Ok(Record {
        line,
        head,
        tail1: &tail[..tail1_end],
        tail2: &tail[tail2_start..],
        hash,
        signature,
        seq,
        prev_hash,
        incident_prev_hash,
        incident_id,
        key_id,
    })
}

/// A cursor over the members after `hash`.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn literal(&mut self, expected: &[u8], member: &str) -> Result<(), String> {
        if self.bytes[self.at..].starts_with(expected) {
            self.at += expected.len();
            Ok(())
        } else {
            Err(format!("`{member}` is missing or out of canonical order"))
        }
    }

    /// A JSON string, returned with its quotes.
    fn string(&mut self, member: &str) -> Result<&'a [u8], String> {
        let end = (self.bytes.get(self.at) == Some(&b'"'))
            .then(|| string_end(self.bytes, self.at))
            .flatten()
            .ok_or_else(|| format!("`{member}` is not a string"))?;
        let raw = &self.bytes[self.at..end];
        self.at = end;
        Ok(raw)
    }

    /// `"<64 lowercase hex>"`, returned without its quotes.
    fn hash(&mut self, member: &str) -> Result<&'a [u8], String> {
        let raw = self.bytes.get(self.at..self.at + 66).and_then(hash_value);
        let value = raw.ok_or_else(|| format!("`{member}` is not 64 lowercase hex digits"))?;
        self.at += 66;
        Ok(value)
    }

    fn object(&mut self, member: &str) -> Result<(), String> {
        if self.bytes.get(self.at) != Some(&b'{') {
            return Err(format!("`{member}` is not an object"));
        }
        self.at = value_end(self.bytes, self.at).ok_or_else(|| format!("`{member}` is not an object"))?;
        Ok(())
    }

    fn integer(&mut self, member: &str) -> Result<u64, String> {
        let digits = self.bytes[self.at..].iter().take_while(|b| b.is_ascii_digit()).count();
        let text = std::str::from_utf8(&self.bytes[self.at..self.at + digits]).expect("digits are ASCII");
        let value = text.parse::<u64>().map_err(|_| format!("`{member}` is not an integer"))?;
        self.at += digits;
        Ok(value)
    }

    fn null_or<T>(
        &mut self,
        read: impl FnOnce(&mut Cursor<'a>, &str) -> Result<T, String>,
        member: &str,
    ) -> Result<Option<T>, String> {
        if self.bytes[self.at..].starts_with(b"null") {
            self.at += 4;
            Ok(None)
        } else {
            read(self, member).map(Some)
        }
    }
}

/// FNV-1a: incident ids are short and not attacker-chosen at verification time
/// in a way that matters (a slow verify is the worst case), and SipHash dominated
/// the per-line cost.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Map of incident id to the hash of its last receipt.
pub(crate) type IncidentHeads = HashMap<String, String, std::hash::BuildHasherDefault<Fnv>>;

/// The verified chain so far.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    /// Seq of the last receipt (0 when none).
    pub seq: u64,
    /// Its hash (zeros when none).
    pub head: String,
    /// Last receipt hash per incident.
    pub incidents: IncidentHeads,
}

impl Default for Chain {
    fn default() -> Self {
        Chain { seq: 0, head: ZERO_HASH.into(), incidents: IncidentHeads::default() }
    }
}

impl Chain {
    /// Checks one line against the chain and, when it is good, extends the chain.
    pub fn check(&mut self, line: &[u8], keys: Option<&[HmacKey]>) -> Result<(), (ProblemKind, String)> {
        let record = parse_record(line).map_err(|m| (ProblemKind::Malformed, m))?;
        record.check_hash()?;
        self.link(record, keys)
    }

    /// Checks the links (and, with `keys`, the MAC) of a record whose form and hash
    /// were checked, and extends the chain.
    fn link(&mut self, record: Record<'_>, keys: Option<&[HmacKey]>) -> Result<(), (ProblemKind, String)> {
        let expected = self.seq + 1;
        if record.seq != expected {
            let what = if record.seq <= self.seq { "duplicate or out-of-order record" } else { "missing record(s)" };
            return Err((
                ProblemKind::UnexpectedSeq,
                format!("{what}: expected seq {expected}, found seq {}", record.seq),
            ));
        }
        if record.prev_hash != self.head.as_bytes() {
            return Err((
                ProblemKind::BrokenLink,
                format!(
                    "prev_hash {} is not the hash of seq {} ({})",
                    String::from_utf8_lossy(record.prev_hash),
                    self.seq,
                    self.head
                ),
            ));
        }
        let previous = record.incident_id.as_deref().and_then(|id| self.incidents.get(id));
        if record.incident_prev_hash != previous.map(|h| h.as_bytes()) {
            return Err((
                ProblemKind::BrokenIncidentLink,
                format!(
                    "incident_prev_hash {} but the previous receipt of incident {:?} has hash {}",
                    record.incident_prev_hash.map_or(Cow::Borrowed("null"), String::from_utf8_lossy),
                    record.incident_id.as_deref().unwrap_or("(none)"),
                    previous.map_or("null", String::as_str)
                ),
            ));
        }
        if let Some(keys) = keys {
            let Some(key) = keys.iter().find(|k| k.key_id() == record.key_id) else {
                return Err((
                    ProblemKind::WrongKey,
                    format!("signed with key id `{}`, which none of the given keys has", record.key_id),
                ));
            };
            let tag = decode_hex32(record.signature);
            if !tag.is_some_and(|tag| key.verify(record.hash, &tag)) {
                return Err((ProblemKind::BadMac, format!("the HMAC under key `{}` does not verify", record.key_id)));
            }
        }
        self.seq = record.seq;
        self.head.clear();
        self.head.push_str(std::str::from_utf8(record.hash).expect("hex is ASCII"));
        if let Some(id) = record.incident_id {
            match self.incidents.get_mut(id.as_ref()) {
                Some(last) => {
                    last.clear();
                    last.push_str(&self.head);
                }
                None => {
                    self.incidents.insert(id.into_owned(), self.head.clone());
                }
            }
        }
        Ok(())
    }
}

/// What to check while scanning.
pub(crate) struct ScanOptions<'a> {
    /// HMAC keys; `None` skips MACs.
    pub keys: Option<&'a [HmacKey]>,
    /// Seqs whose hashes to collect (checkpoints).
    pub wanted: &'a BTreeSet<u64>,
    /// Keep reading after the first problem to see whether any later line is a
    /// self-consistent receipt (torn tail or damage in the middle?).
    pub look_past_problem: bool,
}

/// The result of a scan.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The chain up to the first problem.
    pub chain: Chain,
    /// Bytes of the good prefix (whole, verified lines).
    pub good_len: u64,
    /// Bytes read.
    pub total_len: u64,
    /// The first problem.
    pub problem: Option<Problem>,
    /// Recorded seq of the first self-consistent receipt at or after the problem.
    pub consistent_after_problem: Option<u64>,
    /// Bytes of an unterminated fragment at the end.
    pub fragment: u64,
    /// Hashes at the wanted seqs.
    pub wanted_hashes: BTreeMap<u64, String>,
}

/// Lines of a buffer below which the strict check is not worth a second thread.
const PARALLEL_LINES: usize = 32;

/// Checks each line on its own (form, strict RFC 8785, hash over body; not the
/// links), in order. The strict check costs about as much as the body's SHA-256,
/// so with more than one CPU it runs on a second thread while this one hashes.
fn precheck<'a>(buf: &'a [u8], lines: &[(usize, usize)]) -> Vec<Result<Record<'a>, (ProblemKind, String)>> {
    let strict = |&(from, to): &(usize, usize)| {
        super::strict::check(&buf[from..to], Some(&super::strict::RECEIPT_MEMBERS))
            .map_err(|m| (ProblemKind::Malformed, format!("not a strict RFC 8785 receipt line: {m}")))
    };
    let hashed = |&(from, to): &(usize, usize)| {
        let record = parse_record(&buf[from..to]).map_err(|m| (ProblemKind::Malformed, m))?;
        record.check_body_hash()?;
        Ok(record)
    };
    static CPUS: std::sync::LazyLock<usize> =
        std::sync::LazyLock::new(|| std::thread::available_parallelism().map_or(1, usize::from));
    let (stricts, hashes): (Vec<_>, Vec<_>) = if lines.len() >= PARALLEL_LINES && *CPUS > 1 {
        std::thread::scope(|scope| {
            let helper = scope.spawn(|| lines.iter().map(strict).collect::<Vec<_>>());
            let hashes: Vec<_> = lines.iter().map(hashed).collect();
            (helper.join().expect("the strict check does not panic"), hashes)
        })
    } else {
        (lines.iter().map(strict).collect(), lines.iter().map(hashed).collect())
    };
    // Per line, in the order `Record::check_hash` reports them: the shape, the
    // strict form, then the hash.
    stricts
        .into_iter()
        .zip(hashes)
        .map(|(strict, hashed)| match hashed {
            Err((ProblemKind::Malformed, m)) => Err((ProblemKind::Malformed, m)),
            other => strict.and(other),
        })
        .collect()
}

/// Length of `file` without its trailing zero padding (preallocated space): the
/// offset just past its last non-NUL byte.
pub(crate) fn logical_len(file: &std::fs::File) -> std::io::Result<u64> {
    use std::os::unix::fs::FileExt as _;
    let mut end = file.metadata()?.len();
    let mut buf = vec![0u8; 64 << 10];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        if let Some(last) = chunk.iter().rposition(|&b| b != 0) {
            return Ok(start + last as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Streams `reader` (a `receipts.jsonl`) once, checking every line.
pub(crate) fn scan<R: Read>(
    mut reader: R,
    options: &ScanOptions<'_>,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Scan> {
    let mut scan = Scan::default();
    let mut buf = vec![0u8; 1 << 20];
    let (mut start, mut end) = (0usize, 0usize);
    let mut base = 0u64; // file offset of buf[0]
    let mut line_no = 0u64;
    loop {
        let mut lines = Vec::new();
        while let Some(nl) = memchr::memchr(b'\n', &buf[start..end]) {
            lines.push((start, start + nl));
            start += nl + 1;
        }
        let mut prechecked = if scan.problem.is_none() { precheck(&buf, &lines) } else { Vec::new() }.into_iter();
        for &(from, to) in &lines {
            let offset = base + from as u64;
            let line = &buf[from..to];
            line_no += 1;
            if scan.problem.is_none() {
                let checked = prechecked.next().expect("one precheck per line");
                match checked.and_then(|record| scan.chain.link(record, options.keys)) {
                    Ok(()) => {
                        scan.good_len = base + to as u64 + 1;
                        if options.wanted.contains(&scan.chain.seq) {
                            scan.wanted_hashes.insert(scan.chain.seq, scan.chain.head.clone());
                        }
                    }
                    Err((kind, message)) => {
                        scan.problem = Some(Problem {
                            kind,
                            seq: scan.chain.seq + 1,
                            line: Some(line_no),
                            offset: Some(offset),
                            message,
                        });
                        if !options.look_past_problem {
                            scan.total_len = offset;
                            return Ok(scan);
                        }
                    }
                }
            }
            if scan.problem.is_some()
                && scan.consistent_after_problem.is_none()
                && let Ok(record) = parse_record(line)
                && record.self_consistent()
            {
                scan.consistent_after_problem = Some(record.seq);
            }
        }
        buf.copy_within(start..end, 0);
        base += start as u64;
        end -= start;
        start = 0;
        if end == buf.len() {
            if buf.len() >= MAX_LINE {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("line {} is longer than {MAX_LINE} bytes", line_no + 1),
                ));
            }
            buf.resize(buf.len() * 2, 0);
        }
        let n = reader.read(&mut buf[end..])?;
        progress(base + (end + n) as u64);
        if n == 0 {
            break;
        }
        end += n;
    }
    scan.total_len = base + end as u64;
    scan.fragment = end as u64;
    if end > 0 && scan.problem.is_none() {
        scan.problem = Some(Problem {
            kind: ProblemKind::TornTail,
            seq: scan.chain.seq + 1,
            line: Some(line_no + 1),
            offset: Some(base),
            message: format!("the file ends in an unterminated fragment of {end} bytes (a torn write)"),
        });
    }
    Ok(scan)
}
