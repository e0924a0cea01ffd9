#!/usr/bin/env bash
# Fuzz cordon's input parsers: each target for SECONDS (default 60), one
# after the other, single process (-jobs would fork one per core). Not part
# of CI. Usage: fuzz/run.sh [SECONDS] [TARGET...]
#
# Only stable Rust is needed: RUSTC_BOOTSTRAP=1 lets stable rustc take the
# -Z flags cargo-fuzz passes (AddressSanitizer, SanitizerCoverage); the ASan
# runtime ships with the stable toolchain. Crashes are written to
# fuzz/artifacts/TARGET/, new inputs to fuzz/corpus/TARGET/ (both ignored by
# git); the committed seeds are fuzz/seeds/TARGET/. Reproduce a crash with
#   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET artifacts/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(profile_toml policy_json request)

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" artifacts
    log="artifacts/$target.log"
    echo "== fuzz $target for ${seconds}s (full log: fuzz/$log)"
    set +e
    RUSTC_BOOTSTRAP=1 cargo fuzz run --debug-assertions "$target" \
        "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -dict=dicts/common.dict -print_final_stats=1 \
        >"$log" 2>&1
    status=$?
    set -e
    grep -E '^Done|^stat::(number_of_executed_units|new_units_added)' "$log" || true
    if [ "$status" -ne 0 ]; then
        grep -E -A3 'panicked|ERROR|SUMMARY|Test unit written' "$log" || tail -20 "$log"
        echo "fuzz: $target failed (exit $status); the crashing input is in fuzz/artifacts/$target/"
        exit 1
    fi
done
