#!/usr/bin/env bash
# Real Seatbelt enforcement on a macOS host, through cordon and the real
# /usr/bin/sandbox-exec. Each check runs beside a control that succeeds
# without the sandbox, so a denial cannot come from a missing tool or file.
# Usage: .ci/macos-seatbelt-checks.sh PATH/TO/cordon
set -uo pipefail

cordon=${1:?usage: $0 PATH/TO/cordon}
[ "$(uname -s)" = Darwin ] || { echo "macOS only" >&2; exit 2; }

# Outside $TMPDIR and /tmp: workspace-write makes those writable.
top=$(cd "$HOME" && pwd -P)/cordon-ci.$$
repo=$top/repo
fresh=$top/fresh
outside=$top/outside
mkdir -p "$repo" "$fresh" "$outside"
trap 'rm -rf "$top"' EXIT
git -C "$repo" init -q
echo original > "$repo/.git/cordon-ci-marker"

failures=0
pass() { echo "PASS  $1"; }
fail() {
    echo "FAIL  $1"
    [ -n "${2:-}" ] && printf '      %s\n' "$2"
    failures=$((failures + 1))
}
# ok WHAT CMD...: CMD must succeed.
ok() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$what"; else fail "$what" "exit $?: $out"; fi
}
# denied WHAT CMD...: CMD must fail (and not with cordon's own 125).
denied() {
    local what=$1 out status
    shift
    out=$("$@" 2>&1)
    status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 125 ]; then
        pass "$what (exit $status)"
    else
        fail "$what" "exit $status: $out"
    fi
}
run() { "$cordon" run -C "$repo" "$@"; }

echo "== the profile cordon prints is the one sandbox-exec runs"
exec_printed_argv() {
    # Runs exactly the argv of `cordon seatbelt --json`.
    "$cordon" seatbelt --json -C "$repo" "$@" |
        python3 -c 'import json, os, sys; a = json.load(sys.stdin)["argv"]; os.execv(a[0], a)'
}
ok "cordon seatbelt argv runs under sandbox-exec" exec_printed_argv -- /usr/bin/true
ok "cordon seatbelt argv allows a write in the workspace" \
    exec_printed_argv -- /bin/sh -c "echo hi > '$repo/printed.txt'"
denied "cordon seatbelt argv denies .git/config" \
    exec_printed_argv -- /bin/sh -c "echo x >> '$repo/.git/config'"
ok "cordon seatbelt text output is itself a profile sandbox-exec loads" \
    /usr/bin/sandbox-exec -p "$("$cordon" seatbelt -C "$repo" -p read-only)" -- /usr/bin/true

echo "== writes"
ok "control: write in the workspace" /bin/sh -c "echo hi > '$repo/control.txt'"
ok "write inside the workspace" run -- /bin/sh -c "echo hi > inside.txt && test -s inside.txt"
ok "control: append to .git/config" /bin/sh -c "echo >> '$repo/.git/config'"
denied "append to .git/config" run -- /bin/sh -c "echo x >> .git/config"
denied "overwrite a file in .git" run -- /bin/sh -c "echo pwned > .git/cordon-ci-marker"
[ "$(cat "$repo/.git/cordon-ci-marker")" = original ] && pass ".git content unchanged" ||
    fail ".git content unchanged"
denied "remove .git" run -- /bin/rm -rf .git
denied "mkdir .git in a fresh root" "$cordon" run -C "$fresh" -- /bin/mkdir .git
[ ! -e "$fresh/.git" ] && pass "no .git was created" || fail "no .git was created"
ok "control: mkdir .git in a fresh root" /bin/mkdir "$outside/.git"
ok "control: write outside" /usr/bin/touch "$outside/x"
denied "write outside the writable roots" run -- /usr/bin/touch "$outside/y"
denied "read-only profile: no write in the workspace" \
    run -p read-only -- /usr/bin/touch ro.txt
ok "TMPDIR is writable" run -- /bin/sh -c 'f=$(mktemp) && echo x > "$f"'

echo "== network"
ok "control: curl example.com" /usr/bin/curl -sS --max-time 20 -o /dev/null https://example.com
denied "network off: curl example.com" run -- /usr/bin/curl -sS --max-time 20 -o /dev/null https://example.com
ok "network on: curl example.com" run --network -- /usr/bin/curl -sS --max-time 20 -o /dev/null https://example.com

echo "== reads restricted to :minimal + the workspace"
echo secret > "$outside/secret"
restricted='{"file_system":{"read":[":minimal"],"write":[":cwd"]}}'
ok "restricted: system tools start" run --policy-json "$restricted" -- /bin/ls /usr/bin
ok "restricted: the workspace is readable" run --policy-json "$restricted" -- /bin/cat control.txt
denied "restricted: a file outside is not" run --policy-json "$restricted" -- /bin/cat "$outside/secret"

echo "== environment, exit codes, nesting"
ok "CORDON_SANDBOX=seatbelt and network flag" run -- /bin/sh -c \
    'test "$CORDON_SANDBOX" = seatbelt && test "$CORDON_SANDBOX_NETWORK_DISABLED" = 1'
run -- /bin/sh -c 'exit 7'
[ $? -eq 7 ] && pass "exit status passes through" || fail "exit status passes through"
run -- cordon-ci-no-such-command 2>/dev/null
[ $? -eq 127 ] && pass "missing command: 127" || fail "missing command: 127"
out=$(run -- "$cordon" run -- /usr/bin/true 2>&1)
status=$?
if [ $status -eq 125 ] && [[ $out == *"already running inside a Seatbelt sandbox"* ]]; then
    pass "nested cordon refuses with 125"
else
    fail "nested cordon refuses with 125" "exit $status: $out"
fi

echo "== preferences extension"
ok "control: defaults read" /usr/bin/defaults read -g
ok "preferences read-only (default): defaults read" run -- /usr/bin/defaults read -g
denied "preferences none: defaults read" \
    run --macos-preferences none -- /usr/bin/defaults read -g

echo
if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
