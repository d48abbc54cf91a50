#!/usr/bin/env bash
# sqlc at the version pinned in tools/go.mod, run from the repository root with any sqlc arguments:
#   scripts/sqlc.sh generate   regenerate db/internal/dbsqlc (make generate)
#   scripts/sqlc.sh diff       fail if the generated code is stale (make test)
# sqlc lives in a module of its own so that authgate's go.mod lists only what the service runs.
# The first run on a machine builds sqlc into the Go build cache, which takes several minutes on
# a cold machine: this says so, and how long it has been at it every 30 s. Later runs start at once.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"

log() { printf 'sqlc: %s\n' "$*" >&2; }

version=$(awk '$1 == "github.com/sqlc-dev/sqlc" { print $2 }' tools/go.mod)

# `go tool -n` prints the tool's path, building it first if the build cache lacks it; it runs in
# the background so that a long build can be reported on. Its own messages go to stderr as they come.
out=$(mktemp)
go tool -modfile=tools/go.mod -n sqlc >"$out" &
builder=$!
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if [[ -n $builder ]]; then kill "$builder" 2>/dev/null || true; fi
	rm -f "$out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS said=0
while kill -0 "$builder" 2>/dev/null; do
	sleep 0.2
	elapsed=$((SECONDS - start))
	if ((elapsed >= 5 && said == 0)); then
		log "building sqlc $version from tools/go.mod (first run on this machine, several minutes)…"
		said=$elapsed
	elif ((said && elapsed - said >= 30)); then
		log "still building sqlc: ${elapsed} s"
		said=$elapsed
	fi
done
rc=0
wait "$builder" || rc=$?
builder=""
((rc == 0)) || { log "error: could not build sqlc $version (go tool -modfile=tools/go.mod -n sqlc failed; see above)"; exit 1; }
((said == 0)) || log "built sqlc $version in $((SECONDS - start)) s"
bin=$(<"$out")
"$bin" "$@"
