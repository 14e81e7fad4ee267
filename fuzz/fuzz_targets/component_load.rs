//! Component loading: bytes through the load check (`LoadedComponent::load`: magic,
//! layer, compile, imports, world, export types, pre-instantiation) and `inspect`.
//! Never a panic: every refusal is one of the documented load errors
//! (`invalid component`, `refused import`). A component that loads is evaluated
//! once with small limits, and fails, if it fails, only with a guest fault class.
//!
//! The first input byte picks the bytes: the rest of the input as is (seeded with
//! the shipped components), as WAT text (seeded with the hostile `.wat` fixtures
//! of tests/data), a `wasm-smith` core
//! module made from it, or that module embedded in a component (alone, or
//! instantiated with no imports).
#![no_main]

use andon_core::{AndonEngine, Error, GuestRequest, Incident, Limits, LoadedComponent};
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wasm_encoder::{ComponentSectionId, InstanceSection, RawSection};

fn engine() -> &'static AndonEngine {
    static ENGINE: std::sync::OnceLock<AndonEngine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| AndonEngine::new().expect("the engine starts"))
}

fn request() -> &'static GuestRequest {
    static REQUEST: std::sync::OnceLock<GuestRequest> = std::sync::OnceLock::new();
    REQUEST.get_or_init(|| {
        let incident = Incident::from_bytes(
            br#"{"incident_id":"INC-1","kind":"approval_request","severity":"high",
                 "evidence":{"request":{"amount":1200000,"currency":"USD","threshold":1000000},
                             "authorities":{"cfo_available":false,"board_available":true}}}"#,
            1 << 20,
        )
        .expect("a valid incident");
        GuestRequest::from_incident(&incident)
    })
}

fn smith_module(u: &mut Unstructured<'_>) -> Option<Vec<u8>> {
    let mut config = wasm_smith::Config::arbitrary(u).ok()?;
    // Keep compile times per input short.
    config.max_funcs = config.max_funcs.min(20);
    config.max_instructions = config.max_instructions.min(200);
    let module = wasm_smith::Module::new(config, u).ok()?;
    Some(module.to_bytes())
}

fn in_component(module: &[u8], instantiate: bool) -> Vec<u8> {
    let mut component = wasm_encoder::Component::new();
    component.section(&RawSection { id: ComponentSectionId::CoreModule as u8, data: module });
    if instantiate {
        let mut instances = InstanceSection::new();
        instances.instantiate(0, Vec::<(&str, wasm_encoder::ModuleArg)>::new());
        component.section(&instances);
    }
    component.finish()
}

fn is_load_error(error: &Error) -> bool {
    matches!(error, Error::InvalidComponent { .. } | Error::RefusedImport { .. })
}

fn is_guest_fault(error: &Error) -> bool {
    matches!(
        error,
        Error::Trap { .. }
            | Error::OutOfFuel { .. }
            | Error::OutOfMemory { .. }
            | Error::StackOverflow { .. }
            | Error::Deadline { .. }
            | Error::OutputTooLarge { .. }
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let bytes = match pick % 4 {
        // Text starting with `(` is WAT (the hostile fixtures are seeds): mutating
        // text reaches valid components more often than mutating binary.
        0 if rest.first() == Some(&b'(') => match wat::parse_bytes(rest) {
            Ok(bytes) => bytes.into_owned(),
            Err(_) => return,
        },
        0 => rest.to_vec(),
        mode => {
            let Some(module) = smith_module(&mut Unstructured::new(rest)) else {
                return;
            };
            match mode {
                1 => module,
                2 => in_component(&module, false),
                _ => in_component(&module, true),
            }
        }
    };
    let engine = engine();
    if let Err(error) = andon_core::component::inspect(engine, &bytes) {
        assert!(is_load_error(&error), "inspect: undocumented error {error:?}");
    }
    match LoadedComponent::load(engine, &bytes) {
        Ok(component) => {
            let limits =
                Limits { fuel: 2_000_000, memory_bytes: 16 << 20, deadline_ms: 2_000, max_output_bytes: 1 << 16 };
            if let Err(error) = component.evaluate(engine, request(), &limits) {
                assert!(is_guest_fault(&error), "evaluate: not a guest fault: {error:?}");
            }
        }
        Err(error) => assert!(is_load_error(&error), "load: undocumented error {error:?}"),
    }
});
