#!/usr/bin/env python3
"""Writers that write each chunk several times, copied live by a copier faster than the
writer (no cap, loopback): how many bytes softcopy reads and sends for each byte of the
final archive (the amplification, from the run's summary), how long after the
writer's last write the run exits verified, and each chunk's delay from its last write at
the source to its copy's rename (ctimes, as bench/live_acquisition.py reads them; for the
`once` writer, the delay of chunks written once). Compared in one run: the rewrite hold off
(--rewrite-hold 0, every version sent at once) and on (the default), locally and through
one agent. Every run's copy is compared with the source, byte for byte.

The writers (docs/readiness.md, "Chunks written several times"):
- plane: tensorstore (zarr v3, lockfile mode) writing each time point one z-plane at a
  time, chunks 4 planes deep: each chunk written 4 times;
- rewriter: zarr-python rewriting all 16 chunks of an array 20 times, 50 ms apart;
- once: tensorstore writing whole time points (each chunk written once), for the hold's
  cost where there is nothing to save.
The tensorstore writers write camera-like images (`--image microscopy`, raw uint16, which
compress about 2x on the wire when the link is slow).

With --link RATE (e.g. 100mbit), the agent runs on another host: a network namespace
joined to the coordinator's by a veth pair that tc's tbf limits to RATE (as in
bench/slow_link.py); the local copies are then left out.

usage: bench/rewrites.py [--repeat N] [--work DIR] [--only WRITER] [--link RATE]
"""
import argparse
import os
import re
import subprocess
import sys
import time

from common import A, A_IP, ACQUIRE, B, B_IP, PYTHON, Link, compare_trees, median, ns, release_binary, table, write_json
from live_acquisition import chunk_delays, percentile
from peers import Server

REWRITER = r"""
import sys, time, numpy as np, zarr
path = sys.argv[1]
z = zarr.create_array(path, shape=(1024, 1024), chunks=(256, 256), dtype="uint32", compressors=None, fill_value=0, zarr_format=3)
rng = np.random.default_rng(7)
base = rng.poisson(400, size=(1024, 1024)).astype("uint32")
for r in range(20):
    z[:] = base + r
    time.sleep(0.05)
open(path + "/complete", "w").close()
"""

WRITERS = {
    "plane": [PYTHON, ACQUIRE, "{src}", "--shape", "12,16,512,512", "--chunks", "1,4,256,256", "--locking", "lockfile",
              "--write-unit", "plane", "--rate", "20", "--complete", "--seed", "7", "--image", "microscopy", "--cheap-frames"],
    "rewriter": [PYTHON, "-c", REWRITER, "{src}"],
    "once": [PYTHON, ACQUIRE, "{src}", "--shape", "12,16,512,512", "--chunks", "1,4,256,256", "--locking", "lockfile",
             "--rate", "20", "--complete", "--seed", "7", "--image", "microscopy", "--cheap-frames"],
}


def run_once(writer, mode, hold, work, link=None):
    src, dst = os.path.join(work, "src.zarr"), os.path.join(work, "dst")
    subprocess.run(["rm", "-rf", src, dst], check=True)
    os.makedirs(dst)
    coordinator = [release_binary("softcopy-coordinator"), "--no-discovery", "--wait-for-source", "--progress", "never", "--rewrite-hold", hold]
    server = None
    log = open(os.path.join(work, f"{writer}-{mode}-{hold}.log"), "w")
    if mode == "local":
        command, copy = coordinator + [src, os.path.join(dst, "acq.zarr")], os.path.join(dst, "acq.zarr")
    else:
        host, coordinator_host = (B_IP, A_IP) if link else ("127.0.0.1", "127.0.0.1")
        agent = [release_binary("softcopy-agent"), "--no-advertise", "--root", dst, "--host", host, "--port", "0", "--reserve", "0"]
        server = Server(ns(B, agent) if link else agent, os.path.join(work, "agent.log"), lambda text: re.search(r"on (http://[\d.]+:\d+)", text))
        command = coordinator + ["--listen", f"{coordinator_host}:0", "--agent", server.match.group(1), src, "acq.zarr"]
        command, copy = ns(A, command) if link else command, os.path.join(dst, "acq.zarr")
    try:
        copier = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        w = subprocess.run([a.replace("{src}", src) for a in WRITERS[writer]], capture_output=True, text=True)
        if w.returncode != 0:
            sys.exit(f"bench: the {writer} writer failed:\n{w.stderr[-2000:]}")
        code = copier.wait(timeout=300)
        exited = time.time()
        # The writer's end: its `complete` marker, made right after its last chunk (the
        # interpreter's own exit can come after the copier's).
        written = os.stat(os.path.join(src, "complete")).st_ctime_ns / 1e9
        log.close()
        text = open(log.name).read()
        if code != 0:
            sys.exit(f"bench: {mode} exited {code}: see {log.name}")
        found = re.search(r"amplification ([0-9.]+)×", text)
        if not found:
            sys.exit(f"bench: no amplification in {log.name}")
        differences = compare_trees(src, copy)
        if differences:
            sys.exit(f"bench: the copy differs from the source: {differences[:5]}")
        delays = chunk_delays(src, copy)
        return {"amplification": float(found.group(1)), "end_to_exit": exited - written,
                "delay_p99_ms": percentile(delays, 99) * 1000, "delay_median_ms": median(delays) * 1000}
    finally:
        if copier.poll() is None:
            copier.kill()
        if server:
            server.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--work", default="/tmp/softcopy-bench-rewrites")
    p.add_argument("--only", action="append", choices=list(WRITERS), default=None)
    p.add_argument("--link", default=None, help="the agent on another host over a link of this rate (tc's form: 100mbit)")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    results = {}
    link = Link(args.link) if args.link else None
    if link:
        link.__enter__()
    try:
        for writer in args.only or list(WRITERS):
            for mode in (["agent"] if link else ["local", "agent"]):
                for hold in ["0", "0.3"]:
                    runs = [run_once(writer, mode, hold, args.work, link) for _ in range(args.repeat)]
                    where = f"agent over {args.link}" if link else mode
                    key = f"{writer}, {where}, hold {'off' if hold == '0' else hold + ' s'}"
                    results[key] = runs
                    print(f"{key}: amplification {[r['amplification'] for r in runs]}, writer end to exit {[round(r['end_to_exit'], 2) for r in runs]} s, "
                          f"chunk delay p99 {[round(r['delay_p99_ms']) for r in runs]} ms", flush=True)
    finally:
        if link:
            link.__exit__()
    rows = [{"case": k, "amplification": f"{median([r['amplification'] for r in v]):.2f}",
             "writer end to verified exit s": f"{median([r['end_to_exit'] for r in v]):.2f}",
             "chunk delay p99 ms": f"{median([r['delay_p99_ms'] for r in v]):.0f}"} for k, v in results.items()]
    print(f"medians of {args.repeat}")
    table(rows, ["case", "amplification", "writer end to verified exit s", "chunk delay p99 ms"])
    name = "rewrites-link.json" if link else "rewrites.json"
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", name), results)


if __name__ == "__main__":
    main()
