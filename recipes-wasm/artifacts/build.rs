//! Builds every guest crate (shipped gates and recipes under `recipes-wasm/`, test
//! guests under `tests/guests/`) from source for `wasm32-unknown-unknown` with its own
//! target directory under `OUT_DIR`, turns each core module into a component with
//! `wit-component`, and writes `components.rs` naming them.
//!
//! Reproducibility: the guest profile uses one codegen unit, no debug info and no
//! symbols, and paths are remapped, so the bytes do not depend on where the checkout
//! or the target directory lives.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Guest {
    id: String,
    package: String,
    role: &'static str,
    shipped: bool,
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.join("../..").canonicalize().unwrap();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());

    for watched in ["wit", "guest-sdk", "recipes-wasm/gates", "recipes-wasm/recipes", "tests/guests", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-changed={}", root.join("Cargo.toml").display());

    let mut guests = Vec::new();
    collect(&root.join("recipes-wasm/gates"), "gate", true, &mut guests);
    collect(&root.join("recipes-wasm/recipes"), "recipe", true, &mut guests);
    collect(&root.join("tests/guests"), "gate", false, &mut guests);

    let target_dir = out_dir.join("guest-target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .arg("build")
        .arg("--locked")
        .arg("--profile=guest")
        .arg("--target=wasm32-unknown-unknown")
        .arg(format!("--target-dir={}", target_dir.display()));
    for guest in &guests {
        cmd.arg("-p").arg(&guest.package);
    }
    // The outer build's flags are for the host, not for the guests.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PROFILE_RELEASE_DEBUG",
        "CARGO_INCREMENTAL",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        cmd.env_remove(var);
    }
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
    let flags = [
        format!("--remap-path-prefix={}=/andon", root.display()),
        format!("--remap-path-prefix={}=/cargo", cargo_home.display()),
    ];
    cmd.env("CARGO_ENCODED_RUSTFLAGS", flags.join("\u{1f}"));
    let status = cmd.status().expect("failed to run cargo for the guests");
    assert!(status.success(), "building the guest components failed");

    let components_dir = out_dir.join("components");
    std::fs::create_dir_all(&components_dir).unwrap();
    let mut source = String::new();
    let mut shipped = String::new();
    let mut tests = String::new();
    for guest in &guests {
        let core =
            target_dir.join("wasm32-unknown-unknown/guest").join(format!("{}.wasm", guest.package.replace('-', "_")));
        let module = std::fs::read(&core).unwrap_or_else(|e| panic!("reading {}: {e}", core.display()));
        let component = wit_component::ComponentEncoder::default()
            .module(&module)
            .unwrap_or_else(|e| panic!("{}: {e:?}", guest.id))
            .validate(true)
            .encode()
            .unwrap_or_else(|e| panic!("{}: {e:?}", guest.id));
        let path = components_dir.join(format!("{}.wasm", guest.id));
        std::fs::write(&path, &component).unwrap();
        let role = if guest.role == "gate" { "Role::Gate" } else { "Role::Recipe" };
        if guest.shipped {
            writeln!(
                shipped,
                "    ShippedComponent {{ id: {:?}, package: {:?}, role: {role}, path: {:?}, bytes: include_bytes!({:?}) }},",
                guest.id,
                guest.package,
                path.display().to_string(),
                path.display().to_string()
            )
            .unwrap();
        } else {
            writeln!(tests, "    TestGuest {{ id: {:?}, path: {:?} }},", guest.id, path.display().to_string()).unwrap();
        }
    }
    writeln!(source, "/// Every shipped gate and recipe, built from `recipes-wasm/`.").unwrap();
    writeln!(source, "pub const SHIPPED: &[ShippedComponent] = &[\n{shipped}];").unwrap();
    writeln!(source, "/// Test guests from `tests/guests/` (not shipped), by file path.").unwrap();
    writeln!(source, "pub const TEST_GUESTS: &[TestGuest] = &[\n{tests}];").unwrap();
    std::fs::write(out_dir.join("components.rs"), source).unwrap();
}

fn collect(dir: &Path, role: &'static str, shipped: bool, guests: &mut Vec<Guest>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let manifest = path.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        let package = text
            .lines()
            .find_map(|line| {
                let line = line.trim();
                line.strip_prefix("name")
                    .map(str::trim_start)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(|rest| rest.trim().trim_matches('"').to_string())
            })
            .unwrap_or_else(|| panic!("no package name in {}", manifest.display()));
        let id = path.file_name().unwrap().to_string_lossy().into_owned();
        guests.push(Guest { id, package, role, shipped });
    }
}
