#!/usr/bin/env python3
"""Helpers for bench/run.sh (Python 3 standard library only).

Subcommands:
  freeport                      print a free TCP port on 127.0.0.1
  check URL SIZE                one GET: exit 0 only for a 2xx with SIZE body bytes
  wait-http URL SECONDS         poll URL until it answers (any status) or the time is up
  encoding URL ACCEPT           one GET with Accept-Encoding: ACCEPT: print the coding and body bytes
  tls HOST PORT                 one TLS handshake as OpenSSL's client offers it: print version, cipher
(URLs may be https://: the benchmark's self-signed certificate is not verified.)
  idle HOST PORT COUNT PATH     hold COUNT idle keep-alive connections (see cmd_idle)
  wrk FILE                      parse one wrk --latency output into key=value lines
  table TSV [ORDER...]          medians of the runs in TSV, printed as one markdown table
"""

import errno
import http.client
import os
import resource
import selectors
import socket
import ssl
import statistics
import sys
import time


def cmd_freeport(_args):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def split_url(url):
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    return host, int(port), "/" + path


def unverified():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def connection(url, timeout):
    host, port, _ = split_url(url)
    if url.startswith("https://"):
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=unverified())
    return http.client.HTTPConnection(host, port, timeout=timeout)


def cmd_encoding(args):
    url, accept = args[0], args[1]
    _, _, path = split_url(url)
    conn = connection(url, 30)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": accept})
        resp = conn.getresponse()
        body = resp.read()
    except OSError as e:
        print(f"{url}: {e}")
        return 1
    finally:
        conn.close()
    if not 200 <= resp.status < 300:
        print(f"{url}: status {resp.status}")
        return 1
    print(f"{resp.getheader('Content-Encoding') or 'identity'} {len(body)}")
    return 0


def cmd_tls(args):
    host, port = args[0], int(args[1])
    try:
        with socket.create_connection((host, port), timeout=10) as raw:
            with unverified().wrap_socket(raw) as tls:
                print(f"{tls.version()} {tls.cipher()[0]}")
    except OSError as e:
        print(f"{host}:{port}: {e}")
        return 1
    return 0


def cmd_check(args):
    url, size = args[0], int(args[1])
    _, _, path = split_url(url)
    conn = connection(url, 30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except OSError as e:
        print(f"{url}: {e}")
        return 1
    finally:
        conn.close()
    if not 200 <= resp.status < 300 or len(body) != size:
        print(f"{url}: status {resp.status}, {len(body)} body bytes (expected 2xx and {size})")
        return 1
    return 0


def cmd_wait_http(args):
    url, seconds = args[0], float(args[1])
    _, _, path = split_url(url)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn = connection(url, 2)
        try:
            conn.request("HEAD", path)
            conn.getresponse().read()
            return 0
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    return 1


def read_response_end(buf):
    """Length of the first complete response in buf (head + Content-Length body), or None."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    length = 0
    for line in buf[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    total = head_end + 4 + length
    return total if len(buf) >= total else None


def cmd_idle(args):
    """Open COUNT connections, send one keep-alive GET on each and read its response, then hold them.

    Prints `ready OPENED ANSWERED` once all are idle; then waits (at most --hold seconds) for a line
    on stdin (or EOF), counts the connections the server still keeps open, prints
    `alive N of OPENED`, and closes everything.
    """
    host, port, count, path = args[0], int(args[1]), int(args[2]), args[3]
    hold = float(args[5]) if len(args) > 5 and args[4] == "--hold" else 600.0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    sel = selectors.DefaultSelector()
    socks = []
    pending = {}
    answered = 0
    batch = 200
    deadline = time.monotonic() + 120
    # Connect in batches: a burst of 10,000 SYNs would overflow any listen backlog.
    while len(socks) < count or pending:
        if time.monotonic() > deadline:
            break
        while len(socks) < count and len(pending) < batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((host, port))
            if err not in (0, errno.EINPROGRESS):
                s.close()
                print(f"connect failed: {os.strerror(err)}", file=sys.stderr)
                deadline = 0
                break
            socks.append(s)
            pending[s] = bytearray()
            sel.register(s, selectors.EVENT_WRITE)
        for key, events in sel.select(timeout=1.0):
            s = key.fileobj
            if events & selectors.EVENT_WRITE:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    sel.unregister(s)
                    del pending[s]
                    continue
                s.sendall(request)
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                del pending[s]
                continue
            buf = pending[s]
            buf += data
            if read_response_end(buf) is not None:
                sel.unregister(s)
                del pending[s]
                answered += 1
    for s in list(pending):
        sel.unregister(s)
    print(f"ready {len(socks)} {answered}", flush=True)
    end = time.monotonic() + hold
    stdin_sel = selectors.DefaultSelector()
    stdin_sel.register(sys.stdin, selectors.EVENT_READ)
    while time.monotonic() < end:
        if stdin_sel.select(timeout=min(1.0, max(0.0, end - time.monotonic()))):
            sys.stdin.readline()
            break
    alive = 0
    for s in socks:
        try:
            alive += 1 if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) else 0
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    print(f"alive {alive} of {len(socks)}", flush=True)
    for s in socks:
        s.close()
    return 0


def to_ms(text):
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def cmd_wrk(args):
    """Print requests, req_s, p99_ms, non2xx, errors from one `wrk --latency` output."""
    out = {"requests": 0, "req_s": 0.0, "p99_ms": 0.0, "non2xx": 0, "errors": 0, "error_kinds": "none"}
    with open(args[0], encoding="utf-8", errors="replace") as f:
        for line in f:
            words = line.split()
            if line.startswith("Requests/sec:"):
                out["req_s"] = float(words[1])
            elif len(words) == 2 and words[0] == "99%":
                out["p99_ms"] = to_ms(words[1])
            elif "requests in" in line:
                out["requests"] = int(words[0])
            elif line.strip().startswith("Non-2xx or 3xx responses:"):
                out["non2xx"] = int(words[-1])
            elif line.strip().startswith("Socket errors:"):
                # Socket errors: connect 0, read 0, write 0, timeout 0
                pairs = list(zip(words[2::2], (int(w.strip(",")) for w in words[3::2])))
                out["errors"] = sum(n for _, n in pairs)
                out["error_kinds"] = ",".join(f"{kind}:{n}" for kind, n in pairs if n) or "none"
    for key, value in out.items():
        print(f"{key}={value}")
    return 0


WORKLOADS = {
    "a": "a. 1 KiB, keep-alive, 32 conns",
    "b": "b. 1 KiB, Connection: close, 32 conns",
    "c": "c. 1 MiB, keep-alive, 8 conns",
    "d": "d. 100 MiB, 1 conn",
    "e": "e. 10k idle conns open, then a",
    "f": "f. 1 KiB over TLS, keep-alive, 32 conns",
    "g": "g. 1 MiB over TLS, keep-alive, 8 conns",
    "h": "h. 100 KiB text, Accept-Encoding: br, gzip, 32 conns",
}

# Workloads whose figure is bytes per second rather than requests per second.
BYTES_WORKLOADS = ("c", "d", "g")


def fmt_num(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def merge_notes(notes):
    """One note for several runs: distinct notes once; busy-machine notes counted with their maximum."""
    plain, busy = [], []
    for note in notes:
        for part in filter(None, (p.strip() for p in note.split(";"))):
            if part.startswith("other processes "):
                busy.append(int(part.split()[2].rstrip("%")))
            elif part not in plain:
                plain.append(part)
    if busy:
        plain.append(f"machine busy in {len(busy)} of {len(notes)} runs (other processes up to {max(busy)}% CPU)")
    return "; ".join(plain)


def cmd_table(args):
    """TSV columns: workload server rep status req_s mib_s p99_ms srv_cpu wrk_cpu rss_kib note."""
    path, order = args[0], args[1:]
    runs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 11 or cols[0] == "workload":
                continue
            runs.setdefault((cols[0], cols[1]), []).append(cols)
    servers = order or sorted({k[1] for k in runs})
    med = {}
    for key, rows in runs.items():
        failed = [r[3] for r in rows if r[3] != "ok"]
        if failed:
            med[key] = {"failed": failed[0], "n": len(rows)}
            continue

        def m(i):
            return statistics.median(float(r[i]) for r in rows)

        med[key] = {
            "failed": None, "n": len(rows), "req_s": m(4), "mib_s": m(5), "p99": m(6),
            "srv_cpu": m(7), "wrk_cpu": m(8), "rss": m(9) / 1024.0,
            "note": merge_notes([r[10] for r in rows]),
        }
    print("| workload | server | throughput | p99 | server CPU | CPU per request | wrk CPU | server RSS | vs nginx | notes |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for w, label in WORKLOADS.items():
        base = med.get((w, "nginx"))
        own_a = {s: med.get(("a", s)) for s in servers}
        for s in servers:
            r = med.get((w, s))
            if r is None:
                continue
            if r["failed"]:
                print(f"| {label} | {s} | FAILED | | | | | | | {r['failed']} |")
                continue
            bytes_workload = w in BYTES_WORKLOADS
            value = r["mib_s"] if bytes_workload else r["req_s"]
            unit = "MiB/s" if bytes_workload else "req/s"
            ratio = ""
            if base and not base["failed"]:
                b = base["mib_s"] if bytes_workload else base["req_s"]
                ratio = f"{value / b:.2f}x" if b > 0 else ""
            notes = [f"median of {r['n']}"] if r["n"] > 1 else []
            if w == "e":
                a = own_a.get(s)
                if a and not a["failed"] and a["req_s"] > 0:
                    notes.append(f"{r['req_s'] / a['req_s']:.2f}x own a")
            if r["note"]:
                notes.append(r["note"])
            # Server CPU time per answered request: the figure that still compares servers when
            # the load generator, not the server, is the limit (workloads a, b, e).
            per_request = ""
            if not bytes_workload and r["req_s"] > 0:
                per_request = f"{r['srv_cpu'] / 100 * 1e6 / r['req_s']:.1f} µs"
            print(
                f"| {label} | {s} | {fmt_num(value)} {unit} | {r['p99']:.2f} ms | {r['srv_cpu']:.0f}% | {per_request} "
                f"| {r['wrk_cpu']:.0f}% | {r['rss']:.1f} MiB | {ratio} | {'; '.join(notes)} |"
            )
    return 0


COMMANDS = {
    "freeport": cmd_freeport,
    "check": cmd_check,
    "wait-http": cmd_wait_http,
    "encoding": cmd_encoding,
    "tls": cmd_tls,
    "idle": cmd_idle,
    "wrk": cmd_wrk,
    "table": cmd_table,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]) or 0)
