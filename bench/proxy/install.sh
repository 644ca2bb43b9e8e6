#!/usr/bin/env bash
# install.sh installs what the proxy comparison needs, each only when missing: nginx, haproxy
# and wrk from Debian's packages, Caddy with `go install`. It is idempotent. Caddy is
# optional: when the Go module proxy does not serve it, the reason is printed and the bench
# leaves Caddy out. It exits non-zero with a message when a required tool cannot be installed.
set -euo pipefail

gobin="$(go env GOBIN)"
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

missing=()
for tool in nginx haproxy wrk; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
	echo "install: apt-get install ${missing[*]}" >&2
	if [[ $(id -u) -ne 0 ]]; then
		echo "install: ${missing[*]} missing and not root: run as root or apt-get install ${missing[*]}" >&2
		exit 1
	fi
	# The packages' services must not start (they would listen beyond loopback): Debian's
	# invoke-rc.d asks /usr/sbin/policy-rc.d, so deny for the length of the install if no
	# policy exists yet.
	policy_added=
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		policy_added=1
	fi
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
		{ echo "install: apt-get install ${missing[*]} failed" >&2; exit 1; }
	[[ -n "$policy_added" ]] && rm -f /usr/sbin/policy-rc.d
	# A package's default site may have started anyway on a host without a policy; stop ours.
	for svc in nginx haproxy; do
		if command -v service >/dev/null 2>&1 && service "$svc" status >/dev/null 2>&1; then
			service "$svc" stop >/dev/null 2>&1 || true
		fi
	done
fi

if ! command -v caddy >/dev/null 2>&1; then
	if ! ver=$(go list -m github.com/caddyserver/caddy/v2@latest 2>&1); then
		echo "install: Caddy left out: the Go module proxy does not serve github.com/caddyserver/caddy/v2: $ver" >&2
	else
		echo "install: go install github.com/caddyserver/caddy/v2/cmd/caddy@latest ($ver)" >&2
		go install github.com/caddyserver/caddy/v2/cmd/caddy@latest >&2 ||
			echo "install: Caddy left out: go install failed (see above)" >&2
	fi
fi

for tool in nginx haproxy wrk; do
	command -v "$tool" >/dev/null 2>&1 || { echo "install: $tool still missing" >&2; exit 1; }
done
