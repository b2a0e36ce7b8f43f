#!/usr/bin/env bash
# Sets everything up, builds once, and runs every test: unit tests of the pure core and
# the I/O layer, and integration tests that run the real binaries against real
# tensorstore and zarr-python writers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
# Serial: the integration tests are CPU-heavy on small machines, and one of them changes
# a global inotify limit for a moment.
swift test --skip-build --no-parallel "$@"
