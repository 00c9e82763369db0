#!/usr/bin/env bash
# Runs the staticd-core fuzz targets (fuzz/, cargo-fuzz, nightly toolchain).
#
#   scripts/fuzz.sh TARGET SECONDS   one target for SECONDS of fuzzing (libFuzzer -max_total_time)
#   scripts/fuzz.sh all SECONDS      every target in turn, SECONDS each
#   scripts/fuzz.sh list             the target names
#
# Each run starts from the committed seeds in fuzz/corpus/TARGET/ and keeps what it grows in
# fuzz/work/TARGET/ (not committed), so the seeds stay small. Crashes land in fuzz/artifacts/TARGET/.
# The run is niced (the machine is shared); its full log is fuzz/work/TARGET.log. At the end it prints
# libFuzzer's final line (cov:, ft:, corp:, exec/s) and its stats: executions and exec/s.
# Extra libFuzzer flags may be passed in FUZZ_FLAGS (e.g. FUZZ_FLAGS="-max_len=1024").
# Exit status: 0 when every run finished without a crash, 1 otherwise.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dir="${repo_root}/fuzz"
targets=(parse_request chunked resolve_target head_roundtrip differential proxy_header)

usage() {
    printf 'usage: %s TARGET|all SECONDS\ntargets: %s\n' "$0" "${targets[*]}" >&2
    exit 2
}

run_one() {
    local target="$1" seconds="$2"
    local work="${fuzz_dir}/work/${target}" log="${fuzz_dir}/work/${target}.log"
    mkdir -p "${work}" "${fuzz_dir}/artifacts/${target}"
    printf '== %s: %s s (log %s)\n' "${target}" "${seconds}" "${log}"
    local start=$SECONDS status
    # The first corpus directory receives new inputs; the seeds are only read.
    (cd "${fuzz_dir}" && nice -n 5 cargo +nightly fuzz run "${target}" "${work}" "corpus/${target}" -- \
        -max_total_time="${seconds}" -print_final_stats=1 ${FUZZ_FLAGS:-}) >"${log}" 2>&1
    status=$?
    local final
    final="$(grep -E '^#[0-9]+' "${log}" | tail -n 1)"
    printf '%s: ran %d s, exit %d\n' "${target}" "$((SECONDS - start))" "${status}"
    printf '  final: %s\n' "${final:-<no libFuzzer status line; see the log>}"
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb):' "${log}" | sed 's/^/  /'
    if [[ ${status} -ne 0 ]]; then
        grep -E "panicked at|^SUMMARY|Test unit written to|ERROR: libFuzzer" "${log}" | sed 's/^/  /'
        return 1
    fi
}

[[ $# -eq 1 && "$1" == list ]] && { printf '%s\n' "${targets[@]}"; exit 0; }
[[ $# -eq 2 && "$2" =~ ^[0-9]+$ ]] || usage
if [[ "$1" == all ]]; then
    failed=0
    for t in "${targets[@]}"; do run_one "$t" "$2" || failed=1; done
    exit "${failed}"
fi
printf '%s\n' "${targets[@]}" | grep -qx -- "$1" || usage
run_one "$1" "$2"
