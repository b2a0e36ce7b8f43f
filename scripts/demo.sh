#!/usr/bin/env bash
# The demo: sets everything up, builds, starts a small simulated acquisition (a tensorstore
# writer producing an OME-Zarr time series at 25 MB/s), copies it while it is written,
# and verifies the copy by opening both with zarr-python and tensorstore.
#   scripts/demo.sh [FOLDER]   (default /tmp/softcopy-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product softcopy-coordinator
bin="$(swift build -c release --show-bin-path)/softcopy-coordinator"

demo="${1:-/tmp/softcopy-demo}"
rm -rf "$demo"
mkdir -p "$demo"
source="$demo/acquisition.zarr"
copy="$demo/copy.zarr"

echo
echo "demo: a microscope writes $source (40 time points, 2 resolution levels, ~200 MB at 25 MB/s)"
echo "demo: softcopy copies it to $copy while it is written"
echo
.venv/bin/python tools/acquire.py "$source" --ome --shape 40,8,512,512 --chunks 1,1,256,256 \
    --rate 25 --complete > "$demo/writer.log" 2>&1 &
writer=$!

status=0
# --no-discovery: the demo copies locally and never hands its data to agents on your network.
"$bin" --no-discovery --wait-for-source "$source" "$copy" || status=$?
wait "$writer"

echo
echo "demo: checking the copy against the acquisition, array by array, with zarr-python and tensorstore"
.venv/bin/python tools/compare.py "$source" "$copy"
if [ "$status" -ne 0 ]; then
    echo "demo: softcopy exited with $status" >&2
    exit "$status"
fi
echo "demo: done. The manifest is $copy/.softcopy/manifest.json"
