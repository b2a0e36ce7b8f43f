#!/usr/bin/env python3
"""Scenario 2, small files: 200,000 chunk files of 16 KiB (a zarr v3 array, nested keys,
(T, 100, 64, 128) uint16 in (1, 1, 64, 128) chunks, with its `complete` file), hot page
cache, each copy onto a fresh ext4 filesystem. The same copiers as the finished archive,
in one run, alternating, after a warm-up. Reported: files per second, and the ratio of
each copier's wall time to cp -r's.

The archive is written directly (zarr.json plus chunk files of distinct bytes), which takes
seconds where a writer would take minutes; copiers only see files.

usage: bench/small_files.py [--repeat N] [--files N] [--work DIR] [--only NAMES]
"""
import argparse
import json
import os

from common import select, compare, release_binary, summary_rows, table, write_json
from peers import contenders, ensure_peers

CHUNK = (64, 128)  # uint16: 16 KiB per chunk
Z = 100


def small_archive(work, files):
    source = os.path.join(work, f"small-{files}.zarr")
    marker = os.path.join(source, "complete")
    if os.path.exists(marker):
        return source
    t_count = -(-files // Z)
    print(f"bench: writing {t_count * Z} files of 16 KiB ...", flush=True)
    os.makedirs(source, exist_ok=True)
    metadata = {
        "zarr_format": 3, "node_type": "array", "shape": [t_count, Z, *CHUNK], "data_type": "uint16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 1, *CHUNK]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}], "fill_value": 0,
    }
    with open(os.path.join(source, "zarr.json"), "w") as f:
        json.dump(metadata, f)
    block = bytearray(os.urandom(CHUNK[0] * CHUNK[1] * 2))
    for t in range(t_count):
        for z in range(Z):
            folder = os.path.join(source, "c", str(t), str(z), "0")
            os.makedirs(folder, exist_ok=True)
            block[0:8] = (t * Z + z).to_bytes(8, "little")
            with open(os.path.join(folder, "0"), "wb") as f:
                f.write(block)
    open(marker, "w").close()
    return source


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--files", type=int, default=200_000)
    p.add_argument("--work", default="/tmp/softcopy-bench")
    p.add_argument("--only", help="comma-separated parts of copier names to run (cp -r always runs, as the baseline)")
    args = p.parse_args()

    ensure_peers()
    os.makedirs(args.work, exist_ok=True)
    source = small_archive(args.work, args.files)
    files = sum(len(f) for _, _, f in os.walk(source))
    gib = files * 16 / (1 << 20)
    mount = os.path.join(args.work, "dest")
    copiers = contenders(source, mount, args.work, coordinator=release_binary("softcopy-coordinator"), agent=release_binary("softcopy-agent"))
    copiers = select(copiers, args.only, baseline="cp -r")
    results = compare(copiers, repeat=args.repeat, mount=mount, fs_gib=int(gib * 2) + 4, log=lambda s: print(s, flush=True))
    print(f"\nSmall files: {files} files of 16 KiB ({gib:.1f} GiB), hot cache, fresh ext4 per run; medians of {args.repeat}\n")
    table(summary_rows(results, baseline="cp -r", files=files),
          ["copier", "wall s", "x cp -r", "files/s", "CPU s", "peak MiB"])
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "small_files.json"),
               {"files": files, "repeat": args.repeat, "results": results})


if __name__ == "__main__":
    main()
