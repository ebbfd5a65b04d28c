#!/usr/bin/env bash
# valgrind over a C emulator's live migrations (Tests/CLive/live_leaks.c): a whole migration with
# RAM changing between passes, a failing dirty log, a stream failing mid-pass, a destination cut
# mid-RAM. Fails on any wrong result, memory error or definite leak.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind_c_program "$out/live" Tests/CLive/live_leaks.c
if valgrind_check "$out/log" "$out/live"; then
    echo "ok - valgrind: $(tail -1 "$out/log")"
else
    echo "FAIL - valgrind: live migrations"
    tail -60 "$out/log"
    exit 1
fi
