//! Bundles: build, sign, verify, load under a trust policy, refuse everything whose
//! bytes, signature or version are not exactly what was published.

use std::path::PathBuf;

use andon_core::AndonEngine;
use andon_core::{Decision, Incident};
use andon_work::bundle::archive::BundleFiles;
use andon_work::bundle::build;
use andon_work::bundle::load::{self, Bundle, LoadOptions};
use andon_work::bundle::manifest::{MANIFEST_FILE, Manifest, Role, SIGNATURE_FILE};
use andon_work::bundle::trust::{self, TrustPolicy, VersionGuard};
use andon_work::bundle::{BundleError, archive};
use andon_work::golden;
use andon_work::pipeline::{self, Stage};
use ed25519_dalek::SigningKey;
use predicates::prelude::PredicateBooleanExt as _;
use rstest::rstest;

fn publisher() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn stranger() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

/// The shipped bundle's files, unsigned.
fn unsigned_files() -> BundleFiles {
    build::build(&crate::support::root().join("recipes-wasm"), &build::shipped(), build::UNSIGNED_KEY_ID).unwrap().1
}

/// Signs bundle files in place (manifest rewritten with the publisher key id).
fn sign(files: &mut BundleFiles, key: &SigningKey) {
    let mut manifest = Manifest::parse(&files[MANIFEST_FILE]).unwrap();
    manifest.publisher_key_id = andon_ledger::keys::ed25519_key_id(&key.verifying_key());
    files.insert(MANIFEST_FILE.into(), build::manifest_json(&manifest));
    files.insert(SIGNATURE_FILE.into(), serde_json::to_vec(&trust::sign(&manifest, key)).unwrap());
}

fn signed_files() -> BundleFiles {
    let mut files = unsigned_files();
    sign(&mut files, &publisher());
    files
}

fn policy() -> TrustPolicy {
    TrustPolicy::single(&publisher().verifying_key(), &["tai-standard-work"])
}

fn load(files: &BundleFiles, trust: Option<&TrustPolicy>) -> Result<Bundle, BundleError> {
    let engine = AndonEngine::new().unwrap();
    Bundle::load(&engine, files, LoadOptions { trust, ..Default::default() })
}

fn edit_manifest(files: &mut BundleFiles, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut value: serde_json::Value = serde_json::from_slice(&files[MANIFEST_FILE]).unwrap();
    edit(&mut value);
    files.insert(MANIFEST_FILE.into(), serde_json::to_vec(&value).unwrap());
}

#[test]
fn shipped_bundle_loads_under_trust_and_every_golden_case_passes_deterministically() {
    let engine = AndonEngine::new().unwrap();
    let policy = policy();
    let bundle =
        Bundle::load(&engine, &signed_files(), LoadOptions { trust: Some(&policy), ..Default::default() }).unwrap();
    assert_eq!(bundle.manifest.name, "tai-standard-work");
    assert_eq!(
        bundle.signer.as_deref(),
        Some(andon_ledger::keys::ed25519_key_id(&publisher().verifying_key()).as_str())
    );
    assert_eq!(bundle.components.len(), 8);
    let routes: Vec<&str> = bundle.manifest.routes.iter().map(|r| r.kind.as_str()).collect();
    assert!(routes.contains(&"config_hash_mismatch") && routes.contains(&"db_connection_timeout"));
    assert!(bundle.golden.iter().any(|(g, _)| g.route.is_some()), "route scenarios are shipped");
    for recipe in bundle.manifest.components.iter().filter(|c| c.role == Role::Recipe) {
        assert!(bundle.golden.iter().any(|(g, _)| g.component.as_deref() == Some(&recipe.id)));
    }
    for (entry, case) in &bundle.golden {
        let result = golden::run_case(&engine, &bundle, entry, case);
        assert!(result.deterministic, "{}: not deterministic", entry.name);
        assert!(result.failures.is_empty(), "{} ({}): {:?}", entry.name, result.target, result.failures);
    }
}

fn decide(json: &str) -> pipeline::Outcome {
    let engine = AndonEngine::new().unwrap();
    let bundle = Bundle::load(&engine, &unsigned_files(), LoadOptions::default()).unwrap();
    let incident = Incident::from_bytes(json.as_bytes(), 1 << 20).unwrap();
    pipeline::decide(&engine, &bundle, &incident)
}

#[test]
fn doctrine_approval_story_escalates_to_the_board() {
    let outcome = decide(
        r#"{"incident_id":"INC-1","kind":"approval_request","severity":"high","evidence":{
            "request":{"amount":1200000,"currency":"USD","threshold":1000000},
            "authorities":{"cfo_available":false,"board_available":true}}}"#,
    );
    let plan = outcome.decision.plan().expect("a plan");
    assert!(plan.steps.iter().any(|s| s.action == "escalate_to_board"));
    assert_eq!(outcome.runs.len(), 2, "gate then recipe ran");
    assert!(plan.checks.iter().any(|c| c.name == "cfo_available" && !c.passed), "gate checks are kept");
}

#[test]
fn threshold_written_as_a_string_is_refused_by_the_ontology_gate_naming_the_field() {
    let outcome = decide(
        r#"{"incident_id":"INC-2","kind":"approval_request","severity":"high","evidence":{
            "request":{"amount":1200000,"currency":"USD","threshold":"1000000"},
            "authorities":{"cfo_available":false,"board_available":true}}}"#,
    );
    assert_eq!(outcome.stage, Stage::Ontology);
    assert!(outcome.runs.is_empty(), "no guest ran");
    let refusal = outcome.decision.refusal().unwrap();
    assert_eq!(refusal.reason, "evidence_schema_violation");
    let check = refusal.checks.iter().find(|c| c.name == "schema:evidence/request/threshold").expect("names the field");
    assert!(check.detail.contains("integer"), "{}", check.detail);
    assert!(!refusal.next_lawful_step.is_empty());
}

#[test]
fn every_failing_field_is_listed_and_missing_fields_are_prerequisites() {
    let outcome = decide(
        r#"{"incident_id":"INC-3","kind":"approval_request","severity":"high","evidence":{
            "request":{"amount":"lots","currency":"usd"}}}"#,
    );
    let refusal = outcome.decision.refusal().unwrap();
    let names: Vec<&str> = refusal.checks.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"schema:evidence/request/amount"), "{names:?}");
    assert!(names.contains(&"schema:evidence/request/currency"), "{names:?}");
    let missing: Vec<&str> = refusal.missing.iter().map(|m| m.name.as_str()).collect();
    assert!(missing.contains(&"evidence/authorities"), "{missing:?}");
    assert!(missing.contains(&"evidence/request/threshold"), "{missing:?}");
}

#[test]
fn unknown_incident_kind_is_refused_as_no_standard_work() {
    let outcome =
        decide(r#"{"incident_id":"INC-4","kind":"coffee_machine_on_fire","severity":"critical","evidence":{}}"#);
    assert_eq!(outcome.stage, Stage::Routing);
    let refusal = outcome.decision.refusal().unwrap();
    assert_eq!(refusal.reason, "no_standard_work");
    assert!(refusal.checks[0].detail.contains("no standard work for this incident class"));
}

#[test]
fn an_unsigned_bundle_is_refused_once_a_trust_policy_exists() {
    let err = load(&unsigned_files(), Some(&policy())).unwrap_err();
    assert!(matches!(err, BundleError::Unsigned(_)), "{err}");
    assert!(err.to_string().contains("unsigned"), "{err}");
}

#[test]
fn a_manifest_changed_after_signing_has_a_bad_signature() {
    let mut files = signed_files();
    edit_manifest(&mut files, |m| m["description"] = "changed after signing".into());
    let err = load(&files, Some(&policy())).unwrap_err();
    assert!(matches!(err, BundleError::BadSignature { .. }), "{err}");
    assert!(err.to_string().contains("changed after signing"), "{err}");
}

#[test]
fn a_forged_signature_does_not_verify() {
    let mut files = signed_files();
    let mut sig: serde_json::Value = serde_json::from_slice(&files[SIGNATURE_FILE]).unwrap();
    let mut raw = hex::decode(sig["signature"].as_str().unwrap()).unwrap();
    raw[10] ^= 1;
    sig["signature"] = hex::encode(raw).into();
    files.insert(SIGNATURE_FILE.into(), serde_json::to_vec(&sig).unwrap());
    let err = load(&files, Some(&policy())).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[test]
fn a_bundle_signed_by_an_untrusted_key_is_refused() {
    let mut files = unsigned_files();
    sign(&mut files, &stranger());
    let err = load(&files, Some(&policy())).unwrap_err();
    assert!(matches!(err, BundleError::UntrustedKey { .. }), "{err}");
    assert!(err.to_string().contains(&andon_ledger::keys::ed25519_key_id(&stranger().verifying_key())), "{err}");
}

#[test]
fn a_trusted_key_is_refused_for_a_bundle_name_it_may_not_publish() {
    let only_other = TrustPolicy::single(&publisher().verifying_key(), &["some-other-bundle"]);
    let err = load(&signed_files(), Some(&only_other)).unwrap_err();
    assert!(matches!(err, BundleError::UntrustedKey { .. }), "{err}");
}

#[test]
fn a_component_whose_bytes_do_not_match_its_hash_is_refused_naming_it() {
    let mut files = signed_files();
    let wasm = files.get_mut("components/config-drift.wasm").unwrap();
    let last = wasm.len() - 1;
    wasm[last] ^= 0xff;
    let err = load(&files, Some(&policy())).unwrap_err();
    assert!(matches!(err, BundleError::HashMismatch { .. }), "{err}");
    assert!(err.to_string().contains("component config-drift"), "{err}");
}

#[test]
fn a_missing_file_is_refused_naming_it() {
    let mut files = signed_files();
    files.remove("schemas/stalled-job.schema.json");
    let err = load(&files, Some(&policy())).unwrap_err();
    assert!(err.to_string().contains("missing file `schemas/stalled-job.schema.json`"), "{err}");
}

#[test]
fn an_extra_unlisted_file_is_refused_naming_it() {
    let mut files = signed_files();
    files.insert("components/backdoor.wasm".into(), b"\0asm".to_vec());
    let err = load(&files, Some(&policy())).unwrap_err();
    assert!(err.to_string().contains("extra unlisted file `components/backdoor.wasm`"), "{err}");
}

#[test]
fn a_lower_version_than_the_one_loaded_is_refused_as_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("versions.json");
    let engine = AndonEngine::new().unwrap();
    let mut newer = unsigned_files();
    edit_manifest(&mut newer, |m| m["version"] = "1.1.0".into());
    let mut guard = VersionGuard::open(&state).unwrap();
    Bundle::load(&engine, &newer, LoadOptions { versions: Some(&mut guard), ..Default::default() }).unwrap();
    // A fresh guard reads the state back: the refusal survives a restart.
    let mut guard = VersionGuard::open(&state).unwrap();
    let err =
        Bundle::load(&engine, &unsigned_files(), LoadOptions { versions: Some(&mut guard), ..Default::default() })
            .unwrap_err();
    assert!(matches!(err, BundleError::Rollback { .. }), "{err}");
    assert!(err.to_string().contains("1.0.0 is lower than the already loaded 1.1.0"), "{err}");
}

#[rstest]
#[case::parent_traversal("../../etc/passwd")]
#[case::absolute_path("/etc/passwd")]
#[case::dot_component("components/./x.wasm")]
fn a_manifest_path_escaping_the_bundle_is_refused(#[case] path: &str) {
    let mut files = unsigned_files();
    edit_manifest(&mut files, |m| m["components"][0]["file"] = path.into());
    let err = load(&files, None).unwrap_err();
    assert!(matches!(err, BundleError::Manifest(_)), "{err}");
    assert!(err.to_string().contains(path) || err.to_string().contains("path"), "{err}");
}

#[rstest]
#[case::missing_field(|m: &mut serde_json::Value| { m.as_object_mut().unwrap().remove("routes"); }, "missing field `routes`")]
#[case::wrong_type(|m: &mut serde_json::Value| m["components"][0]["limits"]["fuel"] = "lots".into(), "components[0].limits.fuel")]
#[case::unknown_role(|m: &mut serde_json::Value| m["components"][1]["role"] = "plugin".into(), "unknown variant `plugin`")]
#[case::duplicate_component_id(|m: &mut serde_json::Value| { let first = m["components"][0].clone(); m["components"].as_array_mut().unwrap().push(first); }, "duplicate component id")]
#[case::routing_to_a_missing_component(|m: &mut serde_json::Value| m["routes"][0]["recipe"] = "ghost-recipe".into(), "names component `ghost-recipe`, which is not in this bundle")]
#[case::gate_used_as_recipe(|m: &mut serde_json::Value| m["routes"][0]["recipe"] = "insurance-active".into(), "which is a gate, not a recipe")]
#[case::unknown_field(|m: &mut serde_json::Value| m["extra"] = true.into(), "unknown field `extra`")]
#[case::bad_hash(|m: &mut serde_json::Value| m["components"][0]["sha256"] = "abc".into(), "not 64 lowercase hex")]
#[case::bad_version(|m: &mut serde_json::Value| m["version"] = "one".into(), "version")]
fn a_malformed_manifest_gets_a_clear_error_not_a_panic(#[case] edit: fn(&mut serde_json::Value), #[case] needle: &str) {
    let mut files = unsigned_files();
    edit_manifest(&mut files, edit);
    let err = load(&files, None).unwrap_err();
    assert!(matches!(err, BundleError::Manifest(_)), "{err}");
    assert!(err.to_string().contains(needle), "{err}");
}

#[test]
fn a_manifest_with_duplicate_keys_is_refused() {
    let mut files = unsigned_files();
    let text = String::from_utf8(files[MANIFEST_FILE].clone()).unwrap();
    let text = text.replacen("\"name\":", "\"name\": \"evil\",\n  \"name\":", 1);
    files.insert(MANIFEST_FILE.into(), text.into_bytes());
    let err = load(&files, None).unwrap_err();
    assert!(err.to_string().contains("duplicate key `name`"), "{err}");
}

fn write_bundle(files: &BundleFiles) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle");
    build::write_dir(files, &path).unwrap();
    (dir, path)
}

#[test]
fn a_bundle_directory_and_its_archive_load_identically() {
    let (dir, path) = write_bundle(&signed_files());
    let archive_path = dir.path().join("bundle.tar.gz");
    let files = load::read_files(&path).unwrap();
    archive::pack(&files, &mut std::fs::File::create(&archive_path).unwrap()).unwrap();
    let engine = AndonEngine::new().unwrap();
    let policy = policy();
    let from_dir =
        Bundle::load_path(&engine, &path, LoadOptions { trust: Some(&policy), ..Default::default() }).unwrap();
    let from_archive =
        Bundle::load_path(&engine, &archive_path, LoadOptions { trust: Some(&policy), ..Default::default() }).unwrap();
    assert_eq!(from_dir.digest, from_archive.digest);
    assert_eq!(from_dir.manifest, from_archive.manifest);
}

#[test]
fn a_symlink_inside_a_bundle_directory_is_refused() {
    let (_dir, path) = write_bundle(&unsigned_files());
    std::os::unix::fs::symlink("/etc/passwd", path.join("components/passwd")).unwrap();
    let err = load::read_files(&path).unwrap_err();
    assert!(err.to_string().contains("components/passwd"), "{err}");
}

#[test]
fn a_faulting_gate_ends_in_an_indeterminate_refusal_not_a_plan() {
    // Swap the approval gate's bytes for the hostile guest and re-hash: a bundle
    // whose gate panics must refuse with reason `indeterminate`.
    let hostile = std::fs::read(andon_recipes::test_guest("hostile").unwrap().path).unwrap();
    let mut files = unsigned_files();
    files.insert("components/approval-threshold.wasm".into(), hostile.clone());
    edit_manifest(&mut files, |m| {
        for c in m["components"].as_array_mut().unwrap() {
            if c["id"] == "approval-threshold" {
                c["sha256"] = andon_core::evidence::sha256_hex(&hostile).into();
            }
        }
    });
    let engine = AndonEngine::new().unwrap();
    let bundle = Bundle::load(&engine, &files, LoadOptions::default()).unwrap();
    let incident = Incident::from_bytes(
        br#"{"incident_id":"INC-9","kind":"approval_request","severity":"high","evidence":{
            "attack":"panic","request":{"amount":1,"currency":"USD","threshold":2},
            "authorities":{"cfo_available":true,"board_available":true}}}"#,
        1 << 20,
    )
    .unwrap();
    let outcome = pipeline::decide(&engine, &bundle, &incident);
    assert!(matches!(outcome.decision, Decision::Refused { .. }));
    assert_eq!(outcome.decision.refusal().unwrap().reason, "indeterminate");
    assert_eq!(outcome.fault, Some(andon_core::FaultClass::Trap));
    assert_eq!(outcome.runs.len(), 1, "the recipe never ran");
}

fn andon() -> assert_cmd::Command {
    assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("andon"))
}

#[test]
fn cli_builds_signs_verifies_inspects_packs_and_tests_the_shipped_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = crate::support::root();
    let bundle = d.join("bundle");
    andon().current_dir(&root).args(["bundle", "build", "-o"]).arg(&bundle).assert().success();
    andon().args(["keys", "generate", "--out"]).arg(d.join("keys")).assert().success();
    andon().args(["bundle", "sign"]).arg(&bundle).arg("--key").arg(d.join("keys/ed25519.key")).assert().success();
    let trust = d.join("trust.json");
    andon()
        .args(["bundle", "trust", "--public-key"])
        .arg(d.join("keys/ed25519.pub"))
        .args(["--bundle", "tai-standard-work", "-o"])
        .arg(&trust)
        .assert()
        .success();
    andon()
        .args(["bundle", "verify"])
        .arg(&bundle)
        .arg("--trust")
        .arg(&trust)
        .assert()
        .success()
        .stdout(predicates::str::contains("signature verified"));
    andon()
        .args(["bundle", "inspect"])
        .arg(&bundle)
        .assert()
        .success()
        .stdout(predicates::str::contains("config_hash_mismatch").and(predicates::str::contains("POL-FIN-007")));
    let archive = d.join("bundle.tar.gz");
    andon().args(["bundle", "pack"]).arg(&bundle).arg("-o").arg(&archive).assert().success();
    andon()
        .args(["bundle", "test"])
        .arg(&archive)
        .arg("--trust")
        .arg(&trust)
        .assert()
        .success()
        .stdout(predicates::str::contains("0 failed").and(predicates::str::contains("identical bytes and fuel")));
    // Tampering after signing: verify refuses with a named problem and a non-zero code.
    let wasm = bundle.join("components/stalled-job.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&wasm, bytes).unwrap();
    andon()
        .args(["bundle", "verify"])
        .arg(&bundle)
        .arg("--trust")
        .arg(&trust)
        .assert()
        .failure()
        .stderr(predicates::str::contains("component stalled-job"));
}

#[test]
fn shipped_components_build_reproducibly_from_clean_target_dirs() {
    let dir = tempfile::tempdir().unwrap();
    andon()
        .current_dir(crate::support::root())
        .args(["bundle", "build", "--check-reproducible", "-o"])
        .arg(dir.path().join("bundle"))
        .timeout(std::time::Duration::from_secs(1500))
        .assert()
        .success()
        .stdout(predicates::str::contains("reproducible: two clean builds and this binary agree"));
}
