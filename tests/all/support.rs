//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use andon_core::{AndonEngine, GuestRequest, Incident, LoadedComponent};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Root of the workspace.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
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

/// The `andon` binary of this build.
pub fn andon() -> assert_cmd::Command {
    assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("andon"))
}

/// A host: keys, a signed shipped bundle, a trust policy and a ledger in a temp dir,
/// set up through the real `andon` binary.
pub struct Host {
    dir: tempfile::TempDir,
}

impl Host {
    /// Generates keys, builds, signs and trusts the shipped bundle in a fresh temp dir.
    pub fn new() -> Host {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        andon().args(["keys", "generate", "--out"]).arg(d.join("keys")).assert().success();
        andon().current_dir(root()).args(["bundle", "build", "-o"]).arg(d.join("bundle")).assert().success();
        andon()
            .args(["bundle", "sign"])
            .arg(d.join("bundle"))
            .arg("--key")
            .arg(d.join("keys/ed25519.key"))
            .assert()
            .success();
        andon()
            .args(["bundle", "trust", "--public-key"])
            .arg(d.join("keys/ed25519.pub"))
            .args(["--bundle", "tai-standard-work", "-o"])
            .arg(d.join("trust.json"))
            .assert()
            .success();
        Host { dir }
    }

    /// The options of `andon mcp` / `andon serve` for this host: `--bundle`,
    /// `--trust`, `--ledger`, `--keys` and `--export-dir`.
    pub fn server_args(&self) -> Vec<std::ffi::OsString> {
        [
            "--bundle",
            "bundle",
            "--trust",
            "trust.json",
            "--ledger",
            "ledger",
            "--keys",
            "keys",
            "--export-dir",
            "exports",
        ]
        .chunks(2)
        .flat_map(|pair| [pair[0].into(), self.path(pair[1]).into_os_string()])
        .collect()
    }

    /// A path inside the host's temp dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Adds `--ledger` and `--keys` of this host.
    pub fn host_args(&self, cmd: &mut assert_cmd::Command) {
        cmd.arg("--ledger").arg(self.path("ledger")).arg("--keys").arg(self.path("keys"));
    }

    /// Submits an evidence document; the exit code and the JSON on stdout.
    pub fn submit(&self, evidence: &str, extra: &[&str]) -> (i32, Value) {
        let file = self.path("evidence.json");
        std::fs::write(&file, evidence).unwrap();
        let mut cmd = andon();
        cmd.args(["incident", "submit"]).arg(&file).arg("--bundle").arg(self.path("bundle"));
        cmd.arg("--trust").arg(self.path("trust.json")).args(extra);
        self.host_args(&mut cmd);
        let out = cmd.output().unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!("stdout: {} stderr: {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        });
        (out.status.code().unwrap(), json)
    }

    /// Runs `andon ARGS --ledger … --keys …`.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        let mut cmd = andon();
        cmd.args(args);
        self.host_args(&mut cmd);
        cmd.assert()
    }

    /// Exports an incident; the archive's path.
    pub fn export(&self, id: &str) -> PathBuf {
        let out = self.path(&format!("evidence-bundle-{id}.tar.gz"));
        let mut cmd = andon();
        // Tests export an incident again on purpose; an existing file needs --force.
        cmd.args(["export", id, "--force", "-o"]).arg(&out);
        self.host_args(&mut cmd);
        cmd.assert().success();
        out
    }

    /// Audits an exported archive with this host's public key.
    pub fn audit(&self, archive: &Path) -> assert_cmd::assert::Assert {
        andon().arg("audit").arg(archive).arg("--public-key").arg(self.path("keys/ed25519.pub")).assert()
    }

    /// The ledger's `receipts.jsonl`.
    pub fn ledger_text(&self) -> String {
        std::fs::read_to_string(self.path("ledger/receipts.jsonl")).unwrap()
    }
}

/// The Python interpreter of the test virtual environment, `<target>/py-venv`, with
/// `tests/python/requirements.txt` installed from the package registry.
///
/// Created on first use (`python3 -m venv`, then `pip install -r`), once per process
/// (a `OnceLock`) and once across concurrent test processes (an exclusive lock on
/// `<target>/py-venv.lock`). The marker `.installed-<SHA-256 of requirements.txt>`
/// skips the install when the venv already has exactly these requirements; a change
/// to the file rebuilds the venv from scratch. Panics with pip's output when the
/// install fails: a test needing Python never silently skips.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(install_venv).clone()
}

/// `target/` (or `$CARGO_TARGET_DIR`): two levels above the `andon` binary of this build.
fn target_dir() -> PathBuf {
    let bin = assert_cmd::cargo::cargo_bin!("andon");
    bin.parent().and_then(Path::parent).expect("the andon binary is in <target>/<profile>/").to_path_buf()
}

fn install_venv() -> PathBuf {
    let target = target_dir();
    let venv = target.join("py-venv");
    let requirements = root().join("tests/python/requirements.txt");
    let digest = hex::encode(Sha256::digest(std::fs::read(&requirements).expect("tests/python/requirements.txt")));
    let marker = venv.join(format!(".installed-{digest}"));
    let python = if cfg!(windows) { venv.join("Scripts/python.exe") } else { venv.join("bin/python") };

    std::fs::create_dir_all(&target).unwrap();
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(target.join("py-venv.lock"))
        .expect("open the py-venv lock file");
    lock.lock().expect("lock the py-venv lock file");
    if !(marker.is_file() && python.exists()) {
        let interpreter = std::env::var_os("ANDON_TEST_PYTHON").unwrap_or_else(|| "python3".into());
        run_python_setup(
            Command::new(&interpreter).args(["-m", "venv", "--clear"]).arg(&venv),
            &format!(
                "{} -m venv --clear {} (Python >= 3.10 with venv is required)",
                interpreter.display(),
                venv.display()
            ),
        );
        run_python_setup(
            Command::new(&python)
                .args(["-m", "pip", "install", "-q", "--disable-pip-version-check", "-r"])
                .arg(&requirements),
            &format!("pip install -r {}", requirements.display()),
        );
        std::fs::write(&marker, format!("{}\n", requirements.display())).unwrap();
    }
    drop(lock);
    python
}

fn run_python_setup(cmd: &mut Command, what: &str) {
    cmd.env_remove("PYTHONPATH").env_remove("PYTHONHOME").env_remove("PIP_REQUIRE_VIRTUALENV");
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
