#!/usr/bin/env bash
# The real proxies the end-to-end tests run: nginx, Caddy and Traefik at pinned versions.
#
#   scripts/proxies.sh ensure [NAME...]  install whatever is missing (default: all three), then
#                                        print one NAME=PATH line per proxy on stdout
#   scripts/proxies.sh paths             print NAME=PATH for each proxy already installed
#
# nginx comes from Debian's packages (apt-get, as root). Caddy and Traefik are built from the Go
# module proxy into $AUTHGATE_CACHE/bin (default ~/.cache/authgate/bin), outside the repository,
# once per version: a cold machine needs about 10 minutes for Caddy and 20 for Traefik, a warm one
# nothing. Traefik refuses `go install` (its go.mod has replace directives), so it is built from its
# downloaded module as the main module. Concurrent callers wait for each other under a lock.
# Everything but the NAME=PATH lines goes to stderr.
set -euo pipefail

caddy_version=v2.11.9
traefik_version=v3.6.12

cache=${AUTHGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/authgate}
bin="$cache/bin"

log() { printf 'proxies: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s; }

# nginx and dpkg's helpers live in sbin, which a trimmed PATH may lack.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
# shellcheck source=scripts/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

path_of() {
	case $1 in
	nginx) command -v nginx || true ;;
	caddy) [[ -x $bin/caddy-$caddy_version ]] && echo "$bin/caddy-$caddy_version" || true ;;
	traefik) [[ -x $bin/traefik-$traefik_version ]] && echo "$bin/traefik-$traefik_version" || true ;;
	*) die "unknown proxy '$1' (want nginx, caddy or traefik)" ;;
	esac
}

install_nginx() {
	apt_install nginx || die "nginx is not installed (see above); any nginx with the auth_request module will do"
}

install_caddy() {
	local out=$bin/caddy-$caddy_version tmp
	tmp=$(mktemp -d "$bin/.caddy.XXXXXX")
	GOBIN=$tmp GOFLAGS=-trimpath go install "github.com/caddyserver/caddy/v2/cmd/caddy@$caddy_version" >&2 ||
		{ rm -rf "$tmp"; die "go install of Caddy $caddy_version failed (see above)"; }
	mv "$tmp/caddy" "$out" && rm -rf "$tmp"
}

install_traefik() {
	local out=$bin/traefik-$traefik_version tmp dir
	tmp=$(mktemp -d "$bin/.traefik.XXXXXX")
	dir=$(GOFLAGS='' go mod download -json "github.com/traefik/traefik/v3@$traefik_version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n $dir && -d $dir ]] || { rm -rf "$tmp"; die "could not download the Traefik $traefik_version module"; }
	cp -r "$dir" "$tmp/src" && chmod -R u+w "$tmp/src"
	(cd "$tmp/src" && GOFLAGS='' go build -trimpath \
		-ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$traefik_version" \
		-o "$tmp/traefik" ./cmd/traefik) >&2 ||
		{ rm -rf "$tmp"; die "building Traefik $traefik_version failed (see above)"; }
	mv "$tmp/traefik" "$out" && rm -rf "$tmp"
}

# ensure NAME: install NAME under its own lock unless present, timing the install.
ensure() {
	local name=$1 p t0
	p=$(path_of "$name")
	[[ -n $p ]] && return 0
	mkdir -p "$bin"
	exec {fd}>"$cache/.lock-$name"
	flock "$fd"
	p=$(path_of "$name") # someone else may have installed it while we waited
	if [[ -z $p ]]; then
		t0=$(now)
		log "installing $name (a cold build of Caddy takes ~10 min, of Traefik ~20 min)"
		"install_$name"
		log "installed $name in $(($(now) - t0)) s: $(path_of "$name")"
	fi
	exec {fd}>&-
}

cmd=${1:-}
shift || true
case $cmd in
ensure)
	names=("$@")
	((${#names[@]})) || names=(nginx caddy traefik)
	for n in "${names[@]}"; do path_of "$n" >/dev/null; done # reject unknown names up front
	pids=()
	for n in "${names[@]}"; do
		ensure "$n" &
		pids+=($!)
	done
	rc=0
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	((rc == 0)) || die "some proxies could not be installed (see above)"
	for n in "${names[@]}"; do echo "$n=$(path_of "$n")"; done
	;;
paths)
	for n in nginx caddy traefik; do
		p=$(path_of "$n")
		if [[ -n $p ]]; then echo "$n=$p"; fi
	done
	;;
*)
	sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	[[ $cmd == -h || $cmd == --help || $cmd == help ]] || exit 2
	;;
esac
