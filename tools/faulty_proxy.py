#!/usr/bin/env python3
"""A TCP proxy that misbehaves on purpose, for fault-injection tests on loopback.

Each connection it accepts is forwarded to --target. On every piece of data it forwards,
it may reset both sides at once (--reset, a probability) or hold the data back for a
while (--delay, a probability, up to --delay-ms). Its choices come from --seed, so a run
can be repeated. It prints "listening on PORT" once ready, and on SIGTERM (or after
--max-seconds) writes what it did as JSON to --counts: connections, resets, delays.
"""
import argparse
import asyncio
import json
import random
import signal
import sys


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", required=True, help="HOST:PORT to forward to (loopback)")
    p.add_argument("--reset", type=float, default=0.05)
    p.add_argument("--delay", type=float, default=0.05)
    p.add_argument("--delay-ms", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--counts", required=True)
    p.add_argument("--max-seconds", type=float, default=600)
    args = p.parse_args()
    host, port = args.target.rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost"):
        sys.exit("faulty_proxy: the target must be on loopback")
    rng = random.Random(args.seed)
    counts = {"connections": 0, "resets": 0, "delays": 0}

    async def pipe(reader, writer, peer_writer):
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if rng.random() < args.reset:
                counts["resets"] += 1
                writer.transport.abort()
                peer_writer.transport.abort()
                return
            if rng.random() < args.delay:
                counts["delays"] += 1
                await asyncio.sleep(rng.random() * args.delay_ms / 1000)
            writer.write(data)
            await writer.drain()
        writer.close()

    async def handle(client_reader, client_writer):
        counts["connections"] += 1
        try:
            target_reader, target_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            client_writer.transport.abort()
            return
        try:
            await asyncio.gather(pipe(client_reader, target_writer, client_writer),
                                 pipe(target_reader, client_writer, target_writer))
        except (ConnectionError, OSError):
            pass
        finally:
            client_writer.transport.abort()
            target_writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.max_seconds)
    except asyncio.TimeoutError:
        pass
    with open(args.counts, "w") as f:
        json.dump(counts, f)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
