//! Builds every guest crate from source (see `andon-guest-build`) into one guest target
//! folder shared by every profile (`target/guest-target`), and writes `components.rs`
//! naming the components.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.join("../..").canonicalize().unwrap();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for watched in
        ["wit", "guest-sdk", "recipes-wasm/gates", "recipes-wasm/recipes", "tests/guests", "Cargo.lock", "Cargo.toml"]
    {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    // rustup installs nothing by itself where RUSTUP_AUTO_INSTALL=0: add the target
    // here, and say so in the build output.
    if andon_guest_build::ensure_wasm_target().unwrap_or_else(|e| panic!("{e}")) {
        println!("cargo:warning=installed the {} target for the guest build", andon_guest_build::WASM_TARGET);
    }
    let guests = andon_guest_build::discover(&root);
    // One guest target folder for every profile and tool (build, clippy, test,
    // bench): beside the profile folders (`target/guest-target`), so the guests
    // compile once, not once per build script run; cargo's lock serializes runs.
    // The guests' own `guest` profile makes the bytes the same whoever builds them.
    let shared = out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "build"))
        .and_then(|build| build.parent()?.parent())
        .map(|target| target.join("guest-target"))
        .unwrap_or_else(|| out_dir.join("guest-target"));
    let built = andon_guest_build::build(&root, &shared, &guests).unwrap_or_else(|e| panic!("{e}"));

    let components_dir = out_dir.join("components");
    std::fs::create_dir_all(&components_dir).unwrap();
    let (mut shipped, mut tests) = (String::new(), String::new());
    for (guest, component) in guests.iter().zip(&built) {
        let path = components_dir.join(format!("{}.wasm", component.id));
        std::fs::write(&path, &component.component).unwrap();
        let path = path.display().to_string();
        let role = if guest.role == "gate" { "Role::Gate" } else { "Role::Recipe" };
        if guest.shipped {
            writeln!(
                shipped,
                "    ShippedComponent {{ id: {:?}, package: {:?}, role: {role}, path: {path:?}, bytes: include_bytes!({path:?}) }},",
                guest.id, guest.package
            )
            .unwrap();
        } else {
            writeln!(tests, "    TestGuest {{ id: {:?}, path: {path:?} }},", guest.id).unwrap();
        }
    }
    let source = format!(
        "/// Every shipped gate and recipe, built from `recipes-wasm/`.\npub const SHIPPED: &[ShippedComponent] = &[\n{shipped}];\n\
         /// Test guests from `tests/guests/` (not shipped), by file path.\npub const TEST_GUESTS: &[TestGuest] = &[\n{tests}];\n"
    );
    std::fs::write(out_dir.join("components.rs"), source).unwrap();
}
