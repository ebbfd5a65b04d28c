#!/usr/bin/env bash
# valgrind over transactional loads failing at every point: every committed fuzz input
# (regressions and corpus) and every prefix of each, through the fuzz targets' harness
# (fuzz/replay.c), linked against the ordinary (unsanitized) libswiftvmstate.so. Fails on any
# memory error, definite leak, or violated property.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind_c_program "$out/replay" -I Tests/CFixtures/include fuzz/replay.c Tests/CFixtures/hostile/*.c
status=0
for t in load stream; do
    files=()
    for dir in "fuzz/regressions/$t" "fuzz/corpus/$t"; do
        [ -d "$dir" ] || continue
        while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$dir" -type f ! -name '.*' -print0 | sort -z)
    done
    [ ${#files[@]} -gt 0 ] || continue
    if valgrind_check "$out/$t.log" "$out/replay" --prefixes "$t" "${files[@]}"; then
        echo "ok - valgrind: $t inputs and their prefixes: $(tail -1 "$out/$t.log")"
    else
        echo "FAIL - valgrind: $t inputs"
        tail -60 "$out/$t.log"
        status=1
    fi
done
exit $status
