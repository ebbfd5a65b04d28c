#!/usr/bin/env bash
# valgrind over a C emulator's live migrations (Tests/CLive/live_leaks.c): a whole migration with
# RAM changing between passes, a failing dirty log, a stream failing mid-pass, a destination cut
# mid-RAM. Fails on any wrong result, memory error or definite leak.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
apt_need valgrind command -v valgrind
bin=$(valgrind_library_build)
swiftlib=$(dirname "$(dirname "$(command -v swift)")")/lib/swift/linux
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
${CC:-cc} -std=gnu11 -g -O1 -Wall -Werror -I include $(pkg-config --cflags gio-2.0) Tests/CLive/live_leaks.c \
    -L "$bin" -lswiftvmstate $(pkg-config --libs gio-2.0) -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib" \
    -o "$out/live"
if SWIFT_BACKTRACE=enable=no valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --error-exitcode=99 "$out/live" >"$out/log" 2>&1; then
    echo "ok - valgrind: $(tail -1 "$out/log")"
else
    echo "FAIL - valgrind: live migrations"
    tail -60 "$out/log"
    exit 1
fi
