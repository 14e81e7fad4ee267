//! Strict evidence intake: what cannot be canonicalized faithfully is refused
//! before anything is hashed.

use andon_core::evidence::{Incident, InputError, canonical_bytes, parse_strict};
use rstest::rstest;

#[rstest]
#[case::duplicate_key(r#"{"a":1,"a":2}"#, "duplicate key `a`")]
#[case::nested_duplicate_key(r#"{"x":{"k":true,"k":false}}"#, "duplicate key `k`")]
#[case::lone_high_surrogate(r#"{"a":"\ud800"}"#, "surrogate")]
#[case::lone_low_surrogate(r#"{"a":"\udc00x"}"#, "surrogate")]
#[case::integer_beyond_2_53(r#"{"a":9007199254740993}"#, "beyond ±2^53")]
#[case::negative_integer_beyond_2_53(r#"{"a":-9007199254740993}"#, "beyond ±2^53")]
#[case::float_beyond_2_53(r#"{"a":1e300}"#, "beyond ±2^53")]
#[case::trailing_garbage(r#"{"a":1} x"#, "trailing characters")]
#[case::truncated(r#"{"a":"#, "EOF")]
#[case::not_json("incident: yes", "expected value")]
fn unacceptable_json_is_refused_with_a_clear_message(#[case] text: &str, #[case] needle: &str) {
    let err = parse_strict("evidence", text.as_bytes(), 1 << 20).unwrap_err();
    assert!(err.to_string().contains(needle), "{err}");
    assert!(err.to_string().starts_with("evidence is not acceptable JSON"), "{err}");
}

#[test]
fn invalid_utf8_is_refused() {
    let err = parse_strict("evidence", b"{\"a\":\"\xff\xfe\"}", 1 << 20).unwrap_err();
    assert!(err.to_string().contains("not acceptable JSON"), "{err}");
}

#[test]
fn exactly_2_53_is_accepted() {
    let value = parse_strict("evidence", br#"{"a":9007199254740992,"b":-9007199254740992}"#, 1 << 20).unwrap();
    assert_eq!(canonical_bytes(&value), br#"{"a":9007199254740992,"b":-9007199254740992}"#);
}

#[test]
fn oversize_document_is_refused_before_parsing() {
    let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(2048));
    let err = parse_strict("evidence", big.as_bytes(), 1024).unwrap_err();
    assert!(matches!(err, InputError::TooLarge { limit: 1024, .. }), "{err}");
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let err = parse_strict("evidence", deep.as_bytes(), 1 << 20).unwrap_err();
    assert!(err.to_string().contains("nesting"), "{err}");
}

#[rstest]
#[case::missing_incident_id(r#"{"kind":"k","severity":"low","evidence":{}}"#, "field `incident_id` is missing")]
#[case::severity_not_known(
    r#"{"incident_id":"I","kind":"k","severity":"urgent","evidence":{}}"#,
    "field `severity` must be one of"
)]
#[case::kind_not_a_string(
    r#"{"incident_id":"I","kind":7,"severity":"low","evidence":{}}"#,
    "field `kind` must be a string"
)]
#[case::evidence_not_an_object(
    r#"{"incident_id":"I","kind":"k","severity":"low","evidence":[1]}"#,
    "field `evidence` must be a JSON object"
)]
#[case::root_not_an_object("[1,2]", "must be a JSON object")]
#[case::incident_id_too_long(
    &format!(r#"{{"incident_id":"{}","kind":"k","severity":"low","evidence":{{}}}}"#, "I".repeat(129)),
    "field `incident_id` must be at most 128 bytes"
)]
#[case::incident_id_with_a_newline(
    r#"{"incident_id":"I\nJ","kind":"k","severity":"low","evidence":{}}"#,
    "field `incident_id` must not contain control characters"
)]
fn incomplete_envelope_is_refused_naming_the_field(#[case] text: &str, #[case] needle: &str) {
    let err = Incident::from_bytes(text.as_bytes(), 1 << 20).unwrap_err();
    assert!(err.to_string().contains(needle), "{err}");
}

#[test]
fn evidence_hash_ignores_key_order_and_whitespace() {
    let a = Incident::from_bytes(
        br#"{"incident_id":"I","kind":"k","severity":"low","evidence":{"b":1,"a":[1.0,2]}}"#,
        1 << 20,
    )
    .unwrap();
    let b = Incident::from_bytes(
        b"{ \"evidence\" : {\"a\":[1,2], \"b\":1},\n \"severity\":\"low\",\"kind\":\"k\",\"incident_id\":\"I\" }",
        1 << 20,
    )
    .unwrap();
    assert_eq!(a.canonical, b.canonical);
    assert_eq!(a.sha256, b.sha256);
    assert_eq!(a.evidence_json, r#"{"a":[1,2],"b":1}"#);
}
