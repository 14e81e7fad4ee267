//! Bundle manifest, bundle signature and trust policy parsing. The first input
//! byte picks the document; the rest is its bytes.
//!
//! Never a panic. An accepted manifest survives its own round trip: its pretty
//! `manifest.json` and its RFC 8785 form parse again to the same manifest (so the
//! signed bytes and the digest are stable). An accepted trust policy has publishers
//! whose keys parse.
#![no_main]

use andon_work::bundle::Manifest;
use andon_work::bundle::build::manifest_json;
use andon_work::bundle::trust::{BundleSignature, TrustPolicy, parse_public_key};
use libfuzzer_sys::fuzz_target;

fn policy_file() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temp dir")).path()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    match pick % 3 {
        0 => {
            let Ok(manifest) = Manifest::parse(bytes) else {
                return;
            };
            let pretty = Manifest::parse(&manifest_json(&manifest)).expect("manifest.json of a manifest parses");
            assert_eq!(pretty, manifest);
            let canonical = Manifest::parse(&manifest.canonical_bytes()).expect("RFC 8785 form parses");
            assert_eq!(canonical, manifest);
            assert_eq!(canonical.digest(), manifest.digest());
            for (file, _, _) in manifest.listed_files() {
                andon_work::bundle::archive::validate_relative_path(&file).expect("listed paths are valid");
            }
        }
        1 => {
            let _ = BundleSignature::parse(bytes).map_err(|e| e.to_string());
        }
        _ => {
            let path = policy_file().join("trust.json");
            std::fs::write(&path, bytes).expect("write the policy");
            if let Ok(policy) = TrustPolicy::load(&path) {
                for publisher in &policy.publishers {
                    parse_public_key(&publisher.public_key).expect("accepted keys parse");
                    for bundle in &publisher.bundles {
                        let _ = policy.key_for(&publisher.key_id, bundle);
                    }
                }
            }
        }
    }
});
