#!/usr/bin/env python3
"""What removing the source costs: a finished archive copied locally with --once, and the
same with --remove-source after-verify, alternating, each on fresh ext4 filesystems (the
source on one, the copy on another; the source is written from a kept reference with
cp -a before each run, then read once so it is in the page cache). Reports wall and CPU
medians, the removal's share, files removed per second, and the free space the run's
manifest says it gave back.

usage: bench/remove_source.py [--files N] [--kib K] [--repeat N] [--work DIR]
"""
import argparse
import json
import os
import subprocess

from common import FreshFilesystem, hot_cache, median, release_binary, small_chunk_archive, table, timed, write_json


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=20000, help="chunk files in the archive")
    p.add_argument("--kib", type=int, default=64, help="size of each chunk")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--work", default="/tmp/softcopy-bench-remove")
    args = p.parse_args()

    coordinator = release_binary("softcopy-coordinator")
    os.makedirs(args.work, exist_ok=True)
    reference = small_chunk_archive(args.work, args.files, args.kib)
    gib = max(1, (args.files * args.kib) >> 20) * 2 + 1
    source_mount, dest_mount = os.path.join(args.work, "src"), os.path.join(args.work, "dst")
    runs = {"--once": [], "--once --remove-source after-verify": []}
    for round_ in range(args.repeat + 1):
        for name in runs:
            with FreshFilesystem(source_mount, size_gib=gib), FreshFilesystem(dest_mount, size_gib=gib):
                source, dest = os.path.join(source_mount, "acq.zarr"), os.path.join(dest_mount, "acq.zarr")
                subprocess.run(["cp", "-a", reference, source], check=True)
                subprocess.run(["sync"], check=True)
                hot_cache(source)
                m = timed([coordinator, "--no-discovery", "--progress", "never", *name.split(), source, dest])
                removal = json.load(open(os.path.join(dest, ".softcopy", "manifest.json"))).get("source_removal")
                if removal:
                    assert not os.path.exists(source), "the source must be gone"
                    m["removed_files"] = removal["removed_files"]
                    m["freed_bytes"] = (removal["source_free_bytes_after"] or 0) - (removal["source_free_bytes_before"] or 0)
            if round_ > 0:
                runs[name].append(m)
            print(f"bench: round {round_}{' (warm-up)' if round_ == 0 else ''}: {name}: {m['wall']:.2f} s", flush=True)

    base, removing = runs["--once"], runs["--once --remove-source after-verify"]
    extra = median([m["wall"] for m in removing]) - median([m["wall"] for m in base])
    removed = median([m["removed_files"] for m in removing])
    print(f"\nRemoving the source: {args.files} chunks of {args.kib} KiB (+ metadata), local --once, fresh ext4 for source and copy; medians of {args.repeat}\n")
    table([{"run": "--once", "wall s": f"{median([m['wall'] for m in base]):.2f}", "CPU s": f"{median([m['cpu'] for m in base]):.2f}"},
           {"run": "--once --remove-source after-verify", "wall s": f"{median([m['wall'] for m in removing]):.2f}",
            "CPU s": f"{median([m['cpu'] for m in removing]):.2f}",
            "removed": int(removed), "freed MiB": f"{median([m['freed_bytes'] for m in removing]) / 2**20:.0f}"}],
          ["run", "wall s", "CPU s", "removed", "freed MiB"])
    print(f"\nthe removal adds {extra:.2f} s: {removed / extra if extra > 0 else float('inf'):.0f} files removed per second")
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "remove_source.json"),
               {"files": args.files, "kib": args.kib, "runs": runs})


if __name__ == "__main__":
    main()
