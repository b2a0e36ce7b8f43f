#!/usr/bin/env python3
"""Scenario 4, scale: an archive of 1,000,000 small chunk files (a zarr v3 array of
(1000, 64000) uint8 in (1, 64) chunks: 1000 folders of 1000 files of 64 bytes).

Measured, from the coordinator's own log lines (--verbose) and /proc:
- the start-up scan: "the first scan found N files in T";
- resident memory per tracked file: the coordinator's VmRSS right after that scan, minus
  the same on an archive with no chunks, over N (copying is held back with --max-rate 1
  while memory is read, so the figure is the tracking state, not transfer buffers);
- the end: a full copy through one agent on loopback, whose root is a tmpfs (this scenario
  is about the coordinator, not the disk): the time to fetch and merge the agent's listing
  and check every file ("end check ... listings fetched in A, checked in B"), and the
  verdict and manifest ("verdict and manifest ... in C").

The agent's peak memory (VmHWM) is reported too: it holds the listing and the manifest it
receives, and the records it remembers (`--remembered-records`; pass
`--agent-args "--remembered-records 0"` to compare without them).

usage: bench/scale.py [--files N] [--work DIR] [--agent-args ARGS]
"""
import argparse
import json
import os
import re
import subprocess
import time

from common import release_binary, table, write_json
from peers import Server, peak_mib

WIDTH = 1000  # files per folder


def archive(work, files):
    source = os.path.join(work, f"scale-{files}.zarr")
    marker = os.path.join(source, "complete")
    if os.path.exists(marker):
        return source
    rows = -(-files // WIDTH)
    print(f"bench: writing {rows * WIDTH} files of 64 bytes ...", flush=True)
    os.makedirs(source, exist_ok=True)
    with open(os.path.join(source, "zarr.json"), "w") as f:
        json.dump({"zarr_format": 3, "node_type": "array", "shape": [rows, WIDTH * 64], "data_type": "uint8",
                   "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 64]}},
                   "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                   "codecs": [{"name": "bytes"}], "fill_value": 0}, f)
    block = bytearray(64)
    for t in range(rows):
        folder = os.path.join(source, "c", str(t))
        os.makedirs(folder, exist_ok=True)
        for z in range(WIDTH):
            block[0:8] = (t * WIDTH + z).to_bytes(8, "little")
            with open(os.path.join(folder, str(z)), "wb") as f:
                f.write(block)
    open(marker, "w").close()
    return source


def seconds(text):
    """'0.35 s', '12.1 s', '3 min 20 s' -> seconds."""
    m = re.fullmatch(r"(?:(\d+) h )?(?:(\d+) min ?)?(?:([\d.]+) s)?", text.strip())
    if not m:
        raise ValueError(text)
    h, mi, s = m.groups()
    return int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def rss_after_first_scan(coordinator, source, dest, log_path):
    """Starts a watching coordinator with copying held back; returns (files, scan s, VmRSS bytes)."""
    log = open(log_path, "w+")
    process = subprocess.Popen([coordinator, "--no-discovery", "--progress", "never", "--max-rate", "1", "--nprocs", "1", source, dest],
                               stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            log.seek(0)
            m = re.search(r"the first scan found (\d+) files in ([^\n]+)", log.read())
            if m:
                with open(f"/proc/{process.pid}/status") as f:
                    rss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
                return int(m.group(1)), seconds(m.group(2)), rss
            if process.poll() is not None:
                raise SystemExit(f"bench: the coordinator exited: see {log_path}")
            time.sleep(0.05)
        raise SystemExit("bench: no first-scan line within 600 s")
    finally:
        process.kill()
        process.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=1_000_000)
    p.add_argument("--work", default="/tmp/softcopy-bench")
    p.add_argument("--agent-args", default="", help="extra arguments for the agent, e.g. \"--remembered-records 0\"")
    args = p.parse_args()
    coordinator, agent = release_binary("softcopy-coordinator"), release_binary("softcopy-agent")
    os.makedirs(args.work, exist_ok=True)
    source = archive(args.work, args.files)
    empty = os.path.join(args.work, "scale-empty.zarr")
    os.makedirs(empty, exist_ok=True)
    with open(os.path.join(source, "zarr.json")) as f, open(os.path.join(empty, "zarr.json"), "w") as g:
        g.write(f.read())

    ram = os.path.join(args.work, "scale-ram")
    os.makedirs(ram, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8g", "tmpfs", ram], check=True)
    try:
        _, _, base = rss_after_first_scan(coordinator, empty, os.path.join(ram, "empty-copy.zarr"), os.path.join(args.work, "scale-empty.log"))
        files, scan, rss = rss_after_first_scan(coordinator, source, os.path.join(ram, "held-back.zarr"), os.path.join(args.work, "scale-scan.log"))
        subprocess.run(["rm", "-rf", os.path.join(ram, "held-back.zarr"), os.path.join(ram, "empty-copy.zarr")], check=True)
        print(f"bench: first scan {files} files in {scan:.2f} s; {(rss - base) / files:.0f} bytes per file", flush=True)

        root = os.path.join(ram, "agent")
        os.makedirs(root, exist_ok=True)
        server = Server([agent, "--no-advertise", "--root", root, "--host", "127.0.0.1", "--port", "0", "--reserve", "0"] + args.agent_args.split(),
                        os.path.join(args.work, "scale-agent.log"), lambda log: re.search(r"on (http://127\.0\.0\.1:\d+)", log))
        try:
            start = time.monotonic()
            run = subprocess.run([coordinator, "--no-discovery", "--once", "--verbose", "--progress", "never", "--listen", "127.0.0.1:0",
                                  "--agent", server.match.group(1), source, "copy.zarr"], capture_output=True, text=True)
            wall = time.monotonic() - start
            agent_peak = peak_mib(server.process.pid)
        finally:
            server.stop()
        with open(os.path.join(args.work, "scale-copy.log"), "w") as f:
            f.write(run.stderr)
        if run.returncode != 0:
            raise SystemExit(f"bench: the copy failed ({run.returncode}): see {args.work}/scale-copy.log")
        checks = re.findall(r"end check of .*?: (\d+) files, agents' listings fetched in ([^,]+), checked in ([^\n]+)", run.stderr)
        verdict = re.search(r"verdict and manifest of .*? in ([^\n]+)", run.stderr)
        listing, check = seconds(checks[-1][1]), seconds(checks[-1][2])
        verdict_s = seconds(verdict.group(1))
    finally:
        subprocess.run(["umount", "-l", ram])

    rows = [
        {"measure": "start-up scan", "value": f"{scan:.2f} s for {files} files", "target": "<= 30 s"},
        {"measure": "coordinator memory per tracked file", "value": f"{(rss - base) / files:.0f} bytes", "target": "<= 200 bytes"},
        {"measure": "end: fetch and merge the agent's listing", "value": f"{listing:.2f} s", "target": ""},
        {"measure": "end: check every file against it", "value": f"{check:.2f} s", "target": ""},
        {"measure": "verdict and manifest", "value": f"{verdict_s:.2f} s", "target": ""},
        {"measure": "end to verdict in all", "value": f"{listing + check + verdict_s:.2f} s", "target": "<= 10 s"},
        {"measure": "whole copy through one agent (tmpfs root)", "value": f"{wall:.1f} s", "target": ""},
        {"measure": "agent peak memory", "value": f"{agent_peak:.0f} MiB", "target": ""},
    ]
    print(f"\nScale: {files} files of 64 bytes\n")
    table(rows, ["measure", "value", "target"])
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "scale.json"),
               {"files": files, "scan_s": scan, "rss_bytes": rss, "baseline_rss_bytes": base, "listing_s": listing,
                "check_s": check, "verdict_s": verdict_s, "copy_wall_s": wall, "agent_peak_mib": agent_peak,
                "agent_args": args.agent_args})


if __name__ == "__main__":
    main()
