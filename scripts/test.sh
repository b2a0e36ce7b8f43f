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
swift test --skip-build --no-parallel "$@"
