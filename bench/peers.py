"""The copiers compared in the copy benchmarks, each a function that copies SOURCE to
MOUNT/copy.zarr and returns its measurement: wall seconds, CPU seconds (user + sys of
every process of that copier, servers included) and peak memory (MiB, all its processes).

Servers that a copier needs (softcopy's agent, `rclone serve http`) start before the clock
and are stopped after it; their CPU is what they used during the copy."""
import os
import re
import shutil
import socket
import subprocess
import time

from common import ROOT, hot_cache, timed

PYPI_SOFTCOPY = os.path.join(ROOT, ".venv-softcopy-pypi", "bin", "softcopy")


def ensure_peers():
    """Installs rsync and rclone (Debian) and the original softcopy (PyPI, its own venv)."""
    missing = [p for p in ("rsync", "rclone") if shutil.which(p) is None]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists(PYPI_SOFTCOPY):
        venv = os.path.dirname(os.path.dirname(PYPI_SOFTCOPY))
        subprocess.run(["python3", "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "softcopy"], check=True)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process started before the clock; its CPU and memory join the copier's."""

    def __init__(self, command, log, ready):
        self.log = open(log, "w+")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        self.match = None
        while time.monotonic() < deadline and self.match is None:
            self.log.seek(0)
            self.match = ready(self.log.read())
            if self.match is None:
                if self.process.poll() is not None:
                    raise SystemExit(f"bench: {command[0]} exited at start: see {log}")
                time.sleep(0.02)
        if self.match is None:
            self.process.kill()
            raise SystemExit(f"bench: {command[0]} did not start: see {log}")
        self.cpu_at_start = cpu_seconds(self.process.pid)

    def add_to(self, m):
        m["cpu"] += cpu_seconds(self.process.pid) - self.cpu_at_start
        m["peak_rss_mib"] += peak_mib(self.process.pid)
        return m

    def stop(self):
        self.process.terminate()
        self.process.wait()


def port_open(port):
    def ready(_log):
        with socket.socket() as s:
            return True if s.connect_ex(("127.0.0.1", port)) == 0 else None
    return ready


def contenders(source, mount, work, *, coordinator, agent, transfers=4):
    """Every copier, in the order they run in each round."""
    dest = os.path.join(mount, "copy.zarr")

    def plain(command):
        def run():
            hot_cache(source)
            return timed(command)
        return run

    def rclone_http():
        port = free_port()
        server = Server(["rclone", "serve", "http", source, "--addr", f"127.0.0.1:{port}", "--read-only"],
                        os.path.join(work, "rclone-serve.log"), port_open(port))
        try:
            hot_cache(source)
            m = timed(["rclone", "copy", "--transfers", "8", ":http:", dest, "--http-url", f"http://127.0.0.1:{port}"])
            return server.add_to(m)
        finally:
            server.stop()

    def via_agent(extra=()):
        server = Server([agent, "--no-advertise", "--root", mount, "--host", "127.0.0.1", "--port", "0", "--transfers", str(transfers)],
                        os.path.join(work, "agent.log"), lambda log: re.search(r"on (http://127\.0\.0\.1:\d+)", log))
        try:
            hot_cache(source)
            m = timed([coordinator, "--no-discovery", "--once", "--progress", "never", "--listen", "127.0.0.1:0",
                       "--agent", server.match.group(1), *extra, source, "copy.zarr"])
            return server.add_to(m)
        finally:
            server.stop()

    return {
        "cp -r": plain(["cp", "-r", source, dest]),
        "cp -r; sync": plain(["sh", "-c", f"cp -r '{source}' '{dest}' && sync"]),
        "rsync -a": plain(["rsync", "-a", source + "/", dest]),
        "rclone copy --transfers 8": plain(["rclone", "copy", "--transfers", "8", source, dest]),
        "rclone copy over HTTP (rclone serve http)": rclone_http,
        "original softcopy (PyPI) --nprocs 8": plain([PYPI_SOFTCOPY, "--nprocs", "8", "--sleep-time", "0", source, dest]),
        "softcopy local (--once)": plain([coordinator, "--no-discovery", "--once", "--progress", "never", source, dest]),
        "softcopy, 1 agent on loopback": via_agent,
        # What checksums: costs (SHA-256 and MD5 computed as the files are read).
        "softcopy local (--once) --checksums sha256": plain([coordinator, "--no-discovery", "--once", "--progress", "never", "--checksums", "sha256", source, dest]),
        "softcopy local (--once) --checksums sha256,md5": plain([coordinator, "--no-discovery", "--once", "--progress", "never", "--checksums", "sha256,md5", source, dest]),
        "softcopy, 1 agent on loopback --checksums sha256,md5": lambda: via_agent(["--checksums", "sha256,md5"]),
    }
