#!/usr/bin/env bash
# Peak RSS and CPU of a real `cutover serve` process while its proxy carries load: one demo
# app service (2 replicas) deployed through the CLI, then bench/proxy/openloop sends RATE
# requests per second (open loop) through the daemon's proxy for DURATION, once per rate.
# Prints, per rate: requests answered / errors, the daemon's peak RSS during the load (VmRSS
# sampled every 100 ms, with its anonymous part), its VmHWM since start, and its CPU per
# request (utime+stime over the run ÷ requests). Loopback only.
#   bench/daemonrss/run.sh [RATES (default "2000 8000")] [DURATION (default 10s)]
# Environment: CUTOVER_BIN (a built cutover to measure instead of ./cmd/cutover), GOGC /
# GOMEMLIMIT passed through to the daemon.
set -euo pipefail
cd "$(dirname "$0")/../.."
rates=${1:-"2000 8000"}
duration=${2:-10s}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
bin=${CUTOVER_BIN:-$work/cutover}
[ -n "${CUTOVER_BIN:-}" ] || CGO_ENABLED=0 go build -o "$bin" ./cmd/cutover
CGO_ENABLED=0 go build -o "$work/demoapp" ./examples/demoapp
go build -o "$work/openloop" ./bench/proxy/openloop
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GODEBUG=${GODEBUG:-} "$bin" --state "$work/state" serve --listen 127.0.0.1:0 --stop-instances --log-level warn 2>"$work/daemon.log" &
pid=$!
for _ in $(seq 100); do [ -s "$work/state/api.addr" ] && break; sleep 0.1; done
cat >"$work/spec.yaml" <<YAML
name: rss
replicas: 2
run:
  command: $work/demoapp
probes:
  readiness: {http: {path: /healthz}, period: 1s}
route:
  listen: 127.0.0.1:$port
YAML
"$bin" --state "$work/state" deploy rss --spec "$work/spec.yaml" --wait >/dev/null
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$pid/stat"; }
kib() { awk -v k="$1:" '$1==k {print $2}' "/proc/$pid/status"; }
echo "after deploy, idle: RSS $(( $(kib VmRSS) / 1024 )) MiB (anonymous $(( $(kib RssAnon) / 1024 )), file $(( $(kib RssFile) / 1024 )))"
for rate in $rates; do
  c0=$(cpu)
  ( while :; do echo "$(kib VmRSS) $(kib RssAnon)"; sleep 0.1; done ) >"$work/samples" &
  sampler=$!
  out=$("$work/openloop" -addr "127.0.0.1:$port" -rate "$rate" -duration "$duration")
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  c1=$(cpu)
  peak=$(sort -n "$work/samples" | tail -1)
  python3 - "$out" "$rate" "$c0" "$c1" "$ticks" "$(kib VmHWM)" "${peak% *}" "${peak#* }" <<'PY'
import json, sys
out, rate, c0, c1, ticks, hwm, rss, anon = sys.argv[1:]
r = json.loads(out.strip().splitlines()[-1])
n = r.get("ok", 0)
cpu_us = (int(c1) - int(c0)) / int(ticks) * 1e6
print(f"rate {rate}/s: {json.dumps({k: r[k] for k in r if k in ('ok','failed','unsent','p50_us','p99_us')})}; "
      f"daemon peak RSS during the load {int(rss)/1024:.1f} MiB (anonymous {int(anon)/1024:.1f}; VmHWM since start {int(hwm)/1024:.1f}), CPU {cpu_us/max(n,1):.1f} µs/req")
PY
done
[ -z "${KEEP_LOG:-}" ] || cp "$work/daemon.log" "$KEEP_LOG"
