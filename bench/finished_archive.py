#!/usr/bin/env python3
"""Finished archive: 2 GiB of 1 MiB chunks (zarr v3, nested keys, written by tensorstore),
hot page cache, copied to a fresh ext4 filesystem for every run.

Compares `softcopy-coordinator --once` (local mode, checksums on) with `cp -r` and
`cp -r` followed by `sync` (softcopy's copy is durable when it exits; cp's is not), in one
run, alternating, after a warm-up; prints a table of medians and writes JSON.

usage: bench/finished_archive.py [--repeat N] [--gib G] [--work DIR]
"""
import argparse
import os

from common import FreshFilesystem, finished_archive, hot_cache, median, release_binary, table, timed, write_json


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--gib", type=int, default=2)
    p.add_argument("--work", default="/tmp/softcopy-bench")
    args = p.parse_args()

    coordinator = release_binary("softcopy-coordinator")
    os.makedirs(args.work, exist_ok=True)
    source = finished_archive(args.work, args.gib)
    chunks = args.gib * 1024
    hot_cache(source)
    mount = os.path.join(args.work, "dest")

    contenders = {
        "cp -r": lambda d: ["cp", "-r", source, d],
        "cp -r; sync": lambda d: ["sh", "-c", f"cp -r '{source}' '{d}' && sync"],
        "softcopy --once": lambda d: [coordinator, "--no-discovery", "--once", "--progress", "never", source, d],
    }
    results = {name: [] for name in contenders}
    for round_ in range(args.repeat + 1):  # round 0 is the warm-up
        for name, command in contenders.items():
            with FreshFilesystem(mount, size_gib=args.gib * 2 + 2):
                hot_cache(source)
                m = timed(command(os.path.join(mount, "copy.zarr")))
            if round_ > 0:
                results[name].append(m)
            print(f"bench: round {round_}{' (warm-up)' if round_ == 0 else ''}: {name}: {m['wall']:.2f} s", flush=True)

    base = median([m["wall"] for m in results["cp -r"]])
    rows = []
    for name, runs in results.items():
        wall = median([m["wall"] for m in runs])
        rows.append({"copier": name, "wall s": f"{wall:.2f}", "x cp -r": f"{wall / base:.2f}",
                     "CPU s": f"{median([m['cpu'] for m in runs]):.2f}",
                     "CPU s/GiB": f"{median([m['cpu'] for m in runs]) / args.gib:.2f}",
                     "peak MiB": f"{max(m['peak_rss_mib'] for m in runs):.0f}"})
    print(f"\nFinished archive: {args.gib} GiB, {chunks} files of 1 MiB, hot cache, fresh ext4; medians of {args.repeat}\n")
    table(rows, ["copier", "wall s", "x cp -r", "CPU s", "CPU s/GiB", "peak MiB"])
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "finished_archive.json"),
               {"gib": args.gib, "files": chunks, "repeat": args.repeat, "results": results})


if __name__ == "__main__":
    main()
