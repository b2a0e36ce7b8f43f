#!/usr/bin/env python3
"""Opens a zarr copy in an S3 bucket with tensorstore's s3 kvstore and with zarr-python
through its object-store support (obstore), credentials from AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, and compares every array with the source.

usage: s3_read.py ENDPOINT BUCKET PATH SOURCE
Exits 0 when every array of SOURCE reads equal from s3://BUCKET/PATH, 1 otherwise.
"""
import os
import sys

import numpy as np
import obstore.store
import tensorstore as ts
import zarr

import zarr_tree


def main():
    endpoint, bucket, path, source = sys.argv[1:5]
    ok = True
    store = obstore.store.S3Store(bucket, prefix=path.rstrip("/"), endpoint=endpoint, region="us-east-1",
                                  access_key_id=os.environ["AWS_ACCESS_KEY_ID"], secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                                  client_options={"allow_http": True})
    copy = zarr_tree.arrays(zarr.open(zarr.storage.ObjectStore(store, read_only=True), mode="r"))
    for name, a in zarr_tree.arrays(zarr.open(source, mode="r")).items():
        driver = "zarr3" if a.metadata.zarr_format == 3 else "zarr"
        kv = {"driver": "s3", "bucket": bucket, "path": path.rstrip("/") + "/" + (name + "/" if name else ""), "endpoint": endpoint,
              "aws_region": "us-east-1", "aws_credentials": {"type": "environment"}}
        read = ts.open({"driver": driver, "kvstore": kv}, read=True).result().read().result()
        equal_ts = np.array_equal(read, a[...])
        equal_zarr = name in copy and np.array_equal(copy[name][...], a[...])
        print(f"{name or '/'}: tensorstore {'equal' if equal_ts else 'DIFFERENT'}, zarr-python {'equal' if equal_zarr else 'DIFFERENT'}")
        ok = ok and equal_ts and equal_zarr
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
