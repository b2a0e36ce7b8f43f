"""Shared pieces of softcopy's benchmarks: a fresh filesystem per run, timing of child
processes (wall, user+sys CPU, peak memory), and tables of medians."""
import filecmp
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
ACQUIRE = os.path.join(ROOT, "tools", "acquire.py")


def finished_archive(work, gib):
    """The finished archive of the copy benchmarks: GIB GiB of 1 MiB chunks, (T, 16, 512,
    1024) uint16 in (1, 1, 512, 1024) chunks, nested c/t/z/0/0, written by tensorstore once
    and reused (one per size, so a run never measures an archive of another size), with
    the `complete` file of a finished acquisition."""
    source = os.path.join(work, f"finished-{gib}GiB.zarr")
    if not os.path.exists(os.path.join(source, "zarr.json")):
        print(f"bench: writing {gib} GiB of 1 MiB chunks with tensorstore ...", flush=True)
        subprocess.run([PYTHON, ACQUIRE, source, "--shape", f"{gib * 1024 // 16},16,512,1024",
                        "--chunks", "1,1,512,1024"], check=True)
    # The original softcopy copies until this file appears; it is finished.
    open(os.path.join(source, "complete"), "a").close()
    return source


def small_chunk_archive(work, files, kib):
    """A finished archive of FILES chunks of KIB KiB each (T, 1, Y, X) uint16 with one time
    point per chunk, written by tensorstore once per size and reused, with its `complete` file:
    the many-small-files archive of the removal and service benchmarks."""
    side = int((kib * 1024 // 2) ** 0.5)
    reference = os.path.join(work, f"reference-{files}x{kib}KiB.zarr")
    if not os.path.exists(os.path.join(reference, "zarr.json")):
        print(f"bench: writing {files} chunks of {kib} KiB with tensorstore ...", flush=True)
        subprocess.run([PYTHON, ACQUIRE, reference, "--shape", f"{files},1,{side},{kib * 512 // side}",
                        "--chunks", f"1,1,{side},{kib * 512 // side}", "--cheap-frames", "--complete"], check=True)
    return reference


def release_binary(name):
    path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout.strip()
    return os.path.join(path, name)


class FreshFilesystem:
    """A loop-mounted ext4 image, made anew for each run: on a VM's root filesystem,
    creating files right after deleting thousands costs ~0.57 ms per openat, which
    would measure ext4's bookkeeping instead of the copier (testing.md)."""

    def __init__(self, mountpoint, size_gib):
        self.mountpoint = mountpoint
        self.image = mountpoint + ".img"
        self.size_gib = size_gib

    def __enter__(self):
        subprocess.run(["umount", self.mountpoint], capture_output=True)
        os.makedirs(self.mountpoint, exist_ok=True)
        with open(self.image, "wb") as f:
            f.truncate(self.size_gib << 30)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", self.image], check=True)
        subprocess.run(["mount", "-o", "loop", self.image, self.mountpoint], check=True)
        return self

    def __exit__(self, *exc):
        subprocess.run(["sync"])
        subprocess.run(["umount", self.mountpoint], check=True)
        os.unlink(self.image)


def timed(command, **kwargs):
    """Runs a command; returns wall seconds, CPU seconds (user + sys, the command and the
    children it waited for) and its peak RSS in MiB, from wait4 on this one process."""
    start = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    stderr = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed ({child.returncode}):\n{stderr[-3000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}


def hot_cache(path):
    """Reads every file once so the source is in the page cache for every contender."""
    for dirpath, _, files in os.walk(path):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                while f.read(1 << 22):
                    pass


def table(rows, columns):
    """Prints rows (dicts) as an aligned text table."""
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths)))


def median(values):
    return statistics.median(values) if values else float("nan")


def write_json(path, document):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(document, f, indent=1)


def compare(contenders, *, repeat, mount, fs_gib, log=print):
    """Runs every contender once per round, alternating, each on a fresh filesystem at
    MOUNT; round 0 is a warm-up. Returns {name: [measurement, ...]}."""
    results = {name: [] for name in contenders}
    for round_ in range(repeat + 1):
        for name, run in contenders.items():
            with FreshFilesystem(mount, size_gib=fs_gib):
                m = run()
            if round_ > 0:
                results[name].append(m)
            log(f"bench: round {round_}{' (warm-up)' if round_ == 0 else ''}: {name}: {m['wall']:.2f} s")
    return results


def select(contenders, only, *, baseline):
    """The contenders whose names contain one of ONLY's comma-separated parts, and always
    BASELINE, for a quicker run of a few copiers; all of them when ONLY is empty."""
    if not only:
        return contenders
    parts = [p.strip() for p in only.split(",") if p.strip()]
    chosen = {n: run for n, run in contenders.items() if n == baseline or any(p in n for p in parts)}
    if len(chosen) == 1 and parts:
        sys.exit(f"bench: --only {only!r} matches no copier; the copiers are: {', '.join(contenders)}")
    return chosen


def summary_rows(results, *, baseline, gib=None, files=None):
    """One row per copier: medians of wall and CPU, the ratio to BASELINE, peak memory,
    CPU per GiB and files per second where given."""
    base = median([m["wall"] for m in results[baseline]])
    rows = []
    for name, runs in results.items():
        wall = median([m["wall"] for m in runs])
        cpu = median([m["cpu"] for m in runs])
        row = {"copier": name, "wall s": f"{wall:.2f}", f"x {baseline}": f"{wall / base:.2f}",
               "CPU s": f"{cpu:.2f}", "peak MiB": f"{max(m['peak_rss_mib'] for m in runs):.0f}"}
        if gib:
            row["CPU s/GiB"] = f"{cpu / gib:.2f}"
        if files:
            row["files/s"] = f"{files / wall:.0f}"
        rows.append(row)
    return rows


def compare_trees(a, b, skip=None):
    """Paths under A whose bytes differ at B, or that B lacks (files whose name SKIP
    accepts aside): a copy counts in a benchmark only when this is empty."""
    out = []
    for root, _, files in os.walk(a):
        for name in files:
            if skip and skip(name):
                continue
            p = os.path.join(root, name)
            q = os.path.join(b, os.path.relpath(p, a))
            if not os.path.exists(q) or not filecmp.cmp(p, q, shallow=False):
                out.append(os.path.relpath(p, a))
    return out


# Two hosts on this machine for the slow-link benchmarks: network namespaces joined by
# a veth pair whose rate tbf limits (testing.md: this kernel has tbf, not netem).
A, B = "scsl1", "scsl2"
A_IP, B_IP = "10.78.0.1", "10.78.0.2"


def run(*command, check=True, **kwargs):
    return subprocess.run(list(command), check=check, **kwargs)


def ns(host, command):
    return ["ip", "netns", "exec", host] + list(command)


class Link:
    """Two namespaces joined by a veth pair, each direction limited by tbf."""

    def __init__(self, rate):
        self.rate = rate

    def __enter__(self):
        self.__exit__()
        run("ip", "netns", "add", A)
        run("ip", "netns", "add", B)
        run("ip", "link", "add", "eth0", "netns", A, "type", "veth", "peer", "name", "eth0", "netns", B)
        for host, ip in ((A, A_IP), (B, B_IP)):
            run("ip", "-n", host, "addr", "add", f"{ip}/24", "dev", "eth0")
            run("ip", "-n", host, "link", "set", "eth0", "up")
            run("ip", "-n", host, "link", "set", "lo", "up")
            # The burst must hold a timer tick's worth at this rate, or tbf cannot reach it.
            run("tc", "-n", host, "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", self.rate,
                "burst", "256kb", "latency", "400ms")
        return self

    def __exit__(self, *_):
        for host in (A, B):
            pids = subprocess.run(["ip", "netns", "pids", host], capture_output=True, text=True).stdout.split()
            for pid in pids:
                run("kill", "-9", pid, check=False, capture_output=True)
            run("ip", "netns", "del", host, check=False, capture_output=True)
