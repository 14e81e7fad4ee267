//! Strict intake of JSON evidence: parse, refuse what cannot be canonicalized
//! faithfully, canonicalize (RFC 8785) and hash.
//!
//! Refused before anything is hashed: malformed JSON, invalid UTF-8, lone
//! surrogates, duplicate object keys, integers or floats beyond ±2^53 (they cannot
//! survive an IEEE-754 round trip, so two verifiers could disagree on the bytes),
//! documents over the size cap and nesting deeper than the depth cap.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Default cap on an evidence document: 1 MiB.
pub const DEFAULT_MAX_EVIDENCE_BYTES: usize = 1 << 20;
/// Largest magnitude a JSON number may have: 2^53.
pub const MAX_SAFE_NUMBER: f64 = 9_007_199_254_740_992.0;
/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// Why an input document was refused.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Not JSON, or JSON we refuse (duplicate key, lone surrogate, big number...).
    #[error("{what} is not acceptable JSON: {message}")]
    Json {
        /// What was being read, e.g. `evidence`.
        what: String,
        /// serde_json's message, with line and column.
        message: String,
    },
    /// The document is larger than the cap.
    #[error("{what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// What was being read.
        what: String,
        /// Its size.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// A stream is longer than the cap (reading stopped at the cap).
    #[error("{what} is over the limit of {limit} bytes (reading stopped there)")]
    OverLimit {
        /// What was being read.
        what: String,
        /// The cap.
        limit: usize,
    },
    /// A required field is missing or has the wrong type.
    #[error("{what}: field `{field}` {problem}")]
    Field {
        /// What was being read.
        what: String,
        /// The field.
        field: String,
        /// What is wrong, e.g. `is missing` or `must be a string`.
        problem: String,
    },
}

/// Reads `reader` to its end, but never more than `limit` bytes: an input longer
/// than that is refused as soon as byte `limit + 1` arrives, so memory stays bounded
/// whatever is on the other end (a 2 GiB file, `/dev/zero`). Every input the host
/// reads whole (evidence, components, keys, trust policies, state files) comes
/// through here or through [`read_file_capped`].
///
/// # Errors
/// [`crate::Error::Io`] naming `what` when reading fails;
/// [`InputError::OverLimit`] when the input is longer than `limit`.
pub fn read_capped(reader: impl std::io::Read, what: &str, limit: usize) -> Result<Vec<u8>, crate::Error> {
    use std::io::Read as _;
    let mut buf = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(cap).read_to_end(&mut buf).map_err(|source| crate::Error::Io { path: what.into(), source })?;
    if buf.len() > limit {
        return Err(InputError::OverLimit { what: what.into(), limit }.into());
    }
    Ok(buf)
}

/// [`read_capped`] on the file at `path` (the error names the path).
///
/// # Errors
/// As [`read_capped`]; [`crate::Error::Io`] when the file cannot be opened.
pub fn read_file_capped(path: &std::path::Path, limit: usize) -> Result<Vec<u8>, crate::Error> {
    let file = std::fs::File::open(path).map_err(|source| crate::Error::Io { path: path.into(), source })?;
    read_capped(file, &path.display().to_string(), limit)
}

/// Parses `bytes` as strict JSON (see the module docs).
///
/// # Errors
/// [`InputError`] naming the problem and, for syntax errors, the line and column.
pub fn parse_strict(what: &str, bytes: &[u8], max_bytes: usize) -> Result<Value, InputError> {
    if bytes.len() > max_bytes {
        return Err(InputError::TooLarge { what: what.into(), size: bytes.len(), limit: max_bytes });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { depth: 0 }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| InputError::Json { what: what.into(), message: explain(e) })?;
    Ok(value)
}

/// serde_json's messages, made explicit where they are terse.
fn explain(err: serde_json::Error) -> String {
    let message = err.to_string();
    if message.contains("surrogate") || message.contains("hex escape") {
        format!("lone or invalid UTF-16 surrogate in a \\u escape ({message})")
    } else {
        message
    }
}

/// RFC 8785 canonical bytes of a value.
///
/// The value must be one that [`parse_strict`] accepts (or was built from safe
/// numbers), so canonicalization cannot fail in practice.
pub fn canonical_bytes(value: &Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("canonicalizing a serde_json::Value cannot fail")
}

/// RFC 8785 canonical bytes of any serializable value.
///
/// # Errors
/// When serialization fails (never for the host's own types).
pub fn canonical_bytes_of<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, InputError> {
    serde_json_canonicalizer::to_vec(value)
        .map_err(|e| InputError::Json { what: "value".into(), message: e.to_string() })
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

struct StrictSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor { depth: self.depth })
    }
}

struct StrictVisitor {
    depth: usize,
}

fn number_from_f64<E: de::Error>(v: f64) -> Result<Value, E> {
    if !v.is_finite() || v.abs() > MAX_SAFE_NUMBER {
        return Err(E::custom(format_args!("number {v} is beyond ±2^53 and cannot be represented exactly")));
    }
    serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("number is not finite"))
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        if v.unsigned_abs() > 1u64 << 53 {
            return Err(E::custom(format_args!("integer {v} is beyond ±2^53 and cannot be represented exactly")));
        }
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if v > 1u64 << 53 {
            return Err(E::custom(format_args!("integer {v} is beyond ±2^53 and cannot be represented exactly")));
        }
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        number_from_f64(v)
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(format_args!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed { depth: self.depth + 1 })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(format_args!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let value = map.next_value_seed(StrictSeed { depth: self.depth + 1 })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Incident severity, in the doctrine's order of urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Decision within 30 minutes.
    Low,
    /// Decision within 15 minutes.
    Medium,
    /// Decision within 8 minutes.
    High,
    /// Decision within 3 minutes.
    Critical,
}

impl Severity {
    /// Every severity, most urgent first (the order of queues and reports).
    pub const ALL: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

    /// The doctrine's decision deadline in minutes: 3 / 8 / 15 / 30 for critical /
    /// high / medium / low. The one home of the SLA table: a server may be started
    /// with other deadlines (`--sla`), which its decision receipts then record.
    pub fn sla_minutes(self) -> u64 {
        match self {
            Severity::Critical => 3,
            Severity::High => 8,
            Severity::Medium => 15,
            Severity::Low => 30,
        }
    }

    /// Position in [`Severity::ALL`]: 0 for critical (served first) to 3 for low.
    pub fn rank(self) -> usize {
        match self {
            Severity::Critical => 0,
            Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a severity name: exactly one of the lowercase names (`High` is refused,
    /// so one severity has one spelling and one evidence hash).
    pub fn parse(name: &str) -> Option<Severity> {
        match name {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// Longest accepted `incident_id`, in bytes: ids are keys of the server's index,
/// file names of exports and labels in reports, never payload.
pub const MAX_INCIDENT_ID_BYTES: usize = 128;

/// The typed head of an incident.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    /// Incident identifier.
    pub incident_id: String,
    /// Incident kind (recognition pattern).
    pub kind: String,
    /// Severity.
    pub severity: Severity,
}

/// A parsed, canonicalized incident document:
/// `{"incident_id": …, "kind": …, "severity": …, "evidence": {…}}`.
#[derive(Debug, Clone)]
pub struct Incident {
    /// The typed envelope.
    pub envelope: Envelope,
    /// The whole document as parsed.
    pub document: Value,
    /// RFC 8785 bytes of the whole document; the evidence hash is over these.
    pub canonical: Vec<u8>,
    /// Lowercase hex SHA-256 of `canonical`.
    pub sha256: String,
    /// RFC 8785 text of the `evidence` object, as handed to guests.
    pub evidence_json: String,
}

impl Incident {
    /// Parses and canonicalizes an incident document from bytes.
    ///
    /// # Errors
    /// [`InputError`] when the JSON is unacceptable or a field is missing or mistyped.
    pub fn from_bytes(bytes: &[u8], max_bytes: usize) -> Result<Incident, InputError> {
        let document = parse_strict("evidence", bytes, max_bytes)?;
        Incident::from_value(document)
    }

    /// Builds an incident from an already strictly parsed value.
    ///
    /// # Errors
    /// [`InputError::Field`] when the envelope is incomplete.
    pub fn from_value(document: Value) -> Result<Incident, InputError> {
        let field = |field: &str, problem: &str| InputError::Field {
            what: "evidence".into(),
            field: field.into(),
            problem: problem.into(),
        };
        let object = document.as_object().ok_or_else(|| field("(root)", "must be a JSON object"))?;
        // A golden case wraps its incident in `incident` (with `expect`): say so.
        let missing = if object.contains_key("incident") && !object.contains_key("incident_id") {
            "is missing (this looks like a golden case: the incident is its `incident` member)"
        } else {
            "is missing"
        };
        let text = |name: &str| -> Result<String, InputError> {
            match object.get(name) {
                None => Err(field(name, missing)),
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(Value::String(_)) => Err(field(name, "must not be empty")),
                Some(_) => Err(field(name, "must be a string")),
            }
        };
        let incident_id = text("incident_id")?;
        if incident_id.len() > MAX_INCIDENT_ID_BYTES {
            return Err(field("incident_id", &format!("must be at most {MAX_INCIDENT_ID_BYTES} bytes")));
        }
        if incident_id.chars().any(char::is_control) {
            return Err(field("incident_id", "must not contain control characters"));
        }
        let kind = text("kind")?;
        let severity_name = text("severity")?;
        let severity = Severity::parse(&severity_name)
            .ok_or_else(|| field("severity", "must be one of low, medium, high, critical"))?;
        let evidence = match object.get("evidence") {
            None => return Err(field("evidence", "is missing")),
            Some(v @ Value::Object(_)) => v,
            Some(_) => return Err(field("evidence", "must be a JSON object")),
        };
        let evidence_json = String::from_utf8(canonical_bytes(evidence)).expect("canonical JSON is UTF-8");
        let canonical = canonical_bytes(&document);
        let sha256 = sha256_hex(&canonical);
        Ok(Incident { envelope: Envelope { incident_id, kind, severity }, document, canonical, sha256, evidence_json })
    }
}
