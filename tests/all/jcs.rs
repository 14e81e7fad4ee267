//! RFC 8785 (JSON Canonicalization Scheme) conformance of the canonicalizer that
//! receipts are hashed with: the RFC's test vectors (`tests/data/jcs/`, the
//! `arrays`, `french`, `structures`, `unicode`, `values` and `weird` input/output
//! pairs of the reference test data), the RFC's sorting example, and the ES6
//! number-serialization samples of RFC 8785 Appendix B. Both the reference
//! canonicalizer (`serde_json_canonicalizer`, used by intake) and the receipt
//! writer's own (`andon_ledger::receipt::canonical`) must produce the exact bytes.

use std::path::PathBuf;

use andon_core::evidence::canonical_bytes;
use rstest::rstest;
use serde_json::Value;

use crate::support::data;

#[rstest]
fn rfc_8785_vector_canonicalizes_to_the_expected_bytes(#[files("../../tests/data/jcs/input/*.json")] input: PathBuf) {
    let name = input.file_name().unwrap().to_owned();
    let expected = std::fs::read(data("jcs/output").join(&name)).unwrap();
    let value: Value = serde_json::from_slice(&std::fs::read(&input).unwrap()).unwrap();
    let actual = canonical_bytes(&value);
    assert_eq!(String::from_utf8_lossy(&actual), String::from_utf8_lossy(&expected), "{}", name.to_string_lossy());
    assert_eq!(actual, expected);
    // The receipt writer's own canonicalizer agrees byte for byte.
    assert_eq!(fast(&value), expected, "{}", name.to_string_lossy());
}

fn fast(value: &Value) -> Vec<u8> {
    andon_core::canonical::to_vec(value)
}

#[test]
fn all_six_reference_vectors_are_present() {
    let mut names: Vec<String> = std::fs::read_dir(data("jcs/input"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["arrays.json", "french.json", "structures.json", "unicode.json", "values.json", "weird.json"]);
}

#[test]
fn keys_sort_by_utf16_code_units_as_in_the_rfc_example() {
    // RFC 8785 section 3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33.
    let value: Value = serde_json::from_str(
        r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",
            "\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#,
    )
    .unwrap();
    let text = String::from_utf8(canonical_bytes(&value)).unwrap();
    assert_eq!(fast(&value), text.as_bytes());
    let keys: Vec<&str> = text
        .trim_start_matches('{')
        .split("\",")
        .map(|member| member.split("\":").next().unwrap().trim_start_matches('"'))
        .collect();
    assert_eq!(keys, ["\\r", "1", "\u{80}", "\u{f6}", "\u{20ac}", "\u{1f600}", "\u{fb33}"]);
}

#[rstest]
#[case::zero(0x0000000000000000, "0")]
#[case::minus_zero(0x8000000000000000, "0")]
#[case::min_subnormal(0x0000000000000001, "5e-324")]
#[case::minus_min_subnormal(0x8000000000000001, "-5e-324")]
#[case::max_double(0x7fefffffffffffff, "1.7976931348623157e+308")]
#[case::minus_max_double(0xffefffffffffffff, "-1.7976931348623157e+308")]
#[case::two_pow_53(0x4340000000000000, "9007199254740992")]
#[case::minus_two_pow_53(0xc340000000000000, "-9007199254740992")]
#[case::two_pow_68(0x4430000000000000, "295147905179352830000")]
#[case::below_1e23(0x44b52d02c7e14af5, "9.999999999999997e+22")]
#[case::exactly_1e23(0x44b52d02c7e14af6, "1e+23")]
#[case::above_1e23(0x44b52d02c7e14af7, "1.0000000000000001e+23")]
#[case::below_1e21_a(0x444b1ae4d6e2ef4e, "999999999999999700000")]
#[case::below_1e21_b(0x444b1ae4d6e2ef4f, "999999999999999900000")]
#[case::exactly_1e21(0x444b1ae4d6e2ef50, "1e+21")]
#[case::below_1e_minus_6(0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7")]
#[case::exactly_1e_minus_6(0x3eb0c6f7a0b5ed8d, "0.000001")]
#[case::third_a(0x41b3de4355555553, "333333333.3333332")]
#[case::third_b(0x41b3de4355555554, "333333333.33333325")]
#[case::third_c(0x41b3de4355555555, "333333333.3333333")]
#[case::third_d(0x41b3de4355555556, "333333333.3333334")]
#[case::third_e(0x41b3de4355555557, "333333333.33333343")]
#[case::small_negative(0xbecbf647612f3696, "-0.0000033333333333333333")]
#[case::large_fraction(0x43143ff3c1cb0959, "1424953923781206.2")]
fn ieee754_value_serializes_as_es6_number_to_string(#[case] bits: u64, #[case] expected: &str) {
    let value = Value::from(f64::from_bits(bits));
    assert_eq!(String::from_utf8(canonical_bytes(&value)).unwrap(), expected);
    assert_eq!(String::from_utf8(fast(&value)).unwrap(), expected);
}

#[rstest]
#[case::one_e21("1e21", "1e+21")]
#[case::one_e_minus_7("1e-7", "1e-7")]
#[case::one_millionth("0.000001", "0.000001")]
#[case::negative_zero("-0", "0")]
#[case::negative_zero_float("-0.0", "0")]
#[case::four_and_a_half("4.50", "4.5")]
#[case::two_thousandths("2e-3", "0.002")]
#[case::a_third("333333333.33333329", "333333333.3333333")]
#[case::integral_float("56.0", "56")]
#[case::one_e30("1E30", "1e+30")]
fn json_number_text_serializes_as_es6_number_to_string(#[case] text: &str, #[case] expected: &str) {
    let value: Value = serde_json::from_str(text).unwrap();
    assert_eq!(String::from_utf8(canonical_bytes(&value)).unwrap(), expected);
    assert_eq!(String::from_utf8(fast(&value)).unwrap(), expected);
}
