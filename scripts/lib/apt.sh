# shellcheck shell=bash
# Sourced by the scripts that install Debian packages: devdb.sh (postgresql), proxies.sh (nginx),
# bench.sh (wrk). On a fresh machine two of them run at once (make test installs nginx in the
# background while devdb.sh installs postgresql), so every install goes through apt_install.

# apt_install PKG...: install the packages with apt-get, as root or through passwordless sudo,
# without letting them start their services (nginx would take :80, postgresql would start a system
# cluster). All output goes to stderr. Returns non-zero, having said why, if it cannot.
#
# - One install at a time: our installs wait for each other on a lock, and for anyone else's apt
#   on dpkg's own lock (DPkg::Lock::Timeout), instead of failing on it.
# - The policy-rc.d guard (exit 101: start nothing) is made only if absent, and removed by a trap
#   whatever ends the install; under the lock no other install of ours can be relying on it.
# - A failed update or install (a mirror hiccup, a lock still held) is retried twice.
# It runs in a subshell of its own, so its traps and settings never touch the caller's.
apt_install() (
	set -euo pipefail
	PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin # apt-get and dpkg's helpers; a trimmed PATH may lack them
	local sudo=() policy=/usr/sbin/policy-rc.d ours=0 lock=/tmp/authgate-apt.lock fd i
	say() { printf 'apt: %s\n' "$*" >&2; }
	if ((EUID != 0)); then
		sudo -n true 2>/dev/null || { say "installing $* needs root: run 'sudo apt-get install $*'"; return 1; }
		sudo=(sudo -n)
	fi
	command -v apt-get >/dev/null || { say "there is no apt-get to install $* with: install it by hand"; return 1; }

	[[ -e $lock ]] || (umask 0 && : >>"$lock") 2>/dev/null || true
	exec {fd}<"$lock"
	if ! flock -n "$fd"; then
		say "waiting for another install of ours to finish (lock $lock)"
		flock -w 1800 "$fd" || { say "timed out after 30 min waiting for $lock"; return 1; }
	fi

	# shellcheck disable=SC2317 # run by the EXIT trap
	unguard() { if ((ours)); then "${sudo[@]}" rm -f "$policy"; fi; }
	trap unguard EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [[ ! -e $policy ]]; then
		"${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
		ours=1
	fi

	local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q)
	for i in 1 2 3; do
		say "installing $* (attempt $i of 3)"
		if "${apt[@]}" update >&2 && "${apt[@]}" install -y --no-install-recommends "$@" >&2; then
			return 0
		fi
		((i == 3)) || { say "apt-get failed; retrying in $((i * 10)) s"; sleep $((i * 10)); }
	done
	say "could not install $* with apt-get (see above)"
	return 1
)
