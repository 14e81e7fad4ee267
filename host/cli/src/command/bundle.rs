//! `andon bundle …`: build, sign, verify, inspect, test, pack, trust.

use std::path::Path;

use andon_core::AndonEngine;
use andon_work::bundle::build;
use andon_work::bundle::load::{self, Bundle, LoadOptions};
use andon_work::bundle::manifest::{MANIFEST_FILE, Manifest, SIGNATURE_FILE};
use andon_work::bundle::trust::{self, TrustPolicy};
use andon_work::bundle::{BundleError, archive};
use andon_work::golden::{self, CaseResult};
use anyhow::bail;
use serde_json::json;

use super::print_json;
use crate::cli::Format;
use crate::cli::bundle::{
    BuildArgs, BundleArgs, BundleCommand, InspectArgs, PackArgs, SignArgs, TestArgs, TrustArgs, VerifyArgs,
};
use crate::exit::Exit;

pub fn run(args: &BundleArgs) -> anyhow::Result<Exit> {
    match &args.command {
        BundleCommand::Build(a) => build_cmd(a),
        BundleCommand::Sign(a) => sign_cmd(a),
        BundleCommand::Verify(a) => verify_cmd(a),
        BundleCommand::Inspect(a) => inspect_cmd(a),
        BundleCommand::Test(a) => test_cmd(a),
        BundleCommand::Pack(a) => pack_cmd(a),
        BundleCommand::Trust(a) => trust_cmd(a),
    }
}

fn build_cmd(args: &BuildArgs) -> anyhow::Result<Exit> {
    if args.check_reproducible {
        check_reproducible(&args.source)?;
    }
    let (manifest, files) = build::build(&args.source, &build::shipped(), build::UNSIGNED_KEY_ID)?;
    build::write_dir(&files, &args.out)?;
    outln!("built bundle {} {} into {}", manifest.name, manifest.version, args.out.display());
    for c in &manifest.components {
        outln!("  {:<30} {:<6} {}", c.id, format!("{:?}", c.role).to_lowercase(), c.sha256);
    }
    outln!("  digest {}", manifest.digest());
    Ok(Exit::Ok)
}

fn check_reproducible(source: &Path) -> anyhow::Result<()> {
    let root = source.join("..");
    let mut builds = Vec::new();
    for round in 1..=2 {
        let target = tempfile::Builder::new().prefix(&format!("andon-repro-{round}-")).tempdir()?;
        note!("reproducibility: building every guest from source into a clean target dir ({round}/2)…");
        builds.push(andon_guest_build::build_shipped(&root, target.path()).map_err(anyhow::Error::msg)?);
    }
    let mut mismatches = Vec::new();
    for (a, b) in builds[0].iter().zip(&builds[1]) {
        let (ha, hb) = (andon_core::evidence::sha256_hex(&a.component), andon_core::evidence::sha256_hex(&b.component));
        let embedded = andon_recipes::shipped(&a.id).map(|c| andon_core::evidence::sha256_hex(c.bytes));
        let same_as_embedded = embedded.as_ref().is_none_or(|e| *e == ha);
        outln!("  {:<30} {}{}", a.id, ha, if ha == hb && same_as_embedded { "  reproducible" } else { "  DIFFERS" });
        if ha != hb || !same_as_embedded {
            mismatches.push(a.id.clone());
        }
    }
    if mismatches.is_empty() {
        outln!("reproducible: two clean builds and this binary agree on every component hash");
        Ok(())
    } else {
        bail!("not reproducible: {}", mismatches.join(", "))
    }
}

fn read_signing_key(path: &Path) -> anyhow::Result<ed25519_dalek::SigningKey> {
    let (_, key) = andon_ledger::keys::load_signing_key(path)?;
    Ok(key)
}

fn sign_cmd(args: &SignArgs) -> anyhow::Result<Exit> {
    let key = read_signing_key(&args.key)?;
    let (manifest, signature) = trust::sign_dir(&args.bundle, &key)?;
    outln!(
        "signed {} {} with {} (manifest sha256 {})",
        manifest.name,
        manifest.version,
        signature.key_id,
        signature.manifest_sha256
    );
    Ok(Exit::Ok)
}

fn load_trust(path: Option<&Path>) -> anyhow::Result<Option<TrustPolicy>> {
    path.map(TrustPolicy::load).transpose().map_err(Into::into)
}

fn verify_cmd(args: &VerifyArgs) -> anyhow::Result<Exit> {
    let trust = load_trust(args.trust.as_deref())?;
    let files = load::read_files(&args.bundle)?;
    let (manifest, signer) = load::verify_files(&files, trust.as_ref())?;
    match args.format {
        Format::Json => print_json(&json!({
            "bundle": manifest.name, "version": manifest.version.to_string(), "digest": manifest.digest(),
            "files_verified": manifest.listed_files().len(), "signed_by": signer,
            "signature": if signer.is_some() { "verified" } else if files.contains_key(SIGNATURE_FILE) { "present, not verified (no trust policy)" } else { "absent" },
        }))?,
        Format::Text => {
            outln!("bundle    {} {}", manifest.name, manifest.version);
            outln!("digest    {}", manifest.digest());
            outln!("files     {} listed, every sha256 matches, no unlisted file", manifest.listed_files().len());
            match signer {
                Some(key) => outln!("signature verified: signed by trusted key {key}"),
                None if files.contains_key(SIGNATURE_FILE) => {
                    outln!("signature present but not verified: no trust policy given (--trust)")
                }
                None => outln!("signature absent (unsigned bundle)"),
            }
        }
    }
    Ok(Exit::Ok)
}

fn inspect_cmd(args: &InspectArgs) -> anyhow::Result<Exit> {
    let files = load::read_files(&args.bundle)?;
    let bytes = files.get(MANIFEST_FILE).ok_or_else(|| BundleError::MissingFile(MANIFEST_FILE.into()))?;
    let manifest = Manifest::parse(bytes)?;
    if args.format == Format::Json {
        print_json(&json!({"manifest": manifest, "digest": manifest.digest()}))?;
        return Ok(Exit::Ok);
    }
    outln!(
        "{} {} ({}), publisher {}",
        manifest.name,
        manifest.version,
        manifest.wit_package,
        manifest.publisher_key_id
    );
    outln!("digest {}\n", manifest.digest());
    outln!("routes");
    for route in &manifest.routes {
        let gates: Vec<&str> = route.gates.iter().map(|g| g.component.as_str()).collect();
        outln!("  {:<24} gates [{}] → recipe {}", route.kind, gates.join(", "), route.recipe);
    }
    outln!("\ncomponents");
    for c in &manifest.components {
        outln!(
            "  {:<30} {:<6} v{:<6} fuel {:>10}  mem {:>4} MiB  deadline {:>5} ms  out {:>7} B  policies {}",
            c.id,
            format!("{:?}", c.role).to_lowercase(),
            c.version,
            c.limits.fuel,
            c.limits.memory_bytes >> 20,
            c.limits.deadline_ms,
            c.limits.max_output_bytes,
            c.policies.join(", ")
        );
        outln!("  {:<30} sha256 {}", "", c.sha256);
    }
    outln!("\nrecipes");
    for (id, spec) in &manifest.recipes {
        outln!("  {:<30} prerequisites [{}], schema {}", id, spec.prerequisites.join(", "), spec.evidence_schema.file);
    }
    outln!("\n{} golden cases", manifest.golden.len());
    Ok(Exit::Ok)
}

fn test_cmd(args: &TestArgs) -> anyhow::Result<Exit> {
    let trust = load_trust(args.trust.as_deref())?;
    let engine = AndonEngine::new()?;
    let cache = args.cache.as_deref().map(andon_core::cache::CodeCache::open).transpose()?;
    let bundle = Bundle::load_path(
        &engine,
        &args.bundle,
        LoadOptions { trust: trust.as_ref(), versions: None, cache: cache.as_ref() },
    )?;
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(bundle.golden.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}").expect("valid template"));
    let mut results: Vec<CaseResult> = Vec::new();
    for (entry, case) in &bundle.golden {
        bar.set_message(entry.name.clone());
        results.push(golden::run_case(&engine, &bundle, entry, case));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let failed: Vec<&CaseResult> = results.iter().filter(|r| !r.passed()).collect();
    match args.format {
        Format::Json => print_json(
            &json!({"bundle": bundle.manifest.name, "version": bundle.manifest.version.to_string(), "cases": results, "failed": failed.len()}),
        )?,
        Format::Text => {
            for r in &results {
                outln!(
                    "{} {:<40} {:<34} {:<8} fuel {:>9}{}",
                    if r.passed() { "ok  " } else { "FAIL" },
                    r.name,
                    r.target,
                    r.outcome,
                    r.fuel,
                    if r.failures.is_empty() { String::new() } else { format!("  ({})", r.failures.join("; ")) }
                );
            }
            outln!(
                "\n{} golden cases: {} passed, {} failed; each run twice in fresh instances: {}",
                results.len(),
                results.len() - failed.len(),
                failed.len(),
                if results.iter().all(|r| r.deterministic) { "identical bytes and fuel" } else { "NOT deterministic" }
            );
        }
    }
    if failed.is_empty() {
        Ok(Exit::Ok)
    } else {
        eprintln!("error: {} golden case(s) failed", failed.len());
        Ok(Exit::BundleRefused)
    }
}

fn pack_cmd(args: &PackArgs) -> anyhow::Result<Exit> {
    let files = load::read_files(&args.bundle)?;
    archive::write_file(&files, &args.out)?;
    outln!("packed {} files into {}", files.len(), args.out.display());
    Ok(Exit::Ok)
}

fn trust_cmd(args: &TrustArgs) -> anyhow::Result<Exit> {
    let (_, key) = andon_ledger::keys::load_verifying_key(&args.public_key)?;
    let names: Vec<&str> = args.bundles.iter().map(String::as_str).collect();
    let policy = TrustPolicy::single(&key, &names);
    std::fs::write(&args.out, serde_json::to_vec_pretty(&policy)?)?;
    outln!(
        "trust policy {} trusts {} for {}",
        args.out.display(),
        andon_ledger::keys::ed25519_key_id(&key),
        names.join(", ")
    );
    Ok(Exit::Ok)
}
