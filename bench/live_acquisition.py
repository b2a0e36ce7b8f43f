#!/usr/bin/env python3
"""Live acquisition: a tensorstore writer at a fixed rate while softcopy copies, to a
fresh ext4 filesystem. Reports the time from the writer's last chunk being durable to
softcopy's verified exit (the writer creates `complete` right after its last chunk), and
the writer's achieved rate with the copier running.

usage: bench/live_acquisition.py [--repeat N] [--rate MBPS] [--timepoints T]
"""
import argparse
import json
import os
import subprocess
import time

from common import ACQUIRE, PYTHON, FreshFilesystem, median, release_binary, table, write_json


def writer_times(stamps, timepoints):
    """The last chunk's time, and the writer's rate between its first and last time point."""
    lines = [json.loads(l) for l in open(stamps)]
    points = [l["monotonic"] for l in lines if "timepoint" in l]
    last_chunk = next(l["last_chunk"] for l in lines if "last_chunk" in l)
    rate = (timepoints - 1) * 16 * 1048576 / 1e6 / (points[-1] - points[0])
    return last_chunk, rate


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--rate", type=float, default=150, help="writer rate, MB/s")
    p.add_argument("--timepoints", type=int, default=40, help="time points of 16 MiB (16 chunks of 1 MiB)")
    p.add_argument("--work", default="/tmp/softcopy-bench")
    args = p.parse_args()

    coordinator = release_binary("softcopy-coordinator")
    os.makedirs(args.work, exist_ok=True)
    source = os.path.join(args.work, "live.zarr")
    mount = os.path.join(args.work, "dest")
    runs = []
    for round_ in range(args.repeat + 1):
        stamps = os.path.join(args.work, "stamps.jsonl")
        if os.path.exists(stamps):
            os.unlink(stamps)
        subprocess.run(["rm", "-rf", source])
        with FreshFilesystem(mount, size_gib=4):
            copy = os.path.join(mount, "copy.zarr")
            copier = subprocess.Popen([coordinator, "--no-discovery", "--wait-for-source", "--progress", "never", source, copy],
                                      stderr=subprocess.PIPE, text=True)
            start = time.monotonic()
            subprocess.run([PYTHON, ACQUIRE, source, "--shape", f"{args.timepoints},16,512,1024",
                            "--chunks", "1,1,512,1024", "--rate", str(args.rate), "--complete",
                            "--timestamps", stamps], check=True)
            written = time.monotonic()
            err = copier.communicate(timeout=600)[1]
            exited = time.monotonic()
            if copier.returncode != 0:
                raise SystemExit(f"bench: softcopy exited {copier.returncode}:\n{err[-3000:]}")
            last_chunk, rate = writer_times(stamps, args.timepoints)
            m = {"last_chunk_to_exit": exited - last_chunk, "writer_rate": rate, "writer_wall": written - start}
        if round_ > 0:
            runs.append(m)
        print(f"bench: round {round_}{' (warm-up)' if round_ == 0 else ''}: last chunk to verified exit "
              f"{m['last_chunk_to_exit']:.3f} s, writer {m['writer_rate']:.0f} MB/s", flush=True)

    # The writer alone, the same way, for its rate without a copier.
    alone = []
    for _ in range(args.repeat):
        stamps = os.path.join(args.work, "stamps.jsonl")
        if os.path.exists(stamps):
            os.unlink(stamps)
        subprocess.run(["rm", "-rf", source])
        subprocess.run([PYTHON, ACQUIRE, source, "--shape", f"{args.timepoints},16,512,1024", "--chunks", "1,1,512,1024",
                        "--rate", str(args.rate), "--timestamps", stamps], check=True)
        alone.append(writer_times(stamps, args.timepoints)[1])

    rows = [{"measure": "writer rate alone (MB/s)", "median": f"{median(alone):.0f}", "max": f"{max(alone):.0f}"},
            {"measure": "last chunk -> verified exit (s)", "median": f"{median([r['last_chunk_to_exit'] for r in runs]):.3f}",
             "max": f"{max(r['last_chunk_to_exit'] for r in runs):.3f}"},
            {"measure": "writer rate with softcopy running (MB/s)", "median": f"{median([r['writer_rate'] for r in runs]):.0f}",
             "max": f"{max(r['writer_rate'] for r in runs):.0f}"}]
    print(f"\nLive acquisition: {args.timepoints} x 16 MiB at {args.rate:.0f} MB/s target, tensorstore v3, 1 MiB chunks; medians of {args.repeat}\n")
    table(rows, ["measure", "median", "max"])
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "live_acquisition.json"),
               {"rate": args.rate, "timepoints": args.timepoints, "runs": runs})


if __name__ == "__main__":
    main()
