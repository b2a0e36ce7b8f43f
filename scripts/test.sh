#!/usr/bin/env bash
# Sets everything up, builds once, and runs every test: unit tests of the pure core and
# the I/O layer, and integration tests that run the real binaries against real
# tensorstore and zarr-python writers, and cluster tests on hosts made of network
# namespaces, each with its own dbus-daemon and avahi-daemon (tools/netns.sh; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The cluster tests make their own hosts; say early if this machine cannot.
if ! { ip netns add softcopy-probe && ip netns del softcopy-probe; } 2>/dev/null; then
    echo "test.sh: cannot create network namespaces (run as root); the cluster tests will fail" >&2
fi
# Hosts left by an interrupted earlier run (their processes, then the namespaces).
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^sc[0-9a-f]+(sw|h[0-9]+)$' || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
done
swift build --build-tests
# Serial: the integration tests are CPU-heavy on small machines, and one of them changes
# a global inotify limit for a moment.
# The whole log stays in .build/test.log; on failure the failing tests are repeated at
# the end, where a CI page that shows only the tail will have them.
set +e
swift test --skip-build --no-parallel "$@" 2>&1 | tee .build/test.log
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
    echo "=== test.sh: the tests failed (status $status); the failures again ==="
    grep -a -E "✘|recorded an issue|Expectation failed|error:" -A4 .build/test.log | tail -c 20000
fi
exit "$status"
