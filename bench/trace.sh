#!/usr/bin/env bash
# The cost of `cordon trace` over `cordon run` on syscall-heavy commands
# (issue 15's budget: at most 1.5x): `find /usr/lib` (an openat per
# directory, a getdents/fstat storm), a small C build (make with a few
# compiler runs: fork, exec, hundreds of opens), and a python start. Uses
# hyperfine (installed if missing); prints medians and the ratio
# trace / run; writes markdown to bench/out/trace.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20}

if ! command -v hyperfine >/dev/null; then
  echo "installing hyperfine..." >&2
  (apt-get update -qq && apt-get install -y -qq hyperfine) >/dev/null 2>&1 || cargo install --locked hyperfine
fi

cargo build --release --quiet --bin cordon
host=$(rustc -vV | sed -n 's/^host: //p')
cordon=$PWD/target/$host/release/cordon
[ -x "$cordon" ] || cordon=$PWD/target/release/cordon
mkdir -p bench/out
scratch=$(mktemp -d /var/tmp/cordon-bench-trace-XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# A small C project: four files, make -B rebuilds all of it every run.
mkdir -p "$scratch/build"
for i in 1 2 3 4; do
  printf '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\nint f%s(int x) { return x * %s; }\n' "$i" "$i" > "$scratch/build/f$i.c"
done
printf 'int f1(int);\nint main(void) { return f1(0); }\n' > "$scratch/build/main.c"
cat > "$scratch/build/Makefile" <<'MK'
OBJS = main.o f1.o f2.o f3.o f4.o
app: $(OBJS)
	cc -o app $(OBJS)
%.o: %.c
	cc -O1 -c $< -o $@
MK

# A restricted read scope: every open can then be denied, so every open
# stops (the worst case; docs/trace.md).
printf '[file_system]\nread = [":minimal", "/usr", "%s"]\nwrite = [":cwd"]\n' "$scratch" > "$scratch/restricted.toml"

pairs=("find /usr/lib" "python3 -c pass" "-p $scratch/restricted.toml -- find /usr/lib")
if command -v cc >/dev/null && command -v make >/dev/null; then
  pairs+=("make -s -B -C $scratch/build")
fi

out=bench/out/trace.md
{
  echo "Machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo
  echo "| command | run median | trace median | trace / run |"
  echo "|---|---|---|---|"
} > "$out"
for cmd in "${pairs[@]}"; do
  json=$scratch/r.json
  # A pair that names its own options carries its own `--`.
  sep="-- "; case $cmd in -*) sep="" ;; esac
  # -C: the build directory is the writable root, so the build succeeds.
  hyperfine -N --warmup 2 --runs "$runs" --export-json "$json" \
    -n run "$cordon run -C $scratch/build $sep$cmd" \
    -n trace "$cordon trace -C $scratch/build $sep$cmd" >/dev/null 2>&1 </dev/null
  python3 - "$json" "$cmd" >> "$out" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"| `{sys.argv[2]}` | {r['run']*1000:.1f} ms | {r['trace']*1000:.1f} ms | {r['trace']/r['run']:.2f}x |")
PY
done
cat "$out"
