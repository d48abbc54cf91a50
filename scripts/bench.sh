#!/usr/bin/env bash
# make bench: how fast authgate answers /forward-auth, next to a bare Echo handler (the ceiling).
#
#   1. Micro-benchmarks: go test -run '^$' -bench . -benchmem -count 5 ./verify/
#      Extra arguments go to that go test: flags come before the package, and ./-style package
#      patterns replace ./verify/ (make bench ARGS='-bench Cache -cpu 1').
#   2. Load run: authgate (valid API key, warm cache) and bench/bare, each pinned to CPU 0 with
#      GOMAXPROCS=1, driven by wrk with 1 thread on CPU 1, in alternating rounds. Prints, per
#      connection count, median req/s (min-max), p50, p99 and the median of the per-round ratio
#      authgate/bare, and authgate's memory after the run. It prints the figures and never fails
#      on them: the targets are read, not asserted (this shared VM moves absolute numbers ±30%).
#
# Knobs (environment):
#   BENCH_MICRO=0       skip step 1
#   BENCH_LOAD=0        skip step 2
#   ROUNDS=5            rounds in step 2; each runs every target once per connection count
#   DUR=10s             length of one wrk run (wrk duration syntax: 3s, 1m)
#   CONNS_LIST="32 64"  wrk connection counts
#   DATABASE_URL        Postgres server to create the throwaway database authgate_bench on;
#                       default: a lease on the private cluster of scripts/devdb.sh (stopped
#                       at the end unless someone else still uses it)
# Needs wrk (installed with apt-get when missing), taskset, curl and psql.
# Binaries, logs and every wrk output go to .data/bench/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh

out=.data/bench
rounds=${ROUNDS:-5}
dur=${DUR:-10s}
conns_list=${CONNS_LIST:-32 64}
bench_db=authgate_bench
path='/forward-auth?scope=bench:read'
warmup=2s

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Cleanup. Everything this script starts is recorded here and undone on any exit.

pids=()        # processes started (servers, wrk); stopped TERM then KILL
leased=0       # 1: this script holds a lease on the private cluster (released at exit)
db_created=0   # 1: this script created $bench_db, so it drops it
admin_url=""   # URL of the server's maintenance connection, for create/drop database

# stop_pid PID: SIGTERM, then SIGKILL if it is still alive after 5 s. By PID only, never by name:
# another authgate or wrk on this machine is none of our business.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid ignored SIGTERM for 5 s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local rc=$? pid
	trap - INT TERM
	for pid in "${pids[@]}"; do stop_pid "$pid"; done
	if ((db_created)); then
		run_psql "$admin_url" -c "drop database if exists $bench_db with (force)" >/dev/null ||
			log "could not drop database $bench_db; drop it by hand"
	fi
	if ((leased)); then scripts/devdb.sh release $$ || true; fi
	return "$rc"
}
trap cleanup EXIT
# Exit (and so clean up) on a signal; wrk runs in the background so this fires at once.
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Step 1: micro-benchmarks.

micro() {
	local pkgs=(./verify/) a
	for a in "$@"; do [[ $a == ./* || $a == ../* ]] && pkgs=(); done
	echo "== micro-benchmarks: go test -run '^\$' -bench . -benchmem -count 5 ${*:+$* }${pkgs[*]}"
	go test -run '^$' -bench . -benchmem -count 5 "$@" "${pkgs[@]}"
	echo
}

# ---------------------------------------------------------------------------------------------
# Tools and database.

# ensure_wrk installs Debian's wrk when it is missing (root, or passwordless sudo).
ensure_wrk() {
	command -v wrk >/dev/null && return 0
	log "wrk not found; installing Debian's wrk"
	apt_install wrk || die "wrk is not installed (see above); install it, or set BENCH_LOAD=0"
	command -v wrk >/dev/null || die "wrk is still not on PATH after installing it"
}

psql_bin=""
find_psql() {
	local d
	psql_bin=$(command -v psql || true)
	if [[ -z $psql_bin ]]; then
		for d in $(compgen -G '/usr/lib/postgresql/*/bin' | sort -V); do
			[[ -x $d/psql ]] && psql_bin=$d/psql
		done
	fi
	[[ -n $psql_bin ]] || die "psql not found: install postgresql-client"
}

run_psql() {
	local url=$1
	shift
	# client_min_messages: no NOTICE for "drop database if exists" of a database that is not there.
	PGOPTIONS='-c client_min_messages=warning' "$psql_bin" -X -q -v ON_ERROR_STOP=1 -tA -d "$url" "$@"
}

# with_db NAME URL: URL with its database (path) replaced by NAME, query string kept.
with_db() {
	local name=$1 url=$2 query="" rest
	[[ $url == *\?* ]] && query="?${url#*\?}"
	url=${url%%\?*}
	[[ $url == *://* ]] || die "DATABASE_URL must be a URL (postgres://user@host:port/db), got a DSN"
	rest=${url#*://}
	printf '%s://%s/%s%s\n' "${url%%://*}" "${rest%%/*}" "$name" "$query"
}

# setup_db sets bench_url to a new, empty database on the server of DATABASE_URL (or of the
# private cluster), so the bench neither reads nor leaves anything in the dev data.
bench_url=""
setup_db() {
	find_psql
	local base=${DATABASE_URL:-}
	if [[ -z $base ]]; then
		# A lease: the cluster stops at exit only if a lease started it and nobody else holds one.
		base=$(scripts/devdb.sh acquire $$ 8>&-) # 8>&-: Postgres must not inherit our bench lock
		leased=1
	fi
	admin_url=$(with_db postgres "$base")
	# A bench killed by SIGKILL leaves its database behind; the lock says no bench is running.
	run_psql "$admin_url" -c "drop database if exists $bench_db with (force)" >/dev/null
	run_psql "$admin_url" -c "create database $bench_db" >/dev/null
	db_created=1
	bench_url=$(with_db "$bench_db" "$base")
}

# ---------------------------------------------------------------------------------------------
# Servers.

port_free() { ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# free_port FROM: the first port from FROM on that nothing listens on.
free_port() {
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		port_free "$p" && { echo "$p"; return; }
	done
	die "no free loopback port in $1-$(($1 + 199))"
}

# wait_ready NAME PID URL: poll URL until it answers 200, failing early if the process died.
wait_ready() {
	local name=$1 pid=$2 url=$3 i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$out/$name.log" >&2; die "$name exited at start; its log is above"; }
		[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url") == 200 ]] && return 0
		sleep 0.1
	done
	tail -n 20 "$out/$name.log" >&2
	die "$name is not answering $url after 15 s; its log is above"
}

secret="" key="" ag_port="" bare_port="" ag_pid="" bare_pid=""
start_servers() {
	log "building authgate and bare into $out/"
	go build -o "$out/authgate" ./cmd/authgate
	go build -o "$out/bare" ./bench/bare
	secret=$(head -c 32 /dev/urandom | base64)
	ag_port=$(free_port 18080)
	bare_port=$(free_port $((ag_port + 1)))

	# The same environment for migrate, keys create and serve: keys are hashed under the secret.
	local ag_env=(DATABASE_URL="$bench_url" AUTHGATE_SECRET="$secret" AUTHGATE_ADDR="127.0.0.1:$ag_port"
		AUTHGATE_LOG_LEVEL=error)
	env "${ag_env[@]}" "$out/authgate" migrate 2>"$out/authgate.log" ||
		{ cat "$out/authgate.log" >&2; die "authgate migrate failed"; }
	key=$(env "${ag_env[@]}" "$out/authgate" keys create --name bench --scope bench:read 2>>"$out/authgate.log") ||
		{ cat "$out/authgate.log" >&2; die "authgate keys create failed"; }
	[[ -n $key ]] || die "authgate keys create printed no key"

	# One server core each, as in the reference figures: CPU 0, GOMAXPROCS=1. wrk gets CPU 1.
	env "${ag_env[@]}" GOMAXPROCS=1 taskset -c 0 "$out/authgate" serve </dev/null >>"$out/authgate.log" 2>&1 8>&- &
	ag_pid=$!
	pids+=("$ag_pid")
	GOMAXPROCS=1 taskset -c 0 "$out/bare" -addr "127.0.0.1:$bare_port" </dev/null >"$out/bare.log" 2>&1 8>&- &
	bare_pid=$!
	pids+=("$bare_pid")
	wait_ready authgate "$ag_pid" "http://127.0.0.1:$ag_port/healthz"
	wait_ready bare "$bare_pid" "http://127.0.0.1:$bare_port/"
	log "authgate pid $ag_pid on 127.0.0.1:$ag_port, bare pid $bare_pid on 127.0.0.1:$bare_port"
}

# ensure_alive NAME PID: fail with the exit status and the log of a server that is gone, so a
# server stopped by something else on the machine is not reported as a wrk failure.
ensure_alive() {
	local name=$1 pid=$2 rc=0 why
	kill -0 "$pid" 2>/dev/null && return 0
	wait "$pid" || rc=$?
	case $rc in
	0) why="exit status 0: it got SIGINT or SIGTERM from outside and shut down cleanly" ;;
	1??) why="killed by signal $(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))" ;;
	*) why="exit status $rc" ;;
	esac
	tail -n 20 "$out/$name.log" >&2
	die "$name (pid $pid) stopped during the bench, $why; the end of its log is above"
}

servers_alive() {
	ensure_alive authgate "$ag_pid"
	ensure_alive bare "$bare_pid"
}

# The request both targets get, so the ceiling pays the same header parsing as authgate.
fwd_headers=(
	'X-Forwarded-Method: GET'
	'X-Forwarded-Proto: https'
	'X-Forwarded-Host: app.example'
	'X-Forwarded-Uri: /events'
	'X-Forwarded-For: 203.0.113.7'
)

url_of() {
	case $1 in
	authgate) echo "http://127.0.0.1:$ag_port$path" ;;
	bare) echo "http://127.0.0.1:$bare_port$path" ;;
	esac
}

# check_allow_deny: a bench of an authgate that denies would only measure the deny path.
check_allow_deny() {
	local h args=() hdrs code
	for h in "${fwd_headers[@]}"; do args+=(-H "$h"); done
	hdrs=$(curl -s -o /dev/null -D - --max-time 5 "${args[@]}" -H "X-API-Key: $key" "$(url_of authgate)")
	code=$(awk 'NR == 1 { print $2 }' <<<"$hdrs")
	[[ $code == 200 ]] || die "authgate answered $code, not 200, to the bench request with a valid key; headers: $hdrs"
	grep -qi '^X-Auth-Key-Id: ' <<<"$hdrs" || die "authgate answered 200 without X-Auth-Key-Id; headers: $hdrs"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${args[@]}" "$(url_of authgate)")
	[[ $code == 401 ]] || die "authgate answered $code, not 401, to the bench request without a key"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${args[@]}" -H "X-API-Key: $key" "$(url_of bare)")
	[[ $code == 200 ]] || die "bare answered $code, not 200"
	log "checked: authgate allows the bench key (200 + X-Auth-Key-Id) and denies without it (401)"
}

# ---------------------------------------------------------------------------------------------
# wrk.

# run_wrk FILE TARGET CONNS DUR: one wrk run, output to FILE. In the background plus wait, so a
# signal reaches the traps at once and cleanup stops wrk too.
run_wrk() {
	local file=$1 target=$2 conns=$3 d=$4 h args=() pid rc=0
	for h in "${fwd_headers[@]}" "X-API-Key: $key"; do args+=(-H "$h"); done
	taskset -c 1 wrk -t1 -c"$conns" -d"$d" --latency "${args[@]}" "$(url_of "$target")" >"$file" 2>&1 </dev/null 8>&- &
	pid=$!
	pids+=("$pid")
	wait "$pid" || rc=$?
	if ((rc != 0)); then
		cat "$file" >&2
		servers_alive
		die "wrk against $target failed (exit $rc)"
	fi
}

# parse_wrk FILE: prints "req/s p50_ms p99_ms non2xx socket_errors" from wrk --latency output.
parse_wrk() {
	awk '
		function ms(s,   v, u) {
			v = s; sub(/[a-z]+$/, "", v); u = substr(s, length(v) + 1)
			if (u == "us") return v / 1000
			if (u == "ms") return v
			if (u == "s") return v * 1000
			if (u == "m") return v * 60000
			return -1
		}
		/^Requests\/sec:/ { rps = $2 }
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		/Non-2xx or 3xx responses:/ { non2xx = $NF }
		/Socket errors:/ { sub(/.*Socket errors: */, ""); gsub(/[^0-9 ]/, ""); n = split($0, e, " "); for (i = 1; i <= n; i++) sockerr += e[i] }
		END { printf "%s %s %s %d %d\n", rps == "" ? 0 : rps, p50 == "" ? -1 : p50, p99 == "" ? -1 : p99, non2xx, sockerr }
	' "$1"
}

results="" # TSV: round conns target req/s p50_ms p99_ms

# measure ROUND TARGET CONNS: one timed run, appended to $results.
measure() {
	local round=$1 target=$2 conns=$3 file rps p50 p99 non2xx sockerr
	file="$out/wrk-r$round-c$conns-$target.txt"
	servers_alive
	run_wrk "$file" "$target" "$conns" "$dur"
	servers_alive # a server that died mid-run leaves wrk with socket errors, not a failure
	read -r rps p50 p99 non2xx sockerr < <(parse_wrk "$file")
	[[ $rps != 0 && $p50 != -1 && $p99 != -1 ]] || { cat "$file" >&2; die "could not read req/s and latency from wrk's output above"; }
	if ((non2xx > 0)) && [[ $target == authgate ]]; then
		cat "$file" >&2
		run_psql "$bench_url" -c 'select 1' >/dev/null 2>&1 ||
			log "Postgres does not answer any more: something stopped it during the bench, so authgate could not refresh the key"
		die "authgate answered $non2xx requests with non-2xx in round $round (conns $conns): the bench would measure denials; see $file and $out/authgate.log"
	fi
	((sockerr == 0)) || log "warning: wrk saw $sockerr socket errors against $target (round $round, conns $conns); see $file"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$conns" "$target" "$rps" "$p50" "$p99" >>"$results"
	printf '  round %d conns %3d %-8s %9.0f req/s  p50 %7.2f ms  p99 %8.2f ms\n' \
		"$round" "$conns" "$target" "$rps" "$p50" "$p99" >&2
}

# ---------------------------------------------------------------------------------------------
# Report.

# report: per connection count, a table of medians and the per-round ratio; then one summary
# line per connection count, gathered in $out/summary.txt so they print together at the end.
report() {
	local c sums=$out/summary.txt
	: >"$sums"
	echo "== load: /forward-auth, authgate vs bare Echo; $rounds rounds x $dur, servers on CPU 0 (GOMAXPROCS=1), wrk -t1 on CPU 1"
	for c in $conns_list; do
		awk -v c="$c" -v sums="$sums" '
			function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
			function median(a, n) { sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
			function fms(v) { return v < 10 ? sprintf("%.2fms", v) : v < 100 ? sprintf("%.1fms", v) : sprintf("%.0fms", v) }
			# row TARGET: prints its line and sets q99 to its median p99.
			function row(t, cell,   i, a, b, d, med) {
				for (i = 1; i <= n[t]; i++) { a[i] = rps[t, i]; b[i] = p50[t, i]; d[i] = p99[t, i] }
				med = median(a, n[t]); q99 = median(d, n[t])
				printf "%-9s %-24s %-9s %-9s %s\n", t, sprintf("%.0f (%.0f-%.0f)", med, a[1], a[n[t]]), fms(median(b, n[t])), fms(q99), cell
			}
			$2 == c { t = $3; n[t]++; rps[t, n[t]] = $4; p50[t, n[t]] = $5; p99[t, n[t]] = $6; by[$1, t] = $4; rs[$1] = 1 }
			END {
				nr = 0
				for (r in rs) if (by[r, "bare"] > 0 && (r, "authgate") in by) ratio[++nr] = by[r, "authgate"] / by[r, "bare"]
				mr = median(ratio, nr)
				printf "\nconns=%d\n", c
				printf "%-9s %-24s %-9s %-9s %s\n", "target", "req/s median (min-max)", "p50", "p99", "ratio authgate/bare, median of rounds (min-max)"
				row("bare", "1 (the ceiling)"); bp99 = q99
				row("authgate", sprintf("%.3f (%.3f-%.3f)", mr, ratio[1], ratio[nr])); ap99 = q99
				printf "conns=%d ratio=%.2f authgate p99=%s (targets: ratio >= 0.85, p99 <= 2 ms; bare p99=%s)\n", c, mr, fms(ap99), fms(bp99) >>sums
			}
		' "$results"
	done
	echo
	cat "$sums"
}

# rss: authgate's resident memory after the load, from /proc (VmHWM is the peak).
rss() {
	local status=/proc/$ag_pid/status
	[[ -r $status ]] || { log "authgate is gone; no memory figure"; return; }
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "authgate memory after the run: VmRSS %d kB, peak VmHWM %d kB\n", r, h }' "$status"
}

# ---------------------------------------------------------------------------------------------
# Load run.

load() {
	ensure_wrk
	command -v taskset >/dev/null || die "taskset not found: install util-linux"
	command -v curl >/dev/null || die "curl not found: apt-get install curl"
	[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive whole number, got '$rounds'"
	local c
	for c in $conns_list; do [[ $c =~ ^[1-9][0-9]*$ ]] || die "CONNS_LIST must hold positive whole numbers, got '$conns_list'"; done

	setup_db
	start_servers
	check_allow_deny

	results=$out/results.tsv
	: >"$results"
	log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	# Warm-up: fills authgate's key cache and gets both servers' goroutines and buffers going.
	local t
	for t in bare authgate; do run_wrk "$out/wrk-warmup-$t.txt" "$t" "${conns_list%% *}" "$warmup"; done

	local r order
	for ((r = 1; r <= rounds; r++)); do
		# Alternate who goes first, so a drift in the machine's load hits both sides alike.
		if ((r % 2)); then order=(bare authgate); else order=(authgate bare); fi
		for c in $conns_list; do
			for t in "${order[@]}"; do
				measure "$r" "$t" "$c"
				sleep 1 # let closed connections and the other side's GC settle
			done
		done
	done
	log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

	report
	rss
	echo "load average (1/5/15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg); wrk outputs and logs: $out/"
}

# ---------------------------------------------------------------------------------------------

mkdir -p "$out"
# One bench at a time: two would share CPU 0 and the bench database. Children close fd 8.
exec 8>"$out/lock"
flock -n 8 || die "another scripts/bench.sh is running (lock $out/lock)"

if [[ ${BENCH_MICRO:-1} != 0 ]]; then micro "$@"; fi
if [[ ${BENCH_LOAD:-1} != 0 ]]; then load; fi
