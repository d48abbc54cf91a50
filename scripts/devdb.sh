#!/usr/bin/env bash
# A private PostgreSQL cluster for development and tests, separate from any system one.
#
#   scripts/devdb.sh start   ensure it is initialised and running, with database "authgate";
#                            prints exactly one line on stdout: the connection URL
#   scripts/devdb.sh stop    fast shutdown if running; silent if not
#   scripts/devdb.sh url     print the URL if running, else exit 1
#   scripts/devdb.sh destroy stop it and delete its data (make clean)
#   scripts/devdb.sh acquire PID   start (as above) on behalf of process PID, printing the URL
#   scripts/devdb.sh release PID   drop PID's lease; stop the cluster when a lease started it
#                            and no live process holds one any more
#
# run.sh, test.sh and bench.sh use acquire/release, so one of them finishing never stops the
# cluster under another, and a cluster someone started by hand is never stopped by them.
#
# Data: .data/pg at the repository root. Everything but the URL goes to stderr.
# AUTHGATE_PG_BIN_GLOB (default /usr/lib/postgresql/*/bin) is where to look for the server
# binaries when they are not on PATH; tests point it elsewhere to exercise the install branch.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/lib/apt.sh
source "$root/scripts/lib/apt.sh"
data="$root/.data"
first_port=54329
db=authgate
su=postgres # the cluster's superuser; initdb -U makes it the same whoever runs initdb

log() { printf 'devdb: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# initdb and postgres refuse to run as root, so as root they run as the postgres user.
is_root() { [[ $EUID -eq 0 ]]; }
# runuser, and dpkg's helpers during an install, live in sbin, which a trimmed PATH may lack.
is_root && PATH=$PATH:/usr/sbin:/sbin
as_pg() {
	if is_root; then (cd "$pgroot" && runuser -u postgres -- "$@"); else "$@"; fi
}

# The cluster lives in $pgroot: data/ (PGDATA), port, server.log. As root the postgres user must
# be able to reach it; a repo under a 0700 home is out of its reach, so fall back to /var/tmp.
pgroot="$data/pg"
if is_root && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$root"; then
	pgroot="/var/tmp/authgate-pg-$(printf %s "$root" | sha256sum | cut -c1-12)"
	fallback=1
fi
pgdata="$pgroot/data"

# running: true if a postmaster for our data dir is alive; sets $port from its pid file.
running() {
	local pidfile="$pgdata/postmaster.pid" pid
	[[ -r $pidfile ]] || return 1
	{ read -r pid; read -r _; read -r _; read -r port; } <"$pidfile" || return 1
	[[ $pid =~ ^[0-9]+$ && $port =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

url() { printf 'postgres://%s@127.0.0.1:%s/%s?sslmode=disable\n' "$su" "$port" "$db"; }

# find_bins sets these: PATH first, then the newest versioned dir.
initdb="" pg_ctl="" pg_isready="" psql=""
find_bins() {
	local glob=${AUTHGATE_PG_BIN_GLOB:-/usr/lib/postgresql/*/bin} dir="" d tool
	for d in $(compgen -G "$glob" | sort -V); do [[ -x $d/initdb ]] && dir=$d; done
	for tool in initdb pg_ctl pg_isready psql; do
		if command -v "$tool" >/dev/null; then
			printf -v "$tool" %s "$(command -v "$tool")"
		elif [[ -n $dir ]]; then
			printf -v "$tool" %s "$dir/$tool"
		else
			return 1
		fi
	done
}

# install_pg installs Debian's postgresql package, without letting it start a system cluster.
install_pg() {
	log "PostgreSQL server binaries (initdb, pg_ctl) not found; installing Debian's postgresql (this takes a minute)"
	apt_install postgresql ||
		die "PostgreSQL is not installed (see above); install it, or put the bin dir of its initdb and pg_ctl on PATH"
}

port_free() { ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pick_port() {
	local p
	for ((p = first_port; p < first_port + 100; p++)); do
		port_free "$p" && { port=$p; return; }
	done
	die "no free port in $first_port-$((first_port + 99)) on 127.0.0.1; free one or stop other clusters"
}

psql_q() { "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$su" -d postgres -tA "$@"; }

ensure_db() {
	[[ $(psql_q -c "select 1 from pg_database where datname = '$db'") == 1 ]] ||
		psql_q -c "create database $db" >&2
}

# lock serialises every command that starts, stops or leases (two terminals, parallel make
# targets) on a lock under .data.
lock() {
	[[ ${locked:-} ]] && return 0 # held already: reopening fd 9 would let go of it
	mkdir -p "$data"
	exec 9>"$data/devdb.lock"
	flock -w 120 9 || die "timed out waiting for $data/devdb.lock held by another devdb.sh"
	locked=1
}

start() {
	lock
	if running; then
		find_bins || die "the cluster is running but psql was not found; install postgresql-client"
		ensure_db
		url
		return
	fi

	find_bins || { install_pg; find_bins; } ||
		die "PostgreSQL was installed but initdb/pg_ctl are still not found under ${AUTHGATE_PG_BIN_GLOB:-/usr/lib/postgresql/*/bin}"

	if is_root; then
		id postgres >/dev/null 2>&1 ||
			die "running as root needs a 'postgres' user to own the cluster: apt-get install postgresql, or useradd --system postgres"
		chmod go+x "$data" # postgres must traverse .data (a 077 umask would lock it out)
		if [[ ${fallback:-} ]]; then
			log "note: user postgres cannot reach $root; keeping the cluster in $pgroot"
			[[ ! -e $pgroot || $(stat -c %U "$pgroot") == postgres ]] ||
				die "$pgroot exists but is not owned by postgres; remove it"
		fi
		mkdir -p "$pgroot"
		chown postgres: "$pgroot"
	else
		mkdir -p "$pgroot"
	fi
	chmod 700 "$pgroot"

	if [[ ! -f $pgdata/PG_VERSION ]]; then
		[[ -e $pgdata ]] && { log "removing half-initialised $pgdata"; rm -rf "$pgdata"; }
		log "initialising a new cluster in $pgdata"
		if ! as_pg "$initdb" -D "$pgdata" -U "$su" --auth=trust --encoding=UTF8 --no-locale \
			--no-sync >"$pgroot/initdb.log" 2>&1; then
			cat "$pgroot/initdb.log" >&2
			die "initdb failed; its output is above"
		fi
		# Loopback only, no unix socket (so never the system socket dir), and speed over
		# durability: this cluster only ever holds throwaway dev/test data.
		as_pg tee -a "$pgdata/postgresql.conf" >/dev/null <<-'EOF'

			# authgate dev/test cluster (scripts/devdb.sh)
			listen_addresses = '127.0.0.1'
			unix_socket_directories = ''
			max_connections = 200
			fsync = off
			synchronous_commit = off
			full_page_writes = off
		EOF
	fi

	local have want
	have=$(<"$pgdata/PG_VERSION")
	want=$("$pg_ctl" --version | grep -oE '[0-9]+' | head -1)
	[[ $have == "$want" ]] ||
		die "$pgdata was made by PostgreSQL $have but $pg_ctl is $want; run 'make clean' to start over, or install PostgreSQL $have"

	# Reuse the remembered port so URLs stay stable; pick another if something took it.
	port=$(cat "$pgroot/port" 2>/dev/null || true)
	if ! [[ $port =~ ^[0-9]+$ ]] || ! port_free "$port"; then
		[[ $port ]] && log "port $port is taken; picking another"
		pick_port
		echo "$port" >"$pgroot/port"
	fi

	log "starting PostgreSQL on 127.0.0.1:$port (log: $pgroot/server.log)"
	# 9>&-: the server must not inherit the lock, or it would hold it for its whole life.
	if ! as_pg "$pg_ctl" start -D "$pgdata" -l "$pgroot/server.log" -o "-p $port" -s -w -t 30 >&2 9>&-; then
		tail -n 20 "$pgroot/server.log" >&2 || true
		die "PostgreSQL did not start; the log above says why"
	fi
	local i
	for ((i = 0; i < 300; i++)); do
		"$pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres && break
		sleep 0.1
	done
	((i < 300)) || die "PostgreSQL on port $port is not ready after 30s; see $pgroot/server.log"
	ensure_db
	url
}

stop() {
	[[ -d $data ]] || return 0
	lock
	rm -rf "$leases"
	running || return 0
	find_bins || die "the cluster is running but pg_ctl was not found"
	as_pg "$pg_ctl" stop -D "$pgdata" -m fast -s -w -t 60 >&2 || die "pg_ctl stop failed"
}

# Leases: one file per holder PID under $leases; $leases/.started marks a cluster that a lease
# started, and so that the last release stops. All under the lock, so no check races a start.
leases="$data/leases"

acquire() {
	local pid=$1
	[[ $pid =~ ^[0-9]+$ ]] || die "usage: $0 acquire PID"
	lock
	local was_running=0
	running && was_running=1
	start
	mkdir -p "$leases"
	((was_running)) || touch "$leases/.started"
	touch "$leases/$pid"
}

release() {
	local pid=$1 f
	[[ $pid =~ ^[0-9]+$ ]] || die "usage: $0 release PID"
	[[ -d $leases ]] || return 0
	lock
	rm -f "$leases/$pid"
	for f in "$leases"/*; do # leases of processes that died without releasing do not count
		[[ -e $f ]] && ! kill -0 "${f##*/}" 2>/dev/null && rm -f "$f"
	done
	compgen -G "$leases/[0-9]*" >/dev/null && return 0 # someone still uses it
	[[ -e $leases/.started ]] || return 0                # started by hand: leave it up
	stop
}

# destroy also covers the /var/tmp fallback, which 'rm -rf .data' would miss.
destroy() {
	stop
	[[ -e $pgroot ]] || return 0
	log "removing $pgroot"
	rm -rf "$pgroot"
}

case ${1:-} in
start) start ;;
acquire) acquire "${2:-}" ;;
release) release "${2:-}" ;;
stop) stop ;;
url) running && url ;;
destroy) destroy ;;
*)
	echo "usage: $0 start|stop|url|destroy|acquire PID|release PID" >&2
	exit 2
	;;
esac
