#!/usr/bin/env bash
# The failover of issue 18, by hand and repeatable: AGENTS agents on loopback, a live
# tensorstore acquisition that fills each chunk plane by plane (four versions of every
# chunk), the last agent SIGKILLed 2 s in and started again after the run; then verify,
# a second --once run with every agent, and verify again. It prints what each said and,
# at the end, how many agents hold each source file and how many copies have other bytes.
#   bench/failover.sh [REPLICAS] [AGENTS]     (default 1 2; release binaries; needs the .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
replicas="${1:-1}"; agents="${2:-2}"
bin="$(swift build -c release --show-bin-path)"
work="${SOFTCOPY_BENCH_DIR:-/tmp/softcopy-failover}"
rm -rf "$work"; mkdir -p "$work"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
start_agent() {  # N: agent nN on port 17640+N, its log numbered by start
    mkdir -p "$work/n$1"
    "$bin/softcopy-agent" --no-advertise --root "$work/n$1" --host 127.0.0.1 --port $((17640 + $1)) --name "n$1" \
        >> "$work/n$1.log" 2>&1 &
    pids[$1]=$!
}
list=()
for ((i = 0; i < agents; i++)); do start_agent "$i"; list+=(--agent "http://127.0.0.1:$((17640 + i))"); done
sleep 0.5
"$bin/softcopy-coordinator" --no-discovery --wait-for-source --progress never --listen 127.0.0.1:0 --replicas "$replicas" \
    "${list[@]}" "$work/src.zarr" acq.zarr > "$work/run.log" 2>&1 &
coordinator=$!
.venv/bin/python tools/acquire.py "$work/src.zarr" --write-unit plane --locking lockfile --shape 48,4,256,256 \
    --chunks 1,4,128,128 --rate 4 --complete > "$work/writer.log" 2>&1 &
writer=$!
sleep 2
last=$((agents - 1))
kill -9 "${pids[$last]}"
wait "${pids[$last]}" 2>/dev/null || true
wait "$writer"
status=0; wait "$coordinator" || status=$?
echo "run: exit $status; $(grep -E "not reachable at the end" "$work/run.log" | sed 's/^ *//' || echo "no node away")"
start_agent "$last"
sleep 0.5
status=0; "$bin/softcopy-coordinator" verify --no-discovery --replicas "$replicas" "${list[@]}" "$work/src.zarr" acq.zarr > "$work/verify1.log" 2>&1 || status=$?
echo "verify: exit $status; $(grep -E "superseded" "$work/verify1.log" | sed 's/^ *//' || echo "no superseded copies")"
status=0; "$bin/softcopy-coordinator" --no-discovery --once --progress never --listen 127.0.0.1:0 --replicas "$replicas" \
    "${list[@]}" "$work/src.zarr" acq.zarr > "$work/again.log" 2>&1 || status=$?
echo "second run: exit $status; $(grep -E "removed .* superseded" "$work/again.log" | sed 's/^.*info: //' || echo "nothing removed")"
status=0; "$bin/softcopy-coordinator" verify --no-discovery --replicas "$replicas" "${list[@]}" "$work/src.zarr" acq.zarr > "$work/verify2.log" 2>&1 || status=$?
echo "verify again: exit $status; $(grep -cE "superseded" "$work/verify2.log" || true) lines about superseded copies"
.venv/bin/python - "$work" "$agents" <<'PY'
import collections, os, sys
work, agents = sys.argv[1], int(sys.argv[2])
def files(root):
    out = {}
    for folder, subfolders, names in os.walk(root):
        if ".softcopy" in subfolders: subfolders.remove(".softcopy")
        for name in names:
            with open(os.path.join(folder, name), "rb") as f: out[os.path.relpath(os.path.join(folder, name), root)] = f.read()
    return out
source = files(os.path.join(work, "src.zarr"))
nodes = [files(os.path.join(work, f"n{i}", "acq.zarr")) for i in range(agents)]
holders = collections.Counter(sum(key in n for n in nodes) for key in source)
wrong = sum(1 for key in source for n in nodes if key in n and n[key] != source[key])
extra = len(set().union(*nodes) - set(source))
print(f"files by number of agents holding them: {dict(sorted(holders.items()))}; copies with other bytes: {wrong}; files the source does not have: {extra}")
PY
