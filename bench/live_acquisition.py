#!/usr/bin/env python3
"""Scenario 3, a live acquisition: a tensorstore writer at a fixed rate (zarr v3, nested
keys, 2 MiB chunks by default) writes onto a fresh ext4 filesystem while a copier copies
it onto another. Compared in one run, alternating, after a warm-up: the writer alone,
softcopy local, softcopy through one agent on loopback, and the original softcopy from
PyPI (--nprocs 8 --sleep-time 0). The writer creates `complete` right after its last chunk.

Reported, medians over the runs:
- the writer's achieved rate (first to last time point), and as a share of its rate alone;
- chunk delay: from a chunk's rename at the source to its final name at the destination.
  Both are read afterwards from the files' ctimes (a rename sets the renamed inode's ctime;
  both filesystems share the kernel's clock). softcopy renames only after the bytes are
  fsynced, so for it this is the durable write; the original softcopy does not fsync, so
  for it this is the last change to the copy. Median, p99 and max over every chunk;
- the time from the writer's last chunk to the copier's (verified) exit;
- the copier's CPU seconds and peak memory (the agent's included).

usage: bench/live_acquisition.py [--repeat N] [--rate MBPS] [--seconds S] [--chunk-mib 1|2|4]
"""
import argparse
import json
import os
import re
import subprocess
import time

from common import ACQUIRE, PYTHON, FreshFilesystem, median, release_binary, table, write_json
from peers import PYPI_SOFTCOPY, Server, cpu_seconds, ensure_peers, peak_mib

Z, X = 16, 1024


def geometry(args):
    """(shape, chunks, bytes per time point) for RATE MB/s over SECONDS with CHUNK MiB chunks."""
    y = args.chunk_mib * 512
    per_timepoint = Z * y * X * 2
    timepoints = max(4, round(args.rate * 1e6 * args.seconds / per_timepoint))
    return f"{timepoints},{Z},{y},{X}", f"1,1,{y},{X}", per_timepoint, timepoints


def writer_figures(stamps, per_timepoint):
    """The writer's rate between its first and last time point (MB/s), and its last chunk's time."""
    lines = [json.loads(line) for line in open(stamps)]
    points = [line["monotonic"] for line in lines if "timepoint" in line]
    last_chunk = next(line["last_chunk"] for line in lines if "last_chunk" in line)
    rate = (len(points) - 1) * per_timepoint / 1e6 / (points[-1] - points[0])
    return rate, last_chunk


def chunk_delays(source, dest):
    """Seconds from each chunk's ctime at the source to its copy's ctime at the destination;
    a chunk missing at the destination is an error (the copy is incomplete)."""
    delays, missing = [], []
    chunks = os.path.join(source, "c")
    for dirpath, _, files in os.walk(chunks):
        for name in files:
            full = os.path.join(dirpath, name)
            copy = os.path.join(dest, os.path.relpath(full, source))
            try:
                delays.append((os.stat(copy).st_ctime_ns - os.stat(full).st_ctime_ns) / 1e9)
            except FileNotFoundError:
                missing.append(copy)
    if missing:
        raise SystemExit(f"bench: {len(missing)} chunks missing at the destination, e.g. {missing[:3]}")
    return sorted(delays)


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))]


def wait_for(path, process, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"bench: {path} did not appear")
        time.sleep(0.01)


def run_once(mode, args, work, binaries):
    """One acquisition with MODE copying it; returns the measurement."""
    shape, chunks, per_timepoint, _ = geometry(args)
    stamps = os.path.join(work, "live-stamps.jsonl")
    if os.path.exists(stamps):
        os.unlink(stamps)
    src_mount, dst_mount = os.path.join(work, "live-src"), os.path.join(work, "dest")
    size = int(args.rate * args.seconds / 1000) + 4  # above the 1 GiB free-space reserves of coordinator and agent
    with FreshFilesystem(src_mount, size_gib=size), FreshFilesystem(dst_mount, size_gib=size):
        source, dest = os.path.join(src_mount, "acq.zarr"), os.path.join(dst_mount, "acq.zarr")
        writer_cmd = [PYTHON, ACQUIRE, source, "--shape", shape, "--chunks", chunks, "--rate", str(args.rate),
                      "--timestamps", stamps, "--complete", "--seed", "7", "--cheap-frames"]
        copier, server, start_after_metadata = None, None, False
        log = open(os.path.join(work, f"live-{mode.split()[0]}.log"), "w")
        coordinator = [binaries["coordinator"], "--no-discovery", "--wait-for-source", "--progress", "never"] + args.coordinator_arg
        if mode == "softcopy local":
            command = coordinator + [source, dest]
        elif mode == "softcopy, 1 agent":
            server = Server([binaries["agent"], "--no-advertise", "--root", dst_mount, "--host", "127.0.0.1", "--port", "0"],
                            os.path.join(work, "live-agent.log"), lambda text: re.search(r"on (http://127\.0\.0\.1:\d+)", text))
            command = coordinator + ["--listen", "127.0.0.1:0", "--agent", server.match.group(1), source, "acq.zarr"]
        elif mode == "original softcopy (PyPI)":
            # It reads the array's metadata at start, so it starts once the writer made it.
            command, start_after_metadata = [PYPI_SOFTCOPY, "--nprocs", "8", "--sleep-time", "0", source, dest], True
        else:
            command = None
        try:
            if command and not start_after_metadata:
                copier = subprocess.Popen(command, stdout=log, stderr=log)
            writer = subprocess.Popen(writer_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if command and start_after_metadata:
                wait_for(os.path.join(source, "zarr.json"), writer)
                copier = subprocess.Popen(command, stdout=log, stderr=log)
            writer_err = writer.communicate()[1].decode(errors="replace")
            if writer.returncode != 0:
                raise SystemExit(f"bench: the writer failed ({writer.returncode}):\n{writer_err[-2000:]}")
            m = {}
            if copier:
                _, status, usage = os.wait4(copier.pid, 0)
                exited = time.monotonic()
                code = os.waitstatus_to_exitcode(status)
                if code != 0:
                    raise SystemExit(f"bench: {mode} exited {code}: see {log.name}")
                m.update(cpu=usage.ru_utime + usage.ru_stime, peak_rss_mib=usage.ru_maxrss / 1024)
                if server:
                    server.add_to(m)
            rate, last_chunk = writer_figures(stamps, per_timepoint)
            m["writer_mbps"] = rate
            if copier:
                m["last_chunk_to_exit"] = exited - last_chunk
                delays = chunk_delays(source, dest)
                m.update(chunks=len(delays), delay_median=median(delays), delay_p99=percentile(delays, 99), delay_max=delays[-1])
            return m
        finally:
            if copier and copier.poll() is None:
                copier.kill()
                copier.wait()
            if server:
                server.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--rate", type=float, default=150, help="the writer's rate, MB/s")
    p.add_argument("--seconds", type=float, default=20, help="how long the acquisition runs at that rate")
    p.add_argument("--chunk-mib", type=int, choices=[1, 2, 4], default=2)
    p.add_argument("--work", default="/tmp/softcopy-bench")
    p.add_argument("--only", action="append", default=None, help="run only these modes (repeatable)")
    p.add_argument("--coordinator-arg", action="append", default=[], help="an argument for softcopy's coordinator (repeatable), e.g. --coordinator-arg=--rewrite-hold=0")
    args = p.parse_args()

    ensure_peers()
    os.makedirs(args.work, exist_ok=True)
    binaries = {"coordinator": release_binary("softcopy-coordinator"), "agent": release_binary("softcopy-agent")}
    modes = ["writer alone", "softcopy local", "softcopy, 1 agent", "original softcopy (PyPI)"]
    if args.only:
        modes = [m for m in modes if m in args.only or m == "writer alone"]
    results = {m: [] for m in modes}
    for round_ in range(args.repeat + 1):
        for mode in modes:
            m = run_once(mode, args, args.work, binaries)
            if round_ > 0:
                results[mode].append(m)
            extra = f", p99 delay {m['delay_p99'] * 1000:.0f} ms, last chunk to exit {m['last_chunk_to_exit']:.2f} s" if "delay_p99" in m else ""
            print(f"bench: round {round_}{' (warm-up)' if round_ == 0 else ''}: {mode}: writer {m['writer_mbps']:.0f} MB/s{extra}", flush=True)

    shape, chunks, _, timepoints = geometry(args)
    alone = median([m["writer_mbps"] for m in results["writer alone"]])
    rows = []
    for mode, runs in results.items():
        rate = median([m["writer_mbps"] for m in runs])
        row = {"copier": mode, "writer MB/s": f"{rate:.0f}", "% of alone": f"{100 * rate / alone:.0f}"}
        if "delay_p99" in runs[0]:
            row.update({
                "delay median ms": f"{1000 * median([m['delay_median'] for m in runs]):.0f}",
                "delay p99 ms": f"{1000 * median([m['delay_p99'] for m in runs]):.0f}",
                "delay max ms": f"{1000 * median([m['delay_max'] for m in runs]):.0f}",
                "last chunk to exit s": f"{median([m['last_chunk_to_exit'] for m in runs]):.2f}",
                "CPU s": f"{median([m['cpu'] for m in runs]):.1f}",
                "peak MiB": f"{max(m['peak_rss_mib'] for m in runs):.0f}",
            })
        rows.append(row)
    print(f"\nLive acquisition: tensorstore at {args.rate:.0f} MB/s for {args.seconds:.0f} s, shape {shape}, chunks {chunks} "
          f"({args.chunk_mib} MiB), {timepoints * Z} chunks; source and destination each a fresh ext4; medians of {args.repeat}\n")
    table(rows, ["copier", "writer MB/s", "% of alone", "delay median ms", "delay p99 ms", "delay max ms",
                 "last chunk to exit s", "CPU s", "peak MiB"])
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "live_acquisition.json"),
               {"rate": args.rate, "seconds": args.seconds, "chunk_mib": args.chunk_mib, "repeat": args.repeat, "results": results})


if __name__ == "__main__":
    main()
