#!/usr/bin/env bash
# instructions.sh counts the instructions a proxy executes per request, under valgrind's
# callgrind: a figure other processes on the machine do not move, unlike req/s or CPU time.
# Each target (cutover's proxy, optionally cutover built from a git revision, nginx) runs
# under callgrind twice, serving N1 then N2 requests from wrk (64 keep-alive connections,
# stopped after that many answers) in front of the two bench upstreams; the instructions per
# request are (I2 - I1) / (R2 - R1), so start-up and shut-down cancel out. nginx runs as one
# process (master_process off), cutover with GOMAXPROCS 2 (valgrind runs its threads one at a
# time); every thread's instructions count.
#
#   bench/proxy/instructions.sh             # cutover and nginx
#   bench/proxy/instructions.sh REV         # also cutover built from git revision REV
#
# Everything listens on and talks to 127.0.0.1 only; each run is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/../.."

base="${1:-}"
n1="${N1:-3000}"
n2="${N2:-11000}"
conns="${CONNS:-64}"
for tool in valgrind wrk nginx; do
	command -v "$tool" >/dev/null || { echo "instructions: $tool missing (bench/proxy/install.sh; apt-get install valgrind)" >&2; exit 1; }
done

work="$(mktemp -d)"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/" ./bench/proxy/upstream ./bench/proxy/cutoverproxy
if [[ -n "$base" ]]; then
	mkdir "$work/src"
	git archive "$base" | tar -x -C "$work/src"
	(cd "$work/src" && go build -o "$work/cutoverproxy-base" ./bench/proxy/cutoverproxy)
fi

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() {
	for _ in $(seq 1 600); do
		curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" && return 0
		sleep 0.1
	done
	echo "instructions: nothing answers on port $1" >&2
	return 1
}

ups=()
for i in 1 2; do
	port=$(freeport)
	"$work/upstream" -addr "127.0.0.1:$port" >"$work/upstream$i.log" 2>&1 &
	pids+=($!)
	ups+=("127.0.0.1:$port")
	waitport "$port"
done

cat >"$work/stop.lua" <<'EOF'
local limit = tonumber(os.getenv("WRK_LIMIT"))
local n = 0
response = function(status, headers, body)
  n = n + 1
  if n >= limit then wrk.thread:stop() end
end
EOF

nginx_conf() { # dir port
	mkdir -p "$1/tmp"
	cat >"$1/nginx.conf" <<EOF
master_process off;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log error;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $1/tmp/body;
  proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fastcgi;
  uwsgi_temp_path $1/tmp/uwsgi;
  scgi_temp_path $1/tmp/scgi;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  upstream backend {
    server ${ups[0]};
    server ${ups[1]};
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$2;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$http_host;
      proxy_set_header X-Request-Id \$request_id;
      add_header X-Request-Id \$request_id;
    }
  }
}
EOF
}

# measure TARGET N: prints "instructions requests" for one run serving about N requests.
measure() {
	local target="$1" n="$2" port log
	port=$(freeport)
	log="$work/$target-$n.vg"
	local vg=(valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$log")
	case "$target" in
	cutover) GOMAXPROCS=2 "${vg[@]}" "$work/cutoverproxy" -listen "127.0.0.1:$port" -targets "${ups[0]},${ups[1]}" 2>"$work/$target.err" & ;;
	cutover-base) GOMAXPROCS=2 "${vg[@]}" "$work/cutoverproxy-base" -listen "127.0.0.1:$port" -targets "${ups[0]},${ups[1]}" 2>"$work/$target.err" & ;;
	nginx)
		nginx_conf "$work/nginx" "$port"
		"${vg[@]}" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g "daemon off;" 2>"$work/$target.err" &
		;;
	esac
	local pid=$!
	pids+=("$pid")
	waitport "$port"
	local out
	out=$(WRK_LIMIT=$((n / 2)) timeout 600 wrk -t 2 -c "$conns" -d 300s -s "$work/stop.lua" "http://127.0.0.1:$port/")
	kill -INT "$pid" 2>/dev/null || true
	for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	local reqs ins
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	ins=$(awk '/Collected :/ {gsub(",", "", $4); print $4}' "$log" | head -n1)
	[[ -n "$reqs" && -n "$ins" ]] || { echo "instructions: $target: no count (wrk: $out; valgrind log: $(tail -5 "$log"))" >&2; return 1; }
	echo "$ins $reqs"
}

targets=(cutover nginx)
[[ -n "$base" ]] && targets=(cutover cutover-base nginx)
echo "| target | run 1: requests, instructions | run 2: requests, instructions | instructions per request |"
echo "|---|---:|---:|---:|"
for t in "${targets[@]}"; do
	read -r i1 r1 < <(measure "$t" "$n1")
	read -r i2 r2 < <(measure "$t" "$n2")
	per=$(( (i2 - i1) / (r2 - r1) ))
	echo "| $t | $r1, $i1 | $r2, $i2 | $per |"
done
