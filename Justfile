# cordon tasks. `just --list` shows them. Everything here is plain cargo or a
# script, so none of it needs `just` itself.

# Build the release binary (static, LTO).
build:
    cargo build --release

# The whole test suite (what CI runs, minus fmt and clippy).
test:
    cargo test

# fmt + clippy + tests, exactly as CI.
ci:
    bash .ci/run

# Startup benchmark: bare exec vs cordon vs bwrap (hyperfine; installed if missing).
bench:
    bench/bench.sh launchers
    bench/bench.sh scaling

# Fuzz the profile TOML, policy JSON and escalation request parsers (each
# followed by resolve and both compiles) for `seconds` each; not in CI.
# Stable Rust is enough (fuzz/run.sh says how). Crashes: fuzz/artifacts/.
fuzz seconds="60":
    fuzz/run.sh {{seconds}}
