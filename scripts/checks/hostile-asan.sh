#!/usr/bin/env bash
# The hostile-input and transactional-load tests under AddressSanitizer with LeakSanitizer:
# crafted streams must not read or write out of bounds, and failed (rolled back) loads must
# not leak. Separate scratch path (.build/asan); about 1.5 minutes cold on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
supp=$(mktemp)
trap 'rm -f "$supp" "$supp.build"' EXIT
# XCTest's own runner keeps two objects to the end; nothing of ours is suppressed.
printf 'leak:libXCTest.so\n' >"$supp"
export SWIFT_BACKTRACE=enable=no LSAN_OPTIONS="suppressions=$supp"
if ! swift build --build-tests --sanitize=address --scratch-path .build/asan >"$supp.build" 2>&1; then
    grep -v "Cannot export local symbol" "$supp.build"
    exit 1
fi
swift test --skip-build --sanitize=address --scratch-path .build/asan --filter 'Hostile|Transactional'
echo "ok - hostile and transactional tests clean under AddressSanitizer and LeakSanitizer"
