#!/usr/bin/env python3
"""Opens a zarr copy in an S3 bucket with tensorstore's s3 kvstore (credentials from
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and compares every array with the source.

usage: s3_read.py ENDPOINT BUCKET PATH SOURCE
Exits 0 when every array of SOURCE reads equal from s3://BUCKET/PATH, 1 otherwise.
"""
import sys

import numpy as np
import tensorstore as ts
import zarr


def arrays(node, prefix=""):
    if isinstance(node, zarr.Array):
        return {prefix: node}
    found = {}
    for name, a in node.arrays():
        found[prefix + name] = a
    for name, g in node.groups():
        found.update(arrays(g, prefix + name + "/"))
    return found


def main():
    endpoint, bucket, path, source = sys.argv[1:5]
    ok = True
    for name, a in arrays(zarr.open(source, mode="r")).items():
        driver = "zarr3" if a.metadata.zarr_format == 3 else "zarr"
        kv = {"driver": "s3", "bucket": bucket, "path": path.rstrip("/") + "/" + (name + "/" if name else ""), "endpoint": endpoint,
              "aws_region": "us-east-1", "aws_credentials": {"type": "environment"}}
        copy = ts.open({"driver": driver, "kvstore": kv}, read=True).result().read().result()
        equal = np.array_equal(copy, a[...])
        print(f"{name or '/'}: {'equal' if equal else 'DIFFERENT'}")
        ok = ok and equal
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
