#!/usr/bin/env bash
# make cli ARGS='users create --username alice --email alice@example.com --role admin':
# run one authgate command against the database 'make run' uses, with its secret.
#   scripts/cli.sh keys list
#   scripts/cli.sh keys create --name admin --scope authgate:admin   (a lost admin key)
# Builds .data/bin/authgate when the sources changed. Uses $DATABASE_URL if set, else a lease on
# the private cluster from scripts/devdb.sh (stopped on exit unless someone else still uses it),
# and $AUTHGATE_SECRET if set, else .data/secret (and .data/secret.previous, as run.sh does).
# Standard input is passed through, so a password is asked for on a terminal, or read from a pipe.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
bin=.data/bin/authgate

if (($# == 0)); then
	echo "usage: make cli ARGS='COMMAND ...', e.g. make cli ARGS='users list' (make cli ARGS=help lists them)" >&2
	exit 2
fi

leased=0
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if ((leased)); then scripts/devdb.sh release $$ || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
go build -ldflags "-X main.version=$version" -o "$bin" ./cmd/authgate

case $1 in help | -h | -help | --help | version | -version | --version) exec "$bin" "$@" ;; esac

if [[ -z ${DATABASE_URL:-} ]]; then
	DATABASE_URL=$(scripts/devdb.sh acquire $$)
	leased=1
	export DATABASE_URL
fi

if [[ -z ${AUTHGATE_SECRET:-} ]]; then
	if [[ ! -s .data/secret ]]; then
		echo "cli: there is no .data/secret: run 'make run' once first (it creates the secret and the database), or set AUTHGATE_SECRET" >&2
		exit 1
	fi
	AUTHGATE_SECRET=$(<.data/secret)
	export AUTHGATE_SECRET
	# A rotation (README: Rotating AUTHGATE_SECRET): the secret replaced, whose keys still verify.
	if [[ -z ${AUTHGATE_SECRET_PREVIOUS:-} && -s .data/secret.previous ]]; then
		AUTHGATE_SECRET_PREVIOUS=$(<.data/secret.previous)
		export AUTHGATE_SECRET_PREVIOUS
	fi
fi

# Not exec: the EXIT trap must still release the cluster. The command runs in the foreground,
# so it has the terminal: Ctrl-C reaches it, and a password prompt works.
"$bin" "$@"
