#!/bin/sh
# Installs everything customer_ledger needs, then runs the main job (the demo).
#
# Python side: a virtualenv in .venv with the library, both storage adapters and the
# development tools. System side (Debian, as root): headless Chromium, which the
# report test uses to check the charts render; elsewhere it says what to install.
set -eu
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null
    else
        echo "note: install headless Chromium (Debian: chromium chromium-driver) for the report test" >&2
    fi
fi

python3 -m venv .venv
.venv/bin/pip install -q -e ".[dev]" -e adapters/sqlite -e adapters/postgres
.venv/bin/customer-ledger demo
