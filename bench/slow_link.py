#!/usr/bin/env python3
"""A live acquisition copied over a link slower than the camera. Two hosts on this machine:
network namespaces `scsl1` (the acquisition PC: the writer, the coordinator, rsync's sender,
rclone's HTTP server) and `scsl2` (the storage node: the agent, sshd, rclone's client),
joined by a veth pair whose rate `tc qdisc ... tbf` limits in both directions (this kernel
has tbf, not netem). The link's real rate is measured first (one TCP stream, 40 MB).

The writer is tensorstore (zarr v3, raw uint16 chunks of 2 MiB, no codec, as fast camera
writers leave them) writing microscopy-like images: a smooth scene of bright blobs on a dim
background with Poisson (shot) noise, from a pool of 4 noisy frames (`--cheap-frames`) so the
writer's CPU goes to writing; a frame repeats 32 MiB later, beyond any compressor's window
here (zstd -1: 512 KiB to 1 MiB; rsync's zstd: 2 MiB). It writes faster than the link.

Compared in one run, alternating, each on fresh filesystems:
- softcopy through one agent, `--wire-compression never` and `auto`;
- `rsync -az` over ssh (sshd on the storage node), a pass after another while the writer
  runs and one more after it ended (rsync 3.2 negotiates zstd for -z);
- `rclone copy` over HTTP (`rclone serve http` on the acquisition PC), passes likewise.

Reported, medians over the runs:
- effective throughput (the archive's bytes over the time from the writer's start to the
  copier's end) divided by the link's measured rate;
- the backlog over time (source bytes not yet at the destination, sampled every 0.5 s);
- the delay from the writer's last chunk to the copier's end (softcopy: its verified exit);
- CPU seconds used on the acquisition PC by the copier there.
Every copy is compared with the source byte for byte before its figures count.

usage: bench/slow_link.py [--repeat N] [--link 100mbit] [--rate MBPS] [--mb SIZE] [--only NAME]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import threading
import time

from common import A, A_IP, ACQUIRE, B, B_IP, PYTHON, FreshFilesystem, Link, compare_trees, median, ns, release_binary, run, table, write_json
from peers import Server, cpu_seconds

CHUNK = (1, 1, 1024, 1024)  # 2 MiB of uint16
Z = 4


def measure_link(work):
    """Bytes per second of one TCP stream from A to B (40 MB)."""
    receiver = ("import socket,sys\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                f"s.bind(('{B_IP}',5001));s.listen(1);print('ready',flush=True)\nc,_=s.accept()\nn=0\n"
                "while True:\n  d=c.recv(1<<20)\n  if not d: break\n  n+=len(d)\nprint(n)")
    sender = (f"import socket,time\ns=socket.create_connection(('{B_IP}',5001))\nb=bytes(1<<20)\nt=time.monotonic()\n"
              "for _ in range(40): s.sendall(b)\ns.shutdown(socket.SHUT_WR);s.recv(1)\nprint(40*(1<<20)/(time.monotonic()-t))")
    r = subprocess.Popen(ns(B, ["python3", "-c", receiver]), stdout=subprocess.PIPE, text=True)
    r.stdout.readline()
    out = subprocess.run(ns(A, ["python3", "-c", sender]), capture_output=True, text=True, check=True).stdout
    r.wait(timeout=60)
    return float(out.strip())


def port_open_in(host, ip, port):
    """A readiness check for `Server`: something accepts on ip:port inside the namespace."""
    probe = f"import socket; socket.create_connection(('{ip}', {port}), 1)"
    return lambda _log: True if subprocess.run(ns(host, ["python3", "-c", probe]), capture_output=True).returncode == 0 else None


def tree_bytes(root):
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except FileNotFoundError:
                pass
    return total


class Backlog(threading.Thread):
    """Samples (seconds since start, source bytes, destination bytes) every 0.5 s."""

    def __init__(self, source, dest, start):
        super().__init__(daemon=True)
        self.source, self.dest, self.start_time = source, dest, start
        self.samples, self.done = [], threading.Event()

    def run(self):
        while not self.done.wait(0.5):
            self.samples.append((round(time.monotonic() - self.start_time, 1), tree_bytes(self.source), tree_bytes(self.dest)))


def ssh_setup(work):
    keys = os.path.join(work, "ssh")
    shutil.rmtree(keys, ignore_errors=True)
    os.makedirs(keys)
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(keys, "host"))
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(keys, "id"))
    shutil.copy(os.path.join(keys, "id.pub"), os.path.join(keys, "authorized_keys"))
    with open(os.path.join(keys, "sshd_config"), "w") as f:
        f.write(f"Port 2222\nListenAddress {B_IP}\nHostKey {keys}/host\nAuthorizedKeysFile {keys}/authorized_keys\n"
                f"PermitRootLogin yes\nStrictModes no\nUsePAM no\nPidFile {keys}/sshd.pid\n")
    os.makedirs("/run/sshd", exist_ok=True)
    return keys


def run_once(mode, args, work, binaries, link_rate):
    stamps = os.path.join(work, "slow-stamps.jsonl")
    if os.path.exists(stamps):
        os.unlink(stamps)
    src_mount, dst_mount = os.path.join(work, "slow-src"), os.path.join(work, "slow-dst")
    per_timepoint = Z * CHUNK[2] * CHUNK[3] * 2
    timepoints = max(4, round(args.mb * 1e6 / per_timepoint))
    size = int(args.mb / 1000) + 3
    log = open(os.path.join(work, f"slow-{mode.split()[0]}-{mode.split()[-1]}.log"), "w")
    servers, copier_cpu = [], 0.0
    with FreshFilesystem(src_mount, size_gib=size), FreshFilesystem(dst_mount, size_gib=size):
        source, dest = os.path.join(src_mount, "acq.zarr"), os.path.join(dst_mount, "acq.zarr")
        writer_cmd = [PYTHON, ACQUIRE, source, "--shape", f"{timepoints},{Z},{CHUNK[2]},{CHUNK[3]}",
                      "--chunks", ",".join(map(str, CHUNK)), "--rate", str(args.rate), "--image", "microscopy",
                      "--cheap-frames", "--timestamps", stamps, "--complete", "--seed", "7"]
        copier = None
        try:
            if mode.startswith("softcopy"):
                agent = Server(ns(B, [binaries["agent"], "--no-advertise", "--root", dst_mount, "--host", B_IP, "--port", "0"]),
                               os.path.join(work, "slow-agent.log"), lambda text: re.search(r"on (http://[\d.]+:\d+)", text))
                servers.append(agent)
                compression = mode.split()[-1]
                copier = subprocess.Popen(ns(A, [binaries["coordinator"], "--no-discovery", "--wait-for-source", "--progress", "never",
                                                 "--listen", f"{A_IP}:0", "--agent", agent.match.group(1), "--wire-compression", compression,
                                                 source, "acq.zarr"]), stdout=log, stderr=log)
            elif mode.startswith("rclone"):
                server = Server(ns(A, ["rclone", "serve", "http", src_mount, "--addr", f"{A_IP}:8088", "--read-only",
                                   "--dir-cache-time", "0s"]),
                                os.path.join(work, "slow-rclone-serve.log"), port_open_in(A, A_IP, 8088))
                servers.append(server)
            if not mode.startswith("softcopy"):
                os.makedirs(dest, exist_ok=True)
            start = time.monotonic()
            writer = subprocess.Popen(ns(A, writer_cmd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            backlog = Backlog(source, dest, start)
            backlog.start()
            if mode.startswith("softcopy"):
                writer_err = writer.communicate()[1].decode(errors="replace")
                _, status, usage = os.wait4(copier.pid, 0)
                end = time.monotonic()
                code = os.waitstatus_to_exitcode(status)
                copier_cpu = usage.ru_utime + usage.ru_stime
                if code != 0:
                    raise SystemExit(f"bench: {mode} exited {code}: see {log.name}")
            else:
                if mode.startswith("rsync"):
                    keys = os.path.join(work, "ssh")
                    sshd = Server(ns(B, ["/usr/sbin/sshd", "-D", "-e", "-f", os.path.join(keys, "sshd_config")]),
                                  os.path.join(work, "slow-sshd.log"), lambda text: "listening" in text.lower() or None)
                    servers.append(sshd)
                    ssh = f"ssh -p 2222 -i {keys}/id -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
                    one_pass = ns(A, ["rsync", "-az", "-e", ssh, source + "/", f"root@{B_IP}:{dest}/"])
                else:
                    one_pass = ns(B, ["rclone", "copy", "--transfers", "4", ":http:acq.zarr", dest, "--http-url", f"http://{A_IP}:8088"])
                # Passes while the writer runs, then one more that sees its last files.
                deadline = time.monotonic() + 60
                while not os.path.exists(os.path.join(source, "zarr.json")):
                    if writer.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"bench: the writer made no archive at {source}")
                    time.sleep(0.05)
                while True:
                    writing = writer.poll() is None
                    p = subprocess.Popen(one_pass, stdout=log, stderr=log)
                    _, status, usage = os.wait4(p.pid, 0)
                    copier_cpu += usage.ru_utime + usage.ru_stime if mode.startswith("rsync") else 0
                    code = os.waitstatus_to_exitcode(status)
                    # 24: files vanished during the pass (the writer's temp files).
                    if code not in (0, 24) or (not writing and code != 0):
                        raise SystemExit(f"bench: {mode} pass exited {code}: see {log.name}")
                    if not writing:
                        break
                end = time.monotonic()
                writer_err = writer.communicate()[1].decode(errors="replace")
            backlog.done.set()
            backlog.join()
            if writer.returncode != 0:
                raise SystemExit(f"bench: the writer failed ({writer.returncode}):\n{writer_err[-2000:]}")
            # The writer's lock and temp files (names starting with "." or ending ".__lock") aside.
            differences = compare_trees(source, dest, skip=lambda name: name.startswith(".") or name.endswith(".__lock"))
            if differences:
                raise SystemExit(f"bench: {mode}: the copy is not the source: {differences[0]} differs or is missing")
            for server in servers:
                if mode.startswith("rclone"):
                    copier_cpu += cpu_seconds(server.process.pid) - server.cpu_at_start
            archive = tree_bytes(source)
            lines = [json.loads(line) for line in open(stamps)]
            writer_start = next(line["monotonic"] for line in lines if "timepoint" in line)
            last_chunk = next(line["last_chunk"] for line in lines if "last_chunk" in line)
            elapsed = end - writer_start
            samples = [(t, max(0, s - d)) for t, s, d in backlog.samples]
            wire = re.search(r"compressed on the wire: (\d+) chunks, .* \(([\d.]+)× smaller\)", open(log.name).read())
            return {"archive_mb": archive / 1e6, "elapsed": elapsed, "throughput_mbps": archive / 1e6 / elapsed,
                    "vs_link": archive / elapsed / link_rate, "last_chunk_to_end": end - last_chunk,
                    "writer_mbps": (len([l for l in lines if "timepoint" in l]) - 1) * per_timepoint / 1e6 /
                                   max(1e-6, last_chunk - writer_start),
                    "peak_backlog_mb": max((b for _, b in samples), default=0) / 1e6,
                    "acq_pc_cpu": copier_cpu, "wire_ratio": float(wire.group(2)) if wire else None,
                    "backlog": [(t, round(b / 1e6, 1)) for t, b in samples]}
        finally:
            if copier and copier.poll() is None:
                copier.kill()
                copier.wait()
            for server in servers:
                server.stop()


MODES = ["softcopy wire_compression never", "softcopy wire_compression auto", "rsync -az over ssh", "rclone copy over HTTP"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--link", default="100mbit", help="the link's rate, as tc writes it")
    p.add_argument("--rate", type=float, default=40, help="the writer's rate, MB/s (faster than the link)")
    p.add_argument("--mb", type=float, default=400, help="the archive's size, MB")
    p.add_argument("--work", default="/tmp/softcopy-bench")
    p.add_argument("--only", action="append", default=None, help="run only modes containing this (repeatable)")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    for tool, package in (("rsync", "rsync"), ("rclone", "rclone"), ("/usr/sbin/sshd", "openssh-server"), ("ssh", "openssh-client")):
        if shutil.which(tool) is None:
            run("apt-get", "install", "-y", "-qq", package, stdout=subprocess.DEVNULL)
    binaries = {"coordinator": release_binary("softcopy-coordinator"), "agent": release_binary("softcopy-agent")}
    modes = [m for m in MODES if not args.only or any(o in m for o in args.only)]
    results = {m: [] for m in modes}
    with Link(args.link):
        link_rate = measure_link(args.work)
        print(f"bench: link {args.link}, measured {link_rate / 1e6:.1f} MB/s; writer {args.rate} MB/s, {args.mb} MB", flush=True)
        ssh_setup(args.work)
        for r in range(args.repeat):
            for mode in modes:
                m = run_once(mode, args, args.work, binaries, link_rate)
                results[mode].append(m)
                print(f"bench: run {r + 1} {mode}: {m['throughput_mbps']:.1f} MB/s = {m['vs_link']:.2f}x the link, "
                      f"last chunk to end {m['last_chunk_to_end']:.1f} s, peak backlog {m['peak_backlog_mb']:.0f} MB, "
                      f"acquisition-PC CPU {m['acq_pc_cpu']:.1f} s", flush=True)
    rows = []
    for mode in modes:
        runs = results[mode]
        rows.append({"copier": mode, "MB/s": f"{median([m['throughput_mbps'] for m in runs]):.1f}",
                     "÷ link": f"{median([m['vs_link'] for m in runs]):.2f}x",
                     "last chunk → end (s)": f"{median([m['last_chunk_to_end'] for m in runs]):.1f}",
                     "peak backlog (MB)": f"{median([m['peak_backlog_mb'] for m in runs]):.0f}",
                     "acq. PC CPU-s": f"{median([m['acq_pc_cpu'] for m in runs]):.1f}",
                     "writer MB/s": f"{median([m['writer_mbps'] for m in runs]):.1f}"})
    table(rows, ["copier", "MB/s", "÷ link", "last chunk → end (s)", "peak backlog (MB)", "acq. PC CPU-s", "writer MB/s"])
    for mode in modes:
        print(f"backlog over time, {mode} (first run; seconds: MB not yet copied):")
        print("  " + " ".join(f"{t:g}:{b:g}" for t, b in results[mode][0]["backlog"][::4]))
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "slow_link.json"), {"link": args.link, "link_measured_bps": link_rate, "writer_mbps": args.rate, "archive_mb": args.mb,
                             "results": results})


if __name__ == "__main__":
    main()
