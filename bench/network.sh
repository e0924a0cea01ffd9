#!/usr/bin/env bash
# The domain proxy's cost (issue 16), loopback only:
#   - latency: connect + a small HTTP request, direct vs through the proxy
#     (median of N sequential requests from one python3 process);
#   - throughput: a 1 GiB download with curl, direct vs through the proxy;
#   - start-up: `cordon run -- true` with and without --allow-domain
#     (hyperfine medians).
# Writes markdown to bench/out/network.md. Needs python3, curl, hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-300}
requests=${REQUESTS:-500}

cargo build --release --quiet
host=$(rustc -vV | sed -n 's/^host: //p')
cordon=$PWD/target/$host/release/cordon
[ -x "$cordon" ] || cordon=$PWD/target/release/cordon
mkdir -p bench/out
scratch=$(mktemp -d /var/tmp/cordon-netbench-XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
truncate -s 1G "$scratch/big"

# /small: 2 bytes; /big: 1 GiB by sendfile(2), so the server is never the
# bottleneck.
cat >"$scratch/server.py" <<'PY'
import http.server, os, socket, sys
big = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/big":
            size = os.path.getsize(big)
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.flush()
            with open(big, "rb") as f:
                self.connection.sendfile(f)
        else:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
s = S(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$scratch/server.py" "$scratch/port" "$scratch/big" &
server_pid=$!
for _ in $(seq 100); do [ -s "$scratch/port" ] && break; sleep 0.05; done
port=$(cat "$scratch/port")

# N sequential requests, each a new connection; prints the median in ms.
cat >"$scratch/latency.py" <<'PY'
import os, socket, statistics, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
proxy = os.environ.get("HTTP_PROXY")
times = []
for _ in range(n):
    t = time.perf_counter()
    if proxy:
        host, pport = proxy.rsplit("/", 1)[-1].split(":")
        s = socket.create_connection((host, int(pport)))
        s.sendall(b"GET http://localhost:%d/small HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % (port, port))
    else:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /small HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % port)
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    assert data.endswith(b"ok"), data
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times) * 1000:.3f}")
PY

machine="$(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
direct_lat=$(python3 "$scratch/latency.py" "$port" "$requests")
proxy_lat=$("$cordon" run --allow-domain localhost -- python3 "$scratch/latency.py" "$port" "$requests")

speed() { # curl args...: bytes per second
  curl -s -o /dev/null -w '%{speed_download}' "$@"
}
direct_bps=$(speed "http://127.0.0.1:$port/big")
proxy_bps=$("$cordon" run --allow-domain localhost -- curl -s -o /dev/null -w '%{speed_download}' "http://localhost:$port/big")
tunnel_bps=$("$cordon" run --allow-domain localhost -- curl -s -p -o /dev/null -w '%{speed_download}' "http://localhost:$port/big")

hyperfine -N --warmup 20 --runs "$runs" --export-json "$scratch/start.json" \
  "$cordon run -- /bin/true" \
  "$cordon run --allow-domain localhost -- /bin/true" >/dev/null 2>&1

python3 - "$scratch/start.json" "$direct_lat" "$proxy_lat" "$direct_bps" "$proxy_bps" "$tunnel_bps" "$machine" "$requests" <<'PY' | tee bench/out/network.md
import json, sys
start = json.load(open(sys.argv[1]))["results"]
dl, pl, db, pb, tb = map(float, sys.argv[2:7])
machine, n = sys.argv[7], sys.argv[8]
gib = lambda b: f"{b / 2**30:.2f} GiB/s"
print(f"Machine: {machine} (shared: other builds may have been running)\n")
print("| measurement | direct | through the proxy | difference |")
print("|---|---|---|---|")
print(f"| connect + small request, median of {n} | {dl:.3f} ms | {pl:.3f} ms | +{pl - dl:.3f} ms |")
print(f"| 1 GiB download, curl (absolute URI) | {gib(db)} | {gib(pb)} | {pb / db * 100:.0f}% of direct |")
print(f"| 1 GiB download, curl -p (CONNECT) | {gib(db)} | {gib(tb)} | {tb / db * 100:.0f}% of direct |")
a, b = start[0]["median"], start[1]["median"]
print(f"| start-up, `cordon run -- true` (hyperfine median) | {a * 1000:.3f} ms | {b * 1000:.3f} ms with --allow-domain | +{(b - a) * 1000:.3f} ms |")
PY
