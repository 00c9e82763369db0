#!/usr/bin/env bash
# Side-by-side benchmark of staticd against nginx and static-web-server (issue 6).
#
#   bench/run.sh            full run: 10 s per measurement, median of 3, every server in the same run
#   bench/run.sh --quick    development run: 2 s per measurement, 1 repetition
#
# Options: --reps N, --duration SECONDS, --idle N (connections held in workload e),
#          --servers LIST (comma-separated from nginx,sws,staticd,staticd-t2), --workloads LIST (from a-h),
#          --no-build (benchmark the existing target/release/staticd without rebuilding),
#          --baseline BIN (also measure another staticd binary, e.g. a build of an earlier commit, as the
#          row "staticd-base", beside this tree's in the same run).
#
# Needs root (apt-get, and nginx runs as root in the foreground). Installs Debian's wrk and nginx, and
# static-web-server into bench/.cache/sws with cargo. Every server binds 127.0.0.1 on a free port and is
# pinned to CPU 0 with taskset; wrk (one thread) is pinned to CPU 1. The extra row set "staticd-t2" runs
# staticd with threads = 2 on CPUs 0-1, with wrk free to use both cores too. A measurement with any
# non-2xx answer or socket error is reported as FAILED, never as a figure.
#
# Workloads f and g are served over TLS (one self-signed ECDSA P-256 certificate for every server, made
# with openssl into bench/.cache/tls), h is a 100 KiB text file asked for with Accept-Encoding: br, gzip
# (beside it its gzip -9 sibling, which nginx's gzip_static and staticd both serve); static-web-server
# is not measured on f, g and h.
#
# Output: progress on stderr; the markdown table on stdout and in bench/results/ (with the raw runs).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"
bench_dir="${repo_root}/bench"
cache="${bench_dir}/.cache"
helper=(python3 "${bench_dir}/helper.py")
export PYTHONDONTWRITEBYTECODE=1
sws_version="2.44.1"

reps=3
duration=10
warmup=2
quiet_wait=30
idle_count=10000
servers_wanted="nginx,sws,staticd,staticd-t2"
workloads_wanted="a,b,c,d,e,f,g,h"
build_staticd=1
baseline_bin=""
mode="full"
command_line="bench/run.sh${*:+ }$*"

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) mode="quick"; reps=1; duration=2; warmup=1; quiet_wait=5 ;;
        --reps) reps="$2"; shift ;;
        --duration) duration="$2"; shift ;;
        --idle) idle_count="$2"; shift ;;
        --servers) servers_wanted="$2"; shift ;;
        --workloads) workloads_wanted="$2"; shift ;;
        --no-build) build_staticd=0 ;;
        --baseline) baseline_bin="$2"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ "${reps}" =~ ^[1-9][0-9]?$ ]] || { echo "bench/run.sh: --reps must be 1-99" >&2; exit 2; }
[[ "${duration}" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "bench/run.sh: --duration must be 1-999 s" >&2; exit 2; }
[[ "${idle_count}" =~ ^[1-9][0-9]{0,4}$ ]] || { echo "bench/run.sh: --idle must be 1-99999" >&2; exit 2; }

progress() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { progress "error: $*"; exit 1; }
wanted() { [[ ",$1," == *",$2,"* ]]; }

[[ "${EUID}" -eq 0 ]] || die "run as root (apt-get installs; nginx runs as root with its own prefix)"
[[ "$(nproc)" -ge 2 ]] || die "needs 2 CPUs (server on CPU 0, wrk on CPU 1); this machine has $(nproc)"

# Processes this script started, stopped on exit by their own PIDs.
# Where a command below ends in `|| true`, its failure is expected or checked right after: a kill of a
# process that already exited, a raised limit that is then compared with what is needed, a wrk or
# helper whose output is parsed and turned into a FAILED row when it is missing or wrong.
started_pids=()
cleanup() {
    local pid
    for pid in "${started_pids[@]}"; do
        kill -TERM "${pid}" 2>/dev/null || true
    done
    for pid in "${started_pids[@]}"; do
        for _ in $(seq 1 50); do
            kill -0 "${pid}" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "${pid}" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "${cache}" "${bench_dir}/results"

# --- static-web-server: start its (long) compile first, in the background -------------------------
sws_bin="${cache}/sws/bin/static-web-server"
sws_install_pid=""
if wanted "${servers_wanted}" sws && [[ ! -x "${sws_bin}" ]]; then
    progress "installing static-web-server ${sws_version} into bench/.cache/sws in the background (log: bench/.cache/sws-install.log)"
    nice -n 19 cargo install static-web-server --version "${sws_version}" --locked --root "${cache}/sws" \
        >"${cache}/sws-install.log" 2>&1 </dev/null &
    sws_install_pid=$!
    started_pids+=("${sws_install_pid}")
fi

# --- Debian packages: wrk, nginx ------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300)
apt_updated=0
apt_install_one_of() {
    # Installs the first candidate the package lists know (nginx-light is gone after Debian 12).
    local pkg candidate
    for pkg in "$@"; do
        candidate="$(apt-cache policy "${pkg}" 2>/dev/null | awk '/Candidate:/ {print $2}')"
        if [[ ( -z "${candidate}" || "${candidate}" == "(none)" ) && ${apt_updated} -eq 0 ]]; then
            progress "apt-get update"
            apt-get "${apt_opts[@]}" update </dev/null >&2 || die "apt-get update failed"
            apt_updated=1
            candidate="$(apt-cache policy "${pkg}" 2>/dev/null | awk '/Candidate:/ {print $2}')"
        fi
        if [[ -n "${candidate}" && "${candidate}" != "(none)" ]]; then
            progress "apt-get install ${pkg}"
            # The nginx package's post-install would start the stock site on port 80: forbid service starts.
            local policy_created=0
            if [[ ! -e /usr/sbin/policy-rc.d ]]; then
                printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
                policy_created=1
            fi
            local rc=0
            apt-get "${apt_opts[@]}" install "${pkg}" </dev/null >&2 || rc=$?
            [[ ${policy_created} -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
            [[ ${rc} -eq 0 ]] && return 0
            die "apt-get install ${pkg} failed"
        fi
    done
    die "none of these packages is available: $*"
}
command -v wrk >/dev/null 2>&1 || apt_install_one_of wrk
if wanted "${servers_wanted}" nginx; then
    command -v nginx >/dev/null 2>&1 || apt_install_one_of nginx-light nginx
fi
command -v taskset >/dev/null 2>&1 || apt_install_one_of util-linux

# --- staticd release build -----------------------------------------------------------------------
staticd_bin="${repo_root}/target/release/staticd"
staticd_skip=""
if wanted "${servers_wanted}" staticd || wanted "${servers_wanted}" staticd-t2; then
    if [[ ${build_staticd} -eq 1 ]]; then
        progress "building staticd (cargo build --release -p staticd)"
        if ! nice -n 5 cargo build --release -p staticd </dev/null >"${cache}/staticd-build.log" 2>&1; then
            if [[ -x "${staticd_bin}" ]]; then
                tail -n 20 "${cache}/staticd-build.log" >&2
                die "staticd release build failed (log: bench/.cache/staticd-build.log); fix it, or pass --no-build to measure the existing binary"
            fi
            staticd_skip="no staticd binary yet (release build failed: bench/.cache/staticd-build.log)"
        fi
    fi
    if [[ -z "${staticd_skip}" && ! -x "${staticd_bin}" ]]; then
        staticd_skip="no staticd binary at target/release/staticd yet"
    fi
    if [[ -n "${staticd_skip}" ]]; then
        progress "SKIPPING staticd: ${staticd_skip}"
    fi
fi

# --- document root -------------------------------------------------------------------------------
docroot="${cache}/docroot"
mkdir -p "${docroot}"
declare -A file_bytes=([1k.bin]=1024 [1m.bin]=1048576 [100m.bin]=104857600)
for name in "${!file_bytes[@]}"; do
    if [[ "$(stat -c %s "${docroot}/${name}" 2>/dev/null || echo 0)" != "${file_bytes[${name}]}" ]]; then
        progress "writing ${name} (${file_bytes[${name}]} bytes of random data)"
        head -c "${file_bytes[${name}]}" /dev/urandom >"${docroot}/${name}.tmp"
        mv "${docroot}/${name}.tmp" "${docroot}/${name}"
    fi
done

# Workload h: 100 KiB of text (the repository's own sources, the same bytes on every run of one
# commit) and its gzip -9 sibling, which nginx serves with gzip_static and staticd as a precompressed
# sibling: both send the same gzip bytes (Debian's nginx has no brotli module, so gzip is compared
# with gzip; the pre-flight note says what each server sent).
text_bytes=102400
if [[ "$(stat -c %s "${docroot}/100k.txt" 2>/dev/null || echo 0)" != "${text_bytes}" || ! -s "${docroot}/100k.txt.gz" ]]; then
    progress "writing 100k.txt and 100k.txt.gz"
    # cat stops on SIGPIPE once head has its bytes: expected, so not a failure of the pipeline.
    (cat "${repo_root}"/README.md "${repo_root}"/core/src/*.rs "${repo_root}"/std-server/src/*.rs || true) \
        | head -c "${text_bytes}" >"${docroot}/100k.txt.tmp"
    [[ "$(stat -c %s "${docroot}/100k.txt.tmp")" == "${text_bytes}" ]] || die "could not write 100k.txt"
    mv "${docroot}/100k.txt.tmp" "${docroot}/100k.txt"
    gzip -9 -n -c "${docroot}/100k.txt" >"${docroot}/100k.txt.gz"
fi
file_bytes[100k.txt]="${text_bytes}"

# Workloads f and g: one certificate and key for every server (ECDSA P-256, self-signed; wrk does not
# verify). Each server is left to negotiate with wrk's OpenSSL as it does by default; the pre-flight note
# shows the version and cipher each one chose for the same client.
tls_dir="${cache}/tls"
if [[ ! -s "${tls_dir}/cert.pem" || ! -s "${tls_dir}/key.pem" ]]; then
    progress "writing a self-signed certificate into bench/.cache/tls"
    mkdir -p "${tls_dir}"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "${tls_dir}/key.pem" -out "${tls_dir}/cert.pem" </dev/null >/dev/null 2>&1 \
        || die "openssl could not make the benchmark certificate"
fi

# Each server holds up to idle_count + a few hundred sockets (workload e).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile="$(ulimit -n)"
if [[ "${nofile}" != "unlimited" && "${nofile}" -lt $((idle_count + 1024)) ]]; then
    idle_count=$((nofile - 1024))
    progress "open-file limit is ${nofile}: workload e holds ${idle_count} idle connections instead"
fi
[[ "${nofile}" == "unlimited" ]] && nofile=1048576

if [[ -n "${sws_install_pid}" ]]; then
    progress "waiting for the static-web-server install to finish"
    wait "${sws_install_pid}" || { tail -n 20 "${cache}/sws-install.log" >&2; die "cargo install static-web-server failed"; }
fi

# --- server control ------------------------------------------------------------------------------
# For each started server: its PID, port and access log, keyed by server name.
declare -A srv_pid srv_port srv_tls_port srv_log
run_dir="${cache}/run"

server_list=()
if [[ -n "${baseline_bin}" ]]; then
    [[ -x "${baseline_bin}" ]] || die "--baseline ${baseline_bin}: not an executable"
    servers_wanted="${servers_wanted},staticd-base"
fi
for name in nginx sws staticd-base staticd staticd-t2; do
    wanted "${servers_wanted}" "${name}" || continue
    if [[ "${name}" == staticd* && -n "${staticd_skip}" ]]; then
        continue
    fi
    server_list+=("${name}")
done
[[ ${#server_list[@]} -gt 0 ]] || die "no server to measure"

start_nginx() {
    local prefix="${run_dir}/nginx" port tls_port
    port="$("${helper[@]}" freeport)"
    tls_port="$("${helper[@]}" freeport)"
    rm -rf "${prefix}"
    mkdir -p "${prefix}/logs" "${prefix}/temp"
    cat >"${prefix}/nginx.conf" <<EOF
# Written by bench/run.sh: one worker, sendfile, access log to a file, never port 80.
user root;
worker_processes 1;
worker_rlimit_nofile ${nofile};
daemon off;
master_process on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events {
    worker_connections $((idle_count + 4096));
    use epoll;
}
http {
    types { application/octet-stream bin; text/html html; text/plain txt; }
    default_type application/octet-stream;
    # Buffered like staticd's log thread (lines reach the file within a second).
    access_log ${prefix}/logs/access.log combined buffer=64k flush=1s;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 300s;
    keepalive_requests 100000000;
    # Workload h: the .gz sibling when there is one, else compressed on the fly; Vary as staticd sends.
    gzip on;
    gzip_static on;
    gzip_vary on;
    gzip_types text/plain;
    # Workloads f and g: TLS 1.2 and 1.3 like staticd, the benchmark's certificate.
    ssl_certificate ${tls_dir}/cert.pem;
    ssl_certificate_key ${tls_dir}/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    client_body_temp_path ${prefix}/temp/client_body;
    proxy_temp_path ${prefix}/temp/proxy;
    fastcgi_temp_path ${prefix}/temp/fastcgi;
    uwsgi_temp_path ${prefix}/temp/uwsgi;
    scgi_temp_path ${prefix}/temp/scgi;
    server {
        listen 127.0.0.1:${port} backlog=4096;
        listen 127.0.0.1:${tls_port} ssl backlog=4096;
        root ${docroot};
    }
}
EOF
    taskset -c "$1" nginx -p "${prefix}/" -c "${prefix}/nginx.conf" -e "${prefix}/logs/error.log" \
        </dev/null >"${prefix}/stdout.log" 2>&1 &
    srv_pid[nginx]=$!
    started_pids+=("$!")
    srv_port[nginx]="${port}"
    srv_tls_port[nginx]="${tls_port}"
    srv_log[nginx]="${prefix}/logs/access.log"
    "${helper[@]}" wait-http "http://127.0.0.1:${port}/1k.bin" 15 \
        || { cat "${prefix}/logs/error.log" >&2 || true; return 1; }
}

start_sws() {
    local dir="${run_dir}/sws" port
    port="$("${helper[@]}" freeport)"
    rm -rf "${dir}"
    mkdir -p "${dir}"
    # Pinned to one CPU, its worker count (CPUs x multiplier 1) is one thread; info level logs each
    # request, and its log goes to a file like the others.
    taskset -c "$1" "${sws_bin}" --host 127.0.0.1 --port "${port}" --root "${docroot}" \
        --threads-multiplier 1 --log-level info --log-remote-address true --log-with-ansi false \
        </dev/null >>"${dir}/access.log" 2>&1 &
    srv_pid[sws]=$!
    started_pids+=("$!")
    srv_port[sws]="${port}"
    srv_log[sws]="${dir}/access.log"
    "${helper[@]}" wait-http "http://127.0.0.1:${port}/1k.bin" 15 || { tail -n 5 "${dir}/access.log" >&2; return 1; }
}

# start_staticd NAME CPUS THREADS [BIN] [tls]: with "tls", a [tls] listener too (workloads f, g), left
# out otherwise so that a --baseline binary from before HTTPS still starts.
start_staticd() {
    local name="$1" cpus="$2" threads="$3" dir="${run_dir}/$1" url bin="${4:-${staticd_bin}}" tls="${5:-}"
    rm -rf "${dir}"
    mkdir -p "${dir}"
    local tls_table=""
    [[ "${tls}" == tls ]] && tls_table="[tls]
port = 0
certificate = \"${tls_dir}/cert.pem\"
key = \"${tls_dir}/key.pem\"
"
    cat >"${dir}/staticd.toml" <<EOF
# Written by bench/run.sh.
[server]
host = "127.0.0.1"
port = 0
root = "${docroot}"
threads = ${threads}
keepalive_timeout = 300
keepalive_requests = 100000000
header_timeout = 60
max_connections = $((idle_count + 4096))

[files]
allowed_extensions = [".bin", ".html", ".txt"]

[log]
access_log = "${dir}/access.log"
error_log = "${dir}/error.log"

${tls_table}
EOF
    taskset -c "${cpus}" "${bin}" --config "${dir}/staticd.toml" \
        </dev/null >"${dir}/stdout.log" 2>"${dir}/stderr.log" &
    srv_pid[${name}]=$!
    started_pids+=("$!")
    srv_log[${name}]="${dir}/access.log"
    url=""
    for _ in $(seq 1 150); do
        url="$(sed -n 's#^staticd listening on \(http://[^ ]*\)$#\1#p' "${dir}/stdout.log" | head -n1)"
        [[ -n "${url}" ]] && break
        kill -0 "${srv_pid[${name}]}" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z "${url}" ]]; then
        progress "${name} printed no ready line; stderr:"
        tail -n 5 "${dir}/stderr.log" >&2 || true
        return 1
    fi
    url="${url%/}"
    srv_port[${name}]="${url##*:}"
    if [[ "${tls}" == tls ]]; then
        url="$(sed -n 's#^staticd listening on https://127\.0\.0\.1:\([0-9]*\)/$#\1#p' "${dir}/stdout.log" | head -n1)"
        [[ -n "${url}" ]] || { progress "${name} printed no https ready line"; return 1; }
        srv_tls_port[${name}]="${url}"
    fi
}

# start_server NAME WORKLOAD
start_server() {
    local tls=""
    is_tls_workload "$2" && tls=tls
    case "$1" in
        nginx) start_nginx 0 ;;
        sws) start_sws 0 ;;
        staticd) start_staticd staticd 0 1 "${staticd_bin}" "${tls}" ;;
        staticd-base) start_staticd staticd-base 0 1 "${baseline_bin}" "${tls}" ;;
        staticd-t2) start_staticd staticd-t2 0,1 2 "${staticd_bin}" "${tls}" ;;
    esac
}

is_tls_workload() { [[ "$1" == f || "$1" == g ]]; }

# The URL of workload $2's file on server $1.
workload_url() {
    local file="${wl_file[$2]}"
    if is_tls_workload "$2"; then
        echo "https://127.0.0.1:${srv_tls_port[$1]}/${file}"
    else
        echo "http://127.0.0.1:${srv_port[$1]}/${file}"
    fi
}

# wrk's extra request headers for workload $1, into the array named by $2.
workload_headers() {
    local -n into="$2"
    into=()
    case "$1" in
        b) into=(-H "Connection: close") ;;
        h) into=(-H "Accept-Encoding: br, gzip") ;;
    esac
}

stop_server() {
    local pid="${srv_pid[$1]:-}"
    [[ -n "${pid}" ]] || return 0
    kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "${pid}" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
    unset "srv_pid[$1]"
}

# The server's PID and its children (nginx's worker).
server_pids() {
    local pid="$1"
    echo "${pid}"
    pgrep -P "${pid}" || true
}

# utime + stime in clock ticks, summed over the server's processes (all threads included).
server_ticks() {
    local total=0 pid t
    for pid in $(server_pids "$1"); do
        t="$(sed 's/^.*) //' "/proc/${pid}/stat" 2>/dev/null | awk '{print $12 + $13}')" || t=0
        total=$((total + ${t:-0}))
    done
    echo "${total}"
}

server_rss_kib() {
    local total=0 pid r
    for pid in $(server_pids "$1"); do
        r="$(awk '/^VmRSS:/ {print $2}' "/proc/${pid}/status" 2>/dev/null)" || r=0
        total=$((total + ${r:-0}))
    done
    echo "${total}"
}

clk_tck="$(getconf CLK_TCK)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
runs_tsv="${bench_dir}/results/runs-${stamp}.tsv"
table_md="${bench_dir}/results/table-${stamp}.md"
printf 'workload\tserver\trep\tstatus\treq_s\tmib_s\tp99_ms\tsrv_cpu\twrk_cpu\trss_kib\tnote\n' >"${runs_tsv}"

declare -A wl_file=([a]=1k.bin [b]=1k.bin [c]=1m.bin [d]=100m.bin [e]=1k.bin [f]=1k.bin [g]=1m.bin [h]=100k.txt)
declare -A wl_conns=([a]=32 [b]=32 [c]=8 [d]=1 [e]=32 [f]=32 [g]=8 [h]=32)

# Busy ticks of all CPUs (user, nice, system, steal) from /proc/stat. irq and softirq are left out: the
# kernel's loopback TCP work runs there on behalf of the benchmark itself, not of other processes.
cpu_busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $9}' /proc/stat; }

# The machine is shared (builds, tests): wait, boundedly, until the other work uses under a quarter of a
# core, so a measurement does not compete with a compiler. A run that still overlaps says so in its note.
wait_quiet() {
    local limit="$1" start="${SECONDS}" b0 b1
    while ((SECONDS - start < limit)); do
        b0="$(cpu_busy_ticks)"
        sleep 0.5
        b1="$(cpu_busy_ticks)"
        if (((b1 - b0) * 200 < 25 * clk_tck)); then
            return 0
        fi
    done
    progress "  machine still busy after ${limit} s of waiting; measuring anyway"
}

# One wrk measurement of server $1 on workload $2; appends a row to the TSV. $4 is a note for the row.
measure() {
    local name="$1" wl="$2" rep="$3" note="${4:-}"
    local file="${wl_file[${wl}]}" conns="${wl_conns[${wl}]}" pid="${srv_pid[${name}]}"
    local url
    url="$(workload_url "${name}" "${wl}")"
    local out="${run_dir}/wrk-${wl}-${name}-${rep}.txt" wrk_cpus=1 hdr=()
    [[ "${name}" == "staticd-t2" ]] && wrk_cpus=0,1
    workload_headers "${wl}" hdr
    local ticks0 ticks1 busy0 busy1 t0 t1 times retrans0 retrans1
    wait_quiet "${quiet_wait}"
    retrans0="$(tcp_retransmissions)"
    busy0="$(cpu_busy_ticks)"
    ticks0="$(server_ticks "${pid}")"
    t0="$(date +%s.%N)"
    TIMEFORMAT='%U %S'
    { time taskset -c "${wrk_cpus}" wrk -t1 -c"${conns}" -d"${duration}s" --timeout 10s --latency \
        "${hdr[@]}" "${url}" >"${out}" 2>&1 </dev/null; } 2>"${out}.time" || true
    t1="$(date +%s.%N)"
    ticks1="$(server_ticks "${pid}")"
    busy1="$(cpu_busy_ticks)"
    retrans1="$(tcp_retransmissions)"
    times="$(tail -n1 "${out}.time")"
    local -A w=()
    local k v
    while IFS='=' read -r k v; do w[${k}]="${v}"; done < <("${helper[@]}" wrk "${out}")
    local wall srv_cpu wrk_cpu mib_s rss status=""
    wall="$(awk -v a="${t0}" -v b="${t1}" 'BEGIN {print b - a}')"
    srv_cpu="$(awk -v d=$((ticks1 - ticks0)) -v hz="${clk_tck}" -v w="${wall}" 'BEGIN {printf "%.1f", 100 * d / hz / w}')"
    wrk_cpu="$(awk -v t="${times}" -v w="${wall}" 'BEGIN {split(t, x, " "); printf "%.1f", 100 * (x[1] + x[2]) / w}')"
    mib_s="$(awk -v r="${w[req_s]:-0}" -v s="${file_bytes[${file}]}" 'BEGIN {printf "%.1f", r * s / 1048576}')"
    rss="$(server_rss_kib "${pid}")"
    # CPU used by neither the server nor wrk, in % of one core.
    local other_cpu
    other_cpu="$(awk -v b=$((busy1 - busy0)) -v s=$((ticks1 - ticks0)) -v t="${times}" -v hz="${clk_tck}" -v w="${wall}" \
        'BEGIN {split(t, x, " "); o = 100 * (b / hz - s / hz - x[1] - x[2]) / w; printf "%.0f", (o < 0 ? 0 : o)}')"
    # Loopback carries only the benchmark while it runs: the kernel's count is this run's.
    note="${note:+${note}; }$((retrans1 - retrans0)) TCP retransmissions"
    if ((other_cpu > 30)); then
        note="${note:+${note}; }other processes ${other_cpu}% CPU"
    fi
    if ! kill -0 "${pid}" 2>/dev/null; then
        status="FAILED: server exited"
    elif [[ "${w[requests]:-0}" -eq 0 ]]; then
        status="FAILED: no response ($(head -c 200 "${out}" | tr '\n\t' '  '))"
    elif [[ "${w[non2xx]:-0}" -ne 0 || "${w[errors]:-0}" -ne 0 ]]; then
        status="FAILED: ${w[non2xx]} non-2xx, socket errors ${w[error_kinds]} in ${w[requests]} responses ($(printf '%.0f' "${w[req_s]}") req/s if errors were ignored)"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${wl}" "${name}" "${rep}" "${status:-ok}" \
        "${w[req_s]:-0}" "${mib_s}" "${w[p99_ms]:-0}" "${srv_cpu}" "${wrk_cpu}" "${rss}" "${note}" >>"${runs_tsv}"
    local figure="${w[req_s]:-0} req/s"
    [[ "${wl}" == "c" || "${wl}" == "d" || "${wl}" == "g" ]] && figure="${mib_s} MiB/s"
    progress "  ${wl} ${name} run ${rep}/${reps}: ${figure}, p99 ${w[p99_ms]:-?} ms, server CPU ${srv_cpu}%, wrk CPU ${wrk_cpu}%, other CPU ${other_cpu}%, RSS $((rss / 1024)) MiB${status:+ [${status}]}"
}

# TCP segments retransmitted since boot, machine-wide (RetransSegs in /proc/net/snmp).
tcp_retransmissions() {
    awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 } else print $col["RetransSegs"] }' /proc/net/snmp
}

# A row for every run of a server that could not be measured, so the table says FAILED.
record_failure() {
    local name="$1" wl="$2" why="$3"
    printf '%s\t%s\t1\tFAILED: %s\t0\t0\t0\t0\t0\t0\t\n' "${wl}" "${name}" "${why}" >>"${runs_tsv}"
    progress "  ${wl} ${name}: FAILED: ${why}"
}

warm_up() {
    local name="$1" wl="$2"
    local hdr=()
    workload_headers "${wl}" hdr
    # The warm-up's outcome is not a figure: a server that fails here fails the measured runs
    # right after it, which report it (status, socket errors) as FAILED.
    taskset -c 1 wrk -t1 -c"${wl_conns[${wl}]}" -d"${warmup}s" "${hdr[@]}" \
        "$(workload_url "${name}" "${wl}")" >/dev/null 2>&1 </dev/null || true
}

# Starts a server and checks it serves the workload's file whole; on failure the reason is in prep_error.
# prep_note says what a TLS or compression workload negotiated (it goes into the rows' notes).
# (Not run in a command substitution: the server must be a child of this shell, its PID kept.)
prep_error=""
prep_note=""
prepare() {
    local name="$1" wl="$2" file="${wl_file[$2]}" why url
    prep_error=""
    prep_note=""
    if ! start_server "${name}" "${wl}" >&2; then
        prep_error="did not start"
        return 1
    fi
    url="$(workload_url "${name}" "${wl}")"
    if ! why="$("${helper[@]}" check "${url}" "${file_bytes[${file}]}")"; then
        prep_error="pre-flight GET: ${why}"
        return 1
    fi
    if is_tls_workload "${wl}"; then
        why="$("${helper[@]}" tls 127.0.0.1 "${srv_tls_port[${name}]}")" || { prep_error="TLS handshake: ${why}"; return 1; }
        prep_note="${why}"
    elif [[ "${wl}" == h ]]; then
        why="$("${helper[@]}" encoding "${url}" "br, gzip")" || { prep_error="pre-flight GET: ${why}"; return 1; }
        prep_note="sends ${why% *} (${why#* } bytes)"
    fi
}

access_log_note() {
    local log="${srv_log[$1]:-}"
    if [[ -n "${log}" && ! -s "${log}" ]]; then
        echo "access log EMPTY"
    fi
}

progress "mode ${mode}: ${reps} run(s) of ${duration} s per server and workload; servers: ${server_list[*]}"
progress "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "${run_dir}"
mkdir -p "${run_dir}"

declare -A wl_what=([b]=", Connection: close" [f]=" over TLS" [g]=" over TLS" [h]=", Accept-Encoding: br, gzip")
for wl in a b c d f g h; do
    wanted "${workloads_wanted}" "${wl}" || continue
    progress "workload ${wl}: GET /${wl_file[${wl}]} with ${wl_conns[${wl}]} connection(s)${wl_what[${wl}]:-}"
    live=()
    declare -A wl_note=()
    for name in "${server_list[@]}"; do
        if [[ "${name}" == sws && "${wl}" =~ ^[fgh]$ ]]; then
            progress "  sws: not measured on TLS and compression workloads"
            continue
        fi
        if prepare "${name}" "${wl}"; then
            live+=("${name}")
            wl_note[${name}]="${prep_note}"
            [[ -n "${prep_note}" ]] && progress "  ${name}: ${prep_note}"
            warm_up "${name}" "${wl}"
        else
            record_failure "${name}" "${wl}" "${prep_error}"
            stop_server "${name}"
        fi
    done
    # Runs interleave the servers, so a slow drift of the machine hits all of them alike.
    for rep in $(seq 1 "${reps}"); do
        for name in "${live[@]}"; do
            measure "${name}" "${wl}" "${rep}" "${wl_note[${name}]:-}"
        done
    done
    sleep 1.5 # let buffered access logs reach their files before checking them
    for name in "${live[@]}"; do
        note="$(access_log_note "${name}")"
        [[ -n "${note}" ]] && progress "  ${name}: ${note}" && sed -i "s/^\(${wl}\t${name}\t.*\t\)$/\1${note}/" "${runs_tsv}"
        stop_server "${name}"
    done
done

if wanted "${workloads_wanted}" e; then
    progress "workload e: ${idle_count} idle keep-alive connections held open, then workload a"
    for name in "${server_list[@]}"; do
        if ! prepare "${name}" e; then
            record_failure "${name}" e "${prep_error}"
            stop_server "${name}"
            continue
        fi
        coproc IDLE { taskset -c 1 "${helper[@]}" idle 127.0.0.1 "${srv_port[${name}]}" "${idle_count}" /1k.bin \
            --hold $((reps * (duration + 5) + warmup + 120)); }
        # shellcheck disable=SC2153 # IDLE_PID is set by coproc
        idle_pid="${IDLE_PID}"
        started_pids+=("${idle_pid}")
        ready=""
        read -r -t 150 ready <&"${IDLE[0]}" || true
        read -r _ opened answered <<<"${ready:-ready 0 0}"
        progress "  ${name}: ${opened} idle connections opened, ${answered} answered before going idle"
        if [[ "${answered}" -lt "${idle_count}" ]]; then
            record_failure "${name}" e "only ${answered} of ${idle_count} idle connections answered"
        else
            warm_up "${name}" e
            for rep in $(seq 1 "${reps}"); do
                measure "${name}" e "${rep}" "held ${idle_count} idle"
            done
        fi
        echo report >&"${IDLE[1]}" || true
        alive_line=""
        read -r -t 30 alive_line <&"${IDLE[0]}" || true
        wait "${idle_pid}" 2>/dev/null || true
        progress "  ${name}: idle connections ${alive_line:-not reported}"
        # The note says how many idle connections the server still kept open after the runs.
        sed -i "/^e\t${name}\t/ s/held ${idle_count} idle/${alive_line:-alive ? of ${idle_count}} idle still open after/" \
            "${runs_tsv}"
        stop_server "${name}"
    done
fi

{
    echo "Benchmark $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), loopback; command: \`${command_line}\`"
    echo "wrk 1 thread on CPU 1; nginx $(nginx -v 2>&1 | sed 's#.*/##'), static-web-server ${sws_version}, staticd $(git -C "${repo_root}" rev-parse --short HEAD 2>/dev/null || echo '?'); servers on CPU 0 (staticd-t2: threads = 2 on CPUs 0-1, wrk unpinned); ${reps} run(s) of ${duration} s each."
    [[ -n "${staticd_skip}" ]] && echo "staticd SKIPPED: ${staticd_skip}."
    echo
    "${helper[@]}" table "${runs_tsv}" "${server_list[@]}"
} | tee "${table_md}"
progress "table: ${table_md#"${repo_root}"/}; raw runs: ${runs_tsv#"${repo_root}"/}"
