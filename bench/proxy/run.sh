#!/usr/bin/env bash
# run.sh compares cutover's proxy with nginx, HAProxy and Caddy on loopback, in one command:
# installs what is missing (install.sh), builds the upstream, the cutover harness and the
# comparison driver, then runs bench/proxy/compare, which writes bench/out/proxy.md and prints it.
#
# The open-loop runs use bench/proxy/openloop (constant rate, latency from each request's
# scheduled send time), built here with the rest.
#
#   bench/proxy/run.sh            # full: 2 rounds of 6 s runs at 1/16/64/256 conns + 8 s open-loop runs, ~10 minutes
#   bench/proxy/run.sh --quick    # 1 round of 3 s runs + 4 s open-loop runs, ~2 minutes
#   bench/proxy/run.sh [--quick] [compare flags...]   # e.g. --only direct,cutover,nginx
#   bench/proxy/run.sh --base HEAD --only direct,cutover,cutover-base,nginx
#       # also builds the harness from git revision REV (git archive, read-only) as target
#       # cutover-base, to compare before and after a change in one sitting
#
# Every load run is bounded in time; everything listens on and talks to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."

cmd="bench/proxy/run.sh $*"
quick=
base=
args=()
while (($#)); do
	case "$1" in
	--quick) quick=1 ;;
	--base) base="$2"; shift ;;
	*) args+=("$1") ;;
	esac
	shift
done

bench/proxy/install.sh
gobin="$(go env GOBIN)"
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

mkdir -p bench/out/bin
go build -o bench/out/bin/ ./bench/proxy/upstream ./bench/proxy/cutoverproxy ./bench/proxy/compare ./bench/proxy/openloop
rm -f bench/out/bin/cutoverproxy-base
if [[ -n "$base" ]]; then
	src="$(mktemp -d)"
	git archive "$base" | tar -x -C "$src"
	(cd "$src" && go build -o "$OLDPWD/bench/out/bin/cutoverproxy-base" ./bench/proxy/cutoverproxy)
	rm -rf "$src"
fi

if [[ -n "$quick" ]]; then
	preset=(-reps 1 -duration 3s -warmup 1s -open-duration 4s -profile-duration 5s)
else
	preset=(-reps 2 -duration 6s -warmup 2s -open-duration 8s -profile-duration 10s)
fi
exec bench/out/bin/compare -bin bench/out/bin -out bench/out/proxy.md \
	-cpuprofile bench/out/proxy-cutover.cpu.prof -command "${cmd% }" "${preset[@]}" "${args[@]}"
