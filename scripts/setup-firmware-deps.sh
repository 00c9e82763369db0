#!/usr/bin/env bash
# Installs what the device firmware's build and host test need besides the Rust toolchain:
#   - Debian's `qemu-system-arm` (Debian 12: QEMU 7.2), which emulates the mps2-an386 board
#     (Cortex-M4 with a LAN9118 Ethernet controller) the firmware runs on;
#   - the `thumbv7em-none-eabihf` standard library, to build the firmware;
#   - rustup's `llvm-tools` (llvm-size, llvm-nm, llvm-objdump, llvm-addr2line), read by
#     scripts/firmware-size.sh.
# Idempotent and non-interactive, like scripts/setup-test-deps.sh: `apt-get update` only when the
# package lists cannot provide the package; exits non-zero on any failure.
#
# QEMU, as used by firmware/tests/device.rs (checked with 7.2):
#   qemu-system-arm -M mps2-an386 -nographic -semihosting -kernel FIRMWARE.elf \
#       -nic user,model=lan9118,hostfwd=tcp:127.0.0.1:PORT-:80
#   - the board has one NIC model, lan9118 (`-nic model=help`); `model=` may be left out;
#   - `-semihosting` sends the firmware's output to QEMU's standard output; `-nographic` also
#     puts the monitor there, so give QEMU no standard input (or /dev/null);
#   - the guest is 10.0.2.15 in QEMU's user network; hostfwd's 127.0.0.1:PORT reaches its port 80.
set -euo pipefail

APT_PACKAGES=(qemu-system-arm)
TARGET=thumbv7em-none-eabihf

log() { printf 'setup-firmware-deps: %s\n' "$*"; }
fail() { printf 'setup-firmware-deps: error: %s\n' "$*" >&2; exit 1; }

if [[ "${EUID}" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    fail "installing Debian packages needs root (or password-less sudo)"
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300)

is_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

has_candidate() {
    local candidate
    candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    [[ -n "${candidate}" && "${candidate}" != "(none)" ]]
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    is_installed "${pkg}" || missing+=("${pkg}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    log "already installed: ${APT_PACKAGES[*]}"
else
    updated=0
    for pkg in "${missing[@]}"; do
        if ! has_candidate "${pkg}"; then
            log "apt-get update"
            "${as_root[@]}" apt-get "${apt_opts[@]}" update </dev/null || fail "apt-get update failed"
            updated=1
            break
        fi
    done
    log "apt-get install ${missing[*]}"
    if ! "${as_root[@]}" apt-get "${apt_opts[@]}" install "${missing[@]}" </dev/null; then
        # Stale lists give 404s on download: refresh once and retry.
        [[ ${updated} -eq 0 ]] || fail "apt-get install ${missing[*]} failed"
        "${as_root[@]}" apt-get "${apt_opts[@]}" update </dev/null || fail "apt-get update failed"
        "${as_root[@]}" apt-get "${apt_opts[@]}" install "${missing[@]}" </dev/null \
            || fail "apt-get install ${missing[*]} failed"
    fi
fi
command -v qemu-system-arm >/dev/null 2>&1 || fail "qemu-system-arm is not on PATH after install"
qemu-system-arm -M help | grep -q '^mps2-an386 ' || fail "this qemu-system-arm has no mps2-an386 board"
log "qemu: $(qemu-system-arm --version | head -n1)"

if rustup target list --installed | grep -qx "${TARGET}"; then
    log "rust target ${TARGET} already installed"
else
    log "rustup target add ${TARGET}"
    rustup target add "${TARGET}" </dev/null || fail "rustup target add ${TARGET} failed"
fi
if rustup component list --installed | grep -q '^llvm-tools'; then
    log "llvm-tools already installed"
else
    log "rustup component add llvm-tools"
    rustup component add llvm-tools </dev/null || fail "rustup component add llvm-tools failed"
fi
log "done"
