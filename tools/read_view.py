#!/usr/bin/env python3
"""Reads an archive through softcopy's read view (http://AGENT/zarr/DEST/) with
zarr-python (fsspec's HTTP file system) and tensorstore (its http kvstore) while the
acquisition is still being written and copied, then once more after the end.

Every read during the copy must show, chunk by chunk, either the fill value (not arrived
yet) or exactly the final source's bytes (never another version, never a mix); every
time point the copy already holds must read equal to the source; after the end the whole
archive must read equal through both readers.

usage: read_view.py URL SOURCE --report FILE [--token T] [--stop FILE] [--timeout S]
Reads in a loop until SOURCE/complete exists (the writer is done) or FILE --stop names
exists, then waits (up to --timeout) for the view to equal the source. Writes a JSON
report and exits 0 when every check held, 1 otherwise.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import tensorstore as ts
import zarr

import zarr_tree


def open_view_zarr(url, token):
    options = {"client_kwargs": {"headers": {"Authorization": "Bearer " + token}}} if token else None
    return zarr.open(url, mode="r", storage_options=options)


def open_view_ts(url, path, token, driver):
    kv = {"driver": "http", "base_url": url.rstrip("/") + ("/" + path if path else "")}
    if token:
        kv["headers"] = ["Authorization: Bearer " + token]
    return ts.open({"driver": driver, "kvstore": kv}, read=True).result()


def chunk_regions(shape, chunks):
    """Every chunk's slice of an array (the grid of its read chunks)."""
    grid = [range(0, s, c) for s, c in zip(shape, chunks)]
    import itertools
    for corner in itertools.product(*grid):
        yield tuple(slice(o, min(o + c, s)) for o, c, s in zip(corner, chunks, shape))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("source")
    p.add_argument("--report", required=True)
    p.add_argument("--token", default=None)
    p.add_argument("--stop", default=None)
    p.add_argument("--timeout", type=float, default=120)
    args = p.parse_args()
    url = args.url.rstrip("/")
    done = lambda: os.path.exists(os.path.join(args.source, "complete")) or (args.stop and os.path.exists(args.stop))
    snapshots = []  # (writer_running, reader, {array: ndarray})
    errors = []
    read_errors = 0
    deadline = time.monotonic() + args.timeout
    while not done() and time.monotonic() < deadline:
        running = True
        try:
            view = zarr_tree.arrays(open_view_zarr(url, args.token))
        except Exception as e:  # the root metadata may not be there yet
            errors.append("zarr open: %r" % (e,))
            time.sleep(0.1)
            continue
        try:
            snap = {name: a[...] for name, a in view.items()}
        except Exception as e:  # a 503 (a node restarting) fails the read; it is counted
            errors.append("zarr read: %r" % (e,))
            read_errors += 1
            continue
        snapshots.append((running, "zarr", snap, {n: (a.chunks, a.fill_value) for n, a in view.items()}))
        try:
            driver = "zarr3" if view and next(iter(view.values())).metadata.zarr_format == 3 else "zarr"
            tsnap = {name: open_view_ts(url, name, args.token, driver).read().result() for name in view}
            snapshots.append((running, "tensorstore", tsnap, {n: (a.chunks, a.fill_value) for n, a in view.items()}))
        except Exception as e:
            errors.append("tensorstore: %r" % (e,))
            read_errors += 1
    # The end: the view must come to equal the source.
    final = {name: a[...] for name, a in zarr_tree.arrays(zarr.open(args.source, mode="r")).items()}
    equal_zarr = equal_ts = False
    while time.monotonic() < deadline:
        try:
            view = zarr_tree.arrays(open_view_zarr(url, args.token))
            equal_zarr = set(view) == set(final) and all(np.array_equal(view[n][...], final[n]) for n in final)
            driver = "zarr3" if next(iter(view.values())).metadata.zarr_format == 3 else "zarr"
            equal_ts = all(np.array_equal(open_view_ts(url, n, args.token, driver).read().result(), final[n]) for n in final)
        except Exception as e:
            errors.append("final read: %r" % (e,))
        if equal_zarr and equal_ts:
            break
        time.sleep(0.2)
    # Every snapshot: each chunk is the fill value or the final bytes; count the chunks
    # that had arrived and the time points (first axis) whole in it.
    violations = []
    arrived_during = 0
    whole_time_points_during = 0
    per_snapshot = []
    for running, reader, snap, layout in snapshots:
        whole = 0
        for name, data in snap.items():
            if name not in final or data.shape != final[name].shape:
                continue  # an array that grew meanwhile is compared on its final shape only
            chunks, fill = layout[name]
            for region in chunk_regions(data.shape, chunks):
                got, want = data[region], final[name][region]
                if np.array_equal(got, want):
                    if not np.all(want == (fill or 0)):
                        arrived_during += 1
                elif not np.all(got == (fill or 0)):
                    violations.append("%s %s %s: neither the fill value nor the source's chunk" % (reader, name, [(s.start, s.stop) for s in region]))
            if data.ndim > 0:
                whole = max(whole, sum(1 for t in range(data.shape[0]) if np.array_equal(data[t], final[name][t])))
        whole_time_points_during = max(whole_time_points_during, whole)
        per_snapshot.append(whole)
    report = {
        "snapshots": len(snapshots), "chunks_seen_arrived": arrived_during,
        "whole_time_points_during": whole_time_points_during, "whole_time_points": per_snapshot, "violations": violations[:20],
        "final_equal_zarr": equal_zarr, "final_equal_tensorstore": equal_ts, "read_errors": read_errors, "errors": errors[-10:],
    }
    with open(args.report, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report))
    return 0 if equal_zarr and equal_ts and not violations else 1


if __name__ == "__main__":
    sys.exit(main())
