#!/usr/bin/env python3
"""Scenario 1, a finished archive: 2 GiB of 1 MiB chunks (zarr v3, nested keys, written by
tensorstore, with its `complete` file), hot page cache, each copy onto a fresh ext4
filesystem made for that run. Compared in one run, alternating, after a warm-up:
cp -r (and cp -r; sync), rsync -a, rclone copy --transfers 8 (local, and over HTTP from
rclone serve http), the original softcopy from PyPI (--nprocs 8 --sleep-time 0),
softcopy local (--once) and softcopy through one agent on loopback (checksums on).

Wall time runs from start to exit (for softcopy: a verified exit). CPU is user + sys of all
the copier's processes; peak memory adds its processes' peaks. softcopy alone makes each
file durable (fsync) before it counts; cp -r; sync shows what durability costs here.

usage: bench/finished_archive.py [--repeat N] [--gib G] [--work DIR] [--only NAMES]
"""
import argparse
import os

from common import select, compare, finished_archive, release_binary, summary_rows, table, write_json
from peers import contenders, ensure_peers


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--gib", type=int, default=2)
    p.add_argument("--work", default="/tmp/softcopy-bench")
    p.add_argument("--only", help="comma-separated parts of copier names to run (cp -r always runs, as the baseline)")
    args = p.parse_args()

    ensure_peers()
    os.makedirs(args.work, exist_ok=True)
    source = finished_archive(args.work, args.gib)
    files = sum(len(f) for _, _, f in os.walk(source))
    mount = os.path.join(args.work, "dest")
    copiers = contenders(source, mount, args.work, coordinator=release_binary("softcopy-coordinator"), agent=release_binary("softcopy-agent"))
    copiers = select(copiers, args.only, baseline="cp -r")
    results = compare(copiers, repeat=args.repeat, mount=mount, fs_gib=args.gib * 2 + 2, log=lambda s: print(s, flush=True))
    print(f"\nFinished archive: {args.gib} GiB, {files} files (1 MiB chunks), hot cache, fresh ext4 per run; medians of {args.repeat}\n")
    table(summary_rows(results, baseline="cp -r", gib=args.gib),
          ["copier", "wall s", "x cp -r", "CPU s", "CPU s/GiB", "peak MiB"])
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "finished_archive.json"),
               {"gib": args.gib, "files": files, "repeat": args.repeat, "results": results})


if __name__ == "__main__":
    main()
