//! A deliberately hostile policy gate for the host's tests. Not shipped.
//!
//! The evidence `{"attack": "..."}` picks the behaviour: `none` passes quietly;
//! `infinite_loop`, `memory_bomb` and `recursion` exhaust fuel, memory and stack;
//! `panic` and `unreachable` trap; `giant_output` returns 16 MiB of check details;
//! `checks` returns `count` checks. The host must survive every one of them.

use core::hint::black_box;

use andon_guest_sdk::gate::{Check, Gate, GateVerdict, Refusal, Request};
use serde::Deserialize;

/// Number of checks returned by the `giant_output` attack.
pub const GIANT_CHECKS: usize = 64;
/// Size of each `giant_output` check detail: 256 KiB.
pub const GIANT_DETAIL_BYTES: usize = 256 * 1024;

#[derive(Deserialize)]
struct Evidence {
    attack: String,
    #[serde(default)]
    count: u32,
}

/// The hostile gate.
pub struct Hostile;

impl Gate for Hostile {
    fn check(request: Request) -> GateVerdict {
        let evidence: Evidence = match request.evidence() {
            Ok(evidence) => evidence,
            Err(refusal) => return GateVerdict::Refuse(refusal),
        };
        match evidence.attack.as_str() {
            "none" => GateVerdict::Pass(vec![Check::pass("hostile_guest_idle", "no attack requested")]),
            "infinite_loop" => spin(),
            "memory_bomb" => hoard(),
            "recursion" => GateVerdict::Pass(vec![Check::pass(
                "hostile_recursion",
                format!("{}", recurse(0, black_box(u64::MAX))),
            )]),
            "panic" => panic!("hostile guest panics on purpose"),
            "unreachable" => trap(),
            "giant_output" => GateVerdict::Pass(
                (0..GIANT_CHECKS)
                    .map(|i| Check::pass(format!("giant_output_{i:02}"), "x".repeat(GIANT_DETAIL_BYTES)))
                    .collect(),
            ),
            "checks" => GateVerdict::Pass(
                (0..evidence.count).map(|i| Check::pass(format!("hostile_check_{i}"), "ok")).collect(),
            ),
            other => GateVerdict::Refuse(
                Refusal::new("unknown_attack")
                    .check(Check::fail("attack_known", format!("unknown attack {other:?}")))
                    .next_lawful_step("pick one of the documented attacks")
                    .policy("TEST-HOSTILE"),
            ),
        }
    }
}

/// Loops forever; `black_box` keeps the optimizer from proving anything about it.
fn spin() -> ! {
    let mut counter = 0u64;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Reserves 1 MiB buffers and keeps them until memory runs out. Each buffer is
/// touched once per 4 KiB page (no memset, so fuel does not run out first).
fn hoard() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk: Vec<u8> = Vec::with_capacity(1 << 20);
        chunk.spare_capacity_mut().iter_mut().step_by(4096).for_each(|byte| {
            byte.write(0xA5);
        });
        hoard.push(black_box(chunk));
        black_box(&hoard);
    }
}

/// Recurses (practically) without bound: `limit` is opaque to the optimizer, and the
/// rotate-and-xor after the call keeps it from being a tail call or an accumulator
/// loop. Nothing lives in linear memory, so it is the engine's call stack that overflows.
fn recurse(depth: u64, limit: u64) -> u64 {
    if depth == limit {
        return depth;
    }
    recurse(depth.wrapping_add(1), limit).rotate_left(1) ^ depth
}

#[cfg(target_arch = "wasm32")]
fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn trap() -> ! {
    panic!("hostile guest reached unreachable")
}

andon_guest_sdk::export_gate!(Hostile);

#[cfg(test)]
mod tests {
    use super::*;
    use andon_guest_sdk::Severity;

    fn run(evidence: &str) -> GateVerdict {
        Hostile::check(Request::for_test("INC-1", "field_work", Severity::Low, evidence))
    }

    fn pass(evidence: &str) -> Vec<Check> {
        match run(evidence) {
            GateVerdict::Pass(checks) => checks,
            other => panic!("expected a pass, got {other:?}"),
        }
    }

    #[test]
    fn idle_guest_passes_with_one_check() {
        let checks = pass(r#"{"attack":"none"}"#);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].name, "hostile_guest_idle");
    }

    #[test]
    fn checks_attack_returns_count_checks() {
        assert_eq!(pass(r#"{"attack":"checks","count":1000}"#).len(), 1000);
        assert!(pass(r#"{"attack":"checks"}"#).is_empty());
    }

    #[test]
    fn giant_output_is_sixteen_mebibytes() {
        let checks = pass(r#"{"attack":"giant_output"}"#);
        assert_eq!(checks.len(), GIANT_CHECKS);
        assert!(checks.iter().all(|c| c.detail.len() == GIANT_DETAIL_BYTES));
        assert_eq!(checks.iter().map(|c| c.detail.len()).sum::<usize>(), 16 << 20);
    }

    #[test]
    fn unknown_attack_refuses() {
        assert!(matches!(run(r#"{"attack":"tickle"}"#), GateVerdict::Refuse(r) if r.reason == "unknown_attack"));
        assert!(matches!(run("{}"), GateVerdict::Refuse(r) if r.reason == "evidence_unreadable"));
    }
}
