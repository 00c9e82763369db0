#!/usr/bin/env bash
# The whole staticd test suite, exactly as CI runs it: installs what the tests need (Chromium, REDbot,
# QEMU and the thumbv7em target for the device firmware), then runs the core's doc tests and device
# example, and every unit, property, differential and end-to-end test with cargo-nextest.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-test-deps.sh
bash scripts/setup-firmware-deps.sh

echo "== staticd-core: doc tests and the device example"
cargo test -p staticd-core --features std,serde --doc
cargo run -q -p staticd-core --features std,serde --example device

echo "== unit, property, differential and end-to-end tests"
cargo nextest run --workspace --profile ci
