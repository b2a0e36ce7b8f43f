#!/usr/bin/env python3
"""Finished archive through one agent: 2 GiB of 1 MiB chunks (zarr v3, nested keys,
tensorstore), hot page cache, copied by `softcopy-coordinator --once --agent URL` to a
`softcopy-agent` on loopback whose root is a fresh ext4 filesystem for every run, beside
`cp -r` (and `cp -r; sync`) to the same kind of filesystem, in one run, alternating,
after a warm-up. Checksums are on: XXH3-128 at the coordinator, checked at the agent.

Wall time is the coordinator's, from start to its verified exit (the agent is started,
and its port read, before the clock starts). CPU is coordinator + agent (user + sys).

usage: bench/agent_finished.py [--repeat N] [--gib G] [--work DIR] [--transfers N]
"""
import argparse
import os
import re
import subprocess
import time

from common import FreshFilesystem, finished_archive, hot_cache, median, release_binary, table, timed, write_json


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def start_agent(agent, root, transfers):
    log = open(root + ".agent.log", "w+")
    process = subprocess.Popen([agent, "--no-advertise", "--root", root, "--host", "127.0.0.1", "--port", "0", "--transfers", str(transfers)],
                               stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        log.seek(0)
        m = re.search(r"on (http://127\.0\.0\.1:\d+)", log.read())
        if m:
            return process, m.group(1)
        time.sleep(0.02)
    process.kill()
    raise SystemExit("bench: the agent did not start")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--gib", type=int, default=2)
    p.add_argument("--transfers", type=int, default=4)
    p.add_argument("--work", default="/tmp/softcopy-bench")
    args = p.parse_args()

    coordinator = release_binary("softcopy-coordinator")
    agent = release_binary("softcopy-agent")
    os.makedirs(args.work, exist_ok=True)
    source = finished_archive(args.work, args.gib)
    chunks = args.gib * 1024
    mount = os.path.join(args.work, "dest")

    def via_agent():
        process, url = start_agent(agent, mount, args.transfers)
        try:
            hot_cache(source)
            m = timed([coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:0", "--agent", url, source, "copy.zarr"])
            m["cpu"] += cpu_seconds(process.pid)
            return m
        finally:
            process.terminate()
            process.wait()

    def plain(command):
        hot_cache(source)
        return timed(command)

    contenders = {
        "cp -r": lambda: plain(["cp", "-r", source, os.path.join(mount, "copy.zarr")]),
        "cp -r; sync": lambda: plain(["sh", "-c", f"cp -r '{source}' '{mount}/copy.zarr' && sync"]),
        "softcopy, 1 agent on loopback": via_agent,
    }
    results = {name: [] for name in contenders}
    for round_ in range(args.repeat + 1):  # round 0 is the warm-up
        for name, run in contenders.items():
            with FreshFilesystem(mount, size_gib=args.gib * 2 + 2):
                m = run()
            if round_ > 0:
                results[name].append(m)
            print(f"bench: round {round_}{' (warm-up)' if round_ == 0 else ''}: {name}: {m['wall']:.2f} s", flush=True)

    base = median([m["wall"] for m in results["cp -r"]])
    rows = []
    for name, runs in results.items():
        wall = median([m["wall"] for m in runs])
        cpu = median([m["cpu"] for m in runs])
        rows.append({"copier": name, "wall s": f"{wall:.2f}", "x cp -r": f"{wall / base:.2f}",
                     "CPU s": f"{cpu:.2f}", "CPU s/GiB": f"{cpu / args.gib:.2f}"})
    print(f"\nFinished archive through one agent: {args.gib} GiB, {chunks} files of 1 MiB, hot cache, fresh ext4; medians of {args.repeat}\n")
    table(rows, ["copier", "wall s", "x cp -r", "CPU s", "CPU s/GiB"])
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "agent_finished.json"),
               {"gib": args.gib, "files": chunks, "repeat": args.repeat, "transfers": args.transfers, "results": results})


if __name__ == "__main__":
    main()
