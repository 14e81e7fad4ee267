//! Redaction of secrets at intake, before anything is hashed or stored.
//!
//! Two rules, documented in `docs/incidents.md`:
//!
//! 1. **Credential-like keys**: the value of any object member whose key, lowercased
//!    with `-` and spaces read as `_`, contains one of [`SECRET_KEY_PARTS`] (e.g.
//!    `password`, `db_password`, `api_key`, `Authorization`, `private_key`) is
//!    replaced by the marker, whatever its type (a nested object or array is replaced
//!    whole).
//! 2. **Credential-shaped values**: any string anywhere that matches one of the
//!    [`VALUE_RULES`] patterns (PEM private keys, bearer/basic authorization values,
//!    JWTs, AWS access key ids, GitHub/GitLab/Slack/Stripe tokens, passwords in URLs)
//!    has the matching part replaced by the marker.
//!
//! The marker is `[REDACTED:<rule>]`. Redaction is a pure function of the document,
//! so the redacted evidence hashes, replays and exports the same everywhere.

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

/// Substrings that make a key credential-like.
pub const SECRET_KEY_PARTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "privatekey",
    "authorization",
    "credential",
    "cookie",
    "session_id",
    "client_secret",
    "signing_key",
];

/// Value patterns: rule name and regular expression.
pub const VALUE_RULES: &[(&str, &str)] = &[
    ("private_key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)"),
    ("authorization", r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9\-._~+/]{8,}=*"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
    ("aws_access_key_id", r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("github_token", r"\b(ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}"),
    ("gitlab_token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("stripe_key", r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}"),
    ("url_password", r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^@\s/]+@"),
];

/// What was redacted: the JSON pointer of each replaced value and the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redaction {
    /// JSON pointer of the member or string.
    pub pointer: String,
    /// Rule name (`key` for rule 1, or a [`VALUE_RULES`] name).
    pub rule: String,
}

fn marker(rule: &str) -> String {
    format!("[REDACTED:{rule}]")
}

fn compiled() -> &'static [(&'static str, Regex)] {
    static RULES: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    RULES.get_or_init(|| VALUE_RULES.iter().map(|(name, re)| (*name, Regex::new(re).expect("valid rule"))).collect())
}

/// Whether a member key is credential-like.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace(['-', ' '], "_");
    SECRET_KEY_PARTS.iter().any(|part| key.contains(part))
}

/// Redacts a string value; returns the new string and the rules that fired.
pub fn redact_str(text: &str) -> Option<(String, Vec<&'static str>)> {
    let mut out = text.to_string();
    let mut fired = Vec::new();
    for (name, re) in compiled() {
        if re.is_match(&out) {
            let replacement = if *name == "url_password" { format!("${{1}}:{}@", marker(name)) } else { marker(name) };
            out = re.replace_all(&out, replacement.as_str()).into_owned();
            fired.push(*name);
        }
    }
    if fired.is_empty() { None } else { Some((out, fired)) }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn walk(value: &mut Value, pointer: &str, found: &mut Vec<Redaction>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                let path = format!("{pointer}/{}", escape(key));
                if is_secret_key(key) {
                    let already = matches!(member, Value::String(s) if s.starts_with("[REDACTED:"));
                    if !already && !member.is_null() {
                        *member = Value::String(marker("key"));
                        found.push(Redaction { pointer: path, rule: "key".into() });
                    }
                } else {
                    walk(member, &path, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &format!("{pointer}/{i}"), found);
            }
        }
        Value::String(text) => {
            if let Some((redacted, rules)) = redact_str(text) {
                *text = redacted;
                for rule in rules {
                    found.push(Redaction { pointer: pointer.to_string(), rule: rule.into() });
                }
            }
        }
        _ => {}
    }
}

/// Redacts a document in place and returns what was redacted, in document order.
pub fn redact(document: &mut Value) -> Vec<Redaction> {
    let mut found = Vec::new();
    walk(document, "", &mut found);
    found
}
