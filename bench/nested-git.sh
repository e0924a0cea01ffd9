#!/usr/bin/env bash
# Cost of cordon's git discovery (docs/git.md) on a generated tree:
# 100,000 files in 10,420 directories (10 files per leaf directory, the
# shape of a JS or Rust checkout), a repository at the top and 20 nested
# repositories (`git init`, at depths 1 to 4).
#
#   bench/nested-git.sh            # generate under /var/tmp, measure, delete
#   KEEP=1 bench/nested-git.sh     # keep the tree (path printed)
#   FILES=... REPOS=... RUNS=... bench/nested-git.sh
#
# Prints, warm cache: tier 1 (always on: the root's repository, its
# submodules, worktrees and config) and tier 2 (the opt-in full scan for
# nested clones), as median and minimum of RUNS plans each made from
# scratch, plus the system calls of exactly one plan (strace, when installed).
# The baseline is a fresh `git init` repository with one commit.
set -euo pipefail
cd "$(dirname "$0")/.."
files=${FILES:-100000}
repos=${REPOS:-20}
runs=${RUNS:-500}
command -v git >/dev/null || { echo "nested-git.sh: needs git" >&2; exit 1; }
command -v python3 >/dev/null || { echo "nested-git.sh: needs python3" >&2; exit 1; }

cargo build --release --quiet --example git-pins
host=$(rustc -vV | sed -n 's/^host: //p')
bin=$PWD/target/$host/release/examples/git-pins
[ -x "$bin" ] || bin=$PWD/target/release/examples/git-pins

scratch=$(mktemp -d /var/tmp/cordon-nested-git-XXXXXX)
if [ "${KEEP:-0}" = 1 ]; then echo "tree kept in $scratch"; else trap 'rm -rf "$scratch"' EXIT; fi
tree=$scratch/tree
plain=$scratch/plain

# Isolated git config for the repositories made here (the measured plans
# still read the caller's real global and system config, as cordon would).
g() { git -c user.name=bench -c user.email=bench@example.invalid -c init.defaultBranch=main "$@"; }

python3 - "$tree" "$files" <<'PY'
import os, sys
root, files = sys.argv[1], int(sys.argv[2])
# 20 x 20 x 25 leaf directories; files spread evenly over them.
leaves = [os.path.join(root, f"d{a:02}", f"s{b:02}", f"l{c:02}")
          for a in range(20) for b in range(20) for c in range(25)]
per, extra = divmod(files, len(leaves))
for i, leaf in enumerate(leaves):
    os.makedirs(leaf, exist_ok=True)
    for f in range(per + (1 if i < extra else 0)):
        open(os.path.join(leaf, f"f{f:03}.txt"), "w").close()
PY
g -C "$tree" init -q
for i in $(seq 0 $((repos - 1))); do
  a=$(printf %02d $((i % 20))); b=$(printf %02d $(((i * 7) % 20))); c=$(printf %02d $(((i * 3) % 25)))
  case $((i % 4)) in
    0) d=$tree/vendor-$i ;;
    1) d=$tree/d$a/nested-$i ;;
    2) d=$tree/d$a/s$b/nested-$i ;;
    3) d=$tree/d$a/s$b/l$c/nested-$i ;;
  esac
  mkdir -p "$d"
  g -C "$d" init -q
done
mkdir -p "$plain"
g -C "$plain" init -q
g -C "$plain" commit -q --allow-empty -m init

dirs=$(find "$tree" -path '*/.git' -prune -o -type d -print | wc -l)
nfiles=$(find "$tree" -path '*/.git' -prune -o -type f -print | wc -l)
echo "Machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Tree: $nfiles files, $dirs directories, $repos nested repositories (+ the top one)"
# Warm the dentry and inode caches once.
"$bin" --scan --quiet "$tree" >/dev/null

echo "== baseline: fresh git init with one commit, tier 1"
"$bin" --quiet --runs "$runs" "$plain"
echo "== generated tree, tier 1 (always on)"
"$bin" --quiet --runs "$runs" "$tree"
echo "== generated tree, tier 1 + tier 2 (--scan)"
"$bin" --quiet --scan --runs $(( runs / 25 > 5 ? runs / 25 : 5 )) "$tree"

if command -v strace >/dev/null; then
  # The system calls between the driver's two getppid() markers: one plan.
  count() {
    strace -o "$scratch/strace" "$bin" --quiet --mark "$@" >/dev/null
    awk '/getppid\(/ { n++; next } n == 1 { c++ } END { print c + 0 }' "$scratch/strace"
  }
  mkdir -p "$scratch/empty"
  echo "system calls of one plan:"
  echo "  empty directory (no repository up to /): $(count "$scratch/empty")"
  echo "  baseline repository, tier 1:             $(count "$plain")"
  echo "  generated tree, tier 1:                  $(count "$tree")"
  echo "  generated tree, tier 1 + 2:              $(count --scan "$tree")"
  strace -o "$scratch/strace" "$bin" --quiet --mark "$plain" >/dev/null
  echo "  (baseline: $(awk '/getppid\(/ { n++; next } n == 1 { sub(/\(.*/, ""); print }' "$scratch/strace" | sort | uniq -c | sort -rn | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//'))"
fi
