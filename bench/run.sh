#!/usr/bin/env bash
# Runs softcopy's benchmarks on this machine (needs root: they mount fresh ext4 images).
#   bench/run.sh [finished|small|live|rewrites|slow|scale|view|s3|all]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
swift build -c release --product softcopy-coordinator
swift build -c release --product softcopy-agent
which mkfs.ext4 >/dev/null || { apt-get install -y -qq e2fsprogs >/dev/null; }
what="${1:-all}"
if [ "$what" = finished ] || [ "$what" = all ]; then .venv/bin/python bench/finished_archive.py; fi
if [ "$what" = small ] || [ "$what" = all ]; then .venv/bin/python bench/small_files.py; fi
if [ "$what" = live ] || [ "$what" = all ]; then .venv/bin/python bench/live_acquisition.py; fi
if [ "$what" = rewrites ] || [ "$what" = all ]; then .venv/bin/python bench/rewrites.py; fi
if [ "$what" = slow ] || [ "$what" = all ]; then .venv/bin/python bench/slow_link.py; fi
if [ "$what" = scale ] || [ "$what" = all ]; then .venv/bin/python bench/scale.py; fi
if [ "$what" = view ] || [ "$what" = all ]; then .venv/bin/python bench/read_view.py; fi
if [ "$what" = s3 ] || [ "$what" = all ]; then .venv/bin/python bench/object_store.py; fi
