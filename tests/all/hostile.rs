//! Hostile guests are contained: each fault has its own error class, the host
//! survives, and the next evaluation in the same process succeeds.

use andon_core::{AndonEngine, Error, FaultClass, Limits, LoadedComponent};
use rstest::rstest;

use crate::support::{hostile, request, wat};

fn attack(name: &str) -> String {
    format!(r#"{{"incident_id":"INC-H-1","kind":"hostile","severity":"low","evidence":{{"attack":"{name}"}}}}"#)
}

#[rstest]
#[case::infinite_loop_runs_out_of_fuel("infinite_loop", FaultClass::OutOfFuel)]
#[case::memory_grow_bomb_hits_the_memory_limit("memory_bomb", FaultClass::OutOfMemory)]
#[case::unbounded_recursion_overflows_the_stack("recursion", FaultClass::StackOverflow)]
#[case::rust_panic_traps("panic", FaultClass::Trap)]
#[case::explicit_unreachable_traps("unreachable", FaultClass::Trap)]
#[case::gigantic_output_is_too_large("giant_output", FaultClass::OutputTooLarge)]
fn hostile_guest_is_contained_and_the_next_evaluation_succeeds(#[case] name: &str, #[case] class: FaultClass) {
    let engine = AndonEngine::new().unwrap();
    let guest = hostile(&engine);
    let limits = Limits { fuel: 50_000_000, memory_bytes: 32 << 20, ..Limits::default() };
    let err = guest.evaluate(&engine, &request(&attack(name)), &limits).expect_err("attack must fault");
    assert_eq!(err.fault_class(), Some(class), "{name}: got {err}");
    match (&err, class) {
        (Error::OutOfFuel { limit }, _) => assert_eq!(*limit, 50_000_000),
        (Error::OutOfMemory { limit_bytes, requested_bytes, .. }, _) => {
            assert_eq!(*limit_bytes, 32 << 20);
            assert!(*requested_bytes > 32 << 20);
        }
        (Error::OutputTooLarge { size, limit, .. }, _) => {
            assert!(size > limit);
            assert_eq!(*limit, 1 << 20);
        }
        (Error::Trap { message, .. }, _) => assert!(message.contains("unreachable"), "{message}"),
        _ => {}
    }
    // The host survives and the same loaded component still works.
    let ok = guest.evaluate(&engine, &request(&attack("none")), &limits).expect("next evaluation succeeds");
    assert_eq!(ok.decision.outcome(), "pass");
    // And so does a shipped component on the same engine.
    let gate = crate::support::shipped(&engine, "evidence-level");
    let json = r#"{"incident_id":"INC-2","kind":"field_work","severity":"low","evidence":{"evidence_level":"high"}}"#;
    assert_eq!(gate.evaluate(&engine, &request(json), &limits).unwrap().decision.outcome(), "pass");
}

#[test]
fn same_fault_costs_the_same_fuel_every_time() {
    let engine = AndonEngine::new().unwrap();
    let guest = hostile(&engine);
    let limits = Limits::default();
    let a = guest.evaluate(&engine, &request(&attack("panic")), &limits).unwrap_err();
    let b = guest.evaluate(&engine, &request(&attack("panic")), &limits).unwrap_err();
    assert_eq!(a.fuel_consumed(), b.fuel_consumed());
    assert!(a.fuel_consumed() > 0);
}

#[test]
fn wall_clock_deadline_interrupts_a_guest_with_unlimited_fuel() {
    let engine = AndonEngine::new().unwrap();
    let guest = hostile(&engine);
    let limits = Limits { fuel: u64::MAX / 2, deadline_ms: 200, ..Limits::default() };
    let err = guest.evaluate(&engine, &request(&attack("infinite_loop")), &limits).unwrap_err();
    assert_eq!(err.fault_class(), Some(FaultClass::Deadline), "{err}");
    assert!(err.to_string().contains("200 ms"), "{err}");
}

#[rstest]
#[case::clock("clock-import.wat", "wasi:clocks/monotonic-clock@0.2.0")]
#[case::random("random-import.wat", "wasi:random/random@0.2.0")]
#[case::function_behind_the_types_name("fake-types-import.wat", "andon:policy/types@0.1.0")]
fn component_importing_outside_the_world_is_refused_at_load_naming_the_import(
    #[case] file: &str,
    #[case] import: &str,
) {
    let engine = AndonEngine::new().unwrap();
    let err = LoadedComponent::load(&engine, &wat(file)).unwrap_err();
    assert_eq!(err.fault_class(), Some(FaultClass::RefusedImport));
    match &err {
        Error::RefusedImport { import: named } => assert_eq!(named, import),
        other => panic!("expected a refused import, got {other}"),
    }
    assert!(err.to_string().contains(import), "{err}");
}

#[rstest]
#[case::core_module_is_not_a_component(wat("core-module.wat"), "core WebAssembly module")]
#[case::random_bytes_are_not_wasm(b"\x13\x37 this is not wasm at all, just bytes".to_vec(), "magic header")]
#[case::empty_file(Vec::new(), "magic header")]
#[case::component_without_andon_exports(wat("no-exports.wat"), "exports neither")]
#[case::truncated_component(andon_recipes::shipped("insurance-active").unwrap().bytes[..500].to_vec(), "invalid component")]
fn invalid_bytes_are_refused_as_invalid_component(#[case] bytes: Vec<u8>, #[case] needle: &str) {
    let engine = AndonEngine::new().unwrap();
    let err = LoadedComponent::load(&engine, &bytes).unwrap_err();
    assert_eq!(err.fault_class(), Some(FaultClass::InvalidComponent), "{err}");
    assert!(err.to_string().contains(needle), "{err}");
}

#[test]
fn a_gate_is_not_accepted_where_a_recipe_is_required() {
    let engine = AndonEngine::new().unwrap();
    let gate = crate::support::shipped(&engine, "insurance-active");
    let err = gate.expect_world(andon_core::World::Recipe).unwrap_err();
    assert!(matches!(err, Error::WrongWorld { expected: "recipe", actual: "gate" }), "{err}");
}

#[test]
fn many_evaluations_in_parallel_are_isolated() {
    let engine = AndonEngine::new().unwrap();
    let guest = hostile(&engine);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (engine, guest) = (&engine, &guest);
                scope.spawn(move || {
                    let name = if i % 2 == 0 { "panic" } else { "none" };
                    guest.evaluate(engine, &request(&attack(name)), &Limits::default()).map(|e| e.decision.outcome())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, result) in results.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(result.as_ref().unwrap_err().fault_class(), Some(FaultClass::Trap));
        } else {
            assert_eq!(result.as_ref().unwrap(), &"pass");
        }
    }
}
