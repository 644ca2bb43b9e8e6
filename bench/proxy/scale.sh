#!/usr/bin/env bash
# scale.sh measures the resident memory of an idle daemon serving many services: it builds
# cutover and the demo app, starts `cutover serve` on loopback with a fresh state directory,
# deploys N services (default 100) of one demo app instance each, all routed by host on one
# proxy address, checks each answers through the proxy, then reads the daemon's VmRSS and
# VmHWM from /proc after it has been idle for a while. Instances are stopped when it ends.
#
#   bench/proxy/scale.sh            # 100 services
#   bench/proxy/scale.sh 20         # 20 services
#
# Everything listens on and talks to 127.0.0.1 only; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."

n="${1:-100}"
idle="${IDLE:-10}" # seconds idle before the final reading
[[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 ]] || { echo "scale: services count $n: want a positive integer" >&2; exit 2; }

work="$(mktemp -d)"
bin="$work/bin"
mkdir -p "$bin"
go build -o "$bin/cutover" ./cmd/cutover
go build -o "$bin/demoapp" ./examples/demoapp
export CUTOVER_STATE="$work/state"
unset CUTOVER_ADDR CUTOVER_TOKEN

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
route="127.0.0.1:$port"

"$bin/cutover" serve --listen 127.0.0.1:0 --stop-instances --log-level warn >"$work/daemon.log" 2>&1 &
daemon=$!
cleanup() {
	kill -INT "$daemon" 2>/dev/null || true
	for _ in $(seq 1 300); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$daemon" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do [[ -s "$CUTOVER_STATE/api.addr" ]] && break; sleep 0.1; done
[[ -s "$CUTOVER_STATE/api.addr" ]] || { echo "scale: daemon did not start:" >&2; cat "$work/daemon.log" >&2; exit 1; }

rss() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
echo "scale: daemon pid $daemon, RSS at start $(rss "$daemon" VmRSS) KiB" >&2

start=$(date +%s)
for i in $(seq 1 "$n"); do
	cat >"$work/svc$i.yaml" <<EOF
name: svc$i
replicas: 1
stop_grace: 2s
run:
  command: $bin/demoapp
  env:
    VERSION: v1
probes:
  readiness:
    http: {path: /healthz}
    period: 1s
route:
  listen: $route
  hosts: [svc$i.scale.test]
EOF
	"$bin/cutover" deploy "svc$i" --spec "$work/svc$i.yaml" --wait --timeout 60s >/dev/null
done
echo "scale: $n services deployed in $(($(date +%s) - start)) s; RSS $(rss "$daemon" VmRSS) KiB" >&2

failed=0
for i in $(seq 1 "$n"); do
	body=$(curl -s --max-time 5 -H "Host: svc$i.scale.test" "http://$route/" || true)
	[[ "$body" == *"demoapp v1"* ]] || failed=$((failed + 1))
done
echo "scale: $n services answered through the proxy, $failed failed" >&2

sleep "$idle"
apps_kib=0
for pid in $(pgrep -P "$daemon" || true); do
	k=$(rss "$pid" VmRSS || echo 0)
	apps_kib=$((apps_kib + ${k:-0}))
done
threads=$(awk '$1 == "Threads:" {print $2}' "/proc/$daemon/status")
printf '| services | daemon VmRSS | daemon VmHWM | daemon threads | instances'"'"' RSS (sum) | requests failed |\n'
printf '|---:|---:|---:|---:|---:|---:|\n'
printf '| %d | %.1f MiB | %.1f MiB | %d | %.1f MiB | %d |\n' "$n" \
	"$(echo "$(rss "$daemon" VmRSS) / 1024" | bc -l)" "$(echo "$(rss "$daemon" VmHWM) / 1024" | bc -l)" \
	"$threads" "$(echo "$apps_kib / 1024" | bc -l)" "$failed"
[[ "$failed" -eq 0 ]]
