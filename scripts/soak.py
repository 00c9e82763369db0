#!/usr/bin/env python3
"""Soak driver for staticd (issue 5): N keep-alive requests over C connections against a running
server, checking every response, sampling the server's RSS and thread count.

Python standard library only. Started by scripts/soak.sh, which builds and starts the server.

Every response must be a 200 whose body is exactly the file asked for; anything else (another
status, a short or long body, a malformed head, a timeout, a reset) is an error. A connection the
server closes after a `Connection: close` response is reopened (keepalive_requests) and is not an
error.
"""

import argparse
import asyncio
import sys
import time


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def fd_count(pid):
    import os

    return len(os.listdir(f"/proc/{pid}/fd"))


class Soak:
    def __init__(self, args, files):
        self.args = args
        self.files = files  # [(path, bytes)]
        self.next_request = 0
        self.done = 0
        self.errors = 0
        self.error_examples = []
        self.reconnects = 0
        self.samples = []
        self.next_sample = args.sample_every
        self.started = time.monotonic()

    def sample(self, label):
        pid = self.args.pid
        rss = proc_status(pid, "VmRSS")
        threads = proc_status(pid, "Threads")
        fds = fd_count(pid)
        elapsed = time.monotonic() - self.started
        self.samples.append((label, self.done, rss, threads, fds, elapsed))
        print(
            f"[soak] {label:>8}: {self.done:>7} requests, {self.errors} errors, "
            f"RSS {rss} KiB, threads {threads}, fds {fds}, {elapsed:.1f} s",
            flush=True,
        )

    def error(self, what):
        self.errors += 1
        if len(self.error_examples) < 10:
            self.error_examples.append(what)

    async def open(self):
        return await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", self.args.port), timeout=5
        )

    async def read_response(self, reader):
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.1"):
            raise ValueError(f"bad status line {lines[0]!r}")
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise ValueError(f"bad header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"-1"))
        if length < 0:
            raise ValueError("no Content-Length")
        body = await asyncio.wait_for(reader.readexactly(length), timeout=10)
        close = b"close" in headers.get(b"connection", b"").lower()
        return status, body, close

    async def client(self, index):
        reader = writer = None
        while True:
            if self.next_request >= self.args.requests:
                break
            if time.monotonic() - self.started > self.args.time_limit:
                break
            n = self.next_request
            self.next_request += 1
            path, expected = self.files[n % len(self.files)]
            try:
                if writer is None:
                    reader, writer = await self.open()
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.args.port}\r\n"
                    f"User-Agent: staticd-soak/{index}\r\n\r\n".encode()
                )
                await writer.drain()
                status, body, close = await self.read_response(reader)
                if status != 200:
                    self.error(f"request {n} {path}: status {status}")
                elif body != expected:
                    self.error(f"request {n} {path}: body of {len(body)} bytes differs")
                if close:
                    writer.close()
                    reader = writer = None
                    self.reconnects += 1
            except Exception as e:  # every failure is counted, none stops the run
                self.error(f"request {n} {path}: {type(e).__name__}: {e}")
                if writer is not None:
                    writer.close()
                reader = writer = None
            self.done += 1
            if self.done >= self.next_sample:
                self.next_sample += self.args.sample_every
                self.sample(f"{self.done}")
        if writer is not None:
            writer.close()

    async def run(self):
        self.sample("start")
        await asyncio.gather(*(self.client(i) for i in range(self.args.connections)))
        self.sample("end")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--site", required=True, help="the served root, to know the expected bodies")
    p.add_argument("--requests", type=int, default=200_000)
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--sample-every", type=int, default=50_000)
    p.add_argument("--time-limit", type=float, default=900.0, help="seconds")
    args = p.parse_args()

    files = []
    for path in ["/index.html", "/style.css", "/data.json", "/image.png"]:
        with open(args.site + path, "rb") as f:
            files.append((path, f.read()))

    soak = Soak(args, files)
    asyncio.run(soak.run())
    elapsed = time.monotonic() - soak.started
    first, last = soak.samples[0], soak.samples[-1]
    print(
        f"[soak] done: {soak.done} requests over {args.connections} connections in {elapsed:.1f} s "
        f"({soak.done / elapsed:.0f} req/s), {soak.errors} errors, {soak.reconnects} reconnects "
        f"after Connection: close; RSS {first[2]} KiB -> {last[2]} KiB, "
        f"threads {first[3]} -> {last[3]}, fds {first[4]} -> {last[4]}"
    )
    for example in soak.error_examples:
        print(f"[soak] error: {example}")
    if soak.done < args.requests:
        print(f"[soak] time limit reached after {soak.done} of {args.requests} requests")
        return 1
    return 1 if soak.errors else 0


if __name__ == "__main__":
    sys.exit(main())
