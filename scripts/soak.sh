#!/usr/bin/env bash
# Soak run for staticd (issue 5; not a timed test): builds the release binary, serves a small
# temporary site on 127.0.0.1 port 0, and drives 200,000 keep-alive requests over 50 connections
# with scripts/soak.py (Python standard library only). Reports errors (must be zero) and the
# server's RSS, thread count and descriptor count at the start, every 50,000 requests and at the end.
#
#   scripts/soak.sh [REQUESTS] [CONNECTIONS]
#
# Bounded: the driver stops after SOAK_TIME_LIMIT seconds (default 900), the whole run is killed
# after that plus 60 s. Exit status 0 only if every request was answered correctly.
set -euo pipefail

requests=${1:-200000}
connections=${2:-50}
time_limit=${SOAK_TIME_LIMIT:-900}
repo=$(cd "$(dirname "$0")/.." && pwd)

cd "$repo"
cargo build --release -p staticd
bin="$repo/target/release/staticd"

work=$(mktemp -d "${TMPDIR:-/tmp}/staticd-soak.XXXXXX")
server_pid=
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/site"
printf '<!doctype html><title>soak</title><p>staticd soak page</p>\n' > "$work/site/index.html"
head -c 20000 /dev/zero | tr '\0' 'x' | sed 's/x\{79\}/&\n/g' > "$work/site/style.css"
python3 -c 'import json; print(json.dumps({"items": list(range(2000))}))' > "$work/site/data.json"
python3 -c 'import os, sys; sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + os.urandom(65536))' > "$work/site/image.png"

cat > "$work/staticd.toml" <<EOF
[server]
host = "127.0.0.1"
port = 0
root = "site"
keepalive_requests = 10000
keepalive_timeout = 30

[log]
access_log = "$work/access.log"
error_log = "$work/error.log"
EOF

"$bin" --config "$work/staticd.toml" > "$work/stdout" 2> "$work/stderr" &
server_pid=$!
port=
for _ in $(seq 100); do
    line=$(head -n 1 "$work/stdout" 2>/dev/null || true)
    if [[ "$line" =~ ^staticd\ listening\ on\ http://127\.0\.0\.1:([0-9]+)/$ ]]; then
        port=${BASH_REMATCH[1]}
        break
    fi
    sleep 0.1
done
if [[ -z "$port" ]]; then
    echo "soak: staticd did not print its ready line" >&2
    cat "$work/stderr" >&2
    exit 1
fi
echo "soak: staticd pid $server_pid on port $port; $requests requests over $connections connections"

status=0
timeout $((time_limit + 60)) python3 "$repo/scripts/soak.py" --port "$port" --pid "$server_pid" \
    --site "$work/site" --requests "$requests" --connections "$connections" \
    --time-limit "$time_limit" || status=$?

# A graceful stop flushes the access log: then every answered request has its line.
kill -TERM "$server_pid"
exit_status=0
wait "$server_pid" || exit_status=$?
server_pid=
lines=$(wc -l < "$work/access.log" 2>/dev/null || echo 0)
echo "soak: staticd exited with status $exit_status after SIGTERM; access log lines: $lines"
if [[ "$exit_status" -ne 0 ]]; then
    status=1
fi
if grep -qi 'panic\|error' "$work/error.log" 2>/dev/null; then
    echo "soak: the error log reports problems:"
    grep -i 'panic\|error' "$work/error.log" | head -n 5
    status=1
fi
exit "$status"
