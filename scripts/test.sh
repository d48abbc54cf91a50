#!/usr/bin/env bash
# make test, and CI: gofmt, go vet, sqlc drift, then the tests with -race, failing fast, then the
# allocation tests without -race, then the end-to-end tests that run nginx, Traefik and Caddy with
# the shipped configs (deploy/), TestBrowser driving Debian's chromium through them included. Each
# step prints its name and time: tools devdb gofmt vet sqlc oidc test alloc proxies e2e.
# Extra arguments go to go test: flags come before ./..., and ./-style package patterns
# replace it (scripts/test.sh -run TestKey ./verify/...).
# Tests create their own databases (db/dbtest) on the server $TEST_DATABASE_URL names; this script
# sets it to $DATABASE_URL if that is set, else to a lease on the private cluster from
# scripts/devdb.sh (stopped at the end unless someone else still uses it).
# Under CI=true (.ci/run) a test that skips fails: nothing that CI cannot run passes unnoticed.
# The proxies are installed by scripts/proxies.sh when missing (a cold machine builds Caddy and
# Traefik for about half an hour, in the background while the other tests run; its output goes to
# .data/proxies.log). Only runs whose packages include ./deploy wait for them.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh

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

# The tests read TEST_DATABASE_URL only, so a DATABASE_URL a developer exported never gets test
# databases unless it is given to this script.
test_db() {
	if [[ -z ${DATABASE_URL:-} ]]; then step devdb start_db; fi
	export TEST_DATABASE_URL=$DATABASE_URL
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
	scripts/sqlc.sh diff && return 0
	echo "sqlc: generated code is stale; run: make generate" >&2
	return 1
}

# The end-to-end proxy tests run last, on their own, once the proxies are in: TestProxies and
# TestBrowser are skipped (-skip, not t.Skip) in the first go test and are the only tests of the
# second.
e2e='(TestProxies|TestBrowser)'

# Allocation counts mean nothing under the race detector, so the tests that count them, named
# ...DoesNotAllocate, are left out of the race run (-skip) and run alone without -race (-vet=off:
# the vet step has vetted the same code). A test of that kind named otherwise meets its race skip
# in the race run, which fails under CI=true.
alloc=DoesNotAllocate

# go_test ARGS...: go test -count=1 ARGS on ./..., unless ARGS name packages.
go_test() {
	local pkgs=(./...) a
	for a in "$@"; do [[ $a == ./* || $a == ../* ]] && pkgs=(); done
	go test -count=1 "$@" "${pkgs[@]}"
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

# The README walkthrough test (deploy/readme_test.go) types the README's commands: curl and jq.
# The browser test (deploy/browser_test.go) drives Debian's chromium, with a font for its pages;
# it runs only with the proxies.
test_tools() {
	local missing=() p
	for p in curl jq; do command -v "$p" >/dev/null || missing+=("$p"); done
	if ((proxies)) && ! command -v chromium >/dev/null; then missing+=(chromium fonts-liberation); fi
	((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

# The identity-provider tests (idp/, portal/, deploy/) sign in at a real OpenID provider, zitadel's
# example built from its module (scripts/oidc-provider.sh; cached, so only a cold machine builds).
ensure_provider() {
	mkdir -p .data
	if ! scripts/oidc-provider.sh ensure >.data/oidc-provider.out 2>.data/oidc-provider.log; then
		tail -n 40 .data/oidc-provider.log >&2
		echo "test.sh: building the OpenID provider failed (above; whole log in .data/oidc-provider.log)" >&2
		return 1
	fi
	sed 's/^/test.sh: using /' .data/oidc-provider.out >&2
}

proxies=0
if wants_proxies "$@"; then proxies=1 && start_proxies; fi
step tools test_tools
if [[ -z ${TEST_DATABASE_URL:-} ]]; then test_db; fi
step gofmt gofmt_check
step vet go vet ./...
step sqlc sqlc_diff
step oidc ensure_provider
if ((proxies)); then
	step test go_test -race -skip "^$e2e\$|$alloc" "$@"
	step alloc go_test -vet=off "$@" -run "$alloc"
	step proxies wait_proxies
	step e2e go_test -race -run "^$e2e\$" "$@" ./deploy/
else
	step test go_test -race -skip "$alloc" "$@"
	step alloc go_test -vet=off "$@" -run "$alloc"
fi
