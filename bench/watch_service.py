#!/usr/bin/env python3
"""What the service of watched folders adds to a copy: N finished archives appear at once
in a watched folder (moved in by rename, as an acquisition program that writes elsewhere
and moves the result), and the time until each one is verified in the service's history
(read from history.sqlite) is compared with copying the same N archives one after the
other with `softcopy-coordinator --once` (the way a person or a cron script does today).

Reports, per contender, the time to the first and the last archive verified, and the
median time from its appearance to its verdict. The service runs at most 4 jobs at once
and looks in the folder every 2 s, so its first verdict waits for a look.

usage: bench/watch_service.py [--archives N] [--files F] [--kib K] [--repeat R] [--work DIR]
"""
import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import time

from common import median, release_binary, small_chunk_archive, table, write_json


def history(state):
    path = os.path.join(state, "history.sqlite")
    if not os.path.exists(path):
        return {}
    try:
        c = sqlite3.connect("file:" + path + "?mode=ro", uri=True, timeout=5)
        rows = c.execute("SELECT source, status FROM job WHERE status = 'verified'").fetchall()
        c.close()
        return {source for source, _ in rows}
    except sqlite3.OperationalError:
        return set()


def service_run(coordinator, reference, work, n):
    for d in ["acq", "staging", "nas", "state"]:
        shutil.rmtree(os.path.join(work, d), ignore_errors=True)
        os.makedirs(os.path.join(work, d))
    for i in range(n):
        subprocess.run(["cp", "-a", reference, os.path.join(work, "staging", f"a{i:03}.zarr")], check=True)
    targets = os.path.join(work, "targets.yaml")
    with open(targets, "w") as f:
        f.write(f"watch:\n  - folder: {work}/acq\n    destination: {work}/nas/{{name}}\n"
                f"state_dir: {work}/state\nlisten: 127.0.0.1:0\ndiscovery: false\n")
    service = subprocess.Popen([coordinator, "--progress", "never", targets], stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)  # the service is up and has looked once
        start = time.monotonic()
        for i in range(n):
            os.rename(os.path.join(work, "staging", f"a{i:03}.zarr"), os.path.join(work, "acq", f"a{i:03}.zarr"))
        done = {}
        deadline = start + 600
        while len(done) < n and time.monotonic() < deadline:
            now = time.monotonic()
            for source in history(os.path.join(work, "state")):
                done.setdefault(source, now - start)
            time.sleep(0.05)
        assert len(done) == n, f"only {len(done)} of {n} verified"
        return sorted(done.values())
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)


def sequential_run(coordinator, reference, work, n):
    for d in ["acq", "nas"]:
        shutil.rmtree(os.path.join(work, d), ignore_errors=True)
        os.makedirs(os.path.join(work, d))
    for i in range(n):
        subprocess.run(["cp", "-a", reference, os.path.join(work, "acq", f"a{i:03}.zarr")], check=True)
    start = time.monotonic()
    times = []
    for i in range(n):
        subprocess.run([coordinator, "--no-discovery", "--progress", "never", "--once", "--state-dir", os.path.join(work, "state"),
                        os.path.join(work, "acq", f"a{i:03}.zarr"), os.path.join(work, "nas", f"a{i:03}.zarr")],
                       check=True, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        times.append(time.monotonic() - start)
    return times


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--archives", type=int, default=12)
    p.add_argument("--files", type=int, default=500, help="chunk files per archive")
    p.add_argument("--kib", type=int, default=64)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--work", default="/tmp/softcopy-bench-watch")
    args = p.parse_args()
    coordinator = release_binary("softcopy-coordinator")
    os.makedirs(args.work, exist_ok=True)
    reference = small_chunk_archive(args.work, args.files, args.kib)
    results = {"service (watch:)": [], "one --once run after another": []}
    for _ in range(args.repeat):
        results["service (watch:)"].append(service_run(coordinator, reference, args.work, args.archives))
        results["one --once run after another"].append(sequential_run(coordinator, reference, args.work, args.archives))
    rows = []
    for name, runs in results.items():
        rows.append({"how": name, "first verified (s)": f"{median([r[0] for r in runs]):.2f}",
                     "median (s)": f"{median([median(r) for r in runs]):.2f}",
                     "last verified (s)": f"{median([r[-1] for r in runs]):.2f}"})
    print(f"{args.archives} archives of {args.files} x {args.kib} KiB, medians of {args.repeat} runs")
    table(rows, ["how", "first verified (s)", "median (s)", "last verified (s)"])
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "watch_service.json"),
               {"archives": args.archives, "files": args.files, "kib": args.kib, "runs": results})


if __name__ == "__main__":
    main()
