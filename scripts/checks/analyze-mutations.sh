#!/usr/bin/env bash
# `vmstate analyze` and `vmstate diff` on mutants of the real QEMU streams in Tests/Fixtures/
# (fuzz/analyze_mutations.py): truncations, bit flips, byte edits, splices and vmdesc edits, in
# every output mode, each run with 256 MiB of address space and a time limit. Every mutant must
# give exit status 0 (with JSON output), 1 (diff) or 2 (a one-line error; analyze's gives the
# byte offset), with no control character on stdout or stderr: never a crash, a hang or a
# usage error. The mutants are the same at every run (ANALYZE_MUTATIONS_SEED, default 1);
# ANALYZE_MUTATIONS (default 500) sets how many. A failing mutant is kept (path printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_build_deps
swift build --product vmstate >/dev/null
vmstate="$(swift build --show-bin-path)/vmstate"
out=$(mktemp -d "${TMPDIR:-/tmp}/vmstate-analyze-mutants-XXXXXX")
if python3 fuzz/analyze_mutations.py "$vmstate" "${ANALYZE_MUTATIONS:-500}" "${ANALYZE_MUTATIONS_SEED:-1}" "$out"; then
    rmdir "$out" 2>/dev/null || true
    echo "ok - vmstate analyze and diff: mutated streams"
else
    echo "FAIL - vmstate analyze and diff: mutated streams (mutants kept in $out)"
    exit 1
fi
