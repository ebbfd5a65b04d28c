#!/usr/bin/env bash
# The documentation's examples are checks: every command shown with its output in README.md,
# docs/*.md and fuzz/README.md (a code block after <!-- doc-test -->) is run and its output
# compared with the text, and docs/C-API.md must name every function of include/. See
# scripts/doc-examples.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --product vmstate >/dev/null
python3 scripts/doc-examples
