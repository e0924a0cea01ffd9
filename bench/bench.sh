#!/usr/bin/env bash
# Startup cost of cordon, measured with hyperfine (installed if missing).
#   bench/bench.sh            # launchers: bare, read-only, workspace-write (plain and git), bwrap
#   bench/bench.sh scaling    # cost vs number of writable roots (10 .. 10000)
# Prints medians and ratios to bare /bin/true; writes markdown to bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-launchers}
runs=${RUNS:-1000}

if ! command -v hyperfine >/dev/null; then
  echo "installing hyperfine..." >&2
  if command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq hyperfine) >/dev/null 2>&1 || cargo install --locked hyperfine
  else
    cargo install --locked hyperfine
  fi
fi

cargo build --release --quiet
host=$(rustc -vV | sed -n 's/^host: //p')
cordon=$PWD/target/$host/release/cordon
[ -x "$cordon" ] || cordon=$PWD/target/release/cordon
mkdir -p bench/out
scratch=$(mktemp -d /var/tmp/cordon-bench-XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# Medians and ratios from hyperfine's JSON; first command is the baseline.
report() { # json markdown-out
  python3 - "$1" "$2" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
base = res[0]["median"]
rows = ["| command | median | ratio to bare |", "|---|---|---|"]
for r in res:
    rows.append(f"| `{r['command']}` | {r['median']*1000:.3f} ms | {r['median']/base:.2f}x |")
text = "\n".join(rows)
print(text)
open(sys.argv[2], "w").write(text + "\n")
PY
}

machine() {
  echo "Machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
}

if [ "$mode" = launchers ]; then
  mkdir -p "$scratch/plain" "$scratch/git"
  git -C "$scratch/git" init -q
  # A copy anyone can run: the checkout may not be readable by nobody.
  cp "$cordon" "$scratch/cordon"
  chmod 755 "$scratch" "$scratch/cordon"
  bin=$scratch/cordon
  # One hyperfine run per user: root gets a read-only world through the mount
  # namespace on every sandboxed run; an ordinary user only when a protected
  # path (.git) is there. Agents usually run as an ordinary user.
  launchers() { # label runner...
    local label=$1; shift
    local json=$scratch/$label.json
    local cmds=(
      -n "bare /bin/true" "/bin/true"
      -n "cordon run -p read-only" "$bin run -p read-only -C $scratch/plain -- /bin/true"
      -n "cordon run -p workspace-write (no .git)" "$bin run -p workspace-write -C $scratch/plain -- /bin/true"
      -n "cordon run -p workspace-write (.git)" "$bin run -p workspace-write -C $scratch/git -- /bin/true"
    )
    if command -v bwrap >/dev/null; then
      cmds+=(-n "bwrap --ro-bind / / --dev /dev /bin/true" "bwrap --ro-bind / / --dev /dev /bin/true")
    fi
    "$@" hyperfine -N --warmup 200 --runs "$runs" --style basic --export-json "$json" "${cmds[@]}" >&2
    echo "As $label:"
    report "$json" "bench/out/launchers-$label.md"
    echo
    # An agent's commands come seconds apart: past the sentinel's grace
    # second, each run makes its placeholders again (cold).
    local cold=$scratch/$label-cold.json
    "$@" hyperfine -N --prepare "sleep 1.3" --runs "${COLD_RUNS:-20}" --style basic --export-json "$cold" \
      -n "bare /bin/true" "/bin/true" \
      -n "cordon run -p workspace-write (.git), 1.3 s apart" "$bin run -p workspace-write -C $scratch/git -- /bin/true" >&2
    echo "As $label, cold:"
    report "$cold" "bench/out/launchers-$label-cold.md"
    echo
  }
  machine
  echo "(cordon binary: $(stat -c %s "$cordon") bytes)"
  echo
  if [ "$(id -u)" = 0 ]; then
    launchers root env
    # An agent's user owns its $HOME: setpriv alone would keep root's, where
    # every `:secrets` look-up fails with EACCES and is explained again.
    mkdir -p "$scratch/home"
    chown -R 65534:65534 "$scratch"
    launchers nobody setpriv --reuid=65534 --regid=65534 --clear-groups -- env HOME="$scratch/home"
    chown -R 0:0 "$scratch"
  else
    launchers "$(id -un)" env
  fi
elif [ "$mode" = scaling ]; then
  # The kernel's floor for the same roots (examples/root-floor.rs): two
  # look-ups and one Landlock rule per root; then with the mounts `run`
  # needs at least (a look-up, a copy and an attach per root).
  cargo build --release --quiet --example root-floor
  floor=$PWD/target/$host/release/examples/root-floor
  [ -x "$floor" ] || floor=$PWD/target/release/examples/root-floor
  rows=("| roots | \`run --dry-run\` median | \`run\` median | floor: look-ups + Landlock rules | floor with the mounts |" "|---|---|---|---|---|")
  for n in 10 100 1000 10000; do
    dir="$scratch/roots$n"
    mkdir -p "$dir/cwd"
    profile="$dir/profile.toml"
    # Nothing protected: each root takes up to a dozen placeholders with
    # the default list, and two (`refs`, `commondir` at its top) with `.git`
    # alone, so past 128 roots a protected run is refused (the 256 a run
    # may make). This measures what every root costs: look-ups, Landlock
    # rules, binds.
    {
      echo '[file_system]'
      echo 'read = [":root"]'
      echo 'protected = []'
      printf 'write = [":cwd"'
      for i in $(seq 1 "$n"); do printf ', "%s/r%d"' "$dir" "$i"; done
      echo ']'
    } >"$profile"
    # Each with an empty .git, which the floor looks up (nothing protects it).
    for i in $(seq 1 "$n"); do mkdir -p "$dir/r$i/.git"; done
    hyperfine -N --warmup 5 --runs "${SCALE_RUNS:-30}" --style none --export-json "$dir/h.json" \
      "$cordon run -p $profile -C $dir/cwd --dry-run -- /bin/true" \
      "$cordon run -p $profile -C $dir/cwd -- /bin/true" >/dev/null 2>&1 || {
        echo "roots=$n: cordon failed:" >&2
        "$cordon" run -p "$profile" -C "$dir/cwd" -- /bin/true >&2 || true
        continue
      }
    row=$(python3 -c "
import json,sys
r=json.load(open('$dir/h.json'))['results']
print(f'| $n | {r[0][\"median\"]*1000:.2f} ms | {r[1][\"median\"]*1000:.2f} ms |', end='')")
    # Best of five: the floor is what the kernel needs, not the noise. Its
    # steps: plan, landlock, mounts (each "N ms").
    best=$(for _ in 1 2 3 4 5; do "$floor" "$dir" "$n"; done | python3 -c "
import re,sys
t=[[float(x) for x in re.findall(r'([0-9.]+) ms',l)] for l in sys.stdin]
print(f' {min(a+b for a,b,_ in t):.2f} ms | {min(sum(r) for r in t):.2f} ms |')")
    row="$row$best"
    rows+=("$row")
  done
  machine
  printf '%s\n' "${rows[@]}" | tee bench/out/scaling.md
else
  echo "usage: bench/bench.sh [launchers|scaling]" >&2
  exit 2
fi
