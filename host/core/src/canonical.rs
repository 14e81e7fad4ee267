//! The one RFC 8785 writer of the host: free-form JSON values, decisions, component
//! runs and engine info, and the [`Obj`] member writer the receipt format builds on.
//!
//! `serde_json_canonicalizer` is the reference (it passes the RFC's vectors and is
//! what intake uses), but it buffers every value and re-parses every key, which
//! makes a receipt cost about as much as the evaluation it records. Receipts have a
//! fixed shape, so their members are written here directly in sorted order:
//! strings through `serde_json`'s escaper (its escapes are exactly RFC 8785's: the
//! short forms `\b \t \n \f \r`, `\u00xx` in lowercase for the other controls,
//! nothing else), integers as digits (receipts carry none beyond 2^53), floats
//! inside evidence through `ryu-js` (the ECMAScript `Number::toString` algorithm the
//! reference uses), and object keys of free-form JSON sorted by UTF-16 code units.
//!
//! In debug builds every sealed body is compared with the reference output, so
//! every test that writes a receipt checks this writer.

use std::cmp::Ordering;

use serde_json::Value;

use crate::decision::{Check, Decision, MissingPrerequisite, Plan, Refusal, Step};
use crate::limits::Limits;
use crate::record::{ComponentRun, EngineInfo};

/// Largest integer a receipt may carry: 2^53 (RFC 8785 numbers are IEEE-754 doubles).
pub const MAX_SAFE_INTEGER: u64 = 1 << 53;

/// RFC 8785 bytes of a JSON value.
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value);
    out
}

/// Writes a JSON string with RFC 8785 escapes.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    // Most receipt strings need no escape at all: copy them straight.
    // No early exit, so the check vectorizes.
    let needs_escape = s.bytes().fold(false, |any, b| any | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if !needs_escape {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
    }
}

/// Lowercase hex of 32 bytes.
pub fn hex32(bytes: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 64];
    for (i, b) in bytes.iter().enumerate() {
        text[2 * i] = DIGITS[usize::from(b >> 4)];
        text[2 * i + 1] = DIGITS[usize::from(b & 0x0f)];
    }
    String::from_utf8(text.to_vec()).expect("hex is ASCII")
}

/// Writes an unsigned integer as decimal digits.
pub fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn write_f64(out: &mut Vec<u8>, value: f64) {
    // Same algorithm as the reference canonicalizer; non-finite numbers cannot
    // come out of serde_json values.
    let mut buffer = ryu_js::Buffer::new();
    out.extend_from_slice(buffer.format_finite(value).as_bytes());
}

fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() { a.cmp(b) } else { a.encode_utf16().cmp(b.encode_utf16()) }
}

/// Writes the RFC 8785 form of `value`.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64().filter(|&u| u <= MAX_SAFE_INTEGER) {
                write_u64(out, u);
            } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER) {
                out.push(b'-');
                write_u64(out, i.unsigned_abs());
            } else {
                write_f64(out, n.as_f64().expect("serde_json numbers convert to f64"));
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Small objects (nearly all of them) are sorted on the stack.
            const STACK: usize = 24;
            static NULL: Value = Value::Null;
            let mut stack: [(&str, &Value); STACK] = [("", &NULL); STACK];
            let mut heap: Vec<(&str, &Value)>;
            let entries: &mut [(&str, &Value)] = if map.len() <= STACK {
                for (slot, (key, item)) in stack.iter_mut().zip(map.iter()) {
                    *slot = (key.as_str(), item);
                }
                &mut stack[..map.len()]
            } else {
                heap = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
                &mut heap
            };
            entries.sort_unstable_by(|a, b| utf16_cmp(a.0, b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// Writes `{"k":v,…}` from members given in sorted order (the caller keeps the
/// order: keys are written as given, unescaped, so they must be plain ASCII).
#[derive(Debug)]
pub struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Opens an object on `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Obj<'a> {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// Writes the next key and returns the buffer for its value.
    pub fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// Writes a string member.
    pub fn str(&mut self, key: &str, value: &str) {
        write_str(self.key(key), value);
    }

    /// Writes a string member, or `null`.
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(v) => self.str(key, v),
            None => self.key(key).extend_from_slice(b"null"),
        }
    }

    /// Writes an integer member.
    pub fn u64(&mut self, key: &str, value: u64) {
        write_u64(self.key(key), value);
    }

    /// Writes a boolean member.
    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key).extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// Bytes written to the buffer so far (an offset a caller may splice at).
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether the buffer is empty (never, once the object is open).
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Closes the object.
    pub fn end(self) {
        self.out.push(b'}');
    }
}

/// Writes a JSON array, each item with `write`.
pub fn write_list<T>(out: &mut Vec<u8>, items: &[T], write: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

fn write_strings(out: &mut Vec<u8>, items: &[String]) {
    write_list(out, items, |out, s| write_str(out, s));
}

fn write_check(out: &mut Vec<u8>, check: &Check) {
    let mut o = Obj::new(out);
    o.str("detail", &check.detail);
    o.str("name", &check.name);
    o.bool("passed", check.passed);
    o.end();
}

fn write_missing(out: &mut Vec<u8>, missing: &MissingPrerequisite) {
    let mut o = Obj::new(out);
    o.str("name", &missing.name);
    o.str("status", &missing.status);
    o.end();
}

fn write_step(out: &mut Vec<u8>, step: &Step) {
    let mut o = Obj::new(out);
    o.str("action", &step.action);
    write_list(o.key("parameters"), &step.parameters, |out, p| {
        let mut o = Obj::new(out);
        o.str("name", &p.name);
        o.str("value", &p.value);
        o.end();
    });
    o.end();
}

fn write_plan(out: &mut Vec<u8>, plan: &Plan) {
    let mut o = Obj::new(out);
    write_list(o.key("checks"), &plan.checks, write_check);
    write_strings(o.key("expected_outcomes"), &plan.expected_outcomes);
    write_strings(o.key("quality_checks"), &plan.quality_checks);
    o.str("recipe_id", &plan.recipe_id);
    write_list(o.key("steps"), &plan.steps, write_step);
    o.end();
}

fn write_refusal(out: &mut Vec<u8>, refusal: &Refusal) {
    let mut o = Obj::new(out);
    write_list(o.key("checks"), &refusal.checks, write_check);
    write_list(o.key("missing"), &refusal.missing, write_missing);
    o.str("next_lawful_step", &refusal.next_lawful_step);
    o.str("policy_reference", &refusal.policy_reference);
    o.str("reason", &refusal.reason);
    o.end();
}

/// Writes the RFC 8785 form of a decision.
pub fn write_decision(out: &mut Vec<u8>, decision: &Decision) {
    let mut o = Obj::new(out);
    match decision {
        Decision::Pass { checks } => {
            write_list(o.key("checks"), checks, write_check);
            o.str("outcome", "pass");
        }
        Decision::Plan { plan } => {
            o.str("outcome", "plan");
            write_plan(o.key("plan"), plan);
        }
        Decision::Refused { refusal } => {
            o.str("outcome", "refused");
            write_refusal(o.key("refusal"), refusal);
        }
    }
    o.end();
}

fn write_limits(out: &mut Vec<u8>, limits: &Limits) {
    let mut o = Obj::new(out);
    o.u64("deadline_ms", limits.deadline_ms);
    o.u64("fuel", limits.fuel);
    o.u64("max_output_bytes", limits.max_output_bytes);
    o.u64("memory_bytes", limits.memory_bytes);
    o.end();
}

/// Writes a component run (a receipt's `components` item).
pub fn write_run(out: &mut Vec<u8>, run: &ComponentRun) {
    let mut o = Obj::new(out);
    o.opt_str("fault_class", run.fault_class.map(|c| c.as_str()));
    o.u64("fuel_consumed", run.fuel_consumed);
    o.str("id", &run.id);
    write_limits(o.key("limits"), &run.limits);
    o.str("outcome", run.outcome.as_str());
    o.opt_str("output_sha256", run.output_sha256.as_deref());
    o.opt_str("role", run.role.map(|r| r.as_str()));
    write_value(o.key("settings"), &run.settings);
    o.str("sha256", &run.sha256);
    o.end();
}

/// Writes engine info (a receipt's `engine`).
pub fn write_engine(out: &mut Vec<u8>, engine: &EngineInfo) {
    let mut o = Obj::new(out);
    o.str("config_digest", &engine.config_digest);
    o.str("host", &engine.host);
    o.str("wasmtime", &engine.wasmtime);
    o.end();
}

/// Writes `value` with `write`, or `null` when absent.
pub fn null_or<T>(out: &mut Vec<u8>, value: Option<&T>, write: impl FnOnce(&mut Vec<u8>, &T)) {
    match value {
        Some(v) => write(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

// The decision's canonical form lives here, beside the writer, so `decision` is
// plain data that imports nothing of this module.
impl Decision {
    /// The RFC 8785 bytes of this decision (the output whose hash receipts carry),
    /// written by [`write_decision`]. A test checks the result
    /// against the general canonicalizer for every golden case.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        write_decision(&mut out, self);
        out
    }

    /// The one decision hash: lowercase hex SHA-256 of [`Decision::canonical_bytes`]
    /// (a receipt's `decision_sha256`, a run's `output_sha256`).
    pub fn sha256(&self) -> String {
        crate::evidence::sha256_hex(&self.canonical_bytes())
    }
}
