#!/usr/bin/env bash
# Saves to a local file that fail for real (the file size limit, EFBIG), through the page cache
# and with O_DIRECT, from a C program under valgrind: the error names the section and the byte offset, the
# file holds exactly the bytes before it, nothing hangs, no memory error or definite leak (the
# writer thread, its queues and buffers) (Tests/CConsumer/file_errors.c).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
apt_need valgrind command -v valgrind
bin=$(valgrind_library_build)
swiftlib=$(dirname "$(dirname "$(command -v swift)")")/lib/swift/linux
out=$(mktemp -d)
# The file goes to $TMPDIR (or /tmp): a disk file system there takes O_DIRECT as well.
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmstate-file-errors-XXXXXX")
trap 'rm -rf "$out" "$dir"' EXIT
${CC:-cc} -std=gnu11 -g -O1 -Wall -Werror -I include $(pkg-config --cflags gio-2.0 gio-unix-2.0) \
    Tests/CConsumer/file_errors.c -L "$bin" -lswiftvmstate $(pkg-config --libs gio-2.0 gio-unix-2.0) \
    -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib" -o "$out/file_errors"
if SWIFT_BACKTRACE=enable=no timeout 600 valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --error-exitcode=99 "$out/file_errors" "$dir" >"$out/log" 2>&1; then
    cat "$out/log"
    echo "ok - valgrind: file write failures"
else
    echo "FAIL - file write failures"
    tail -60 "$out/log"
    exit 1
fi
