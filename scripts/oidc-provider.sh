#!/usr/bin/env bash
# The real OpenID provider the sign-in tests run: zitadel/oidc's example provider at a pinned version.
#
#   scripts/oidc-provider.sh ensure   build it unless present, then print oidc-provider=PATH on stdout
#   scripts/oidc-provider.sh paths    print oidc-provider=PATH if it is already built
#
# It is built from the Go module proxy into $AUTHGATE_CACHE/bin (default ~/.cache/authgate/bin),
# outside the repository: the downloaded github.com/zitadel/oidc/v3 module is copied, the launcher
# (the Go files of idp/idptest/testdata/op) is added to the copy as cmd/authgate-op (no file of the
# module is changed), and it is built there as the main module, so the module's own go.sum pins
# everything. The launcher runs the example's op.Provider, login form and storage from a JSON file of
# users (with groups), clients and service clients, with signing keys rotated on demand. The
# binary's name carries the version and a hash of the launcher's files (names and contents).
# A cold build takes 1-3 minutes (about 10 s with a warm Go build cache); a built one nothing.
# Concurrent callers wait for each other under a lock.
# Everything but the NAME=PATH line goes to stderr.
set -euo pipefail

zitadel_version=v3.52.0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
launcher=$root/idp/idptest/testdata/op
cache=${AUTHGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/authgate}
bin="$cache/bin"

log() { printf 'oidc-provider: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
now() { date +%s; }

[[ -f $launcher/main.go ]] || die "missing $launcher/main.go"
hash=$(cd "$launcher" && LC_ALL=C sha256sum -- *.go | LC_ALL=C sort -k2 | sha256sum | cut -c1-8)
out=$bin/oidc-provider-$zitadel_version-$hash

path_of() {
	if [[ -x $out ]]; then echo "$out"; fi
}

build() {
	local tmp dir
	tmp=$(mktemp -d "$bin/.oidc-provider.XXXXXX")
	dir=$(GOFLAGS='' go mod download -json "github.com/zitadel/oidc/v3@$zitadel_version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n $dir && -d $dir ]] || {
		rm -rf "$tmp"
		die "could not download the zitadel/oidc $zitadel_version module"
	}
	cp -r "$dir" "$tmp/src" && chmod -R u+w "$tmp/src"
	mkdir -p "$tmp/src/cmd/authgate-op"
	cp "$launcher"/*.go "$tmp/src/cmd/authgate-op/"
	(cd "$tmp/src" && GOFLAGS='' go build -trimpath -ldflags "-s -w" -o "$tmp/oidc-provider" ./cmd/authgate-op) >&2 || {
		rm -rf "$tmp"
		die "building the zitadel/oidc $zitadel_version example provider failed (see above)"
	}
	mv "$tmp/oidc-provider" "$out" && rm -rf "$tmp"
}

ensure() {
	local p t0 fd
	p=$(path_of)
	[[ -n $p ]] && return 0
	mkdir -p "$bin"
	exec {fd}>"$cache/.lock-oidc-provider"
	flock "$fd"
	p=$(path_of) # someone else may have built it while we waited
	if [[ -z $p ]]; then
		t0=$(now)
		log "building zitadel/oidc $zitadel_version's example provider (1-3 minutes cold)"
		build
		log "built in $(($(now) - t0)) s: $out"
	fi
	exec {fd}>&-
}

cmd=${1:-}
case $cmd in
ensure)
	ensure
	echo "oidc-provider=$(path_of)"
	;;
paths)
	p=$(path_of)
	if [[ -n $p ]]; then echo "oidc-provider=$p"; fi
	;;
*)
	sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	[[ $cmd == -h || $cmd == --help || $cmd == help ]] || exit 2
	;;
esac
