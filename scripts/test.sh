#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs what the tests need
# (Chromium and its driver for the browser test), then runs them. Used by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi

# The browser test drives Debian's Chromium through chromedriver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium and chromium-driver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "== chromium/chromedriver missing and cannot be installed here: the browser test will say so" >&2
  fi
fi

# Unit, integration, documentation and example tests of every crate.
cargo test --workspace --locked
