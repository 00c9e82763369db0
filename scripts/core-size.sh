#!/usr/bin/env bash
# The bare-metal code size of staticd-core: `.text` of a thumbv7em-none-eabihf binary built with
# opt-level "z", fat LTO, one codegen unit and panic=abort (the workspace's `size` profile).
#
# A library's size means nothing until a linker drops what is unused, so this script builds the
# tiny `#![no_std] #![no_main]` probe crate in core/size-probe/ (its own workspace, built only for
# this target) whose entry point calls the API on opaque inputs (core::hint::black_box), links it
# with --gc-sections, and reads `.text`. Every input goes through black_box, so no branch of the API
# is folded away because the probe happened to pass a constant; every public function of the crate
# is called (error `status()` and `as_str()` included, since a device logs them), all writing goes
# through one writer type (a device has one transport), and `Multipart::content_length` adds its own
# counting writer as it does in use. The `Display`/`Debug` impls are not called: a device that
# formats through `core::fmt` pays for the formatting machinery whatever the core does.
# Before measuring, the probe is checked with rustfmt and with clippy (-D warnings) for every probe
# kind, so a change to the core's API that breaks or dirties the probe stops the script.
# Probes:
#   parser     parse_request only (compare: httparse's request parser, built the same way)
#   core       every public core function: parse and its errors, framing, chunked, path, mime,
#              glob, preconditions, ranges, Content-Range, multipart, head writer, SliceWriter,
#              decimal, dates, status, Policy::DEFAULT + Policy::validate
#   serde      the same, with the policy read from a postcard policy blob (PolicyBlob) and validated
#   server     the whole serving core a device runs: the blocking driver, the sans-IO Connection and
#              the response decision over a StaticTable (and the 503 of a busy server), without
#              the core's optional features: what a device links
#   server-full the same with the `listing` and `encoding` features (directory listings, content
#              negotiation), as the desktop server builds the core
#   httparse   httparse::Request::parse, for scale
#
# "of which core code" is the core (or server) probe's .text minus the probe's own glue (the code
# that builds inputs and consumes results: matching outcomes, black_box calls, stack buffers). The probe is
# rebuilt with debug info and every instruction is charged to the innermost function of its inline
# chain: a staticd-core function (the core's), or the probe's source (glue). Compiler built-ins
# (memcpy, 64-bit shifts, f64 compare) and library code outside any core function are the core's,
# since the core's code calls them; a device that links them anyway gets them cheaper. This is the
# figure the 16 KiB target is judged by: the glue depends on how a caller consumes results, not on
# the core. It needs llvm-objdump and llvm-symbolizer; without them the row is left out.
#
# Usage: scripts/core-size.sh                 the table (adds the target with rustup if missing)
#        scripts/core-size.sh --breakdown [parser|core|serde|server|server-full]
#                                             where one probe's .text goes, by module and function
#                                             (needs llvm-objdump and llvm-symbolizer)
#        scripts/core-size.sh --lint          only the rustfmt and clippy checks of the probe
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$repo/target/core-size"
probe="$repo/core/size-probe"
kinds=(parser core serde server server-full httparse)
target=thumbv7em-none-eabihf

if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    rustup target add "$target"
fi

# The probe links the dependency versions the workspace locked (its own Cargo.lock is not committed).
cp "$repo/Cargo.lock" "$probe/Cargo.lock"

# rustfmt, then clippy for each probe kind (each compiles different code), as the workspace's CI
# checks its members.
lint_probe() {
    echo "checking probe: rustfmt, clippy" >&2
    cargo fmt --manifest-path "$probe/Cargo.toml" --check
    for kind in "${kinds[@]}"; do
        CARGO_TARGET_DIR="$work/target" cargo clippy --quiet --offline --manifest-path "$probe/Cargo.toml" \
            --profile size --target "$target" --no-default-features --features "$kind" -- -D warnings
    done
}

# Size of one section of an ELF (llvm-size, binutils size, or a few lines of Python as a fallback).
section_size() {
    local elf="$1" name="$2"
    if command -v llvm-size >/dev/null; then
        llvm-size -A "$elf" | awk -v n="$name" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
    elif command -v size >/dev/null; then
        size -A "$elf" | awk -v n="$name" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
    else
        python3 - "$elf" "$name" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
shoff, = struct.unpack_from("<I", data, 0x20)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
def section(i):
    return struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize)
names_off = section(shstrndx)[4]
size = 0
for i in range(shnum):
    s = section(i)
    name = data[names_off + s[0]:data.index(b"\0", names_off + s[0])].decode()
    if name == sys.argv[2]:
        size = s[5]
print(size)
PY
    fi
}

build_probe() {
    local kind="$1" target_dir="$2"
    CARGO_TARGET_DIR="$target_dir" cargo build --quiet --offline --manifest-path "$probe/Cargo.toml" \
        --profile size --target "$target" --no-default-features --features "$kind"
}

# Charges every instruction of one probe's `.text` (built with limited debug info in a separate
# target dir, checked to have the same `.text` as the measured build) to the innermost staticd-core function of its inline chain,
# so library code inlined into a core function (iterators, slice helpers) counts for that function.
# An instruction whose chain reaches the probe's own source first, or whose function is the probe's
# (`probe::*`, `_start`, the out-of-line `core::hint::black_box` shims), is the probe's glue.
# Anything else (compiler built-ins such as memcpy and 64-bit division, library code outside every
# core function) is listed by symbol and counted as the core's: the core's code calls it.
# Prints `TOTAL GLUE` with `--totals`, the breakdown otherwise. Needs llvm-objdump and llvm-symbolizer.
attribute() {
    local kind="$1" mode="$2"
    for tool in llvm-objdump llvm-symbolizer; do
        command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install llvm)" >&2; return 1; }
    done
    echo "building probe with debug info: $kind" >&2
    # Limited debug info (level 1): line tables and the functions they are inlined into, all the
    # attribution reads. Full debug info (level 2) changes the code LLVM emits for this probe (18,044
    # against 18,028 bytes of .text with rustc 1.95), and line tables only lose the names of some
    # inlined probe functions (about 240 bytes of glue charged to the core).
    CARGO_PROFILE_SIZE_DEBUG=1 build_probe "$kind" "$work/target-debuginfo"
    python3 - "$work/target-debuginfo/$target/size/probe" "$repo/core/src/" "$mode" <<'PY'
import collections, json, os, re, subprocess, sys
elf, core_src, mode = sys.argv[1], sys.argv[2], sys.argv[3]
disasm = subprocess.run(["llvm-objdump", "-d", "--no-show-raw-insn", "--section=.text", elf],
                        capture_output=True, text=True, check=True).stdout
insns, symbol = [], "?"
for line in disasm.splitlines():
    if m := re.match(r"^([0-9a-f]+) <(.*)>:", line):
        # `$t`/`$d` mark Thumb code and literal pools inside a function, not a new symbol.
        if not m.group(2).startswith("$"):
            symbol = m.group(2)
    elif m := re.match(r"^\s+([0-9a-f]+):", line):
        insns.append((int(m.group(1), 16), symbol))
# Each instruction (or literal pool) runs to the next address; the last one is a 2-byte Thumb op.
sizes = [b[0] - a[0] for a, b in zip(insns, insns[1:])] + [2]
query = "\n".join(hex(a) for a, _ in insns)
frames_out = subprocess.run(["llvm-symbolizer", "--output-style=JSON", "-i", "-f", "-C", "--obj=" + elf],
                            input=query, capture_output=True, text=True, check=True).stdout.splitlines()
GLUE = "(probe itself)"
def is_glue_function(name):
    return name.startswith("probe::") or name == "_start" or name.startswith("core::hint::black_box")
by_module, by_function = collections.Counter(), collections.Counter()
for (addr, symbol), size, frames in zip(insns, sizes, frames_out):
    module = function = None
    for f in json.loads(frames).get("Symbol", []):
        # A frame of a probe function with a core file is a merged instruction (line 0): glue.
        if f["FileName"].endswith("size-probe/src/main.rs") or is_glue_function(f["FunctionName"]):
            module = function = GLUE
            break
        if f["FileName"].startswith(core_src):
            module = f["FileName"][len(core_src):].removesuffix(".rs")
            function = re.sub(r"::h[0-9a-f]{16}$", "", f["FunctionName"])
            break
    if module is None:
        name = re.sub(r"::h[0-9a-f]{16}$|17h[0-9a-f]{16}E$", "", symbol)
        module = function = GLUE if is_glue_function(name) or "black_box" in name else "[" + name + "]"
    by_module[module] += size
    by_function[function] += size
if mode == "--totals":
    print(sum(sizes), by_module[GLUE])
    sys.exit(0)
print(f"\n.text {sum(sizes)} bytes: {by_module[GLUE]} probe glue, {sum(sizes) - by_module[GLUE]} core code")
print("\nby core module (outside any core function: by symbol)")
for name, size in by_module.most_common():
    if size >= 32:
        print(f"{size:7d}  {name}")
print("\nlargest core functions (with what is inlined into them)")
for name, size in by_function.most_common(int(os.environ.get("BREAKDOWN_TOP", "40"))):
    print(f"{size:7d}  {name}")
PY
}

lint_probe
if [[ "${1:-}" == "--lint" ]]; then
    exit 0
fi
if [[ "${1:-}" == "--breakdown" ]]; then
    attribute "${2:-core}" --breakdown
    exit 0
fi

declare -A text rodata
for probe_kind in "${kinds[@]}"; do
    echo "building probe: $probe_kind" >&2
    build_probe "$probe_kind" "$work/target"
    elf="$work/target/$target/size/probe"
    text[$probe_kind]="$(section_size "$elf" .text)"
    rodata[$probe_kind]="$(section_size "$elf" .rodata)"
done

# The core's own code: the core and server probes minus their glue (see attribute). The
# debug-info build must have the same .text as the one measured above, or the attribution is of
# another binary.
for probe_kind in core server; do
    if read -r total glue < <(attribute "$probe_kind" --totals); then
        if [[ "$total" != "${text[$probe_kind]}" ]]; then
            echo "debug-info $probe_kind probe has .text $total, not ${text[$probe_kind]}:" \
                "its core-only figure skipped" >&2
        else
            text[$probe_kind-only]=$((total - glue))
            rodata[$probe_kind-only]="${rodata[$probe_kind]}"
        fi
    fi
done

kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

row() {
    printf '| %-38s | %8d | %9s | %8d |\n' "$1" "${text[$2]}" "$(kib "${text[$2]}")" "${rodata[$2]}"
}

echo
echo "staticd-core on $target (opt-level z, fat LTO, panic=abort), $(rustc --version)"
echo "(.text is the figure the targets are about; .rodata, the tables and strings, also takes flash)"
printf '| %-38s | %8s | %9s | %8s |\n' "probe" ".text" ".text KiB" ".rodata"
printf '|%s|%s|%s|%s|\n' "----------------------------------------" "----------" "-----------" "----------"
row "request parser (parse_request)" parser
row "whole core (no features)" core
if [[ -n "${text[core-only]:-}" ]]; then
    row "  of which core code (probe glue out)" core-only
fi
row "whole core with a postcard policy blob" serde
row "serving core (drive, conn, respond)" server
if [[ -n "${text[server-only]:-}" ]]; then
    row "  of which core code (probe glue out)" server-only
fi
row "serving core + listing, encoding" server-full
row "httparse request parser, for scale" httparse
