#!/usr/bin/env bash
# Writes the generated seed corpora of the fuzz targets into OUT_DIR/<target>/
# (default fuzz/target/seeds): inputs taken from the repository's test data, the
# golden cases, the golden ledger and, when they are built, the shipped components.
# The small hand-written seeds committed in fuzz/seeds/ are used beside these.
# Each target's first input byte picks a mode (see fuzz/fuzz_targets/*.rs); the
# generated seeds carry it.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-fuzz/target/seeds}"
rm -rf "$out"
mkdir -p "$out"
python3 - "$out" <<'PY'
import glob, gzip, io, json, os, sys, tarfile

out = sys.argv[1]
def put(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)

golden = sorted(glob.glob("recipes-wasm/golden/*/*.json"))
jcs = sorted(glob.glob("tests/data/jcs/input/*.json"))
# Evidence intake and the JSON parser: every golden case, its incident, the
# RFC 8785 test vectors.
for path in golden:
    raw = open(path, "rb").read()
    name = path.replace("/", "_")
    put("json_canonical", name, raw)
    incident = json.loads(raw).get("incident")
    if incident is not None:
        put("evidence_intake", name, json.dumps(incident, ensure_ascii=False).encode())
for path in jcs:
    raw = open(path, "rb").read()
    put("json_canonical", os.path.basename(path), raw)
    put("evidence_intake", os.path.basename(path), raw)

# Ledger lines: the golden ledger's lines; tail repair: k whole lines (the first
# byte) then a torn, complete, or damaged next line.
lines = open("tests/data/golden-ledger/receipts.jsonl", "rb").read().split(b"\n")[:-1]
for i, line in enumerate(lines):
    put("ledger_line", f"golden-{i + 1}", line)
for k in range(0, len(lines)):
    nxt = lines[k] + b"\n"
    put("ledger_repair", f"torn-{k}", bytes([k]) + nxt[: len(nxt) // 2])
    put("ledger_repair", f"whole-{k}", bytes([k]) + nxt)
    put("ledger_repair", f"flipped-{k}", bytes([k]) + nxt.replace(b'"seq":', b'"seq":1', 1))
put("ledger_repair", "all", bytes([len(lines)]))
put("ledger_repair", "zeros", bytes([3]) + b"\0" * 64)

# Archives: small bundles in the three tar formats, gzipped (mode 0: the file as
# is) and plain (mode 1: the target gzips it).
def tar_bytes(fmt, files, dirs=()):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(info)
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
manifest = b'{"format":"andon.bundle/1"}\n'
small = [("manifest.json", manifest), ("golden/a/case.json", open(golden[0], "rb").read()[:600])]
long_name = "golden/" + "x" * 120 + "/case.json"
for fmt, label in [(tarfile.USTAR_FORMAT, "ustar"), (tarfile.GNU_FORMAT, "gnu"), (tarfile.PAX_FORMAT, "pax")]:
    files = small + ([(long_name, b"{}")] if fmt != tarfile.USTAR_FORMAT else [])
    plain = tar_bytes(fmt, files, dirs=["golden", "golden/a"])
    put("archive_differential", f"{label}.tar", b"1" + plain)
    put("archive_differential", f"{label}.tar.gz", b"0" + gzip.compress(plain, mtime=0))
    put("archive_differential", f"{label}-two-members", b"2" + plain + plain)
    put("archive_differential", f"{label}-trailing", b"3" + plain + b"\0" * 512 + plain[:512])

# Component loading: the shipped components when they are built (mode 0, bytes as
# is), and the hostile WAT fixtures (mode 0 too: text starting with `(`).
built = sorted(glob.glob("target/*/build/andon-recipes-*/out/components/*.wasm"), key=os.path.getmtime)
seen = {}
for path in built:
    seen[os.path.basename(path)] = path  # the newest build of each wins
for name, path in sorted(seen.items()):
    put("component_load", name, b"0" + open(path, "rb").read())
for path in sorted(glob.glob("tests/data/*.wat")):
    put("component_load", os.path.basename(path), b"0" + open(path, "rb").read())
PY
for dir in "$out"/*/; do
    printf '%s: %s seeds\n' "$(basename "$dir")" "$(find "$dir" -type f | wc -l)"
done
