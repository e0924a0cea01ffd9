# Fuzz the input parsers for `seconds` each (not part of CI): the profile
# TOML, the policy JSON and the escalation request, each followed by the pure
# stages (resolve, Seatbelt and Landlock/seccomp compile). Needs only stable
# Rust: RUSTC_BOOTSTRAP=1 lets it take cargo-fuzz's -Z flags (AddressSanitizer,
# coverage). Crashes land in fuzz/artifacts/<target>/; new inputs in
# fuzz/corpus/<target>/ (both git-ignored); seeds are fuzz/seeds/<target>/.
fuzz seconds="60":
    #!/usr/bin/env bash
    set -euo pipefail
    command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
    cd fuzz
    for target in profile_toml policy_json request; do
        mkdir -p corpus/$target
        echo "== fuzz $target for {{seconds}}s"
        RUSTC_BOOTSTRAP=1 cargo fuzz run --debug-assertions $target corpus/$target seeds/$target -- \
            -max_total_time={{seconds}} -dict=dicts/common.dict -print_final_stats=1
    done
