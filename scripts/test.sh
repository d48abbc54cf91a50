#!/usr/bin/env bash
# make test, and CI: gofmt, go vet, sqlc drift, then the tests with -race, failing fast, then the
# end-to-end tests that run nginx, Traefik and Caddy with the shipped configs (deploy/).
# Extra arguments go to go test: flags come before ./..., and ./-style package patterns
# replace it (scripts/test.sh -run TestKey ./verify/...).
# Uses $DATABASE_URL if set, else a lease on the private cluster from scripts/devdb.sh (stopped
# at the end unless someone else still uses it). Tests create their own databases from that URL.
# The proxies are installed by scripts/proxies.sh when missing (a cold machine builds Caddy and
# Traefik for about half an hour, in the background while the other tests run; its output goes to
# .data/proxies.log). Only runs whose packages include ./deploy wait for them.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"

now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((10#$t / 1000)); }

leased=0 cur="" t0=0 installer=""
cleanup() {
	local rc=$?
	# An install still running is left to finish: its builds land in the cache for next time.
	if [[ -n $installer ]] && kill -0 "$installer" 2>/dev/null; then
		echo "test.sh: the proxy install goes on in the background (log: .data/proxies.log)" >&2
	fi
	if [[ -n $cur ]]; then
		printf 'test.sh: %-6s FAILED after %d ms\n' "$cur" $(($(now_ms) - t0)) >&2
	fi
	if ((leased)); then scripts/devdb.sh release $$ || true; fi
	return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step NAME CMD...: run CMD and say how long it took. Not in an if: set -e must stay in force
# inside CMD, so a failure exits and the EXIT trap reports the step that was running.
step() {
	cur=$1 t0=$(now_ms)
	shift
	"$@"
	printf 'test.sh: %-6s ok in %d ms\n' "$cur" $(($(now_ms) - t0)) >&2
	cur=""
}

start_db() {
	DATABASE_URL=$(scripts/devdb.sh acquire $$)
	leased=1
	export DATABASE_URL
}

gofmt_check() {
	local files bad
	# Tracked and new files alike; sqlc output is excluded, it has its own check below.
	mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.go' |
		grep -Ev '(^|/)internal/dbsqlc/' | while read -r f; do [[ -f $f ]] && echo "$f"; done)
	((${#files[@]})) || return 0
	bad=$(gofmt -l "${files[@]}")
	[[ -z $bad ]] && return 0
	printf 'gofmt: these files need formatting (run: gofmt -w FILE):\n%s\n' "$bad" >&2
	return 1
}

sqlc_diff() {
	go tool sqlc diff && return 0
	echo "sqlc: generated code is stale; run: make generate" >&2
	return 1
}

# The end-to-end proxy tests run last, on their own, once the proxies are in: TestProxies is
# skipped (-skip, not t.Skip) in the first go test and is the only test of the second.
e2e=TestProxies

go_test() {
	local pkgs=(./...) a
	for a in "$@"; do [[ $a == ./* || $a == ../* ]] && pkgs=(); done
	go test -race -count=1 "$@" "${pkgs[@]}"
}

# wants_proxies: true unless the arguments name packages that leave out ./deploy.
wants_proxies() {
	local a named=0
	for a in "$@"; do
		[[ $a == ./* || $a == ../* ]] || continue
		named=1
		[[ $a == ./... || $a == ./deploy* ]] && return 0
	done
	((!named))
}

start_proxies() {
	mkdir -p .data
	scripts/proxies.sh ensure >.data/proxies.out 2>.data/proxies.log &
	installer=$!
}

wait_proxies() {
	if ! wait "$installer"; then
		installer=""
		tail -n 40 .data/proxies.log >&2
		echo "test.sh: installing the proxies failed (above; whole log in .data/proxies.log)" >&2
		return 1
	fi
	installer=""
	sed 's/^/test.sh: using /' .data/proxies.out >&2
}

proxies=0
if wants_proxies "$@"; then proxies=1 && start_proxies; fi
if [[ -z ${DATABASE_URL:-} ]]; then step devdb start_db; fi
step gofmt gofmt_check
step vet go vet ./...
step sqlc sqlc_diff
if ((proxies)); then
	step test go_test -skip "^$e2e\$" "$@"
	step proxies wait_proxies
	step e2e go_test -run "^$e2e\$" "$@" ./deploy/
else
	step test go_test "$@"
fi
