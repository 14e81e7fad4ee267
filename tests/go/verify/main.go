// Command verify is an independent verifier of an Andon ledger's Merkle tree, written
// against golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog (Go's checksum
// database code, which shares no code with Andon). It checks what docs/log.md
// specifies: signed checkpoint notes, inclusion proofs (C2SP tlog-proof), consistency
// proofs (the C2SP tlog-witness add-checkpoint body) and the tiles (C2SP tlog-tiles).
//
// Usage:
//
//	verify checkpoint  -vkey VKEY [-origin ORIGIN] CHECKPOINT
//	verify inclusion   -vkey VKEY [-origin ORIGIN] PROOF LEAF
//	verify consistency -vkey VKEY [-origin ORIGIN] OLD_CHECKPOINT PROOF
//	verify tiles       -vkey VKEY [-origin ORIGIN] CHECKPOINT TILES_DIR [INDEX LEAF]
//
// LEAF is a file holding the receipt line (a final newline is ignored). ORIGIN
// defaults to the key name of the first -vkey. Exit status 0 means verified; 1 means
// a check failed (the message says which); 2 means a usage error.
//
// Build (Debian's golang-go and golang-golang-x-mod-dev, GOPATH mode):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o verify ./tests/go/verify
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// maxFile bounds every file read (a note, a proof file, a leaf line, a tile).
const maxFile = 16 << 20

// maxProofHashes bounds a proof: a tree of at most 2^63 leaves needs at most 63.
const maxProofHashes = 63

type vkeys []string

func (v *vkeys) String() string     { return strings.Join(*v, ",") }
func (v *vkeys) Set(s string) error { *v = append(*v, s); return nil }

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd := os.Args[1]
	flags := flag.NewFlagSet(cmd, flag.ExitOnError)
	var keys vkeys
	flags.Var(&keys, "vkey", "verifier key `name+id+base64` (repeatable)")
	origin := flags.String("origin", "", "expected checkpoint origin (default: the first key's name)")
	flags.Parse(os.Args[2:])
	args := flags.Args()
	if len(keys) == 0 {
		usage()
	}
	var list []note.Verifier
	for _, k := range keys {
		v, err := note.NewVerifier(k)
		if err != nil {
			fail("verifier key %q: %v", k, err)
		}
		list = append(list, v)
	}
	verifiers := note.VerifierList(list...)
	if *origin == "" {
		*origin = list[0].Name()
	}

	var err error
	switch {
	case cmd == "checkpoint" && len(args) == 1:
		err = runCheckpoint(verifiers, *origin, args[0])
	case cmd == "inclusion" && len(args) == 2:
		err = runInclusion(verifiers, *origin, args[0], args[1])
	case cmd == "consistency" && len(args) == 2:
		err = runConsistency(verifiers, *origin, args[0], args[1])
	case cmd == "tiles" && (len(args) == 2 || len(args) == 4):
		err = runTiles(verifiers, *origin, args)
	default:
		usage()
	}
	if err != nil {
		fail("%v", err)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: verify checkpoint|inclusion|consistency|tiles -vkey VKEY [-origin ORIGIN] FILE...")
	os.Exit(2)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "verify: "+format+"\n", args...)
	os.Exit(1)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFile)
	}
	return data, nil
}

// decimal parses a non-negative decimal with no leading zeroes.
func decimal(s, what string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("%s %q is not a decimal without leading zeroes", what, s)
	}
	return n, nil
}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(raw) != tlog.HashSize || base64.StdEncoding.EncodeToString(raw) != s {
		return h, fmt.Errorf("%q is not the base64 of a 32-byte hash", s)
	}
	copy(h[:], raw)
	return h, nil
}

// openCheckpoint verifies a checkpoint note with note.Open and parses its text
// (c2sp.org/tlog-checkpoint: origin, size, base64 root, optional extension lines).
func openCheckpoint(msg []byte, verifiers note.Verifiers, origin string) (checkpoint, error) {
	var c checkpoint
	n, err := note.Open(msg, verifiers)
	if err != nil {
		return c, fmt.Errorf("checkpoint note: %v", err)
	}
	if !strings.HasSuffix(n.Text, "\n") {
		return c, errors.New("checkpoint text does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		return c, errors.New("checkpoint text has fewer than three lines")
	}
	for _, l := range lines[3:] {
		if l == "" {
			return c, errors.New("checkpoint has an empty extension line")
		}
	}
	if lines[0] != origin {
		return c, fmt.Errorf("checkpoint origin is %q, expected %q", lines[0], origin)
	}
	c.origin = lines[0]
	if c.size, err = decimal(lines[1], "checkpoint size"); err != nil {
		return c, err
	}
	if c.root, err = parseHash(lines[2]); err != nil {
		return c, fmt.Errorf("checkpoint root: %v", err)
	}
	if c.size == 0 && c.root != tlog.Hash(sha256.Sum256(nil)) {
		return c, errors.New("checkpoint of the empty tree does not have the empty root")
	}
	return c, nil
}

// proofLines reads base64 hash lines up to a blank line and returns the rest.
func proofLines(text string) ([]tlog.Hash, string, error) {
	var hashes []tlog.Hash
	for {
		line, rest, ok := strings.Cut(text, "\n")
		if !ok {
			return nil, "", errors.New("proof file: no blank line before the checkpoint")
		}
		text = rest
		if line == "" {
			return hashes, text, nil
		}
		if len(hashes) == maxProofHashes {
			return nil, "", fmt.Errorf("proof file: more than %d hashes", maxProofHashes)
		}
		h, err := parseHash(line)
		if err != nil {
			return nil, "", fmt.Errorf("proof file: %v", err)
		}
		hashes = append(hashes, h)
	}
}

func readLeaf(path string) ([]byte, error) {
	leaf, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if n := len(leaf); n > 0 && leaf[n-1] == '\n' {
		leaf = leaf[:n-1]
	}
	if strings.Contains(string(leaf), "\n") {
		return nil, fmt.Errorf("%s holds more than one line", path)
	}
	return leaf, nil
}

func runCheckpoint(verifiers note.Verifiers, origin, path string) error {
	msg, err := readFile(path)
	if err != nil {
		return err
	}
	c, err := openCheckpoint(msg, verifiers, origin)
	if err != nil {
		return err
	}
	fmt.Printf("ok checkpoint %s size %d root %s\n", c.origin, c.size, c.root)
	return nil
}

// runInclusion checks a c2sp.org/tlog-proof@v1 file for the leaf line.
func runInclusion(verifiers note.Verifiers, origin, proofPath, leafPath string) error {
	data, err := readFile(proofPath)
	if err != nil {
		return err
	}
	leaf, err := readLeaf(leafPath)
	if err != nil {
		return err
	}
	line, text, _ := strings.Cut(string(data), "\n")
	if line != "c2sp.org/tlog-proof@v1" {
		return errors.New("proof file: the first line is not c2sp.org/tlog-proof@v1")
	}
	line, text, _ = strings.Cut(text, "\n")
	if strings.HasPrefix(line, "extra ") {
		if _, err := base64.StdEncoding.Strict().DecodeString(strings.TrimPrefix(line, "extra ")); err != nil {
			return errors.New("proof file: the extra line is not base64")
		}
		line, text, _ = strings.Cut(text, "\n")
	}
	if !strings.HasPrefix(line, "index ") {
		return errors.New("proof file: no index line")
	}
	index, err := decimal(strings.TrimPrefix(line, "index "), "index")
	if err != nil {
		return err
	}
	hashes, rest, err := proofLines(text)
	if err != nil {
		return err
	}
	c, err := openCheckpoint([]byte(rest), verifiers, origin)
	if err != nil {
		return err
	}
	if index >= c.size {
		return fmt.Errorf("leaf index %d is not in the checkpoint's tree of %d leaves", index, c.size)
	}
	if err := tlog.CheckRecord(tlog.RecordProof(hashes), c.size, c.root, index, tlog.RecordHash(leaf)); err != nil {
		return fmt.Errorf("inclusion proof of leaf %d in tree %d: %v", index, c.size, err)
	}
	fmt.Printf("ok inclusion leaf %d in %s size %d\n", index, c.origin, c.size)
	return nil
}

// runConsistency checks a tlog-witness add-checkpoint body against an older checkpoint.
func runConsistency(verifiers note.Verifiers, origin, oldPath, proofPath string) error {
	oldMsg, err := readFile(oldPath)
	if err != nil {
		return err
	}
	old, err := openCheckpoint(oldMsg, verifiers, origin)
	if err != nil {
		return fmt.Errorf("old %v", err)
	}
	data, err := readFile(proofPath)
	if err != nil {
		return err
	}
	line, text, _ := strings.Cut(string(data), "\n")
	if !strings.HasPrefix(line, "old ") {
		return errors.New("proof file: no old line")
	}
	oldSize, err := decimal(strings.TrimPrefix(line, "old "), "old size")
	if err != nil {
		return err
	}
	hashes, rest, err := proofLines(text)
	if err != nil {
		return err
	}
	c, err := openCheckpoint([]byte(rest), verifiers, origin)
	if err != nil {
		return fmt.Errorf("new %v", err)
	}
	if oldSize != old.size {
		return fmt.Errorf("the proof starts at size %d, the old checkpoint has size %d", oldSize, old.size)
	}
	if old.size > c.size {
		return fmt.Errorf("the old checkpoint (size %d) is larger than the new one (size %d)", old.size, c.size)
	}
	if old.size == 0 {
		if len(hashes) != 0 {
			return errors.New("a proof from the empty tree must be empty")
		}
	} else if err := tlog.CheckTree(tlog.TreeProof(hashes), c.size, c.root, old.size, old.root); err != nil {
		return fmt.Errorf("consistency proof from size %d to %d: %v", old.size, c.size, err)
	}
	fmt.Printf("ok consistency %s size %d -> %d\n", c.origin, old.size, c.size)
	return nil
}

// dirTiles serves C2SP tiles (tile/<L>/<N>[.p/<W>]) to tlog.TileHashReader, whose
// own paths add the height (tile/8/<L>/...). A tile of the requested width may be
// stored only as a wider version (the tree grew since): the prefix is used.
type dirTiles struct {
	dir  string
	read int
}

func (d *dirTiles) Height() int { return 8 }

func (d *dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (d *dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := d.readTile(t)
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (d *dirTiles) readTile(t tlog.Tile) ([]byte, error) {
	want := t.W * tlog.HashSize
	full := t
	full.W = 1 << uint(t.H)
	fullPath := filepath.Join(d.dir, strings.Replace(full.Path(), "tile/8/", "tile/", 1))
	candidates := []string{filepath.Join(d.dir, strings.Replace(t.Path(), "tile/8/", "tile/", 1)), fullPath}
	if entries, err := os.ReadDir(fullPath + ".p"); err == nil {
		var widths []int
		for _, e := range entries {
			if w, err := strconv.Atoi(e.Name()); err == nil && w >= t.W && strconv.Itoa(w) == e.Name() {
				widths = append(widths, w)
			}
		}
		sort.Ints(widths)
		for _, w := range widths {
			candidates = append(candidates, filepath.Join(fullPath+".p", strconv.Itoa(w)))
		}
	}
	for _, path := range candidates {
		data, err := readFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(data) < want || len(data)%tlog.HashSize != 0 {
			return nil, fmt.Errorf("tile %s has %d bytes", path, len(data))
		}
		d.read++
		return data[:want], nil
	}
	return nil, fmt.Errorf("tile %s is not stored", strings.Replace(t.Path(), "tile/8/", "tile/", 1))
}

// runTiles recomputes the checkpoint's root from the tiles (tlog.TileHashReader
// authenticates every tile it reads against the signed root) and, with INDEX and
// LEAF, proves the leaf from the tiles.
func runTiles(verifiers note.Verifiers, origin string, args []string) error {
	msg, err := readFile(args[0])
	if err != nil {
		return err
	}
	c, err := openCheckpoint(msg, verifiers, origin)
	if err != nil {
		return err
	}
	if c.size == 0 {
		return errors.New("the checkpoint's tree is empty: there are no tiles to check")
	}
	tiles := &dirTiles{dir: args[1]}
	reader := tlog.TileHashReader(tlog.Tree{N: c.size, Hash: c.root}, tiles)
	root, err := tlog.TreeHash(c.size, reader)
	if err != nil {
		return fmt.Errorf("tiles: %v", err)
	}
	if root != c.root {
		return fmt.Errorf("tiles: the root of the tiles is %s, the checkpoint's is %s", root, c.root)
	}
	if len(args) == 4 {
		index, err := decimal(args[2], "index")
		if err != nil {
			return err
		}
		if index >= c.size {
			return fmt.Errorf("leaf index %d is not in the checkpoint's tree of %d leaves", index, c.size)
		}
		leaf, err := readLeaf(args[3])
		if err != nil {
			return err
		}
		proof, err := tlog.ProveRecord(c.size, index, reader)
		if err != nil {
			return fmt.Errorf("tiles: %v", err)
		}
		if err := tlog.CheckRecord(proof, c.size, c.root, index, tlog.RecordHash(leaf)); err != nil {
			return fmt.Errorf("inclusion proof of leaf %d from the tiles: %v", index, err)
		}
	}
	fmt.Printf("ok tiles %s size %d root %s (%d tile reads)\n", c.origin, c.size, c.root, tiles.read)
	return nil
}
