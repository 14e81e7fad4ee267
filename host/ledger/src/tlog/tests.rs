//! Known vectors (RFC 6962 / Certificate Transparency's reference tree), every proof
//! of every tree up to 300 leaves, tiles against the in-memory tree, the file store.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::*;

fn hx(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// The leaves of the reference tree used by Certificate Transparency's test suites
/// (github.com/transparency-dev/merkle, testonly/constants.go).
fn reference_leaves() -> Vec<Vec<u8>> {
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .iter()
        .map(|s| hex::decode(s).unwrap())
        .collect()
}

/// Roots of the reference trees of 1 to 8 leaves.
const REFERENCE_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn empty_root_is_the_hash_of_nothing() {
    assert_eq!(hex::encode(EMPTY_ROOT), andon_core::evidence::sha256_hex(b""));
    assert_eq!(root(&mut MemoryTree::new(), 0).unwrap(), EMPTY_ROOT);
}

#[test]
fn reference_tree_has_the_known_roots() {
    let mut tree = MemoryTree::from_lines(reference_leaves());
    assert_eq!(hex::encode(tree.leaf_hashes()[0]), REFERENCE_ROOTS[0]);
    for (size, expected) in REFERENCE_ROOTS.iter().enumerate() {
        assert_eq!(root(&mut tree, size as u64 + 1).unwrap(), hx(expected), "size {}", size + 1);
    }
}

#[test]
fn reference_inclusion_proofs_are_the_known_ones() {
    let mut tree = MemoryTree::from_lines(reference_leaves());
    // (leaf index, tree size, proof), from transparency-dev/merkle proof/verify_test.go.
    let vectors: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (2, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (index, size, expected) in vectors {
        let proof = inclusion_proof(&mut tree, index, size).unwrap();
        assert_eq!(proof, expected.iter().map(|h| hx(h)).collect::<Vec<_>>(), "leaf {index} of {size}");
        let leaf = tree.leaf_hashes()[index as usize];
        verify_inclusion(&leaf, index, size, &proof, &hx(REFERENCE_ROOTS[size as usize - 1])).unwrap();
    }
}

#[test]
fn reference_consistency_proofs_are_the_known_ones() {
    let mut tree = MemoryTree::from_lines(reference_leaves());
    let vectors: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (old, new, expected) in vectors {
        let proof = consistency_proof(&mut tree, old, new).unwrap();
        assert_eq!(proof, expected.iter().map(|h| hx(h)).collect::<Vec<_>>(), "{old} -> {new}");
        let (old_root, new_root) = (hx(REFERENCE_ROOTS[old as usize - 1]), hx(REFERENCE_ROOTS[new as usize - 1]));
        verify_consistency(old, new, &old_root, &new_root, &proof).unwrap();
    }
}

#[test]
fn edge_cases_of_verification_fail_or_pass_as_the_rfc_says() {
    let some = [0xab; 32];
    // No leaf is in the empty tree; a one-leaf tree's root is its leaf.
    assert!(verify_inclusion(&some, 0, 0, &[], &EMPTY_ROOT).is_err());
    verify_inclusion(&some, 0, 1, &[], &some).unwrap();
    assert!(verify_inclusion(&some, 1, 1, &[], &some).is_err());
    assert!(verify_inclusion(&some, 0, 1, &[some], &some).is_err());
    // The empty tree is a prefix of every tree; equal sizes need equal roots.
    verify_consistency(0, 5, &EMPTY_ROOT, &some, &[]).unwrap();
    assert!(verify_consistency(0, 5, &some, &some, &[]).is_err());
    assert!(verify_consistency(0, 5, &EMPTY_ROOT, &some, &[some]).is_err());
    verify_consistency(3, 3, &some, &some, &[]).unwrap();
    assert!(verify_consistency(3, 3, &some, &[0; 32], &[]).is_err());
    assert!(verify_consistency(3, 3, &some, &some, &[some]).is_err());
    assert!(verify_consistency(4, 3, &some, &some, &[some]).is_err());
    assert!(verify_consistency(1, 2, &some, &some, &[]).is_err());
    assert!(inclusion_proof(&mut MemoryTree::new(), 0, 0).is_err());
    assert!(consistency_proof(&mut MemoryTree::new(), 1, 0).is_err());
    assert!(verify_inclusion(&some, 0, 2, &[some; 64], &some).is_err());
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut out = *hash;
    out[bit / 8] ^= 1 << (bit % 8);
    out
}

#[test]
fn every_proof_of_every_tree_up_to_300_leaves_verifies_and_no_flipped_bit_does() {
    const MAX: u64 = 300;
    let lines: Vec<Vec<u8>> = (0..MAX).map(|i| format!("{{\"seq\":{}}}", i + 1).into_bytes()).collect();
    let mut tree = MemoryTree::from_lines(&lines);
    let roots: Vec<Hash> = (0..=MAX).map(|n| root(&mut tree, n).unwrap()).collect();
    // Each size's root agrees with a tree of exactly that many leaves.
    for n in [1, 2, 3, 7, 8, 9, 255, 256, 257, 300] {
        assert_eq!(root(&mut MemoryTree::from_lines(&lines[..n]), n as u64).unwrap(), roots[n]);
    }
    let mut probes = 0u64;
    for size in 1..=MAX {
        for index in 0..size {
            let leaf = tree.leaf_hashes()[index as usize];
            let proof = inclusion_proof(&mut tree, index, size).unwrap();
            assert_eq!(proof.len(), expected_inclusion_len(index, size), "leaf {index} of {size}");
            verify_inclusion(&leaf, index, size, &proof, &roots[size as usize]).unwrap();
            // One flipped bit anywhere (proof, leaf, root) fails; a bit that varies
            // with the position, every bit for the small trees.
            let bits: Vec<usize> =
                if size <= 12 { (0..256).collect() } else { vec![(index * 31 + size) as usize % 256] };
            for &bit in &bits {
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i], (bit + i * 7) % 256);
                    assert!(verify_inclusion(&leaf, index, size, &bad, &roots[size as usize]).is_err());
                    probes += 1;
                }
                assert!(verify_inclusion(&flip(&leaf, bit), index, size, &proof, &roots[size as usize]).is_err());
                assert!(verify_inclusion(&leaf, index, size, &proof, &flip(&roots[size as usize], bit)).is_err());
            }
            // Wrong position, a hash more or less.
            if size > 1 {
                assert!(verify_inclusion(&leaf, (index + 1) % size, size, &proof, &roots[size as usize]).is_err());
                let mut short = proof.clone();
                short.pop();
                assert!(verify_inclusion(&leaf, index, size, &short, &roots[size as usize]).is_err());
            }
            let mut long = proof.clone();
            long.push(leaf);
            assert!(verify_inclusion(&leaf, index, size, &long, &roots[size as usize]).is_err());
        }
    }
    for new in 1..=MAX {
        for old in 1..=new {
            let proof = consistency_proof(&mut tree, old, new).unwrap();
            let (old_root, new_root) = (roots[old as usize], roots[new as usize]);
            verify_consistency(old, new, &old_root, &new_root, &proof).unwrap();
            let bit = (old * 17 + new) as usize % 256;
            for i in 0..proof.len() {
                let mut bad = proof.clone();
                bad[i] = flip(&bad[i], (bit + i * 5) % 256);
                assert!(verify_consistency(old, new, &old_root, &new_root, &bad).is_err(), "{old} -> {new} at {i}");
                probes += 1;
            }
            assert!(verify_consistency(old, new, &flip(&old_root, bit), &new_root, &proof).is_err());
            assert!(verify_consistency(old, new, &old_root, &flip(&new_root, bit), &proof).is_err());
            if old < new {
                assert!(verify_consistency(old, new, &new_root, &old_root, &proof).is_err());
                let mut short = proof.clone();
                short.pop();
                assert!(verify_consistency(old, new, &old_root, &new_root, &short).is_err());
                let mut long = proof.clone();
                long.push(old_root);
                assert!(verify_consistency(old, new, &old_root, &new_root, &long).is_err());
                if old > 1 {
                    assert!(verify_consistency(old - 1, new, &old_root, &new_root, &proof).is_err());
                }
            }
        }
    }
    assert!(probes > 400_000, "{probes} probes");
}

/// The length of an RFC 9162 audit path: one hash per level where the leaf's subtree
/// has a sibling.
fn expected_inclusion_len(index: u64, size: u64) -> usize {
    let (mut lo, mut hi, mut len) = (0, size, 0);
    while hi - lo > 1 {
        let k = 1u64 << (63 - (hi - lo - 1).leading_zeros());
        if index < lo + k {
            hi = lo + k
        } else {
            lo += k
        }
        len += 1;
    }
    len
}

/// A tile store in memory (and the one a test can damage).
#[derive(Debug, Default)]
pub(super) struct MapStore {
    pub tiles: RefCell<BTreeMap<(u8, u64), Vec<u8>>>,
    pub writes: RefCell<u64>,
}

impl TileStore for MapStore {
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.tiles.borrow().get(&(level, index)).cloned())
    }

    fn write_tile(&self, tile: Tile, hashes: &[u8]) -> Result<()> {
        let mut tiles = self.tiles.borrow_mut();
        if let Some(stored) = tiles.get(&(tile.level, tile.index)) {
            if stored.len() >= hashes.len() {
                return if stored.starts_with(hashes) {
                    Ok(())
                } else {
                    Err(TlogError::TileConflict { tile, stored: stored.len() / 32 })
                };
            }
            if !hashes.starts_with(stored) {
                return Err(TlogError::TileConflict { tile, stored: stored.len() / 32 });
            }
        }
        *self.writes.borrow_mut() += 1;
        tiles.insert((tile.level, tile.index), hashes.to_vec());
        Ok(())
    }
}

fn numbered_lines(n: u64) -> impl Iterator<Item = std::result::Result<Vec<u8>, std::io::Error>> {
    (0..n).map(|i| Ok(format!("line {i}").into_bytes()))
}

#[test]
fn a_tree_of_70000_leaves_has_the_tiles_c2sp_describes_and_proofs_from_tiles_match_memory() {
    const SIZE: u64 = 70_000;
    let store = MapStore::default();
    assert_eq!(rebuild(&store, numbered_lines(SIZE)).unwrap(), SIZE);
    // C2SP tlog-tiles: 273 full level 0 tiles, one partial of width 112, one full
    // level 1 tile, one partial level 1 tile of width 17, one partial level 2 tile of width 1.
    let widths: Vec<(u8, u64, usize)> = store.tiles.borrow().iter().map(|(&(l, n), b)| (l, n, b.len() / 32)).collect();
    assert_eq!(widths.iter().filter(|&&(l, _, w)| l == 0 && w == 256).count(), 273);
    assert!(widths.contains(&(0, 273, 112)));
    assert!(widths.contains(&(1, 0, 256)));
    assert!(widths.contains(&(1, 1, 17)));
    assert!(widths.contains(&(2, 0, 1)));
    assert_eq!(widths.len(), 273 + 4);
    assert_eq!(stored_size(&store).unwrap(), SIZE);

    let mut memory = MemoryTree::from_lines(numbered_lines(SIZE).map(Result::unwrap));
    for size in [1, 255, 256, 257, 65_535, 65_536, 65_537, 69_999, SIZE] {
        let mut tiles = TileReader::new(&store, size);
        assert_eq!(root(&mut tiles, size).unwrap(), root(&mut memory, size).unwrap(), "root of {size}");
        for index in [0, 1, size / 3, size / 2, size - 1].into_iter().filter(|&i| i < size) {
            let mut tiles = TileReader::new(&store, size);
            let proof = inclusion_proof(&mut tiles, index, size).unwrap();
            assert!(tiles.tiles_read() <= 8, "{} tiles read for a proof in {size}", tiles.tiles_read());
            assert_eq!(proof, inclusion_proof(&mut memory, index, size).unwrap(), "leaf {index} of {size}");
        }
        for old in [1, size / 2, size - 1, size].into_iter().filter(|&m| m >= 1) {
            let mut tiles = TileReader::new(&store, size);
            let proof = consistency_proof(&mut tiles, old, size).unwrap();
            assert!(tiles.tiles_read() <= 8, "{} tiles read", tiles.tiles_read());
            assert_eq!(proof, consistency_proof(&mut memory, old, size).unwrap(), "{old} -> {size}");
        }
    }
    // The leaf after the last is in no tile.
    let missing = root(&mut TileReader::new(&store, SIZE + 1), SIZE + 1).unwrap_err();
    assert!(matches!(missing, TlogError::MissingTile { stored: 112, needed: 113, .. }), "{missing}");
}

#[test]
fn appending_in_steps_writes_the_same_tiles_as_a_rebuild() {
    let whole = MapStore::default();
    rebuild(&whole, numbered_lines(1000)).unwrap();
    let stepped = MapStore::default();
    let mut writer = TileWriter::new(&stepped);
    let lines: Vec<Vec<u8>> = numbered_lines(1000).map(Result::unwrap).collect();
    let mut at = 0;
    for step in [1, 2, 253, 1, 300, 43, 400] {
        for line in &lines[at..at + step] {
            writer.push_line(line).unwrap();
        }
        at += step;
        writer.flush().unwrap();
        // A reopened writer continues where the store is.
        writer = TileWriter::resume(&stepped, stored_size(&stepped).unwrap()).unwrap();
        assert_eq!(writer.size(), at as u64);
        assert!(check(&stepped, lines[..at].iter().map(Ok::<_, std::io::Error>)).unwrap().is_clean());
    }
    assert_eq!(at, 1000);
    // Same full tiles and same newest partials (the stepped store has no older ones: a map keeps one version).
    assert_eq!(*stepped.tiles.borrow(), *whole.tiles.borrow());
    // A flush with nothing new writes nothing.
    let writes = *stepped.writes.borrow();
    writer.flush().unwrap();
    assert_eq!(*stepped.writes.borrow(), writes);
}

#[test]
fn resume_repairs_the_levels_a_crash_left_behind() {
    const SIZE: u64 = 70_000;
    let store = MapStore::default();
    rebuild(&store, numbered_lines(SIZE)).unwrap();
    let intact = store.tiles.borrow().clone();
    // As if the writer died after writing level 0: the full level 1 tile and the
    // partials above it are missing or old.
    store.tiles.borrow_mut().remove(&(1, 0));
    store.tiles.borrow_mut().get_mut(&(1, 1)).unwrap().truncate(5 * 32);
    store.tiles.borrow_mut().remove(&(2, 0));
    let report = check(&store, numbered_lines(SIZE)).unwrap();
    assert_eq!(report.problems.len(), 3, "{report:?}");
    assert!(report.problems.iter().any(|p| p.tile.level == 1 && p.kind == TileProblemKind::Missing));

    let mut writer = TileWriter::resume(&store, SIZE).unwrap();
    writer.flush().unwrap();
    assert_eq!(*store.tiles.borrow(), intact);
    assert!(check(&store, numbered_lines(SIZE)).unwrap().is_clean());

    // Level 0 itself cannot be recomputed without the lines.
    store.tiles.borrow_mut().get_mut(&(0, 273)).unwrap().truncate(100 * 32);
    assert!(matches!(TileWriter::resume(&store, SIZE), Err(TlogError::MissingTile { .. })));
    assert_eq!(stored_size(&store).unwrap(), 273 * 256 + 100);
}

#[test]
fn check_names_damaged_missing_and_surplus_tiles() {
    let store = MapStore::default();
    rebuild(&store, numbered_lines(600)).unwrap();
    assert_eq!(
        check(&store, numbered_lines(600)).unwrap(),
        CheckReport { leaves: 600, tiles_checked: 4, problems: vec![] }
    );
    // The lines were cut: the stored tiles are ahead of them.
    let report = check(&store, numbered_lines(590)).unwrap();
    assert!(report.problems.iter().any(|p| p.kind == TileProblemKind::Ahead { stored: 88 }), "{report:?}");
    let report = check(&store, numbered_lines(512)).unwrap();
    assert!(report.problems.iter().any(|p| p.tile.index == 2 && p.kind == TileProblemKind::Ahead { stored: 88 }));
    // More lines than tiles: behind, not damaged.
    let report = check(&store, numbered_lines(610)).unwrap();
    assert_eq!(
        report.problems,
        vec![TileProblem { tile: Tile::new(0, 2, 98).unwrap(), kind: TileProblemKind::Behind { stored: 88 } }]
    );
    // A changed line: its tile and every tile above it differ.
    let changed = numbered_lines(600).map(|l| l.map(|l| if l == b"line 300" { b"line 300!".to_vec() } else { l }));
    let report = check(&store, changed).unwrap();
    assert!(
        report.problems.contains(&TileProblem { tile: Tile::new(0, 1, 256).unwrap(), kind: TileProblemKind::Mismatch })
    );
    assert!(
        report.problems.contains(&TileProblem { tile: Tile::new(1, 0, 2).unwrap(), kind: TileProblemKind::Mismatch })
    );
    // A missing full tile.
    store.tiles.borrow_mut().remove(&(0, 0));
    let report = check(&store, numbered_lines(600)).unwrap();
    assert_eq!(report.problems[0], TileProblem { tile: Tile::new(0, 0, 256).unwrap(), kind: TileProblemKind::Missing });
    // A read error of the lines is named by its leaf.
    let broken = numbered_lines(3).chain(std::iter::once(Err(std::io::Error::other("disk"))));
    assert!(matches!(check(&store, broken), Err(TlogError::Lines { index: 3, .. })));
}

#[test]
fn tile_paths_follow_the_c2sp_encoding() {
    let cases = [
        (Tile::new(0, 0, 256).unwrap(), "tile/0/000"),
        (Tile::new(0, 1, 5).unwrap(), "tile/0/001.p/5"),
        (Tile::new(1, 999, 256).unwrap(), "tile/1/999"),
        (Tile::new(2, 1000, 256).unwrap(), "tile/2/x001/000"),
        (Tile::new(0, 1_234_067, 256).unwrap(), "tile/0/x001/x234/067"),
        (Tile::new(3, 123_456_078, 2).unwrap(), "tile/3/x123/x456/078.p/2"),
        (Tile::new(63, u64::MAX, 255).unwrap(), "tile/63/x018/x446/x744/x073/x709/x551/615.p/255"),
    ];
    for (tile, path) in cases {
        assert_eq!(tile.path(), path);
        assert_eq!(Tile::parse_path(path).unwrap(), tile);
    }
    for bad in [
        "tile/0/1",
        "tile/00/000",
        "tile/0/x000/001",
        "tile/0/123/456",
        "tile/0/x123/x456",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/05",
        "tile/64/000",
        "tile/entries/000",
        "tile/8/0/000",
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tiles/0/000",
        "tile/0/000/",
    ] {
        assert!(Tile::parse_path(bad).is_err(), "{bad}");
    }
    assert!(Tile::new(0, 0, 0).is_err() && Tile::new(0, 0, 257).is_err() && Tile::new(64, 0, 1).is_err());
}

#[test]
fn file_store_keeps_c2sp_paths_grows_partials_and_refuses_rewrites() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileTileStore::open(&dir.path().join(TILES_DIR), true).unwrap();
    let lines: Vec<Vec<u8>> = numbered_lines(600).map(Result::unwrap).collect();
    let mut writer = TileWriter::new(&store);
    for (i, line) in lines.iter().enumerate() {
        writer.push_line(line).unwrap();
        if [3, 200, 300, 599].contains(&i) {
            writer.flush().unwrap();
        }
    }
    let tiles = dir.path().join("tiles/tile");
    let file = |p: &str| std::fs::read(tiles.join(p)).unwrap();
    assert_eq!(file("0/000").len(), 8192);
    assert_eq!(file("0/001").len(), 8192);
    assert_eq!(file("0/002.p/88").len(), 88 * 32);
    assert_eq!(file("1/000.p/2").len(), 64);
    assert_eq!(&file("0/000")[..32], &leaf_hash(b"line 0"));
    assert_eq!(&file("1/000.p/2")[..32], &tile_root(&file("0/000")));
    // Partial versions of tiles that became full are gone; older widths of the
    // current partial tiles stay (a checkpoint may name them).
    assert!(!tiles.join("0/000.p").exists() && !tiles.join("0/001.p").exists());
    assert!(tiles.join("1/000.p/1").exists());
    assert_eq!(store.read_tile(1, 0).unwrap().unwrap().len(), 64);
    assert_eq!(store.read_tile(0, 3).unwrap(), None);
    assert_eq!(stored_size(&store).unwrap(), 600);
    assert!(check(&store, lines.iter().map(Ok::<_, std::io::Error>)).unwrap().is_clean());

    // A tile is only ever replaced by a longer version of itself.
    let tile = Tile::new(0, 2, 88).unwrap();
    let mut other = file("0/002.p/88");
    store.write_tile(Tile::new(0, 2, 10).unwrap(), &other[..320]).unwrap();
    other[5] ^= 1;
    assert!(matches!(store.write_tile(tile, &other), Err(TlogError::TileConflict { stored: 88, .. })));
    assert!(matches!(store.write_tile(Tile::new(0, 0, 256).unwrap(), &[0; 8192]), Err(TlogError::TileConflict { .. })));
    // Leftovers of a crashed write are ignored.
    std::fs::write(tiles.join("0/002.p/.tmp-89-1"), [0; 89 * 32]).unwrap();
    assert_eq!(store.read_tile(0, 2).unwrap().unwrap().len(), 88 * 32);
    // A damaged file is reported, not used.
    std::fs::write(tiles.join("0/001"), [0; 100]).unwrap();
    assert!(matches!(store.read_tile(0, 1), Err(TlogError::MalformedTile { .. })));
    // A rebuild into the same store agrees with what is stored, except the damaged tile.
    std::fs::write(tiles.join("0/001"), file("0/000")).unwrap();
    assert!(matches!(rebuild(&store, lines.iter().map(Ok::<_, std::io::Error>)), Err(TlogError::TileConflict { .. })));
}

/// Proof cost in a tree of a million leaves, from tiles on disk: tiles read and time
/// per proof. A measurement, not a check of behaviour; run it with
/// `cargo test -p andon-ledger --release --lib -- --ignored --nocapture proof_cost`.
#[test]
#[ignore = "a measurement: builds a million-leaf tree on disk"]
fn proof_cost_in_a_tree_of_a_million_leaves() {
    const SIZE: u64 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let store = FileTileStore::open(&dir.path().join(TILES_DIR), true).unwrap();
    let started = std::time::Instant::now();
    rebuild(&store, numbered_lines(SIZE)).unwrap();
    eprintln!("tiles of {SIZE} leaves written in {:?}", started.elapsed());
    let root = root(&mut TileReader::new(&store, SIZE), SIZE).unwrap();

    let (mut tiles, mut hashes, mut worst) = (0, 0, 0);
    let started = std::time::Instant::now();
    let indexes: Vec<u64> = (0..1000u64).map(|i| (i * 7_919_993) % SIZE).collect();
    for &index in &indexes {
        let mut reader = TileReader::new(&store, SIZE);
        let proof = inclusion_proof(&mut reader, index, SIZE).unwrap();
        verify_inclusion(&leaf_hash(format!("line {index}").as_bytes()), index, SIZE, &proof, &root).unwrap();
        tiles += reader.tiles_read();
        worst = worst.max(reader.tiles_read());
        hashes += proof.len();
    }
    let per = started.elapsed() / indexes.len() as u32;
    eprintln!(
        "inclusion: {per:?} per proof (cold tile reads from disk, verification included), {:.1} tiles read on average, {worst} at most, {:.1} hashes",
        tiles as f64 / 1000.0,
        hashes as f64 / 1000.0
    );
    let (mut tiles, mut worst) = (0, 0);
    let started = std::time::Instant::now();
    for &old in &indexes {
        let old = old.max(1);
        let mut reader = TileReader::new(&store, SIZE);
        let proof = consistency_proof(&mut reader, old, SIZE).unwrap();
        tiles += reader.tiles_read();
        worst = worst.max(reader.tiles_read());
        assert!(proof.len() <= 2 * 20 + 2);
    }
    let per = started.elapsed() / indexes.len() as u32;
    eprintln!("consistency: {per:?} per proof, {:.1} tiles read on average, {worst} at most", tiles as f64 / 1000.0);
}
