//! The bundle archive reader (`andon_work::bundle::archive::unpack`), differential
//! against the reference readers: `flate2`'s `MultiGzDecoder` (every gzip member,
//! as `gzip -d` and GNU tar read them) under the `tar` crate, once stopping at the
//! end-of-archive marker as tar does and once reading past zero blocks as
//! `tar --ignore-zeros` does. Whatever our reader accepts, both reference readers
//! must read exactly the same regular files with the same bytes, and nothing else
//! but directories: an archive that two readers would read differently must be
//! refused.
//!
//! The first input byte picks how the rest becomes a file: as is (the gzip layer
//! fuzzed), gzipped (the tar layer fuzzed), split into two gzip members, or gzipped
//! with the tail appended raw after the member. An accepted archive also survives
//! `pack` then `unpack` unchanged.
#![no_main]

use std::collections::BTreeMap;
use std::io::{Read, Write};

use andon_work::bundle::archive::{ArchiveLimits, BundleFiles, pack, unpack};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;

const LIMITS: ArchiveLimits = ArchiveLimits { max_entries: 1000, max_entry_bytes: 1 << 20, max_total_bytes: 4 << 20 };

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn file_of(data: &[u8]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    match mode % 4 {
        0 => rest.to_vec(),
        1 => gzip(rest),
        2 => {
            let half = rest.len() / 2;
            let mut file = gzip(&rest[..half]);
            file.extend(gzip(&rest[half..]));
            file
        }
        _ => {
            let (tar, tail) = rest.split_at(rest.len() * 7 / 8);
            let mut file = gzip(tar);
            file.extend_from_slice(tail);
            file
        }
    }
}

/// `a/./b//c` as `a/b/c`, the way a filesystem resolves it (`..` is kept, so that
/// it shows up as a difference).
fn normalize(path: &std::path::Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// What the reference readers see: regular files by normalized path, or why they
/// read something ours would not have accepted.
fn reference(file: &[u8], ignore_zeros: bool) -> Result<BundleFiles, String> {
    let decoder = MultiGzDecoder::new(file).take(64 << 20);
    let mut archive = tar::Archive::new(decoder);
    archive.set_ignore_zeros(ignore_zeros);
    let mut files = BTreeMap::new();
    for entry in archive.entries().map_err(|e| format!("entries: {e}"))? {
        let mut entry = entry.map_err(|e| format!("entry: {e}"))?;
        let kind = entry.header().entry_type();
        let path = entry.path().map_err(|e| format!("path: {e}"))?.into_owned();
        if kind.is_dir() {
            continue;
        }
        if kind.is_pax_global_extensions() {
            continue;
        }
        if !kind.is_file() {
            return Err(format!("{path:?} is a {kind:?}"));
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|e| format!("read {path:?}: {e}"))?;
        let key = normalize(&path);
        if files.insert(key.clone(), data).is_some() {
            return Err(format!("{key:?} twice"));
        }
    }
    Ok(files)
}

fuzz_target!(|data: &[u8]| {
    let file = file_of(data);
    let Ok(ours) = unpack(file.as_slice(), &LIMITS) else {
        return;
    };
    for ignore_zeros in [false, true] {
        match reference(&file, ignore_zeros) {
            Ok(theirs) => assert!(
                theirs == ours,
                "ignore_zeros {ignore_zeros}: the reference reads other files: ours {:?}, theirs {:?}",
                ours.keys().collect::<Vec<_>>(),
                theirs.keys().collect::<Vec<_>>()
            ),
            Err(why) => panic!("ignore_zeros {ignore_zeros}: ours accepted, the reference reader: {why}"),
        }
    }
    let mut packed = Vec::new();
    pack(&ours, &mut packed).expect("pack what was unpacked");
    assert_eq!(unpack(packed.as_slice(), &LIMITS).expect("unpack what was packed"), ours);
});
