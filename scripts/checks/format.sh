#!/usr/bin/env bash
# The Swift sources follow the repository's .swift-format: `swift format lint --strict` finds
# nothing. To fix findings: swift format format -i -r Package.swift Sources Tests/VMStateTests
set -euo pipefail
cd "$(dirname "$0")/../.."
swift format lint --strict --recursive --parallel Package.swift Sources Tests/VMStateTests
echo "ok - swift format lint: no findings"
