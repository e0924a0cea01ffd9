# Fuzz the profile TOML, policy JSON and escalation request parsers (each
# followed by resolve and both compiles) for `seconds` each; not in CI.
# Stable Rust is enough (fuzz/run.sh says how). Crashes: fuzz/artifacts/.
fuzz seconds="60":
    fuzz/run.sh {{seconds}}
