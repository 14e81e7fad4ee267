//! Builds every Andon guest crate (shipped gates and recipes under `recipes-wasm/`,
//! test guests under `tests/guests/`) from source for `wasm32-unknown-unknown` into a
//! given target directory, and turns each core module into a component with
//! `wit-component`.
//!
//! Used by `recipes-wasm/artifacts/build.rs` (the normal build) and by
//! `andon bundle build --check-reproducible` (two clean builds compared).
//!
//! Reproducibility: the `guest` profile uses one codegen unit, no debug info and no
//! symbols, and paths are remapped (`/andon` for the workspace, `/cargo` for the
//! cargo home), so the bytes do not depend on where the checkout or the target
//! directory lives.
//!
//! # Example
//!
//! ```no_run
//! let root = std::path::Path::new(".");
//! for guest in andon_guest_build::discover(root) {
//!     println!("{} ({}) shipped: {}", guest.id, guest.role, guest.shipped);
//! }
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;

/// A guest crate found in the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    /// Component id (the directory name).
    pub id: String,
    /// Cargo package name.
    pub package: String,
    /// `gate` or `recipe`.
    pub role: &'static str,
    /// Shipped (under `recipes-wasm/`) or a test guest (under `tests/guests/`).
    pub shipped: bool,
}

/// A guest built into a component.
#[derive(Debug, Clone)]
pub struct BuiltGuest {
    /// Component id.
    pub id: String,
    /// `gate` or `recipe`.
    pub role: &'static str,
    /// Shipped or test guest.
    pub shipped: bool,
    /// The component bytes.
    pub component: Vec<u8>,
}

/// Finds every guest crate below `root`, sorted by role then id.
pub fn discover(root: &Path) -> Vec<Guest> {
    let mut guests = Vec::new();
    collect(&root.join("recipes-wasm/gates"), "gate", true, &mut guests);
    collect(&root.join("recipes-wasm/recipes"), "recipe", true, &mut guests);
    collect(&root.join("tests/guests"), "gate", false, &mut guests);
    guests
}

fn collect(dir: &Path, role: &'static str, shipped: bool, guests: &mut Vec<Guest>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let Ok(text) = std::fs::read_to_string(path.join("Cargo.toml")) else { continue };
        let Some(package) = text.lines().find_map(|line| {
            line.trim()
                .strip_prefix("name")
                .map(str::trim_start)
                .and_then(|rest| rest.strip_prefix('='))
                .map(|rest| rest.trim().trim_matches('"').to_string())
        }) else {
            continue;
        };
        let id = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        guests.push(Guest { id, package, role, shipped });
    }
}

/// Builds `guests` from the workspace at `root` into `target_dir` and componentizes
/// them.
///
/// # Errors
/// A message when cargo fails or a module cannot be turned into a component.
pub fn build(root: &Path, target_dir: &Path, guests: &[Guest]) -> Result<Vec<BuiltGuest>, String> {
    let root = root.canonicalize().map_err(|e| format!("workspace root {}: {e}", root.display()))?;
    ensure_wasm_target()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .arg("build")
        .arg("--locked")
        .arg("--profile=guest")
        .arg(format!("--target={WASM_TARGET}"))
        .arg(format!("--target-dir={}", target_dir.display()));
    for guest in guests {
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
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the guest components failed ({status})"));
    }
    let mut built = Vec::new();
    for guest in guests {
        let core = target_dir.join(WASM_TARGET).join("guest").join(format!("{}.wasm", guest.package.replace('-', "_")));
        let module = std::fs::read(&core).map_err(|e| format!("reading {}: {e}", core.display()))?;
        let component = wit_component::ComponentEncoder::default()
            .module(&module)
            .and_then(|encoder| encoder.validate(true).encode())
            .map_err(|e| format!("{}: {e:?}", guest.id))?;
        built.push(BuiltGuest { id: guest.id.clone(), role: guest.role, shipped: guest.shipped, component });
    }
    Ok(built)
}

/// The target every guest is built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Makes sure the active toolchain has the [`WASM_TARGET`] standard library,
/// installing it with `rustup target add` when it is missing; says whether it did.
///
/// `rust-toolchain.toml` names the target, but rustup installs nothing by itself
/// where `RUSTUP_AUTO_INSTALL=0`, so a fresh machine would otherwise fail deep inside
/// the guest build with "can't find crate for `std`".
///
/// # Errors
/// One line naming the toolchain and the command to run by hand, when the sysroot
/// cannot be found or `rustup target add` fails.
pub fn ensure_wasm_target() -> Result<bool, String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run `{rustc} --print sysroot`: {e}"))?;
    if !sysroot.status.success() {
        return Err(format!("`{rustc} --print sysroot` failed ({})", sysroot.status));
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    let target_lib = sysroot.join("lib/rustlib").join(WASM_TARGET).join("lib");
    if has_std(&target_lib) {
        return Ok(false);
    }
    // Name the toolchain by its sysroot folder (what rustup calls it), so the target is
    // added to the toolchain that is building, not to rustup's default.
    let toolchain = std::env::var("RUSTUP_TOOLCHAIN")
        .ok()
        .or_else(|| sysroot.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let manual = format!("run `rustup target add {WASM_TARGET} --toolchain {toolchain}` and build again");
    let mut add = Command::new("rustup");
    add.args(["target", "add", WASM_TARGET]);
    if !toolchain.is_empty() {
        add.args(["--toolchain", &toolchain]);
    }
    let status = add
        .status()
        .map_err(|e| format!("the {WASM_TARGET} target is missing and rustup cannot be run ({e}): {manual}"))?;
    if !status.success() || !has_std(&target_lib) {
        return Err(format!("the {WASM_TARGET} target is missing and `rustup target add` failed ({status}): {manual}"));
    }
    Ok(true)
}

fn has_std(target_lib: &Path) -> bool {
    std::fs::read_dir(target_lib).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}

/// Builds the shipped guests only.
///
/// # Errors
/// See [`build`].
pub fn build_shipped(root: &Path, target_dir: &Path) -> Result<Vec<BuiltGuest>, String> {
    let guests: Vec<Guest> = discover(root).into_iter().filter(|g| g.shipped).collect();
    build(root, target_dir, &guests)
}
