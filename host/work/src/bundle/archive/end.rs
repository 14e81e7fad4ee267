//! The end of an archive: what follows the last entry must leave no other reader
//! anything more to find than [`unpack`](super::unpack) found.

use std::io::{self, BufRead, Read};

use flate2::bufread::GzDecoder;

use super::{Result, corrupt, corrupt_io};

/// Zero padding accepted after the end-of-archive marker (tar pads archives to
/// 10 KiB records); it is read to check that it is zeros and to let the gzip
/// trailer's CRC be checked.
const MAX_TRAILING_BYTES: u64 = 1 << 20;

/// The size of a tar block; the end-of-archive marker is two zero blocks.
const BLOCK: u64 = 512;

/// Counts the bytes read (or consumed) through it, so that errors name offsets.
pub(super) struct Counted<R> {
    pub(super) inner: R,
    pub(super) count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.count += amount as u64;
    }
}

/// Checks what follows the last entry, so that no other reader can find more in the
/// file than [`unpack`](super::unpack) did: the end-of-archive marker (two zero
/// blocks), then only zeros (at most [`MAX_TRAILING_BYTES`]) up to the end of the
/// gzip member, whose CRC is then checked, then the end of the file. A second gzip
/// member is refused: `gzip -d` and GNU tar read concatenated members as one stream.
pub(super) fn check_end(mut tar: Counted<GzDecoder<Counted<impl BufRead>>>) -> Result<()> {
    // The tar reader stops after the first zero block (or at the end of the data).
    let end = tar.count;
    let mut buf = [0u8; 8192];
    let mut trailing = 0u64;
    loop {
        let n = tar.read(&mut buf).map_err(corrupt_io("cannot read the end of the archive"))?;
        if n == 0 {
            break;
        }
        if let Some(i) = buf[..n].iter().position(|&b| b != 0) {
            let at = end + trailing + i as u64;
            return Err(corrupt(format!(
                "non-zero data at byte {at} of the tar stream, after the end of the archive \
                 (only the end-of-archive marker and zero padding may follow the last entry)"
            )));
        }
        trailing += n as u64;
        if trailing > MAX_TRAILING_BYTES {
            return Err(corrupt(format!("more than {MAX_TRAILING_BYTES} bytes of data after the end of the archive")));
        }
    }
    let mut rest = tar.inner.into_inner();
    let at = rest.count;
    let after = rest.fill_buf().map_err(corrupt_io("cannot read the end of the archive"))?;
    match after {
        [] => {}
        [0x1f, 0x8b, ..] => {
            return Err(corrupt(format!(
                "a second gzip member starts at byte {at} of the file: a bundle archive is one gzip member \
                 (other readers would join the members into one archive)"
            )));
        }
        _ => return Err(corrupt(format!("data follows the gzip stream at byte {at} of the file"))),
    }
    // Checked last: an archive cut short by its author to smuggle a second member
    // is better named by the member.
    if trailing < BLOCK {
        return Err(corrupt(format!(
            "the tar stream ends at byte {} without its end-of-archive marker (two zero blocks)",
            end + trailing
        )));
    }
    // Tar streams are whole blocks: a reader that reads on past the marker
    // (`tar --ignore-zeros`) would fail on a partial block where this one stopped.
    if !(end + trailing).is_multiple_of(BLOCK) {
        return Err(corrupt(format!(
            "the tar stream is {} bytes, not a whole number of {BLOCK}-byte blocks",
            end + trailing
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use crate::bundle::archive::{ArchiveError, ArchiveLimits, BundleFiles, pack, unpack};

    fn gzip(tar: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(tar).unwrap();
        encoder.finish().unwrap()
    }

    /// Found by `fuzz/fuzz_targets/archive_differential.rs`: zeros after the
    /// end-of-archive marker that stop short of a whole block were accepted, while a
    /// reader that reads on past zero blocks (`tar --ignore-zeros`, the tar crate's
    /// `set_ignore_zeros`) fails on the partial block.
    #[test]
    fn refuses_a_tar_stream_that_ends_in_a_partial_block() {
        let mut files = BundleFiles::new();
        files.insert("manifest.json".into(), b"{}".to_vec());
        let mut packed = Vec::new();
        pack(&files, &mut packed).unwrap();
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(packed.as_slice()).read_to_end(&mut tar).unwrap();
        tar.extend_from_slice(&[0; 1024]);
        assert_eq!(unpack(gzip(&tar).as_slice(), &ArchiveLimits::default()).unwrap(), files);

        tar.extend_from_slice(&[0; 100]);
        let error = unpack(gzip(&tar).as_slice(), &ArchiveLimits::default()).unwrap_err();
        assert!(matches!(error, ArchiveError::Corrupt { .. }), "{error:?}");
        assert!(error.to_string().contains("not a whole number of 512-byte blocks"), "{error}");
    }

    #[test]
    fn refuses_an_extension_record_without_a_ustar_or_gnu_magic() {
        // Found by the archive_differential fuzz target: a GNU long-name record whose
        // magic was damaged is a long name to a raw reader and a plain member to tar.
        let mut tar = Vec::new();
        let mut long = tar::Header::new_gnu();
        long.set_entry_type(tar::EntryType::GNULongName);
        long.as_mut_bytes()[..13].copy_from_slice(b"././@LongLink");
        let name = b"golden/a-long-name.json\0";
        long.set_size(name.len() as u64);
        long.as_mut_bytes()[257] = 0;
        long.set_cksum();
        tar.extend_from_slice(long.as_bytes());
        let mut data = name.to_vec();
        data.resize(512, 0);
        tar.extend_from_slice(&data);
        let mut file = tar::Header::new_gnu();
        file.set_path("x").unwrap();
        file.set_size(0);
        file.set_cksum();
        tar.extend_from_slice(file.as_bytes());
        tar.extend_from_slice(&[0; 1024]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        let err =
            super::super::unpack(gz.finish().unwrap().as_slice(), &super::super::ArchiveLimits::default()).unwrap_err();
        assert!(err.to_string().contains("without a ustar or GNU magic"), "{err}");
    }
}
