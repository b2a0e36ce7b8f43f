#!/usr/bin/env python3
"""The read view's speed: the same chunks read through an agent's view
(http://AGENT/zarr/DEST/KEY) and straight from the agents' disks, on loopback, with the
page cache warm so the serving is what is measured.

Two agents hold a finished archive of 1 MiB chunks (balanced placement, about half each).
Through agent n0's view, a key n0 holds is served from its disk (sendfile), a key n1 holds
is passed through from n1. Each is measured while the run's coordinator is still the record
(before the `complete` file: every read asks it who holds the key) and after the end (the
manifest is the record). Readers: curl in parallel mode (8 at a time, kept-alive
connections; file:// URLs for the direct reads, so the client is the same), and
tensorstore reading the whole array (zarr3 driver) from the view and from a local copy.

usage: bench/read_view.py [--files N] [--kib K] [--repeat R] [--work DIR]
"""
import argparse
import os
import shutil
import signal
import subprocess
import time

from common import PYTHON, hot_cache, median, release_binary, small_chunk_archive, table, write_json


def curl_all(urls, token=None):
    """Fetches every URL with curl -Z (8 in parallel); returns seconds and bytes."""
    config = "".join(f'url = "{u}"\noutput = "/dev/null"\n' for u in urls)
    command = ["curl", "-sS", "-f", "-Z", "--parallel-max", "8", "-w", "%{size_download}\\n", "-K", "-"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    start = time.monotonic()
    done = subprocess.run(command, input=config, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench: curl failed ({done.returncode}): {done.stderr[-2000:]}")
    out = done.stdout
    return time.monotonic() - start, sum(int(x) for x in out.split())


def tensorstore_read(spec):
    code = ("import sys, json, time, tensorstore as ts\n"
            "t = ts.open(json.loads(sys.argv[1]), read=True).result()\n"
            "s = time.monotonic(); a = t.read().result(); print(time.monotonic() - s, a.nbytes)\n")
    out = subprocess.run([PYTHON, "-c", code, __import__("json").dumps(spec)], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1])


def keys_of(root):
    out = []
    for dirpath, dirnames, files in os.walk(root):
        if ".softcopy" in dirnames:
            dirnames.remove(".softcopy")
        out += [os.path.relpath(os.path.join(dirpath, f), root) for f in files if os.path.relpath(dirpath, root).startswith("c")]
    return sorted(out)


def measure(agents, roots, repeat, record):
    rows = {}
    local, remote = keys_of(os.path.join(roots[0], "acq.zarr")), keys_of(os.path.join(roots[1], "acq.zarr"))
    cases = {
        "direct file read (n0's disk)": [f"file://{roots[0]}/acq.zarr/{k}" for k in local],
        f"agent's /v1/files, local key (plain sendfile, no record)": [f"{agents[0]}/v1/files/acq.zarr/{k}" for k in local],
        f"view, local key ({record})": [f"{agents[0]}/zarr/acq.zarr/{k}" for k in local],
        "direct file read (n1's disk)": [f"file://{roots[1]}/acq.zarr/{k}" for k in remote],
        f"view, pass-through key ({record})": [f"{agents[0]}/zarr/acq.zarr/{k}" for k in remote],
    }
    for name, urls in cases.items():
        runs = [curl_all(urls) for _ in range(repeat + 1)][1:]  # the first warms up
        rows[name] = {"files": len(urls), "MB/s": [b / s / 1e6 for s, b in runs], "files/s": [len(urls) / s for s, _ in runs]}
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=512)
    p.add_argument("--kib", type=int, default=1024)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--work", default="/tmp/softcopy-bench-view")
    args = p.parse_args()
    agent_bin, coordinator = release_binary("softcopy-agent"), release_binary("softcopy-coordinator")
    os.makedirs(args.work, exist_ok=True)
    reference = small_chunk_archive(args.work, args.files, args.kib)
    source = os.path.join(args.work, "src.zarr")
    shutil.rmtree(source, ignore_errors=True)
    subprocess.run(["cp", "-a", reference, source], check=True)
    os.unlink(os.path.join(source, "complete"))
    roots = [os.path.join(args.work, f"n{i}") for i in range(2)]
    ports = [17731, 17732]
    agents = [f"http://127.0.0.1:{port}" for port in ports]
    processes = []
    try:
        for root, port, i in zip(roots, ports, range(2)):
            shutil.rmtree(root, ignore_errors=True)
            os.makedirs(root)
            processes.append(subprocess.Popen([agent_bin, "--no-advertise", "--root", root, "--host", "127.0.0.1", "--port", str(port),
                                               "--name", f"n{i}"], stderr=open(os.path.join(args.work, f"n{i}.log"), "w")))
        time.sleep(1)
        processes.append(subprocess.Popen([coordinator, "--no-discovery", "--progress", "never", "--listen", "127.0.0.1:0", "--placement", "balanced",
                                   "--agent", agents[0], "--agent", agents[1], source, "acq.zarr"], stderr=open(os.path.join(args.work, "coordinator.log"), "w")))
        copier = processes[-1]
        want = len(keys_of(source))
        deadline = time.monotonic() + 600
        while sum(len(keys_of(os.path.join(r, "acq.zarr"))) for r in roots if os.path.isdir(os.path.join(r, "acq.zarr"))) < want:
            assert time.monotonic() < deadline and copier.poll() is None, "the copy did not finish"
            time.sleep(0.2)
        hot_cache(args.work)
        results = measure(agents, roots, args.repeat, "coordinator's record")
        open(os.path.join(source, "complete"), "w").close()
        assert copier.wait(timeout=600) == 0
        results.update(measure(agents, roots, args.repeat, "manifest"))
        spec_view = {"driver": "zarr3", "kvstore": {"driver": "http", "base_url": f"{agents[0]}/zarr/acq.zarr"}}
        spec_file = {"driver": "zarr3", "kvstore": {"driver": "file", "path": source}}
        for name, spec in [("tensorstore, whole array, local files", spec_file), ("tensorstore, whole array, through n0's view", spec_view)]:
            runs = [tensorstore_read(spec) for _ in range(args.repeat + 1)][1:]
            results[name] = {"files": want, "MB/s": [b / s / 1e6 for s, b in runs], "files/s": [want / s for s, _ in runs]}
    finally:
        # The coordinator too: one left running would attach these agents in the next run.
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
    rows = [{"read": name, "files": r["files"], "MB/s": f"{median(r['MB/s']):.0f}", "files/s": f"{median(r['files/s']):.0f}"}
            for name, r in results.items()]
    print(f"{args.files} chunks of {args.kib} KiB on two agents (balanced), medians of {args.repeat} runs")
    table(rows, ["read", "files", "MB/s", "files/s"])
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "read_view.json"),
               {"files": args.files, "kib": args.kib, "results": results})


if __name__ == "__main__":
    main()
