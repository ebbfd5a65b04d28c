#!/usr/bin/env bash
# The hostile-input, transactional-load and table-validation tests under AddressSanitizer with
# LeakSanitizer: crafted streams must not read or write out of bounds, failed (rolled back)
# loads must not leak, nor the plans of a table refused part way (they may refer to each
# other), nor those the plan cache drops at an unload of a shared object. Separate scratch path
# (.build/asan); about 1.5 minutes cold on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
supp=$(mktemp)
trap 'rm -f "$supp" "$supp.build" "$supp.c" "$supp.so"' EXIT
# XCTest's own runner keeps two objects to the end; the table-validation tests build their
# tables in memory they never free on purpose (plans are keyed by a table's address for the
# life of the process); nothing of the library is suppressed.
printf 'leak:libXCTest.so\nleak:ScratchTables\n' >"$supp"
export SWIFT_BACKTRACE=enable=no LSAN_OPTIONS="suppressions=$supp"
if ! swift build --build-tests --sanitize=address --scratch-path .build/asan >"$supp.build" 2>&1; then
    grep -v "Cannot export local symbol" "$supp.build"
    exit 1
fi
swift test --skip-build --sanitize=address --scratch-path .build/asan --filter 'Hostile|Transactional|TableValidation|PlanCacheUnload'
echo "ok - hostile, transactional and table-validation tests clean under AddressSanitizer and LeakSanitizer"

# A device library built with -fsanitize=address, the usual way to debug a C device: `lint` and
# `schema` (the tool built with AddressSanitizer too) read its tables' names no further than
# their NUL (they probed each name's whole page: a global-buffer-overflow).
bin=$(swift build --sanitize=address --scratch-path .build/asan --show-bin-path)
cat >"$supp.c" <<'C'
#include "migration/vmstate.h"
typedef struct S { uint32_t a; uint8_t b[3]; } S;
static const VMStateDescription vmstate_s = {.name = "s", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(a, S), VMSTATE_UINT8_ARRAY(b, S, 3), VMSTATE_END_OF_LIST()}};
const VMStateDescription *const asan_vmsds[] = {&vmstate_s, NULL};
C
"$(dirname "$(command -v swift)")/clang" -fsanitize=address -shared -fPIC -o "$supp.so" "$supp.c" -I include \
    $(pkg-config --cflags glib-2.0) -L "$bin" -lswiftvmstate -Wl,-rpath,"$bin"
lint=$("$bin/vmstate" lint "$supp.so" asan_vmsds 2>&1) || { echo "$lint"; exit 1; }
[ "$lint" = "vmstate lint: 0 error(s), 0 warning(s)" ] || { echo "lint: $lint"; exit 1; }
"$bin/vmstate" schema "$supp.so" asan_vmsds | grep -q '"s": {' || { echo "schema failed"; exit 1; }
echo "ok - lint and schema read a device library built with AddressSanitizer"
