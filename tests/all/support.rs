//! Helpers shared by the integration tests.

use std::path::PathBuf;

use andon_host::{AndonEngine, GuestRequest, Incident, LoadedComponent};

/// Root of the workspace.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A file under `tests/data/`.
pub fn data(name: &str) -> PathBuf {
    root().join("tests/data").join(name)
}

/// Compiles a `.wat` fixture.
pub fn wat(name: &str) -> Vec<u8> {
    wat::parse_file(data(name)).expect("fixture parses")
}

/// Loads a shipped component.
pub fn shipped(engine: &AndonEngine, id: &str) -> LoadedComponent {
    let component = andon_recipes::shipped(id).unwrap_or_else(|| panic!("no shipped component {id}"));
    LoadedComponent::load(engine, component.bytes).expect("shipped component loads")
}

/// Loads the hostile test guest.
pub fn hostile(engine: &AndonEngine) -> LoadedComponent {
    let guest = andon_recipes::test_guest("hostile").expect("hostile guest is built");
    let bytes = std::fs::read(guest.path).unwrap();
    LoadedComponent::load(engine, &bytes).expect("hostile guest loads")
}

/// A request for an incident document given as JSON text.
pub fn request(json: &str) -> GuestRequest {
    let incident = Incident::from_bytes(json.as_bytes(), 1 << 20).expect("valid incident");
    GuestRequest::from_incident(&incident)
}
