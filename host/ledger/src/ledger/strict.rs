//! The strict form of a ledger line: exactly the RFC 8785 bytes of one JSON value
//! that strict parsing accepts (`andon_core::evidence::parse_strict`: no duplicate
//! member names, no lone surrogates, no number beyond ±2^53), checked in one pass
//! over the bytes without building the value.
//!
//! A line passes when re-canonicalizing its strict parse gives back the same bytes,
//! which for RFC 8785 means: no byte outside strings but the JSON structure (no
//! whitespace), member names of every object in strictly increasing UTF-16 order
//! (sorted, and therefore without duplicates), strings with exactly RFC 8785's
//! escapes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and `\u00xx` in lowercase for
//! the other control characters, nothing else escaped), valid UTF-8, and numbers
//! as ECMAScript's `Number::toString` writes them. A unit test holds this check
//! against the reference (strict parse, canonicalize, compare) on thousands of
//! altered lines.
//!
//! Receipts add one rule: the top-level object has exactly the members of the
//! format, in their canonical order ([`RECEIPT_MEMBERS`]), so two readers can never
//! read two different values of one member.

use std::cmp::Ordering;

use andon_core::canonical::MAX_SAFE_INTEGER;

/// The members of a receipt line, in RFC 8785 order (the body's members plus `hash`
/// and `signature`).
pub(crate) const RECEIPT_MEMBERS: [&str; 21] = [
    "annotation",
    "bundle",
    "components",
    "decision",
    "decision_sha256",
    "engine",
    "evaluation_mode",
    "evidence",
    "evidence_sha256",
    "fault_class",
    "format",
    "hash",
    "incident_id",
    "incident_prev_hash",
    "key_id",
    "kind",
    "prev_hash",
    "repair",
    "seq",
    "signature",
    "timestamp",
];

/// Deepest nesting accepted (serde_json, which the readers parse with, stops at
/// 128 levels too; the host's receipts nest far less).
pub(crate) const MAX_DEPTH: u32 = 128;

/// Checks that `line` (without its `\n`) is the RFC 8785 form of one strictly
/// parsed JSON value. With `members`, the value must be an object whose members
/// are exactly these, in this order.
///
/// # Errors
/// What is wrong, and at which byte.
pub(crate) fn check(line: &[u8], members: Option<&[&str]>) -> Result<(), String> {
    // Canonical JSON has no whitespace between tokens and escapes every control
    // character inside strings: no byte below 0x20 appears anywhere. No early exit,
    // so the check vectorizes.
    if line.iter().fold(false, |any, &b| any | (b < 0x20)) {
        let at = line.iter().position(|&b| b < 0x20).expect("found above");
        return Err(format!("byte {at} is the control character 0x{:02x}, which RFC 8785 never writes", line[at]));
    }
    if let Err(e) = std::str::from_utf8(line) {
        return Err(format!("byte {} is not valid UTF-8", e.valid_up_to()));
    }
    let mut walker = Walker { b: line, i: 0 };
    match members {
        Some(members) => walker.fixed_object(members)?,
        None => walker.value(0)?,
    }
    if walker.i != line.len() {
        return walker.fail("bytes after the value");
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn failure(at: usize, what: &dyn std::fmt::Display) -> String {
    format!("byte {at}: {what} (not RFC 8785)")
}

/// A member name: start and end of its raw bytes between the quotes, and whether
/// they hold an escape.
type Name = (usize, usize, bool);

struct Walker<'a> {
    b: &'a [u8],
    i: usize,
}

/// Bytes that end a run of plain string content.
const fn special(b: u8) -> bool {
    b == b'"' || b == b'\\'
}

/// 0x80 in every byte of `word` that equals `byte` (and possibly in a byte after a
/// match, which the caller rescans byte by byte).
fn has_byte(word: u64, byte: u8) -> u64 {
    let x = word ^ (u64::from(byte) * 0x0101_0101_0101_0101);
    x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080
}

impl Walker<'_> {
    fn fail<T>(&self, what: impl std::fmt::Display) -> Result<T, String> {
        Err(failure(self.i, &what))
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), String> {
        if self.b.get(self.i) != Some(&byte) {
            return self.fail(format_args!("expected {what}"));
        }
        self.i += 1;
        Ok(())
    }

    fn value(&mut self, depth: u32) -> Result<(), String> {
        match self.b.get(self.i) {
            Some(b'"') => self.string().map(drop),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.fail("expected a JSON value"),
            None => self.fail("the line ends inside a value"),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), String> {
        if !self.b[self.i..].starts_with(word) {
            return self.fail("expected `true`, `false` or `null`");
        }
        self.i += word.len();
        Ok(())
    }

    fn array(&mut self, depth: u32) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return self.fail(format_args!("nesting deeper than {MAX_DEPTH} levels"));
        }
        self.i += 1;
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value(depth)?;
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.fail("expected `,` or `]`"),
            }
        }
    }

    fn object(&mut self, depth: u32) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return self.fail(format_args!("nesting deeper than {MAX_DEPTH} levels"));
        }
        self.i += 1;
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(());
        }
        let mut previous: Option<Name> = None;
        loop {
            let at = self.i;
            let name = self.name()?;
            if let Some(previous) = previous
                && name_order(self.b, previous, name) != Ordering::Less
            {
                self.i = at;
                let (p, c) = (&self.b[previous.0..previous.1], &self.b[name.0..name.1]);
                let what = if p == c { "duplicate member" } else { "member out of RFC 8785 order" };
                return self.fail(format_args!(
                    "{what}: `{}` after `{}`",
                    String::from_utf8_lossy(c),
                    String::from_utf8_lossy(p)
                ));
            }
            previous = Some(name);
            self.expect(b':', "`:`")?;
            self.value(depth)?;
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.fail("expected `,` or `}`"),
            }
        }
    }

    /// The top-level object, whose members must be exactly `members`, in order.
    fn fixed_object(&mut self, members: &[&str]) -> Result<(), String> {
        if self.b.first() != Some(&b'{') {
            return self.fail("not a JSON object");
        }
        self.i = 1;
        for (index, want) in members.iter().enumerate() {
            if index > 0 {
                match self.b.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b'}') => return self.fail(format_args!("member `{want}` is missing")),
                    _ => return self.fail("expected `,` or `}`"),
                }
            }
            let at = self.i;
            let (start, end, _) = self.name()?;
            if &self.b[start..end] != want.as_bytes() {
                self.i = at;
                let found = String::from_utf8_lossy(&self.b[start..end]);
                return self.fail(format_args!("member `{found}` where `{want}` belongs"));
            }
            self.expect(b':', "`:`")?;
            self.value(1)?;
        }
        match self.b.get(self.i) {
            Some(b'}') => {
                self.i += 1;
                Ok(())
            }
            Some(b',') => {
                self.i += 1;
                let at = self.i;
                let (start, end, _) = self.name()?;
                self.i = at;
                self.fail(format_args!("unexpected member `{}`", String::from_utf8_lossy(&self.b[start..end])))
            }
            _ => self.fail("expected `}`"),
        }
    }

    fn name(&mut self) -> Result<Name, String> {
        if self.b.get(self.i) != Some(&b'"') {
            return self.fail("expected a member name");
        }
        self.string()
    }

    /// Reads the string at `self.i` (a `"`) and returns where its raw content starts
    /// and ends, and whether it holds an escape.
    fn string(&mut self) -> Result<Name, String> {
        let b = self.b;
        let start = self.i + 1;
        let mut j = start;
        let mut escaped = false;
        loop {
            // Eight bytes at a time to the next quote or backslash (no control
            // character is left: `check` refused them all). The lowest flagged
            // byte of a word is always a true match.
            while let Some(chunk) = b.get(j..j + 8) {
                let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
                let found = has_byte(word, b'"') | has_byte(word, b'\\');
                if found != 0 {
                    j += (found.trailing_zeros() / 8) as usize;
                    break;
                }
                j += 8;
            }
            while j < b.len() && !special(b[j]) {
                j += 1;
            }
            match b.get(j) {
                None => return self.fail("unterminated string"),
                Some(b'"') => break,
                Some(_) => {}
            }
            escaped = true;
            match b.get(j + 1) {
                Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                // Only control characters without a short escape are written as
                // `\u00xx`, in lowercase hex.
                Some(b'u') => match b.get(j + 2..j + 6) {
                    Some([b'0', b'0', b'0', b'0'..=b'7' | b'b' | b'e' | b'f'])
                    | Some([b'0', b'0', b'1', b'0'..=b'9' | b'a'..=b'f']) => j += 6,
                    _ => {
                        self.i = j;
                        return self.fail("a `\\u` escape RFC 8785 does not write");
                    }
                },
                _ => {
                    self.i = j;
                    return self.fail("an escape RFC 8785 does not write");
                }
            }
        }
        self.i = j + 1;
        Ok((start, j, escaped))
    }

    fn number(&mut self) -> Result<(), String> {
        let start = self.i;
        let len = self.b[start..]
            .iter()
            .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .unwrap_or(self.b.len() - start);
        let token = &self.b[start..start + len];
        let digits = token.strip_prefix(b"-").unwrap_or(token);
        if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
            if digits.len() > 1 && digits[0] == b'0' {
                return self.fail("a number with a leading zero");
            }
            if token == b"-0" {
                return self.fail("`-0` (RFC 8785 writes 0)");
            }
            // At most 16 digits, so the sum cannot overflow.
            if digits.len() > 16 || digits.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')) > MAX_SAFE_INTEGER {
                return self.fail("an integer beyond ±2^53");
            }
            self.i += len;
            return Ok(());
        }
        // A fraction or an exponent: the token must be what ECMAScript writes for
        // its value.
        let text = std::str::from_utf8(token).expect("number characters are ASCII");
        let value = match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() <= MAX_SAFE_INTEGER as f64 => v,
            Ok(_) => return self.fail("a number beyond ±2^53"),
            Err(_) => return self.fail(format_args!("`{text}` is not a number")),
        };
        let mut canonical = Vec::with_capacity(24);
        andon_core::canonical::write_value(&mut canonical, &serde_json::Value::from(value));
        if canonical != token {
            return self
                .fail(format_args!("`{text}` is written `{}` in RFC 8785", String::from_utf8_lossy(&canonical)));
        }
        self.i += len;
        Ok(())
    }
}

/// Orders two member names (raw string contents) by their UTF-16 code units.
fn name_order(b: &[u8], (s1, e1, esc1): Name, (s2, e2, esc2): Name) -> Ordering {
    let (a, c) = (&b[s1..e1], &b[s2..e2]);
    if !esc1 && !esc2 {
        // UTF-8 bytes order like code points, and code points like UTF-16 code
        // units except beyond U+FFFF: the first differing bytes decide when both
        // are ASCII. Names are short: a plain loop beats a call to `memcmp`.
        let n = a.len().min(c.len());
        let mut k = 0;
        while k < n && a[k] == c[k] {
            k += 1;
        }
        match (a.get(k), c.get(k)) {
            (Some(x), Some(y)) if x.is_ascii() && y.is_ascii() => return x.cmp(y),
            (None, _) | (_, None) => return a.len().cmp(&c.len()),
            _ => {}
        }
    }
    // Escapes, or a difference outside ASCII (rare: the host's own names are
    // ASCII): decode, then compare code units.
    let decode = |s: usize, e: usize| serde_json::from_slice::<String>(&b[s - 1..e + 1]).unwrap_or_default();
    decode(s1, e1).encode_utf16().cmp(decode(s2, e2).encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: strict parse, RFC 8785, compare.
    fn reference(line: &[u8]) -> bool {
        andon_core::evidence::parse_strict("line", line, usize::MAX)
            .is_ok_and(|value| andon_core::evidence::canonical_bytes(&value) == line)
    }

    fn agree(line: &[u8]) {
        let ours = check(line, None);
        assert_eq!(ours.is_ok(), reference(line), "{:?}: {ours:?}", String::from_utf8_lossy(line));
    }

    fn sample() -> Vec<u8> {
        let value = serde_json::json!({
            "a": [1, -2, 1.5, 0.000001, 1e-7, 9007199254740992i64, -9007199254740992i64, 0, true, false, null],
            "b": {"": "", "z": "\u{0}\u{7}\u{8}\t\n\u{b}\u{c}\r\u{1f}\"\\/\u{7f}", "é": "\u{2028}😂", "\u{1f602}": 1, "\u{ff61}": 2},
            "c": "plain text", "d": {}, "e": [], "f": [[{"x": [{}]}]]
        });
        andon_core::evidence::canonical_bytes(&value)
    }

    #[test]
    fn canonical_values_pass_and_the_reference_agrees() {
        let line = sample();
        assert_eq!(check(&line, None), Ok(()));
        assert!(reference(&line));
    }

    #[test]
    fn every_single_byte_change_is_judged_like_the_reference() {
        let line = sample();
        let replacements = b" \t\n\"\\/{}[],:0123456789-+.eEabfnrtuxz\x00\x7f\xc3\xa9\xff";
        for at in 0..line.len() {
            for &r in replacements {
                let mut altered = line.clone();
                altered[at] = r;
                agree(&altered);
                let mut inserted = line.clone();
                inserted.insert(at, r);
                agree(&inserted);
            }
            let mut removed = line.clone();
            removed.remove(at);
            agree(&removed);
        }
    }

    #[test]
    fn refuses_what_strict_parsing_or_rfc_8785_refuses() {
        for bad in [
            &br#"{"a":1,"a":1}"#[..],
            br#"{"b":1,"a":2}"#,
            br#"{"a": 1}"#,
            br#" {"a":1}"#,
            br#"{"a":"\u0041"}"#,
            br#"{"a":"\ud83d\ude02"}"#,
            br#"{"a":"\u000A"}"#,
            br#"{"a":"\/"}"#,
            br#"{"a":1.0}"#,
            br#"{"a":1e2}"#,
            br#"{"a":-0}"#,
            br#"{"a":01}"#,
            br#"{"a":9007199254740993}"#,
            br#"{"a":1}{"#,
            br#"{"a":1}x"#,
            b"not json at all",
            b"",
        ] {
            assert!(check(bad, None).is_err(), "{}", String::from_utf8_lossy(bad));
            assert!(!reference(bad), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_receipt_line_has_exactly_the_members_of_the_format_in_order() {
        let mut value = serde_json::Map::new();
        for name in RECEIPT_MEMBERS {
            value.insert(name.into(), serde_json::Value::Null);
        }
        let line = andon_core::evidence::canonical_bytes(&serde_json::Value::Object(value.clone()));
        assert_eq!(check(&line, Some(&RECEIPT_MEMBERS)), Ok(()));
        value.remove("decision");
        let missing = andon_core::evidence::canonical_bytes(&serde_json::Value::Object(value.clone()));
        assert!(check(&missing, Some(&RECEIPT_MEMBERS)).unwrap_err().contains("`decision_sha256` where `decision`"));
        value.insert("decision".into(), serde_json::Value::Null);
        value.insert("zzz".into(), serde_json::Value::Null);
        let extra = andon_core::evidence::canonical_bytes(&serde_json::Value::Object(value));
        assert!(check(&extra, Some(&RECEIPT_MEMBERS)).unwrap_err().contains("unexpected member `zzz`"));
        assert!(check(b"[]", Some(&RECEIPT_MEMBERS)).unwrap_err().contains("not a JSON object"));
    }
}
