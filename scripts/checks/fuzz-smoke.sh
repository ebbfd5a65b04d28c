#!/usr/bin/env bash
# The fuzz targets in CI: build them (ASan + libFuzzer), replay every committed regression
# and corpus input, then fuzz both targets side by side for FUZZ_SMOKE_SECONDS (default 60)
# each. Any crash, leak or violated property fails the check; its input is left in
# fuzz/out/<target>/crashes/ (fix it, then commit it under fuzz/regressions/<target>/).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec scripts/fuzz "${FUZZ_SMOKE_SECONDS:-60}"
