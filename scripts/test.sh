#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs and starts what the tests
# need, then runs them. Used by CI (.ci/run) and by developers alike.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi

# Unit, integration and documentation tests of every crate.
cargo test --workspace --locked
