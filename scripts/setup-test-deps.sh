#!/usr/bin/env bash
# Installs what staticd's end-to-end tests need besides the Rust toolchain:
#   - Debian's `chromium` and `chromium-driver` (headless browser test of site/, issue 4);
#   - a Python venv at .venv/ (repository root) holding REDbot from PyPI (the HTTP lint judge, issue 4);
#   - Debian's `systemd` for its `systemd-socket-activate` and `systemd-analyze` (the unit-file and
#     socket-activation tests);
#   - Debian's `haproxy` (two staticd replicas behind a balancer).
# Idempotent and non-interactive: safe to run on every CI run (CI=true, no stdin, root). It runs
# `apt-get update` only when a package is missing and the package lists cannot provide it, and exits
# non-zero on any failure.
#
# Chromium, as installed here (checked with Debian 12's chromium 156):
#   - binary /usr/bin/chromium, driver /usr/bin/chromedriver (same version as the browser);
#   - as root it needs `--no-sandbox`; use `--headless --disable-gpu`, and
#     `--autoplay-policy=no-user-gesture-required` (or set `video.muted = true`) so play() needs no gesture;
#   - WebDriver is plain JSON over HTTP: `chromedriver --port=P`, POST /session with
#     {"capabilities":{"alwaysMatch":{"goog:chromeOptions":{"binary":"/usr/bin/chromium","args":[...]},
#     "goog:loggingPrefs":{"browser":"ALL"}}}}, then /url, /execute/async, /screenshot (base64 PNG), and
#     POST /se/log {"type":"browser"} for console messages.
#   - It plays both site/media/clip.webm (VP9) and clip.mp4 (H.264): seeking to the middle and play()
#     worked against a range-capable server; `--virtual-time-budget` stalls media, do not use it for that.
#
# REDbot, as installed here (redbot 2.7.1, pinned below):
#   - `.venv/bin/redbot [-a] -o har URL`: one HAR JSON document on stdout. The CLI allows local addresses
#     (127.0.0.1) itself. `-a` also checks the assets an HTML page links (CSS, JS, images; not <video>
#     sources: check media/clip.webm with its own run). Other formats: text, text_verbose, html.
#   - Exit status is 0 even when the server could not be reached or the response was incomplete: then
#     `log.entries` is empty (and `log._red_error` may hold a message). A test must require at least one
#     entry before it trusts "no bad note".
#   - Each entry: `request.url`, `response.status`, and `_red_messages`: a list of notes
#     {note_id, subject, category, level, summary, subnotes?}. `level` is the enum name, upper case:
#     "GOOD", "INFO", "WARN", "BAD". `subnotes` nest with the same shape: walk them too.
#   - One URL costs several requests (a plain GET, a Range request, If-None-Match and If-Modified-Since
#     revalidations, an Accept-Encoding: gzip variant), so an access log shows 4-6 lines per run.
#   - Against nginx 1.22 on this site the only WARN is FRESHNESS_HEURISTIC (no Cache-Control/Expires),
#     plus CONTENT_TYPE_MISMATCH on media/clip.webm and clip.mp4: REDbot's content sniffer reads both as
#     "undefined/undefined", whatever the server sends. favicon.ico served as image/vnd.microsoft.icon
#     also gets CONTENT_TYPE_MISMATCH (the sniffer says image/x-icon). No BAD notes. Well under a second
#     per URL.
set -euo pipefail

REDBOT_VERSION="2.7.1"
# systemd: `systemd-socket-activate` and `systemd-analyze verify` for the service tests (nothing is
# started as a service).
# curl (built with brotli and zstd), openssl, gzip and python3: the content-coding and TLS tests
# decode and handshake with them.
# haproxy: the balancer in front of two replicas (PROXY protocol v1/v2, health checks, a rolling
# restart); the tests run /usr/sbin/haproxy in the foreground (-db) with a generated configuration,
# never the packaged service.
APT_PACKAGES=(chromium chromium-driver systemd curl openssl gzip python3 haproxy)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv_dir="${repo_root}/.venv"

log() { printf 'setup-test-deps: %s\n' "$*"; }
fail() { printf 'setup-test-deps: error: %s\n' "$*" >&2; exit 1; }

if [[ "${EUID}" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    fail "installing Debian packages needs root (or password-less sudo)"
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300)
apt_updated=0

apt_update() {
    log "apt-get update"
    "${as_root[@]}" apt-get "${apt_opts[@]}" update </dev/null || fail "apt-get update failed"
    apt_updated=1
}

is_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# A package the lists do not know (fresh machine, empty lists) needs an update before install.
has_candidate() {
    local candidate
    candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    [[ -n "${candidate}" && "${candidate}" != "(none)" ]]
}

apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        is_installed "${pkg}" || missing+=("${pkg}")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "already installed: $*"
        return 0
    fi
    for pkg in "${missing[@]}"; do
        if ! has_candidate "${pkg}"; then
            apt_update
            break
        fi
    done
    log "apt-get install ${missing[*]}"
    if ! "${as_root[@]}" apt-get "${apt_opts[@]}" install "${missing[@]}" </dev/null; then
        # Stale lists give 404s on download: refresh once and retry.
        [[ ${apt_updated} -eq 0 ]] || fail "apt-get install ${missing[*]} failed"
        apt_update
        "${as_root[@]}" apt-get "${apt_opts[@]}" install "${missing[@]}" </dev/null \
            || fail "apt-get install ${missing[*]} failed"
    fi
}

apt_install "${APT_PACKAGES[@]}"
command -v chromium >/dev/null 2>&1 || fail "chromium is not on PATH after install"
command -v chromedriver >/dev/null 2>&1 || fail "chromedriver is not on PATH after install"
log "chromium: $(chromium --version 2>/dev/null | head -n1) at $(command -v chromium)"
log "chromedriver: $(chromedriver --version 2>/dev/null | head -n1) at $(command -v chromedriver)"
[[ -x /usr/sbin/haproxy ]] || fail "/usr/sbin/haproxy is missing after install"
log "haproxy: $(/usr/sbin/haproxy -v 2>/dev/null | head -n1)"

python_bin="$(command -v python3 || true)"
if [[ -z "${python_bin}" ]]; then
    apt_install python3 python3-venv
    python_bin="$(command -v python3)" || fail "python3 is not on PATH after install"
fi

venv_ok() {
    [[ -x "${venv_dir}/bin/python" && -x "${venv_dir}/bin/redbot" ]] \
        && [[ "$("${venv_dir}/bin/python" -c 'import importlib.metadata as m; print(m.version("redbot"))' \
            2>/dev/null || true)" == "${REDBOT_VERSION}" ]]
}

if venv_ok; then
    log "venv ${venv_dir} already has redbot ${REDBOT_VERSION}"
else
    if [[ ! -x "${venv_dir}/bin/python" ]] || ! "${venv_dir}/bin/python" -c 'import sys' 2>/dev/null; then
        log "creating venv ${venv_dir} with ${python_bin}"
        rm -rf "${venv_dir}"
        if ! "${python_bin}" -m venv "${venv_dir}" </dev/null; then
            # Debian's own python3 ships venv/ensurepip in a separate package.
            rm -rf "${venv_dir}"
            apt_install python3-venv
            "${python_bin}" -m venv "${venv_dir}" </dev/null || fail "python3 -m venv ${venv_dir} failed"
        fi
    fi
    log "pip install redbot==${REDBOT_VERSION} into ${venv_dir}"
    "${venv_dir}/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        "redbot==${REDBOT_VERSION}" </dev/null || fail "pip install redbot==${REDBOT_VERSION} failed"
    venv_ok || fail "redbot ${REDBOT_VERSION} is not usable in ${venv_dir} after install"
fi
"${venv_dir}/bin/redbot" --help >/dev/null || fail "${venv_dir}/bin/redbot --help failed"
log "redbot ${REDBOT_VERSION}: ${venv_dir}/bin/redbot"
log "done"
