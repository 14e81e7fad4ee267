//! Bundle archives: every hostile archive is built here, in the test, with the `tar`
//! crate (raw headers where its builder would refuse the path), and each refusal is
//! checked for its variant and for a message that names the entry or the limit.

use std::io::{self, Read};

use andon_work::bundle::archive::{
    ArchiveError, ArchiveLimits, BundleFiles, LinkKind, pack, read_dir_files, unpack, validate_relative_path,
};
use flate2::Compression;
use flate2::write::GzEncoder;
use rstest::rstest;
use tar::{Builder, EntryType, Header};

/// A GNU header whose name field is written byte for byte, bypassing the builder's
/// path checks (it refuses `..` and absolute paths).
fn raw_header(name: &[u8], kind: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    header
}

/// A gzip-compressed tar stream built by `build`.
fn targz(build: impl FnOnce(&mut Builder<GzEncoder<Vec<u8>>>)) -> Vec<u8> {
    let mut builder = Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    build(&mut builder);
    builder.into_inner().unwrap().finish().unwrap()
}

fn file(builder: &mut Builder<GzEncoder<Vec<u8>>>, name: &str, data: &[u8]) {
    builder.append(&raw_header(name.as_bytes(), EntryType::Regular, data.len() as u64), data).unwrap();
}

fn refuse(archive: &[u8]) -> ArchiveError {
    refuse_with(archive, &ArchiveLimits::default())
}

fn refuse_with(archive: &[u8], limits: &ArchiveLimits) -> ArchiveError {
    match unpack(archive, limits) {
        Ok(files) => panic!("archive accepted: {:?}", files.keys().collect::<Vec<_>>()),
        Err(e) => e,
    }
}

#[rstest]
#[case::leading("../evil.wasm")]
#[case::inner("components/../../evil.wasm")]
#[case::trailing("components/..")]
fn refuses_parent_directory_traversal(#[case] name: &str) {
    let err = refuse(&targz(|b| file(b, name, b"payload")));
    assert!(matches!(&err, ArchiveError::PathTraversal { path } if path == name), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(name) && message.contains("escapes the bundle"), "{message}");
}

#[rstest]
#[case::root("/etc/passwd")]
#[case::drive("C:/Windows/evil.dll")]
#[case::drive_relative("c:evil")]
fn refuses_absolute_path(#[case] name: &str) {
    let err = refuse(&targz(|b| file(b, name, b"payload")));
    assert!(matches!(&err, ArchiveError::AbsolutePath { path } if path == name), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(name) && message.contains("absolute path"), "{message}");
}

#[test]
fn refuses_traversal_hidden_in_a_pax_path() {
    let archive = targz(|b| {
        b.append_pax_extensions([("path", &b"../../etc/cron.d/evil"[..])]).unwrap();
        file(b, "innocent.json", b"{}");
    });
    let err = refuse(&archive);
    assert!(matches!(&err, ArchiveError::PathTraversal { path } if path == "../../etc/cron.d/evil"), "{err:?}");
    assert!(err.to_string().contains("../../etc/cron.d/evil"));
}

#[test]
fn refuses_traversal_hidden_in_a_gnu_long_name() {
    let long = format!("{}/../../../evil", "a/".repeat(60));
    let archive = targz(|b| {
        let mut name = long.clone().into_bytes();
        name.push(0);
        b.append(&raw_header(b"././@LongLink", EntryType::GNULongName, name.len() as u64), name.as_slice()).unwrap();
        file(b, "innocent.json", b"{}");
    });
    let err = refuse(&archive);
    assert!(matches!(&err, ArchiveError::PathTraversal { path } if *path == long), "{err:?}");
}

#[test]
fn refuses_an_oversized_extension_record_before_reading_it() {
    // A GNU long name that claims 1 GiB: the tar crate alone would buffer it whole.
    let archive = targz(|b| {
        let header = raw_header(b"././@LongLink", EntryType::GNULongName, 1 << 30);
        b.append(&header, io::repeat(b'a').take(1 << 20)).unwrap();
    });
    let err = refuse(&archive);
    assert!(matches!(&err, ArchiveError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("gnu long-name record of 1073741824 bytes"), "{err}");
}

#[test]
fn refuses_symlink() {
    let archive = targz(|b| {
        let mut header = raw_header(b"components/gate.wasm", EntryType::Symlink, 0);
        header.set_link_name("/etc/passwd").unwrap();
        header.set_cksum();
        b.append(&header, io::empty()).unwrap();
    });
    let err = refuse(&archive);
    assert!(
        matches!(&err, ArchiveError::Link { path, kind: LinkKind::Symlink } if path == "components/gate.wasm"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("components/gate.wasm") && message.contains("symbolic link"), "{message}");
}

#[test]
fn refuses_hard_link() {
    let archive = targz(|b| {
        file(b, "manifest.json", b"{}");
        let mut header = raw_header(b"copy.json", EntryType::Link, 0);
        header.set_link_name("manifest.json").unwrap();
        header.set_cksum();
        b.append(&header, io::empty()).unwrap();
    });
    let err = refuse(&archive);
    assert!(matches!(&err, ArchiveError::Link { path, kind: LinkKind::HardLink } if path == "copy.json"), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("copy.json") && message.contains("hard link"), "{message}");
}

#[rstest]
#[case::fifo(EntryType::Fifo, "fifo")]
#[case::char_device(EntryType::Char, "character device")]
#[case::block_device(EntryType::Block, "block device")]
#[case::unknown(EntryType::new(b'V'), "unknown type 'V'")]
fn refuses_special_entries(#[case] kind: EntryType, #[case] named: &str) {
    let err = refuse(&targz(|b| b.append(&raw_header(b"dev/zero", kind, 0), io::empty()).unwrap()));
    assert!(matches!(&err, ArchiveError::UnsupportedEntry { path, .. } if path == "dev/zero"), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("dev/zero") && message.contains(named), "{message}");
}

#[rstest]
#[case::same("a/b", "a/b")]
#[case::double_slash("a/b", "a//b")]
#[case::dot_prefix("a/b", "./a/b")]
#[case::inner_dot("a/b", "a/./b")]
fn refuses_duplicate_entries(#[case] first: &str, #[case] second: &str) {
    let archive = targz(|b| {
        file(b, first, b"original");
        file(b, second, b"replacement");
    });
    let err = refuse(&archive);
    assert!(matches!(&err, ArchiveError::DuplicateEntry { path } if path == second), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(second) && message.contains("duplicate entry"), "{message}");
}

#[test]
fn refuses_a_file_that_is_also_a_directory() {
    let err = refuse(&targz(|b| {
        file(b, "components", b"a file");
        file(b, "components/gate.wasm", b"\0asm");
    }));
    assert!(matches!(&err, ArchiveError::PathConflict { path } if path == "components"), "{err:?}");
}

#[test]
fn refuses_too_many_entries() {
    let limit = ArchiveLimits::default().max_entries;
    let archive = targz(|b| {
        for i in 0..=limit {
            file(b, &format!("golden/case-{i}.json"), b"{}");
        }
    });
    let err = refuse(&archive);
    assert!(matches!(err, ArchiveError::TooManyEntries { limit: 1_000 }), "{err:?}");
    assert!(err.to_string().contains("too many entries: the limit is 1000"), "{err}");
}

#[test]
fn refuses_one_oversize_entry_of_a_gzip_bomb_without_reading_it() {
    // 100 MiB of zeros compresses to about 100 KiB; the header alone is enough to
    // refuse it, so only the start of the stream is decoded.
    let size = 100u64 << 20;
    let archive = targz(|b| {
        b.append(&raw_header(b"components/bomb.wasm", EntryType::Regular, size), io::repeat(0).take(size)).unwrap();
    });
    assert!(archive.len() < 1 << 20, "the bomb is small compressed: {} bytes", archive.len());
    let err = refuse(&archive);
    assert!(
        matches!(&err, ArchiveError::EntryTooLarge { path, limit } if path == "components/bomb.wasm" && *limit == 64 << 20),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("components/bomb.wasm") && message.contains("67108864 bytes per entry"), "{message}");
}

#[test]
fn counts_entry_bytes_actually_read_under_lowered_limits() {
    let limits = ArchiveLimits { max_entries: 10, max_entry_bytes: 1024, max_total_bytes: 4096 };
    let err = refuse_with(&targz(|b| file(b, "big.json", &[b' '; 1025])), &limits);
    assert!(matches!(&err, ArchiveError::EntryTooLarge { path, limit: 1024 } if path == "big.json"), "{err:?}");
    let files = unpack(targz(|b| file(b, "exact.json", &[b' '; 1024])).as_slice(), &limits).unwrap();
    assert_eq!(files["exact.json"].len(), 1024);
}

#[test]
fn refuses_a_total_size_gzip_bomb() {
    // Five entries of 60 MiB each: under the 64 MiB per-entry cap, over the 256 MiB
    // total. 300 MiB of zeros, streamed into gzip in chunks, compresses to ~300 KiB.
    let entry = 60u64 << 20;
    let archive = targz(|b| {
        for i in 0..5 {
            let header = raw_header(format!("components/part-{i}.wasm").as_bytes(), EntryType::Regular, entry);
            b.append(&header, io::repeat(0).take(entry)).unwrap();
        }
    });
    assert!(archive.len() < 2 << 20, "the bomb is small compressed: {} bytes", archive.len());
    let err = refuse(&archive);
    assert!(matches!(err, ArchiveError::TotalTooLarge { limit } if limit == 256 << 20), "{err:?}");
    assert!(err.to_string().contains("more than the limit of 268435456 bytes in total"), "{err}");
}

#[test]
fn refuses_a_pax_size_that_disagrees_with_the_header() {
    // Readers that honour PAX `size` would see different contents than the header.
    let archive = targz(|b| {
        b.append_pax_extensions([("size", &b"3"[..])]).unwrap();
        file(b, "manifest.json", b"{}{}{}");
    });
    let err = refuse(&archive);
    assert!(matches!(&err, ArchiveError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("\"manifest.json\": the pax size disagrees"), "{err}");
}

#[test]
fn refuses_data_that_is_not_gzip() {
    let err = refuse(b"PK\x03\x04 this is a zip file");
    assert!(matches!(&err, ArchiveError::Corrupt { source: Some(_), .. }), "{err:?}");
}

#[test]
fn accepts_directory_entries_and_a_dot_root_like_tar_c_dir_dot() {
    let archive = targz(|b| {
        b.append(&raw_header(b"./", EntryType::Directory, 0), io::empty()).unwrap();
        b.append(&raw_header(b"./components/", EntryType::Directory, 0), io::empty()).unwrap();
        file(b, "./components/gate.wasm", b"\0asm");
        file(b, "./manifest.json", b"{}");
    });
    let files = unpack(archive.as_slice(), &ArchiveLimits::default()).unwrap();
    assert_eq!(files.keys().collect::<Vec<_>>(), ["components/gate.wasm", "manifest.json"]);
}

#[test]
fn validates_directory_entry_paths_too() {
    let err = refuse(&targz(|b| b.append(&raw_header(b"../outside/", EntryType::Directory, 0), io::empty()).unwrap()));
    assert!(matches!(&err, ArchiveError::PathTraversal { path } if path == "../outside/"), "{err:?}");
}

fn sample_files() -> BundleFiles {
    let mut files = BundleFiles::new();
    files.insert("manifest.json".into(), br#"{"name":"tai-standard-work"}"#.to_vec());
    files.insert("components/approval-threshold.wasm".into(), vec![0, b'a', b's', b'm', 13, 0, 1, 0]);
    files.insert("schemas/approval.json".into(), b"{}".to_vec());
    files.insert("empty".into(), Vec::new());
    // Longer than the 100-byte name field: split into the ustar prefix.
    files.insert(format!("golden/{}case.json", "deep/".repeat(25)), b"{}".to_vec());
    // Longer than 100 bytes with no `/` to split at: a GNU long-name record.
    files.insert(format!("golden/{}.json", "x".repeat(200)), vec![7; 70_000]);
    files
}

#[test]
fn pack_then_unpack_round_trips_and_packing_is_reproducible() {
    let files = sample_files();
    let mut first = Vec::new();
    pack(&files, &mut first).unwrap();
    let mut second = Vec::new();
    pack(&files.clone(), &mut second).unwrap();
    assert_eq!(first, second, "packing the same files twice gives different bytes");
    // gzip header: no mtime (bytes 4..8), no file name flag, OS "unknown".
    assert_eq!(&first[..4], &[0x1f, 0x8b, 8, 0]);
    assert_eq!(&first[4..8], &[0, 0, 0, 0]);
    assert_eq!(first[9], 255);
    assert_eq!(unpack(first.as_slice(), &ArchiveLimits::default()).unwrap(), files);

    // Every header: mtime 0, uid/gid 0, mode 0644, no user or group name.
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(first.as_slice()).read_to_end(&mut tar).unwrap();
    let mut reader = tar::Archive::new(tar.as_slice());
    let mut paths = Vec::new();
    for entry in reader.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        assert_eq!(header.entry_type(), EntryType::Regular);
        assert_eq!((header.mtime().unwrap(), header.uid().unwrap(), header.gid().unwrap()), (0, 0, 0));
        assert_eq!(header.mode().unwrap(), 0o644);
        assert_eq!(header.username_bytes(), Some(&b""[..]));
        assert_eq!(header.groupname_bytes(), Some(&b""[..]));
        paths.push(entry.path().unwrap().to_str().unwrap().to_string());
    }
    assert_eq!(paths, files.keys().cloned().collect::<Vec<_>>(), "entries are sorted by path");
}

#[test]
fn pack_refuses_paths_that_are_not_normalized_or_escape() {
    for (path, fragment) in [("./a", "normalized form"), ("a//b", "normalized form"), ("../a", "escapes")] {
        let mut files = BundleFiles::new();
        files.insert(path.into(), Vec::new());
        let err = pack(&files, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains(path) && err.to_string().contains(fragment), "{err}");
    }
}

#[rstest]
#[case::plain("components/x.wasm", Ok("components/x.wasm"))]
#[case::dots_and_slashes("./components//x.wasm/", Ok("components/x.wasm"))]
#[case::traversal("a/../../b", Err("escapes the bundle"))]
#[case::absolute("/a", Err("absolute path"))]
#[case::drive("D:\\a", Err("backslash"))]
#[case::drive_slash("D:/a", Err("absolute path"))]
#[case::backslash("components\\x.wasm", Err("backslash"))]
#[case::nul("a\0b", Err("NUL byte"))]
#[case::empty("", Err("empty"))]
#[case::only_dots("./.", Err("names no file"))]
#[case::too_long(&"a".repeat(256), Err("longer than 255 bytes"))]
fn validate_relative_path_normalizes_or_names_the_problem(#[case] path: &str, #[case] expected: Result<&str, &str>) {
    match (validate_relative_path(path), expected) {
        (Ok(normalized), Ok(want)) => assert_eq!(normalized, want),
        (Err(err), Err(fragment)) => assert!(err.to_string().contains(fragment), "{err}"),
        (got, want) => panic!("{path:?}: got {got:?}, wanted {want:?}"),
    }
}

fn bundle_dir() -> (tempfile::TempDir, cap_std::fs::Dir) {
    let temp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(temp.path().join("components")).unwrap();
    std::fs::write(temp.path().join("manifest.json"), b"{}").unwrap();
    std::fs::write(temp.path().join("components/gate.wasm"), b"\0asm").unwrap();
    let dir = cap_std::fs::Dir::open_ambient_dir(temp.path(), cap_std::ambient_authority()).unwrap();
    (temp, dir)
}

#[test]
fn reads_a_bundle_directory_with_slash_separated_paths_and_packs_it_like_its_archive() {
    let (_temp, dir) = bundle_dir();
    let files = read_dir_files(&dir, &ArchiveLimits::default()).unwrap();
    assert_eq!(files.keys().collect::<Vec<_>>(), ["components/gate.wasm", "manifest.json"]);
    let mut packed = Vec::new();
    pack(&files, &mut packed).unwrap();
    assert_eq!(unpack(packed.as_slice(), &ArchiveLimits::default()).unwrap(), files);
}

#[cfg(unix)]
#[test]
fn directory_reader_refuses_a_symlink_even_one_pointing_inside() {
    let (temp, dir) = bundle_dir();
    std::os::unix::fs::symlink("gate.wasm", temp.path().join("components/alias.wasm")).unwrap();
    let err = read_dir_files(&dir, &ArchiveLimits::default()).unwrap_err();
    assert!(
        matches!(&err, ArchiveError::Link { path, kind: LinkKind::Symlink } if path == "components/alias.wasm"),
        "{err:?}"
    );
    assert!(err.to_string().contains("components/alias.wasm"), "{err}");
}

#[cfg(unix)]
#[test]
fn directory_reader_refuses_a_socket() {
    let (temp, dir) = bundle_dir();
    let _listener = std::os::unix::net::UnixListener::bind(temp.path().join("components/sock")).unwrap();
    let err = read_dir_files(&dir, &ArchiveLimits::default()).unwrap_err();
    assert!(
        matches!(&err, ArchiveError::UnsupportedEntry { path, kind } if path == "components/sock" && kind == "socket")
    );
}

#[test]
fn directory_reader_applies_the_caps() {
    let (temp, dir) = bundle_dir();
    std::fs::write(temp.path().join("components/big.wasm"), vec![0; 2048]).unwrap();
    let limits = ArchiveLimits { max_entries: 10, max_entry_bytes: 1024, max_total_bytes: 1 << 20 };
    let err = read_dir_files(&dir, &limits).unwrap_err();
    assert!(matches!(&err, ArchiveError::EntryTooLarge { path, limit: 1024 } if path == "components/big.wasm"));
    let limits = ArchiveLimits { max_entries: 2, ..ArchiveLimits::default() };
    let err = read_dir_files(&dir, &limits).unwrap_err();
    assert!(matches!(err, ArchiveError::TooManyEntries { limit: 2 }), "{err:?}");
    let limits = ArchiveLimits { max_total_bytes: 2000, ..ArchiveLimits::default() };
    let err = read_dir_files(&dir, &limits).unwrap_err();
    assert!(matches!(err, ArchiveError::TotalTooLarge { limit: 2000 }), "{err:?}");
}

/// `andon audit` of an unsafe evidence bundle: every archive problem is an audit
/// failure (exit 24, docs/incidents.md), naming the entry, never an internal error.
#[rstest]
#[case::parent_traversal(targz(|b| file(b, "../evil.json", b"{}")), "../evil.json")]
#[case::symlink(targz(|b| {
    let mut header = raw_header(b"narrative.md", EntryType::Symlink, 0);
    header.set_link_name("/etc/passwd").unwrap();
    header.set_cksum();
    b.append(&header, io::empty()).unwrap();
}), "narrative.md")]
#[case::duplicate(targz(|b| { file(b, "evidence.json", b"{}"); file(b, "evidence.json", b"{}"); }), "evidence.json")]
#[case::pax_traversal(targz(|b| {
    b.append_pax_extensions([("path", &b"../../etc/cron.d/evil"[..])]).unwrap();
    file(b, "innocent.json", b"{}");
}), "../../etc/cron.d/evil")]
#[case::not_gzip(b"this is not a gzip stream".to_vec(), "corrupt")]
#[case::truncated({ let mut a = targz(|b| file(b, "evidence.json", &[b'x'; 4096])); a.truncate(a.len() / 2); a }, "corrupt")]
fn audit_of_an_unsafe_evidence_bundle_exits_24_naming_the_problem(#[case] archive: Vec<u8>, #[case] named: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence-bundle.tar.gz");
    std::fs::write(&path, archive).unwrap();
    let out = crate::support::andon().arg("audit").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(24), "{stderr}");
    assert!(stderr.contains(named), "{stderr}");
}
