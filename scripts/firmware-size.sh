#!/usr/bin/env bash
# Figures for the device firmware (firmware/device, QEMU mps2-an386, thumbv7em-none-eabihf), as
# the README's device section reports them:
#   - the release ELF's .text, .rodata, .data and .bss, and of .text what staticd-core, smoltcp,
#     the LAN9118 driver and the rest take (each instruction counted for the source file of its
#     innermost inlined frame, from the debug line table);
#   - RAM: static (.data + .bss) and the stack's high-water marks, which the firmware measures
#     from its painted stack and prints over semihosting: at start-up, and while serving (it
#     paints the unused stack again once started), read here after a load run;
#   - requests per second for a small page through QEMU: 4 keep-alive clients for 5 s on
#     127.0.0.1 (indicative only: QEMU is an emulator, not the device's clock).
# With --panics: the places where a panic can still be reached, by crate and function (from the
# release build's call sites of the panic functions, with their inlining), and the result of the
# `no-panic-link-check` build, which links only when there are none. --panic-sites: the list
# alone (no second build; firmware/tests/no_panic.rs reads it).
#
# Needs what scripts/setup-firmware-deps.sh installs, and binutils' addr2line for --panics.
# Usage: bash scripts/firmware-size.sh [--panics | --panic-sites]
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=thumbv7em-none-eabihf
TARGET_DIR="$PWD/target/device"
ELF="$TARGET_DIR/$TARGET/release/staticd-device"
LLVM_BIN="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
for tool in llvm-size llvm-nm llvm-objdump; do
    [[ -x "$LLVM_BIN/$tool" ]] || { echo "firmware-size: $tool missing: bash scripts/setup-firmware-deps.sh" >&2; exit 1; }
done

build() {
    (cd firmware/device && cargo build -q --release --target "$TARGET" --target-dir "$TARGET_DIR" "$@")
}

if [[ "${1:-}" == "--panics" || "${1:-}" == "--panic-sites" ]]; then
    build
    "$LLVM_BIN/llvm-objdump" -d --no-show-raw-insn -C "$ELF" > "$TARGET_DIR/staticd-device.dis"
    # binutils' addr2line (with gcc on every machine) reads the ARM ELF's DWARF, inlining included.
    python3 - "$TARGET_DIR/staticd-device.dis" addr2line "$ELF" "$PWD" <<'PY'
import collections, re, subprocess, sys
dis, addr2line, elf, root = sys.argv[1:5]
panic_fns = ("core::panicking::", "core::slice::index::", "core::option::unwrap_failed",
             "core::option::expect_failed", "core::result::unwrap_failed",
             "copy_from_slice_impl::len_mismatch_fail", "core::str::slice_error_fail",
             "core::cell::panic_already")
sites, current = [], None
for line in open(dis):
    m = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
    if m:
        current = m.group(2)
        continue
    m = re.match(r"^\s*([0-9a-f]+):\s+b(?:l|\.w)?\s+0x[0-9a-f]+ <(.*?)(?:\+0x[0-9a-f]+)?>", line)
    if m and current and any(p in m.group(2) for p in panic_fns) \
            and not any(p in current for p in panic_fns):
        sites.append((int(m.group(1), 16), m.group(2)))
if not sites:
    print("no panic call site left")
    sys.exit(0)
# Each call site's inline chain, innermost first: (function, file:line) pairs; the first frame in a
# crate of ours or a dependency names where the panic is.
def crate_of(path):
    if "library/core/" in path:
        return None
    for key, name in (("smoltcp-", "smoltcp"), (root + "/core/src/", "staticd-core"),
                      (root + "/firmware/src/lan9118", "driver (lan9118)"),
                      (root + "/firmware/src/", "staticd-firmware"),
                      (root + "/firmware/device/", "device binary"), ("heapless", "heapless"),
                      ("postcard", "postcard"), ("serde", "serde"), ("managed-", "managed"),
                      ("cortex-m", "cortex-m")):
        if key in path:
            return name
    return None
counts = collections.Counter()
for address, target in sites:
    chain = subprocess.run([addr2line, "-f", "-i", "-C", "-e", elf, hex(address)],
                           capture_output=True, text=True, check=True).stdout.strip().split("\n")
    frames = list(zip(chain[0::2], chain[1::2]))
    where = next(((crate_of(f), fn, f) for fn, f in frames if crate_of(f)), (None, frames[-1][0], frames[-1][1]))
    crate, fn, fileline = where
    fn = re.sub(r"::h[0-9a-f]{16}$", "", fn)
    counts[(crate or "rust core library", fn, fileline.split("/")[-1], target.split("::")[-1])] += 1
print(f"{len(sites)} panic call sites in {elf.split('/')[-1]}:")
for (crate, fn, fileline, target), n in sorted(counts.items()):
    print(f"  {crate:18} {n:2} x {target:24} {fn[:90]} ({fileline})")
PY
    [[ "$1" == "--panics" ]] || exit 0
    echo
    echo "== the no-panic-link-check build (links only if no panic path remains)"
    if build --features no-panic-link-check 2>"$TARGET_DIR/no-panic.log"; then
        echo "linked: no panic path remains"
    else
        grep -m1 -o 'undefined symbol: [a-z_]*' "$TARGET_DIR/no-panic.log" || tail -5 "$TARGET_DIR/no-panic.log"
        echo "did not link: the panic paths above remain"
    fi
    exit 0
fi

build
echo "== sections (release ELF, opt-level s, LTO, panic = abort)"
"$LLVM_BIN/llvm-size" -A "$ELF" | awk '$1 ~ /^\.(vector_table|text|rodata|data|bss)$/ {printf "  %-14s %8d B\n", $1, $2}'
site_bytes=$(find site -type f -printf '%s\n' | awk '{s += $1} END {print s}')
echo "  (of .rodata, the compiled-in site/: $site_bytes B)"

echo "== .text by crate (each instruction by the source file of its innermost inlined frame)"
"$LLVM_BIN/llvm-objdump" -d -l --no-show-raw-insn -j .text "$ELF" | python3 -c '
import re, sys, collections
root = sys.argv[1]
def crate(path):
    for key, label in (("library/core/", "Rust core library"), ("/smoltcp-", "smoltcp"),
                       (root + "/core/src/", "staticd-core"),
                       (root + "/firmware/src/lan9118", "LAN9118 driver"),
                       (root + "/firmware/src/", "staticd-firmware (serve loop, log, clock)"),
                       (root + "/firmware/device/", "device binary (main, board, handlers)"),
                       ("/heapless-", "heapless"), ("/postcard-", "postcard + serde"),
                       ("/serde", "postcard + serde"), ("/managed-", "smoltcp"),
                       ("/cortex-m", "cortex-m, cortex-m-rt, semihosting"),
                       ("/embedded-io", "embedded-io"), ("/nom-", "nom"),
                       ("compiler-builtins", "compiler builtins")):
        if key in path:
            return label
    return "other"
sizes = collections.Counter()
label, last = "no line information", None
for line in sys.stdin:
    if line.startswith("; "):
        label = crate(line[2:])
        continue
    if re.match(r"^[0-9a-f]+ <", line):
        label = "no line information"
        continue
    m = re.match(r"^\s*([0-9a-f]+):", line)
    if m:
        address = int(m.group(1), 16)
        if last is not None:
            sizes[last[1]] += address - last[0]
        last = (address, label)
total = sum(sizes.values())
for name, size in sizes.most_common():
    print("  %-42s %8d B" % (name, size))
print("  %-42s %8d B (the last instruction not counted)" % ("all of .text", total))
' "$PWD"

echo "== RAM and speed, through QEMU"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$TARGET_DIR/firmware-size-qemu.log"
qemu-system-arm -M mps2-an386 -nographic -semihosting -kernel "$ELF" \
    -nic "user,model=lan9118,hostfwd=tcp:127.0.0.1:$port-:80" </dev/null >"$log" 2>&1 &
qemu=$!
trap 'kill "$qemu" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q 'serving on' "$log" && break
    sleep 0.1
done
grep -q 'serving on' "$log" || { echo "the device did not start:" >&2; cat "$log" >&2; exit 1; }
python3 - "$port" <<'PY'
import socket, sys, threading, time
port = int(sys.argv[1])
DURATION, CLIENTS, PATH = 5.0, 4, "/about.html"
request = f"GET {PATH} HTTP/1.1\r\nHost: device\r\n\r\n".encode()
counts, errors = [0] * CLIENTS, [0] * CLIENTS
def client(i):
    deadline = time.monotonic() + DURATION
    while time.monotonic() < deadline:
        try:
            connection(i, deadline)
        except OSError as e:
            errors[i] += 1
            print(f"  client {i}: {e!r}", file=sys.stderr)
def connection(i, deadline):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        # Up to 90 requests per connection: the device's keepalive_requests is 100.
        for _ in range(90):
            if time.monotonic() >= deadline:
                return
            s.sendall(request)
            length = None
            while True:
                line = f.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                if line == b"\r\n":
                    break
            f.read(length or 0)
            counts[i] += 1
threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
start = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.monotonic() - start
total = sum(counts)
print(f"  {total} requests for {PATH} in {elapsed:.1f} s, {CLIENTS} keep-alive clients: {total / elapsed:.0f} req/s (indicative), {sum(errors)} connection errors")
PY
sleep 1.5
static_ram=$("$LLVM_BIN/llvm-size" -A "$ELF" | awk '$1 == ".data" || $1 == ".bss" {s += $2} END {print s}')
echo "  static RAM (.data + .bss): $static_ram B"
startup=$(grep -o 'stack at start-up [0-9]* of [0-9]* bytes' "$log" | tail -n1 || true)
serving=$(grep -o 'stack high-water [0-9]* of [0-9]* bytes while serving' "$log" | tail -n1 || true)
echo "  ${startup:-stack at start-up: not reported} (decoding the policy blob is the deepest)"
echo "  ${serving:-stack high-water while serving: not reported} (after the load run)"
if grep -q 'panic' "$log"; then
    echo "the device panicked:" >&2
    grep panic "$log" >&2
    exit 1
fi
