#!/usr/bin/env python3
"""Compares two zarr archives array by array, opening each with zarr-python and with
tensorstore: the copy must open in both and hold the same data.

usage: compare.py SOURCE COPY
"""
import os
import sys
import warnings

import numpy as np
import tensorstore as ts
import zarr

import zarr_tree


def arrays(root):
    return zarr_tree.arrays(zarr.open(root, mode="r"))


def main():
    # zarr-python warns about every non-zarr entry in a group: softcopy's `complete` marker
    # and its `.softcopy/` state folder are expected there.
    warnings.filterwarnings("ignore", message="Object at .* is not recognized")
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, copy = sys.argv[1], sys.argv[2]
    a, b = arrays(source), arrays(copy)
    if sorted(a) != sorted(b):
        sys.exit(f"compare: the arrays differ: {sorted(a)} vs {sorted(b)}")
    for name in sorted(a):
        x, y = a[name][...], b[name][...]
        if x.shape != y.shape or not np.array_equal(x, y):
            sys.exit(f"compare: array '{name or '/'}' differs")
        driver = "zarr3" if b[name].metadata.zarr_format == 3 else "zarr"
        path = os.path.join(copy, name) if name else copy
        t = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": path}}, open=True).result().read().result()
        if not np.array_equal(np.asarray(t), x):
            sys.exit(f"compare: tensorstore reads array '{name or '/'}' differently")
        print(f"compare: {name or '/'}: {x.shape} {x.dtype}, identical in zarr-python and tensorstore")
    print(f"compare: {len(a)} arrays identical")


if __name__ == "__main__":
    main()
