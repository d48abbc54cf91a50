#!/usr/bin/env bash
# make run: build authgate, migrate, mint the first admin key, and serve in the foreground.
#   scripts/run.sh           the whole thing
#   scripts/run.sh migrate   build and migrate only (make migrate)
# Uses $DATABASE_URL if set, else a lease on the private cluster from scripts/devdb.sh (stopped
# on exit unless someone else still uses it). $AUTHGATE_SECRET defaults to .data/secret, and then
# $AUTHGATE_SECRET_PREVIOUS to .data/secret.previous when that exists.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
bin=.data/bin/authgate

leased=0
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if ((leased)); then scripts/devdb.sh release $$ || true; fi
}
trap cleanup EXIT
# Exit (and so clean up) on a signal that arrives before the server is up.
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z ${DATABASE_URL:-} ]]; then
	# A lease: the cluster stops at exit only if a lease started it and nobody else holds one.
	DATABASE_URL=$(scripts/devdb.sh acquire $$)
	leased=1
	export DATABASE_URL
fi

if [[ -z ${AUTHGATE_SECRET:-} ]]; then
	if [[ ! -s .data/secret ]]; then
		mkdir -p .data
		(umask 077 && head -c 32 /dev/urandom | base64 >.data/secret)
	fi
	AUTHGATE_SECRET=$(<.data/secret)
	export AUTHGATE_SECRET
	# A rotation (README: Rotating AUTHGATE_SECRET): the secret replaced, whose keys still verify.
	if [[ -z ${AUTHGATE_SECRET_PREVIOUS:-} && -s .data/secret.previous ]]; then
		AUTHGATE_SECRET_PREVIOUS=$(<.data/secret.previous)
		export AUTHGATE_SECRET_PREVIOUS
	fi
fi

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
go build -ldflags "-X main.version=$version" -o "$bin" ./cmd/authgate
"$bin" migrate
[[ ${1:-} == migrate ]] && exit 0

# Prints a key only while the keys table is empty, i.e. on the very first run.
key=$("$bin" keys create --name admin --scope authgate:admin --if-none)
if [[ -n $key ]]; then
	cat >&2 <<-EOF

		==================================================================
		Admin API key (shown once, store it now): $key
		Try: curl -H "X-API-Key: $key" http://127.0.0.1:8080/v1/keys
		==================================================================

	EOF
fi
cat >&2 <<-'EOF'
	Commands on this database (users, keys; help lists them): make cli ARGS='...', e.g.
	  make cli ARGS='users create --username alice --email alice@example.com --role admin'
	  make cli ARGS='keys list'

EOF

# Not exec: the EXIT trap must still stop the cluster after the server ends. Async children of
# a script start with SIGINT ignored, so Ctrl-C is passed on as SIGTERM, which always works.
"$bin" serve &
srv=$!
trap 'kill -TERM "$srv" 2>/dev/null || true' INT TERM
rc=0
while :; do
	wait "$srv" && rc=0 || rc=$?
	kill -0 "$srv" 2>/dev/null || break # wait was only interrupted by a signal: wait again
done
exit "$rc"
