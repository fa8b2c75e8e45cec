#!/usr/bin/env bash
# Lints Swift sources against .swift-format (4-space indentation, 130 columns) without changing
# them; exits non-zero on any finding. Pass paths to check only those (the files you changed).
#
#   scripts/check-format.sh                                   # Sources, Tests, Benchmarks
#   scripts/check-format.sh $(git diff --name-only main -- '*.swift')
#   swift format --in-place FILE…                             # fix what it reports
#
# scripts/test.sh runs it (a FAIL line in the summary); the tree was formatted once with
# `swift format -i -r -p Sources Tests Benchmarks` when the check went in.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi
if (($#)); then
    exec swift format lint --strict --parallel "$@"
fi
exec swift format lint --strict --parallel --recursive Sources Tests Benchmarks
