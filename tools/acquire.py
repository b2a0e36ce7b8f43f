#!/usr/bin/env python3
"""A simulated acquisition: writes a zarr archive time point by time point with a real
writer (tensorstore or zarr-python), the way a microscope's software does.

Used by the demo, the integration tests and the benchmarks. Every layout the copier must
handle is an option: zarr v2/v3, both chunk key encodings and separators, sharding with
partial writes, tensorstore's locking modes (os, lockfile, none, non_atomic), chunks
overwritten with the fill value (tensorstore deletes them), a resize mid-run, an OME-Zarr
multiscale group, and a crash that leaves a partial lock file behind.

--lockstep DEST makes the writer wait after each time point until DEST holds a
byte-identical copy of every file written so far, and opens DEST with zarr-python: proof
that the copy happens while the archive is written, not at the end.
"""
import argparse
import json
import os
import sys
import time

import numpy as np


def parse_shape(text):
    return [int(x) for x in text.split(",")] if text else None


def real_files(root):
    """Relative paths of every file under root that is not a writer temp file."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root and ".softcopy" in dirnames:
            dirnames.remove(".softcopy")
        for name in filenames:
            if name.endswith(".__lock") or name.endswith(".partial") or name.startswith(".softcopy-tmp-"):
                continue
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root)] = full
    return out


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def wait_for_copy(source, dests, timeout, open_with_zarr):
    """Waits until every real file of source is at one of dests with the same bytes
    (several dests: the agents' roots, whose union is the copy)."""
    deadline = time.monotonic() + timeout
    missing = []
    while time.monotonic() < deadline:
        missing = []
        for rel, full in real_files(source).items():
            data = read_bytes(full)
            if data is None:
                continue  # removed meanwhile
            if all(read_bytes(os.path.join(dest, rel)) != data for dest in dests):
                missing.append(rel)
        if not missing:
            if open_with_zarr and len(dests) == 1:
                open_copy(dests[0])
            return
        time.sleep(0.01)
    sys.stderr.write(f"acquire.py: lockstep timeout after {timeout}s: {len(missing)} files not copied yet, e.g. {sorted(missing)[:5]}\n")
    sys.exit(3)


def open_copy(dest):
    """Opens the copy with zarr-python and tensorstore and reads every array: the
    destination must open at every moment, not only at the end."""
    import tensorstore as ts
    import zarr
    node = zarr.open(dest, mode="r")
    arrays = [("", node)] if isinstance(node, zarr.Array) else list(node.arrays())
    for name, a in arrays:
        a[...]  # chunks present read; missing ones are the fill value
        driver = "zarr3" if a.metadata.zarr_format == 3 else "zarr"
        path = os.path.join(dest, name) if name else dest
        ts.open({"driver": driver, "kvstore": {"driver": "file", "path": path}}, open=True).result().read().result()


def atomic_json(path, document):
    tmp = path + ".partial"
    with open(tmp, "w") as f:
        json.dump(document, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


class Pacer:
    """Keeps the writer at a target rate in bytes per second (0: as fast as it can)."""

    def __init__(self, rate):
        self.rate = rate
        self.start = time.monotonic()
        self.written = 0

    def wrote(self, nbytes):
        self.written += nbytes
        if self.rate > 0:
            ahead = self.written / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                time.sleep(ahead)


def tensorstore_array(path, args, shape, chunks, shards):
    import tensorstore as ts
    dtype = args.dtype
    if args.format == "v3":
        grid = shards or chunks
        codecs = [{"name": "bytes", "configuration": {"endian": "little"}}]
        if args.compression == "zstd":
            codecs.append({"name": "zstd", "configuration": {"level": 1}})
        if shards:
            codecs = [{"name": "sharding_indexed", "configuration": {"chunk_shape": chunks, "codecs": codecs}}]
        encoding = {"name": args.key_encoding}
        if args.separator:
            encoding["configuration"] = {"separator": args.separator}
        metadata = {"shape": shape, "data_type": dtype, "chunk_key_encoding": encoding,
                    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid}},
                    "codecs": codecs, "fill_value": 0}
        driver = "zarr3"
    else:
        metadata = {"shape": shape, "chunks": chunks, "dtype": np.dtype(dtype).str, "fill_value": 0,
                    "compressor": {"id": "zstd", "level": 1} if args.compression == "zstd" else None,
                    "dimension_separator": args.separator or "."}
        driver = "zarr"
    spec = {"driver": driver, "kvstore": {"driver": "file", "path": path}, "metadata": metadata,
            "create": True, "delete_existing": True,
            "context": {"file_io_locking": {"mode": args.locking}}}
    return ts.open(spec).result()


def zarr_array(parent, name, args, shape, chunks, shards):
    import zarr
    kwargs = {"shape": shape, "chunks": chunks, "dtype": args.dtype, "fill_value": 0}
    if args.format == "v3":
        if shards:
            kwargs["shards"] = shards
        if args.key_encoding == "v2":
            kwargs["chunk_key_encoding"] = {"name": "v2", "separator": args.separator or "."}
        elif args.separator:
            kwargs["chunk_key_encoding"] = {"name": "default", "separator": args.separator}
        kwargs["compressors"] = [zarr.codecs.ZstdCodec(level=1)] if args.compression == "zstd" else None
    else:
        kwargs["compressors"] = None if args.compression == "none" else [__import__("numcodecs").Zstd(level=1)]
        if args.separator:
            kwargs["chunk_key_encoding"] = {"name": "v2", "separator": args.separator}
    if parent is None:
        return zarr.create_array(store=args.path, zarr_format=3 if args.format == "v3" else 2, overwrite=True, **kwargs)
    return parent.create_array(name, **kwargs)


def build_archive(args, current, chunks, shards):
    """Creates the archive: one array, or an OME-Zarr multiscale group of two levels."""
    levels = []
    if args.ome:
        if args.writer == "tensorstore":
            os.makedirs(args.path, exist_ok=True)
            group = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5", "multiscales": [
                {"axes": [{"name": n, "type": t} for n, t in zip("tzyx", ["time", "space", "space", "space"])],
                 "datasets": [{"path": "0"}, {"path": "1"}]}]}}} if args.format == "v3" else None
            if group:
                atomic_json(os.path.join(args.path, "zarr.json"), group)
            else:
                atomic_json(os.path.join(args.path, ".zgroup"), {"zarr_format": 2})
            for level in (0, 1):
                s = current[:2] + [x // (2 ** level) for x in current[2:]]
                levels.append(tensorstore_array(os.path.join(args.path, str(level)), args, s, chunks, shards))
            if args.scalar:
                scalar = tensorstore_array(os.path.join(args.path, "scalar"), args, [], [], None)
                scalar.write(np.array(7, dtype=args.dtype)).result()
        else:
            import zarr
            root = zarr.open_group(args.path, mode="w", zarr_format=3 if args.format == "v3" else 2)
            root.attrs["multiscales"] = [{"datasets": [{"path": "0"}, {"path": "1"}]}]
            for level in (0, 1):
                s = current[:2] + [x // (2 ** level) for x in current[2:]]
                levels.append(zarr_array(root, str(level), args, s, chunks, shards))
            if args.scalar:
                scalar = root.create_array("scalar", shape=(), dtype=args.dtype, fill_value=0)
                scalar[...] = 7
    else:
        if args.writer == "tensorstore":
            levels.append(tensorstore_array(args.path, args, current, chunks, shards))
        else:
            levels.append(zarr_array(None, None, args, current, chunks, shards))

    return levels


def microscopy_frames(shape, dtype, rng, count):
    """`count` noisy frames of one scene; the first element of the list is the scene itself
    when count is 1 (noise is then drawn per frame by `shot_noise`)."""
    scene = np.full(shape, 100.0)
    grids = np.meshgrid(*[np.arange(n) for n in shape[-2:]], indexing="ij") if len(shape) >= 2 else None
    if grids is not None:
        h, w = shape[-2], shape[-1]
        for _ in range(max(4, h * w // 25000)):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            s = rng.uniform(2, max(3, min(h, w) / 12))
            scene = scene + rng.uniform(100, 1000) * np.exp(-((grids[0] - cy) ** 2 + (grids[1] - cx) ** 2) / (2 * s * s))
    if count == 1:
        return [scene]
    return [shot_noise(scene, dtype, rng) for _ in range(count)]


def shot_noise(scene, dtype, rng):
    return rng.poisson(scene).astype(dtype)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", help="the archive to write (created; replaced if it exists)")
    p.add_argument("--writer", choices=["tensorstore", "zarr"], default="tensorstore")
    p.add_argument("--format", choices=["v3", "v2"], default="v3")
    p.add_argument("--locking", choices=["os", "lockfile", "none", "non_atomic"], default="os",
                   help="tensorstore's file_io_locking mode")
    p.add_argument("--key-encoding", choices=["default", "v2"], default="default", help="zarr v3 chunk key encoding")
    p.add_argument("--separator", choices=[".", "/"], default=None)
    p.add_argument("--shape", default="8,2,64,64", help="T,Z,Y,X (the first axis is time)")
    p.add_argument("--chunks", default="1,1,32,32")
    p.add_argument("--shards", default=None, help="shard shape (zarr v3): each time point is written in partial writes")
    p.add_argument("--dtype", default="uint16")
    p.add_argument("--compression", choices=["none", "zstd"], default="none")
    p.add_argument("--rate", type=float, default=0, help="target write rate in MB/s (0: as fast as possible)")
    p.add_argument("--fill-every", type=int, default=0,
                   help="every Nth time point, overwrite its first chunk with the fill value (deleted by tensorstore)")
    p.add_argument("--resize-at", type=int, default=0, help="start with this many time points and grow the array one by one")
    p.add_argument("--ome", action="store_true", help="an OME-Zarr multiscale group with two levels")
    p.add_argument("--scalar", action="store_true", help="also write a 0-d array 'scalar' (OME group only)")
    p.add_argument("--complete", action="store_true", help="create a 'complete' file at the end")
    p.add_argument("--recreate-after", type=int, default=0,
                   help="after this many time points, delete the archive's root folder and write a new archive "
                        "with the remaining time points (what zarr.open_group(mode='w') does)")
    p.add_argument("--crash-after", type=int, default=-1,
                   help="after this many time points, leave a half-written lock file and exit 1 (a killed writer)")
    p.add_argument("--lockstep", action="append", default=None, metavar="DEST",
                   help="wait after each time point until DEST has copied it (repeat for agents: their union)")
    p.add_argument("--lockstep-timeout", type=float, default=60)
    p.add_argument("--timestamps", default=None, metavar="FILE",
                   help="write the CLOCK_MONOTONIC time each time point was durable, and of the last chunk, as JSON lines")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--go-back", type=int, default=-1, metavar="T",
                   help="after the last time point, wait --go-back-delay seconds and write the first plane of time point T again "
                        "(a partial write to a chunk the acquisition had left: what remove_source live must survive)")
    p.add_argument("--go-back-delay", type=float, default=3)
    p.add_argument("--write-unit", choices=["frame", "plane"], default="frame",
                   help="plane: write each time point one z-plane at a time, so a chunk that spans several planes "
                        "is rewritten once per plane (every version is valid; the last one is the chunk)")
    p.add_argument("--image", choices=["random", "microscopy"], default="random",
                   help="microscopy: smooth bright structures on a dim background with Poisson (shot) noise, as a "
                        "camera sees them (compresses about 1.9x with byte shuffle and zstd -1); random: uniform noise")
    p.add_argument("--cheap-frames", action="store_true",
                   help="derive each frame from one random frame (base + t) so the writer's CPU goes to writing, "
                        "not to the random generator (benchmarks at a fixed rate)")
    args = p.parse_args()

    shape = parse_shape(args.shape)
    chunks = parse_shape(args.chunks)
    shards = parse_shape(args.shards)
    timepoints = shape[0]
    current = list(shape)
    if args.resize_at:
        current[0] = args.resize_at

    if args.writer == "zarr" and args.locking != "os":
        p.error("--locking is tensorstore's; zarr-python picks its own way of writing")

    levels = build_archive(args, current, chunks, shards)
    rng = np.random.default_rng(args.seed)
    pacer = Pacer(args.rate * 1e6)
    base_frames = {}
    plan = list(range(timepoints))
    if args.recreate_after:
        plan = list(range(args.recreate_after)) + [None] + list(range(timepoints - args.recreate_after))
    for t in plan:
        if t is None:
            import shutil
            shutil.rmtree(args.path)
            current[0] = timepoints
            levels = build_archive(args, current, chunks, shards)
            continue
        if args.resize_at and t >= current[0]:
            current[0] = t + 1
            for i, a in enumerate(levels):
                if args.writer == "tensorstore":
                    levels[i] = a.resize(exclusive_max=[current[0]] + list(a.shape[1:])).result()
                else:
                    a.resize((current[0],) + tuple(a.shape[1:]))
        for level, a in enumerate(levels):
            if args.image == "microscopy":
                if level not in base_frames:
                    base_frames[level] = microscopy_frames(a.shape[1:], args.dtype, rng, 4 if args.cheap_frames else 1)
                pool = base_frames[level]
                frame = pool[(t or 0) % len(pool)] if args.cheap_frames else shot_noise(pool[0], args.dtype, rng)
            elif args.cheap_frames:
                if level not in base_frames:
                    base_frames[level] = rng.integers(1, 60000, size=a.shape[1:], dtype=args.dtype)
                frame = base_frames[level] + np.asarray(t if t is not None else 0, dtype=args.dtype)
            else:
                frame = rng.integers(1, 60000, size=a.shape[1:], dtype=args.dtype)
            if shards or args.write_unit == "plane":
                # Partial writes: one z-slab at a time, so each shard (or chunk spanning
                # several planes) is rewritten several times; every version is valid.
                for z in range(frame.shape[0]):
                    if args.writer == "tensorstore":
                        a[t, z].write(frame[z]).result()
                    else:
                        a[t, z] = frame[z]
            elif args.writer == "tensorstore":
                a[t].write(frame).result()
            else:
                a[t] = frame
            pacer.wrote(frame.nbytes)
            if args.fill_every and t % args.fill_every == args.fill_every - 1:
                cz, cy, cx = chunks[1], chunks[2] // (2 ** level), chunks[3] // (2 ** level)
                zeros = np.zeros((cz, max(cy, 1), max(cx, 1)), dtype=args.dtype)
                if args.writer == "tensorstore":
                    a[t, :cz, :zeros.shape[1], :zeros.shape[2]].write(zeros).result()
                else:
                    a[t, :cz, :zeros.shape[1], :zeros.shape[2]] = zeros
        if args.crash_after >= 0 and t + 1 >= args.crash_after:
            # What a tensorstore writer killed mid-write leaves: a half-written lock file.
            victim = os.path.join(args.path, "c", str(t + 1), "0", "0", "0") if args.format == "v3" else \
                os.path.join(args.path, f"{t + 1}.0.0.0")
            os.makedirs(os.path.dirname(victim), exist_ok=True)
            with open(victim + ".__lock", "wb") as f:
                f.write(b"\x00" * 100)
            sys.stderr.write(f"acquire.py: simulated crash after {t + 1} time points\n")
            os._exit(1)
        if args.timestamps:
            with open(args.timestamps, "a") as f:
                f.write(json.dumps({"timepoint": t, "monotonic": time.monotonic()}) + "\n")
        if args.lockstep:
            wait_for_copy(args.path, args.lockstep, args.lockstep_timeout, open_with_zarr=True)

    if args.go_back >= 0:
        time.sleep(args.go_back_delay)
        a = levels[0]
        plane = np.full(a.shape[2:], 4242, dtype=args.dtype)
        if args.writer == "tensorstore":
            a[args.go_back, 0].write(plane).result()
        else:
            a[args.go_back, 0] = plane
    if args.timestamps:
        with open(args.timestamps, "a") as f:
            f.write(json.dumps({"last_chunk": time.monotonic()}) + "\n")
    if args.complete:
        with open(os.path.join(args.path, "complete"), "w"):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
