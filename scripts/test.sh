#!/usr/bin/env bash
# make test, and CI: gofmt, go vet, sqlc drift, then the tests with -race, failing fast.
# Extra arguments go to go test: flags come before ./..., and ./-style package patterns
# replace it (scripts/test.sh -run TestKey ./verify/...).
# Uses $DATABASE_URL if set, else a lease on the private cluster from scripts/devdb.sh (stopped
# at the end unless someone else still uses it). Tests create their own databases from that URL.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"

now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((10#$t / 1000)); }

leased=0 cur="" t0=0
cleanup() {
	local rc=$?
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

go_test() {
	local pkgs=(./...) a
	for a in "$@"; do [[ $a == ./* || $a == ../* ]] && pkgs=(); done
	go test -race -count=1 "$@" "${pkgs[@]}"
}

if [[ -z ${DATABASE_URL:-} ]]; then step devdb start_db; fi
step gofmt gofmt_check
step vet go vet ./...
step sqlc sqlc_diff
step test go_test "$@"
