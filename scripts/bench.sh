#!/usr/bin/env bash
# make bench: how fast authgate answers /forward-auth, next to two bare Echo handlers (ceilings).
#
#   1. Micro-benchmarks: go test -run '^$' -bench . -benchmem -count 5 ./verify/
#      Extra arguments go to that go test: flags come before the package, and ./-style package
#      patterns replace ./verify/ (make bench ARGS='-bench Cache -cpu 1'). Then, whatever the
#      arguments, the live heap of 100 000 cached credentials: -bench Cache_Memory100k -benchtime 1x.
#   2. Load run: authgate and bench/bare, each pinned to CPU 0 with GOMAXPROCS=1, driven by wrk
#      with 1 thread on CPU 1, in alternating rounds. One wrk run per row per round: the two
#      ceilings (bare: 200 with two headers; ident: bare -identity, 200 with the eight identity
#      headers authgate sends) and authgate's rows (see bench/README.md): key (cached API key,
#      allow), revoked (revoked key, 401), garbage (bad checksum, 401), token (personal token,
#      allow), jwt (access token from /v1/auth/login, allow), session (portal cookie, allow).
#      Prints, per connection count, each row's median req/s (min-max), p50, p99 and the median
#      of its per-round ratio to each ceiling, and authgate's memory after the run. It prints
#      the figures and never fails on them: the targets are read, not asserted (this shared VM
#      moves absolute numbers ±30%).
#
# Knobs (environment):
#   BENCH_MICRO=0       skip step 1
#   BENCH_LOAD=0        skip step 2
#   BENCH_ROWS="key revoked garbage token jwt session"
#                       authgate's rows in step 2 (space or comma separated); both ceilings always run
#   ROUNDS=5            rounds in step 2; each runs every row once per connection count
#   DUR=10s             length of one wrk run (wrk duration syntax: 3s, 1m)
#   CONNS_LIST="64"     wrk connection counts
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
conns_list=${CONNS_LIST:-64}
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
	# The memory figure of issue 14: live heap per cached credential, 100 000 of them.
	echo "== cache memory: go test -run '^\$' -bench Cache_Memory100k -benchtime 1x ./verify/"
	go test -run '^$' -bench Cache_Memory100k -benchtime 1x ./verify/
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

# Rows: what each wrk run sends and what it must get back. The two ceilings always run; the rows
# of authgate are those BENCH_ROWS names. Each authgate row sends one credential; both ceilings
# get the key row's request, so they pay the same header parsing as authgate.
all_rows="key revoked garbage token jwt session"
declare -A row_cred=() # row: the credential header ("Name: value")
declare -A row_want=() # row: the status every answer must have (200 allow, 401 deny)
declare -A row_host=() # row: X-Forwarded-Host (a session cookie counts only on its cookie domain)
declare -A row_desc=() # row: what it is, for the table
rows=()                # the authgate rows of this run, in the order of all_rows
targets=()             # bare ident and the rows

secret="" key="" ag_port="" bare_port="" ident_port="" ag_pid="" bare_pid="" ident_pid=""
ag_env=()

# ag_cli ARGS...: the CLI binary with authgate's environment; stderr to its log.
ag_cli() { env "${ag_env[@]}" "$out/authgate" "$@" 2>>"$out/authgate.log"; }

# api METHOD PATH AUTH [JSON]: a management API call; prints the body, fails on a non-2xx.
api() {
	local method=$1 p=$2 auth=$3 body=${4:-} resp code args=()
	[[ -n $auth ]] && args+=(-H "Authorization: Bearer $auth")
	[[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data "$body")
	resp=$(curl -s --max-time 10 -X "$method" "${args[@]}" -w '\n%{http_code}' "http://127.0.0.1:$ag_port$p") ||
		die "$method $p: curl failed"
	code=${resp##*$'\n'}
	[[ $code == 2?? ]] || die "$method $p answered $code: ${resp%$'\n'*}"
	printf '%s\n' "${resp%$'\n'*}"
}

# json_field NAME: the string value of "NAME" in the JSON on stdin (the answers are flat enough).
json_field() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }

start_servers() {
	log "building authgate and bare into $out/"
	go build -o "$out/authgate" ./cmd/authgate
	go build -o "$out/bare" ./bench/bare
	secret=$(head -c 32 /dev/urandom | base64)
	ag_port=$(free_port 18080)
	bare_port=$(free_port $((ag_port + 1)))
	ident_port=$(free_port $((bare_port + 1)))

	# The same environment for migrate, the CLI and serve: keys are hashed under the secret. The
	# portal (for the session row) on auth.home.localhost, in development mode: plain http. Access
	# tokens live 1 h, longer than a default run.
	ag_env=(DATABASE_URL="$bench_url" AUTHGATE_SECRET="$secret" AUTHGATE_ADDR="127.0.0.1:$ag_port"
		AUTHGATE_LOG_LEVEL=error AUTHGATE_ACCESS_TTL=1h
		AUTHGATE_COOKIE_DOMAINS=home.localhost AUTHGATE_PORTAL_URLS="http://auth.home.localhost:$ag_port" AUTHGATE_PORTAL_DEV=true)
	: >"$out/authgate.log"
	ag_cli migrate || { cat "$out/authgate.log" >&2; die "authgate migrate failed"; }
	key=$(ag_cli keys create --name bench --scope bench:read) ||
		{ cat "$out/authgate.log" >&2; die "authgate keys create failed"; }
	[[ -n $key ]] || die "authgate keys create printed no key"
	row_cred[key]="X-API-Key: $key"

	# One server core each, as in the reference figures: CPU 0, GOMAXPROCS=1. wrk gets CPU 1.
	env "${ag_env[@]}" GOMAXPROCS=1 taskset -c 0 "$out/authgate" serve </dev/null >>"$out/authgate.log" 2>&1 8>&- &
	ag_pid=$!
	pids+=("$ag_pid")
	GOMAXPROCS=1 taskset -c 0 "$out/bare" -addr "127.0.0.1:$bare_port" </dev/null >"$out/bare.log" 2>&1 8>&- &
	bare_pid=$!
	pids+=("$bare_pid")
	GOMAXPROCS=1 taskset -c 0 "$out/bare" -identity -addr "127.0.0.1:$ident_port" </dev/null >"$out/ident.log" 2>&1 8>&- &
	ident_pid=$!
	pids+=("$ident_pid")
	wait_ready authgate "$ag_pid" "http://127.0.0.1:$ag_port/healthz"
	wait_ready bare "$bare_pid" "http://127.0.0.1:$bare_port/"
	wait_ready ident "$ident_pid" "http://127.0.0.1:$ident_port/"
	log "authgate pid $ag_pid on :$ag_port, bare pid $bare_pid on :$bare_port, bare -identity pid $ident_pid on :$ident_port"
	make_credentials
}

# make_credentials: one credential per row chosen, each through the path a user takes.
make_credentials() {
	local r id admin password jwt cookie hdrs
	for r in "${rows[@]}"; do row_host[$r]=app.example; done
	if want_row revoked; then
		ag_cli keys create --name bench-revoked --scope bench:read >"$out/revoked.key" || die "keys create (revoked) failed"
		id=$(sed -n 's/.*created key \([^ ]*\) .*/\1/p' "$out/authgate.log" | tail -n 1)
		[[ -n $id ]] || die "could not read the revoked key's id from $out/authgate.log"
		ag_cli keys revoke "$id" || die "keys revoke $id failed"
		row_cred[revoked]="X-API-Key: $(cat "$out/revoked.key")"
	fi
	# A wrong last checksum character: the verifier drops it before any cache or lookup.
	if want_row garbage; then
		local last=${key: -1}
		[[ $last == A ]] && last=B || last=A
		row_cred[garbage]="X-API-Key: ${key%?}$last"
	fi
	want_row token || want_row jwt || want_row session || return 0

	# A user with a role holding bench:read. Roles and permissions are made over the API, by a
	# key the CLI makes for that.
	admin=$(ag_cli keys create --name bench-admin --scope roles:write --scope bench:read) || die "keys create (admin) failed"
	api POST /v1/permissions "$admin" '{"name":"bench:read","description":"make bench"}' >/dev/null
	api POST /v1/roles "$admin" '{"name":"bench","description":"make bench","permissions":["bench:read"]}' >/dev/null
	password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	printf '%s\n' "$password" | ag_cli users create --username bench --email bench@example.com --full-name Bench --role bench ||
		{ tail -n 5 "$out/authgate.log" >&2; die "users create failed"; }
	jwt=$(api POST /v1/auth/login "" "{\"login\":\"bench\",\"password\":\"$password\"}" | json_field access_token)
	[[ -n $jwt ]] || die "POST /v1/auth/login gave no access_token"
	row_cred[jwt]="Authorization: Bearer $jwt"
	if want_row token; then
		id=$(api POST /v1/me/tokens "$jwt" '{"name":"bench","scopes":["bench:read"],"expires_in_days":1}' | json_field token)
		[[ -n $id ]] || die "POST /v1/me/tokens gave no token"
		row_cred[token]="Authorization: Bearer $id"
	fi
	if want_row session; then
		# The portal's sign-in form, as a browser on auth.home.localhost would post it.
		hdrs=$(curl -s -o /dev/null -D - --max-time 10 -H "Host: auth.home.localhost:$ag_port" \
			--data-urlencode login=bench --data-urlencode "password=$password" "http://127.0.0.1:$ag_port/login")
		cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: *\(authgate_session=[^;]*\).*/\1/p' <<<"$hdrs" | head -n 1)
		[[ -n $cookie ]] || die "the portal's POST /login set no authgate_session cookie; headers: $hdrs"
		row_cred[session]="Cookie: $cookie"
		row_host[session]=app.home.localhost
	fi
}

want_row() { [[ " ${rows[*]} " == *" $1 "* ]]; }

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
	ensure_alive ident "$ident_pid"
}

# The forwarded request every target gets; X-Forwarded-Host is the row's (row_host).
fwd_headers=(
	'X-Forwarded-Method: GET'
	'X-Forwarded-Proto: https'
	'X-Forwarded-Uri: /events'
	'X-Forwarded-For: 203.0.113.7'
)

url_of() {
	case $1 in
	bare) echo "http://127.0.0.1:$bare_port$path" ;;
	ident) echo "http://127.0.0.1:$ident_port$path" ;;
	*) echo "http://127.0.0.1:$ag_port$path" ;;
	esac
}

# req_args TARGET: sets hargs to curl's and wrk's -H arguments for TARGET's request. The
# ceilings get the key row's request.
hargs=()
req_args() {
	local t=$1 h
	[[ $t == bare || $t == ident ]] && t=key
	hargs=()
	for h in "${fwd_headers[@]}" "X-Forwarded-Host: ${row_host[$t]:-app.example}" "${row_cred[$t]:-X-API-Key: $key}"; do
		hargs+=(-H "$h")
	done
}

# check_rows: each row gets its status once before any timing (an allow with its identity
# headers), so the bench never measures a path other than the one its row names.
check_rows() {
	local t hdrs code want
	for t in "${targets[@]}"; do
		req_args "$t"
		hdrs=$(curl -s -o /dev/null -D - --max-time 5 "${hargs[@]}" "$(url_of "$t")")
		code=$(awk 'NR == 1 { print $2 }' <<<"$hdrs")
		want=${row_want[$t]:-200}
		[[ $code == "$want" ]] || die "$t answered $code, not $want, to its bench request; headers: $hdrs"
		if [[ $want == 200 && $t != bare ]]; then
			grep -qi '^X-Auth-Subject: ' <<<"$hdrs" || die "$t answered 200 without X-Auth-Subject; headers: $hdrs"
		fi
	done
	req_args key
	hargs=("${hargs[@]:0:${#hargs[@]}-2}") # without the credential
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${hargs[@]}" "$(url_of key)")
	[[ $code == 401 ]] || die "authgate answered $code, not 401, to the bench request without a credential"
	log "checked: every row answers as it should (${rows[*]}), and authgate denies without a credential"
}

# ---------------------------------------------------------------------------------------------
# wrk.

# run_wrk FILE TARGET CONNS DUR: one wrk run, output to FILE. In the background plus wait, so a
# signal reaches the traps at once and cleanup stops wrk too.
run_wrk() {
	local file=$1 target=$2 conns=$3 d=$4 pid rc=0
	req_args "$target"
	taskset -c 1 wrk -t1 -c"$conns" -d"$d" --latency "${hargs[@]}" "$(url_of "$target")" >"$file" 2>&1 </dev/null 8>&- &
	pid=$!
	pids+=("$pid")
	wait "$pid" || rc=$?
	if ((rc != 0)); then
		cat "$file" >&2
		servers_alive
		die "wrk against $target failed (exit $rc)"
	fi
}

# parse_wrk FILE: prints "req/s p50_ms p99_ms non2xx socket_errors requests" from wrk --latency output.
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
		/ requests in / { total = $1 }
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		/Non-2xx or 3xx responses:/ { non2xx = $NF }
		/Socket errors:/ { sub(/.*Socket errors: */, ""); gsub(/[^0-9 ]/, ""); n = split($0, e, " "); for (i = 1; i <= n; i++) sockerr += e[i] }
		END { printf "%s %s %s %d %d %d\n", rps == "" ? 0 : rps, p50 == "" ? -1 : p50, p99 == "" ? -1 : p99, non2xx, sockerr, total }
	' "$1"
}

results="" # TSV: round conns target req/s p50_ms p99_ms

# measure ROUND TARGET CONNS: one timed run, appended to $results.
measure() {
	local round=$1 target=$2 conns=$3 file rps p50 p99 non2xx sockerr total want
	file="$out/wrk-r$round-c$conns-$target.txt"
	servers_alive
	run_wrk "$file" "$target" "$conns" "$dur"
	servers_alive # a server that died mid-run leaves wrk with socket errors, not a failure
	read -r rps p50 p99 non2xx sockerr total < <(parse_wrk "$file")
	[[ $rps != 0 && $p50 != -1 && $p99 != -1 ]] || { cat "$file" >&2; die "could not read req/s and latency from wrk's output above"; }
	want=${row_want[$target]:-200}
	# An allow row must see only 2xx and a deny row only denials (wrk counts unfinished
	# requests in neither, so "all" is within the socket errors).
	local wrong=0
	if [[ $want == 200 ]]; then ((non2xx == 0)) || wrong=1; else ((non2xx + sockerr >= total)) || wrong=1; fi
	if ((wrong)); then
		cat "$file" >&2
		run_psql "$bench_url" -c 'select 1' >/dev/null 2>&1 ||
			log "Postgres does not answer any more: something stopped it during the bench, so authgate could not refresh the credential"
		die "$target answered $non2xx of $total requests with non-2xx in round $round (conns $conns), want every one $want: the bench would measure another path; see $file and $out/authgate.log"
	fi
	((sockerr == 0)) || log "warning: wrk saw $sockerr socket errors against $target (round $round, conns $conns); see $file"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$conns" "$target" "$rps" "$p50" "$p99" >>"$results"
	printf '  round %d conns %3d %-8s %9.0f req/s  p50 %7.2f ms  p99 %8.2f ms\n' \
		"$round" "$conns" "$target" "$rps" "$p50" "$p99" >&2
}

# ---------------------------------------------------------------------------------------------
# Report.

# report: per connection count, one table: each target's median req/s (min-max), p50, p99, and
# the median over rounds of its ratio to each ceiling in the same round.
report() {
	local c t desc=""
	echo "== load: /forward-auth, authgate rows vs two bare Echo ceilings; $rounds rounds x $dur, servers on CPU 0 (GOMAXPROCS=1), wrk -t1 on CPU 1"
	for t in "${targets[@]}"; do desc+="$t=${row_desc[$t]}"$'\t'; done
	for c in $conns_list; do
		awk -v c="$c" -v order="${targets[*]}" -v desc="$desc" '
			function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
			function median(a, n) { sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
			function fms(v) { return v < 10 ? sprintf("%.2fms", v) : v < 100 ? sprintf("%.1fms", v) : sprintf("%.0fms", v) }
			# ratio T CEIL: median (min-max) over rounds of T req/s / CEIL req/s in the same round.
			function ratio(t, ceil,   r, a, k) {
				k = 0
				for (r in rs) if (by[r, ceil] > 0 && (r, t) in by) a[++k] = by[r, t] / by[r, ceil]
				if (k == 0) return "-"
				return sprintf("%.3f (%.2f-%.2f)", median(a, k), a[1], a[k])
			}
			BEGIN { nd = split(desc, d, "\t"); for (i = 1; i <= nd; i++) { j = index(d[i], "="); if (j) what[substr(d[i], 1, j - 1)] = substr(d[i], j + 1) } }
			$2 == c { t = $3; n[t]++; rps[t, n[t]] = $4; p50[t, n[t]] = $5; p99[t, n[t]] = $6; by[$1, t] = $4; rs[$1] = 1 }
			END {
				printf "\nconns=%d\n", c
				printf "%-8s %-24s %-8s %-8s %-20s %-20s %s\n", "row", "req/s median (min-max)", "p50", "p99", "ratio to bare", "ratio to ident", "what"
				nt = split(order, ts, " ")
				for (i = 1; i <= nt; i++) {
					t = ts[i]
					if (!n[t]) continue
					for (j = 1; j <= n[t]; j++) { a[j] = rps[t, j]; b[j] = p50[t, j]; e[j] = p99[t, j] }
					med = median(a, n[t])
					printf "%-8s %-24s %-8s %-8s %-20s %-20s %s\n", t, sprintf("%.0f (%.0f-%.0f)", med, a[1], a[n[t]]),
						fms(median(b, n[t])), fms(median(e, n[t])), ratio(t, "bare"), ratio(t, "ident"), what[t]
					delete a; delete b; delete e
				}
			}
		' "$results"
	done
	echo
	echo "ratio to bare: of the plainest Echo handler; ratio to ident: of one that answers with the same"
	echo "eight X-Auth-* headers, so 1 - ident/bare is what the header contract costs and the rest the implementation."
}

# rss: authgate's resident memory after the load, from /proc (VmHWM is the peak).
rss() {
	local status=/proc/$ag_pid/status
	[[ -r $status ]] || { log "authgate is gone; no memory figure"; return; }
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "authgate memory after the run: VmRSS %d kB, peak VmHWM %d kB\n", r, h }' "$status"
}

# ---------------------------------------------------------------------------------------------
# Load run.

# choose_rows: rows and targets from BENCH_ROWS, in the order of all_rows.
choose_rows() {
	local r want=" ${BENCH_ROWS:-$all_rows} "
	want=${want//,/ }
	for r in $want; do [[ " $all_rows " == *" $r "* ]] || die "BENCH_ROWS: unknown row '$r' (rows: $all_rows)"; done
	rows=()
	for r in $all_rows; do [[ $want == *" $r "* ]] && rows+=("$r"); done
	((${#rows[@]})) || die "BENCH_ROWS names no row (rows: $all_rows)"
	targets=(bare ident "${rows[@]}")
	row_want=([revoked]=401 [garbage]=401)
	row_desc=([bare]="ceiling: bare Echo, 200 + 2 headers" [ident]="ceiling: bare Echo, 200 + the 8 identity headers"
		[key]="API key (cached), allow" [revoked]="revoked API key, deny 401" [garbage]="bad checksum, deny 401"
		[token]="personal token (cached), allow" [jwt]="own JWT (login access token), allow"
		[session]="portal session cookie (cached), allow")
}

load() {
	ensure_wrk
	command -v taskset >/dev/null || die "taskset not found: install util-linux"
	command -v curl >/dev/null || die "curl not found: apt-get install curl"
	[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive whole number, got '$rounds'"
	local c
	for c in $conns_list; do [[ $c =~ ^[1-9][0-9]*$ ]] || die "CONNS_LIST must hold positive whole numbers, got '$conns_list'"; done
	choose_rows

	setup_db
	start_servers
	check_rows

	results=$out/results.tsv
	: >"$results"
	log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	# Warm-up: fills authgate's caches and gets the servers' goroutines and buffers going.
	local t
	for t in "${targets[@]}"; do run_wrk "$out/wrk-warmup-$t.txt" "$t" "${conns_list%% *}" "$warmup"; done

	local r order i n=${#targets[@]}
	for ((r = 1; r <= rounds; r++)); do
		# Alternate the order each round, so a drift in the machine's load hits every side alike.
		order=()
		if ((r % 2)); then
			order=("${targets[@]}")
		else
			for ((i = n - 1; i >= 0; i--)); do order+=("${targets[i]}"); done
		fi
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
