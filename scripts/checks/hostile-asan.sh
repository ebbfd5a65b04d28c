#!/usr/bin/env bash
# The hostile-input, transactional-load and table-validation tests under AddressSanitizer with
# LeakSanitizer: crafted streams must not read or write out of bounds, failed (rolled back)
# loads must not leak, nor the plans of a table refused part way (they may refer to each
# other). Separate scratch path (.build/asan); about 1.5 minutes cold on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
supp=$(mktemp)
trap 'rm -f "$supp" "$supp.build"' EXIT
# XCTest's own runner keeps two objects to the end; the table-validation tests build their
# tables in memory they never free on purpose (plans are keyed by a table's address for the
# life of the process); nothing of the library is suppressed.
printf 'leak:libXCTest.so\nleak:ScratchTables\n' >"$supp"
export SWIFT_BACKTRACE=enable=no LSAN_OPTIONS="suppressions=$supp"
if ! swift build --build-tests --sanitize=address --scratch-path .build/asan >"$supp.build" 2>&1; then
    grep -v "Cannot export local symbol" "$supp.build"
    exit 1
fi
swift test --skip-build --sanitize=address --scratch-path .build/asan --filter 'Hostile|Transactional|TableValidation'
echo "ok - hostile, transactional and table-validation tests clean under AddressSanitizer and LeakSanitizer"
