#!/usr/bin/env bash
# Saves to a local file that fail for real (the file size limit, EFBIG), through the page cache
# and with O_DIRECT, from a C program under valgrind (Tests/CConsumer/file_errors.c): the error
# names the section and the byte offset, the file holds exactly the bytes before it, nothing
# hangs (a time limit), no memory error or definite leak (the writer thread, its queues and
# buffers).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
out=$(mktemp -d)
# The file goes to $TMPDIR (or /tmp): a disk file system there takes O_DIRECT as well.
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmstate-file-errors-XXXXXX")
trap 'rm -rf "$out" "$dir"' EXIT
valgrind_c_program "$out/file_errors" Tests/CConsumer/file_errors.c
if VALGRIND_SECONDS=600 valgrind_check "$out/log" "$out/file_errors" "$dir"; then
    cat "$out/log"
    echo "ok - valgrind: file write failures"
else
    echo "FAIL - file write failures"
    tail -60 "$out/log"
    exit 1
fi
