#!/usr/bin/env bash
# valgrind over transactional loads failing at every point: every committed fuzz input
# (regressions and corpus) and every prefix of each, through the fuzz targets' harness
# (fuzz/replay.c), linked against the ordinary (unsanitized) libswiftvmstate.so. Fails on any
# memory error, definite leak, or violated property.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
apt_need valgrind command -v valgrind
bin=$(valgrind_library_build)
swiftlib=$(dirname "$(dirname "$(command -v swift)")")/lib/swift/linux
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
${CC:-cc} -std=gnu11 -g -O1 -Wall -Werror -I include -I Tests/CFixtures/include $(pkg-config --cflags glib-2.0) \
    fuzz/replay.c Tests/CFixtures/hostile/*.c -L "$bin" -lswiftvmstate $(pkg-config --libs glib-2.0) \
    -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib" -o "$out/replay"
status=0
for t in load stream; do
    files=()
    for dir in "fuzz/regressions/$t" "fuzz/corpus/$t"; do
        [ -d "$dir" ] || continue
        while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$dir" -type f ! -name '.*' -print0 | sort -z)
    done
    [ ${#files[@]} -gt 0 ] || continue
    if SWIFT_BACKTRACE=enable=no valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite --error-exitcode=99 "$out/replay" --prefixes "$t" "${files[@]}" \
        >"$out/$t.log" 2>&1; then
        echo "ok - valgrind: $t inputs and their prefixes: $(tail -1 "$out/$t.log")"
    else
        echo "FAIL - valgrind: $t inputs"
        tail -60 "$out/$t.log"
        status=1
    fi
done
exit $status
