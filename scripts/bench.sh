#!/usr/bin/env bash
# make bench: how fast authgate answers /forward-auth, next to bare Echo handlers (ceilings).
#
#   1. Micro-benchmarks: go test -run '^$' -bench . -benchmem -count 5 ./verify/
#      Extra arguments go to that go test: flags come before the package, and ./-style package
#      patterns replace ./verify/ (make bench ARGS='-bench Cache -cpu 1'). Then, whatever the
#      arguments, the parallel benchmarks at each core count of BENCH_CPUS (-bench Parallel -cpu),
#      with each one's speed-up as a share of bare Echo's (bench/speedup; the issue's target is
#      0.80 at 16 cores), the contended locks on the path (a mutex profile of three of them on
#      every core: see locks), and the memory benchmarks once (-bench Memory -benchtime 1x): live heap and RSS per cached
#      credential, 100 000 of each kind, and per entry of the hot path's other maps.
#   2. Load run: authgate and bench/bare, each pinned to CPU 0 with GOMAXPROCS=1, driven by wrk
#      with 1 thread on CPU 1, in alternating rounds. One wrk run per target per round. Two groups
#      of targets (see bench/README.md), each with its own ceilings:
#      - direct, on /forward-auth: the ceilings bare (200 with two headers) and ident (bare
#        -identity, 200 with the eight identity headers authgate sends), both sent the key row's
#        request; with the jwt row ident-jwt (ident sent the jwt row's request); with a deny row
#        deny (bare -deny, 401 as authgate denies, sent the garbage row's request). Then
#        authgate's rows: key (cached API key, allow), revoked (revoked key, 401), garbage (bad
#        checksum, 401), token (personal token, allow), jwt (access token from /v1/auth/login,
#        allow), session (portal cookie, allow), ext (access token of an external issuer, the
#        OpenID provider of scripts/oidc-provider.sh, allow) and ext-bad (that token with a
#        tampered signature, 401). Each row's contract is the ceiling that answers as it must, to
#        a request of its size: ident, ident-jwt (jwt, ext) or deny (the denies);
#      - nginx (BENCH_ROWS word nginx): one nginx worker on CPU 0 in front of bare as the app, with
#        the shipped deploy/nginx/ snippets: ngx (no auth: the ceiling), ngx-bare and ngx-ident
#        (auth_request to bare and to bare -identity: ideal verifiers), ngx-key (auth_request to
#        authgate, cached API key, allow) and ngx-garbage (bad checksum, 401 from @authgate_401).
#      Prints, per connection count and group, each target's median req/s (min-max), p50, p99 and
#      the median of its per-round ratio to each ceiling of its group (direct: bare and the row's
#      contract); then the same for the CPU time the target's processes spent per request (see
#      cpu_of), which time stolen by a VM's host does not move; for the nginx rows, that CPU split
#      between nginx's worker, the app and the verifier (report_roles); and authgate's memory
#      after the run. It prints the figures and never fails on them: the targets are read, not
#      asserted (this shared VM moves absolute numbers ±30%).
#
# Knobs (environment):
#   BENCH_MICRO=0       skip step 1
#   BENCH_CPUS=1,2,4    the -cpu list of step 1's parallel benchmarks; default 1, 2, 4, … up to
#                       this machine's cores (on a 16-core machine: 1,2,4,8,16)
#   BENCH_LOAD=0        skip step 2
#   BENCH_MODE=together each direct row runs at the same time as its two ceilings (bare and its
#                       contract), three servers sharing CPU 0, each with its own wrk; and each nginx
#                       row beside a ceiling running on a second nginx stack (an nginx and an app of
#                       its own): ngx-key beside each ceiling, ngx-garbage beside ngx, and the
#                       ceilings beside each other. Only the CPU time per request is compared: a
#                       change in the machine's speed moves both sides of a ratio at the same moment,
#                       where in the default (alternate: one target at a time) it moves one round of
#                       one side. On a shared VM these are the figures to quote
#   BENCH_PROFILE=1     after the timed rounds, one more (untimed) wrk run per authgate row with a
#                       CPU profile of authgate (built with -tags pprof, which serves net/http/pprof
#                       on a loopback port; release builds have no such listener): the profiles go
#                       to .data/bench/cpu-ROW.prof and the top of each is printed
#   BENCH_ROWS="key revoked garbage token jwt session ext ext-bad nginx"
#                       the rows of step 2 (space or comma separated); a group's ceilings run when
#                       any of its rows does. ext and ext-bad need the OpenID provider (built by
#                       scripts/oidc-provider.sh ensure, 1-3 minutes cold); nginx needs nginx
#   ROUNDS=5            rounds in step 2; each runs every target once per connection count
#   DUR=10s             length of one wrk run (wrk duration syntax: 3s, 1m); with ext rows at most
#                       the provider's token lifetime (5 min) less a minute
#   CONNS_LIST="64"     wrk connection counts
#   DATABASE_URL        Postgres server to create the throwaway database authgate_bench on;
#                       default: a lease on the private cluster of scripts/devdb.sh (stopped
#                       at the end unless someone else still uses it)
# Needs wrk and, for the nginx rows, nginx (both installed with apt-get when missing), taskset, curl
# and psql. Binaries, logs, nginx's configuration and every wrk output go to .data/bench/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh

out=.data/bench
rounds=${ROUNDS:-5}
dur=${DUR:-10s}
dur_s=0 # dur in seconds (load checks it)
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
	# The memory and parallel benchmarks run in their own steps below.
	echo "== micro-benchmarks: go test -run '^\$' -bench . -skip 'Memory|Parallel' -benchmem -count 5 ${*:+$* }${pkgs[*]}"
	go test -run '^$' -bench . -skip 'Memory|Parallel' -benchmem -count 5 "$@" "${pkgs[@]}"
	echo
	# From every core at once, at each core count: the cached handler over 4 096 keys and a bare
	# Echo handler (verify), and one busy key with the metrics and usage observers (metrics).
	echo "== parallel: go test -run '^\$' -bench Parallel -cpu $cpus -count 3 ./verify/ ./metrics/"
	go test -run '^$' -bench Parallel -cpu "$cpus" -count 3 ./verify/ ./metrics/ | tee "$out/parallel.txt"
	echo
	# The same, read as the issue's target is set: each one's speed-up next to bare Echo's.
	echo "== parallel speed-up: bench/speedup < $out/parallel.txt"
	go run ./bench/speedup -baseline BareEcho_Parallel <"$out/parallel.txt"
	echo
	locks
	# The memory figures of issue 14: live heap (and RSS) per cached credential, 100 000 of each
	# kind, and per entry of the other maps on the path, each filled to its bound.
	echo "== memory: go test -run '^\$' -bench Memory -benchtime 1x ./verify/"
	go test -run '^$' -bench Memory -benchtime 1x ./verify/
	echo
}

# locks: what a verify waits for on another core, in a way that does not need many cores to show.
# The parallel benchmarks of one busy key, one busy JWT and 4 096 keys run on every core with Go's
# mutex profile on, and each prints how often a request waited for a lock that another held in
# authgate's code (the runtime's own waits, such as the garbage collector's, are left out).
# 0 is the goal: a lookup that waits for a lock serialises as cores are added.
locks() {
	local bin b n=1000000 prof
	bin=$(mktemp -d)
	go test -c -o "$bin/verify.test" ./verify/
	echo "== locks: contended locks in authgate's frames per $n requests, -cpu $(nproc), mutex profile"
	for b in ParallelOneKey ParallelOneJWT ParallelCached; do
		prof=$bin/mutex-$b.prof
		"$bin/verify.test" -test.run '^$' -test.bench "^BenchmarkHandler_$b\$" -test.cpu "$(nproc)" \
			-test.benchtime "${n}x" -test.mutexprofile "$prof" -test.mutexprofilefraction 1 >/dev/null
		printf '%-16s %s\n' "$b" "$(go tool pprof -raw -sample_index=contentions -focus='authgate/verify\.' -ignore='^runtime\.' \
			"$bin/verify.test" "$prof" 2>/dev/null | awk '/^Samples:/{s=1;next} /^Locations/{s=0} s && $1 ~ /^[0-9]+:?$/{c+=$1} END{print c+0}')"
	done
	rm -rf "$bin"
	echo
}

# default_cpus: 1,2,4,… up to this machine's cores, and the core count itself when it is not a power of two.
default_cpus() {
	local n c=1 list=""
	n=$(nproc)
	while ((c <= n)); do
		list+=${list:+,}$c
		c=$((c * 2))
	done
	((c / 2 == n)) || list+=,$n
	echo "$list"
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

# ensure_nginx sets nginx_bin, installing Debian's nginx when it is missing (its service is not
# started: apt_install forbids it). Debian puts nginx in /usr/sbin, often not on a user's PATH.
nginx_bin=""
find_nginx() {
	nginx_bin=$(command -v nginx || true)
	if [[ -z $nginx_bin && -x /usr/sbin/nginx ]]; then nginx_bin=/usr/sbin/nginx; fi
	[[ -n $nginx_bin ]]
}
ensure_nginx() {
	find_nginx && return 0
	log "nginx not found; installing Debian's nginx"
	apt_install nginx || die "nginx is not installed (see above); install it, or leave nginx out of BENCH_ROWS"
	find_nginx || die "nginx is still not found (PATH, /usr/sbin) after installing it"
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

# wait_ready NAME PID URL [STATUS]: poll URL until it answers STATUS (200), failing early if the process died.
wait_ready() {
	local name=$1 pid=$2 url=$3 want=${4:-200} i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$out/$name.log" >&2; die "$name exited at start; its log is above"; }
		[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url") == "$want" ]] && return 0
		sleep 0.1
	done
	tail -n 20 "$out/$name.log" >&2
	die "$name is not answering $url after 15 s; its log is above"
}

# Rows: what each wrk run sends and what it must get back. BENCH_ROWS names the rows; the word
# nginx stands for the five targets of the nginx group (ngx_targets). Each direct row sends one
# credential to /forward-auth; the direct ceilings bare and ident get the key row's request, so they
# pay the same header parsing as authgate's key rows. With the jwt row, a third ceiling, ident-jwt,
# is ident sent the jwt row's request: a JWT is hundreds of bytes that Go's server reads before any
# handler runs, so the rows with a long credential (jwt, ext) are read against it. With a deny row,
# deny (bare -deny) gets the garbage row's request. Every nginx target gets the key row's API key,
# but ngx-garbage, which gets the garbage row's.
all_rows="key revoked garbage token jwt session ext ext-bad nginx"
direct_ceilings="bare ident" # and ident-jwt with the jwt row, deny with a deny row (choose_rows)
ngx_targets="ngx ngx-bare ngx-ident ngx-key ngx-garbage"
ngx_ceilings="ngx ngx-bare ngx-ident"
# With BENCH_MODE=together the nginx targets run in pairs, the first on stack 1 and the second on
# stack 2: authgate's rows next to the ceilings, and the ceilings next to each other.
ngx_pairs="ngx+ngx-key ngx-bare+ngx-key ngx-ident+ngx-key ngx+ngx-garbage ngx-bare+ngx-ident ngx+ngx-bare"
declare -A row_cred=() # row: the credential header ("Name: value")
declare -A row_want=() # row: the status every answer must have (200 allow, 401 deny)
declare -A row_host=() # row: X-Forwarded-Host (a session cookie counts only on its cookie domain)
declare -A row_desc=() # row: what it is, for the table
declare -A contract=() # direct row: the ceiling that answers as it does (its contract), same request size
rows=()                # the direct rows of this run (authgate's, on /forward-auth), in the order of all_rows
use_nginx=0            # 1: the nginx group runs
use_ext=0              # 1: ext or ext-bad runs, so the OpenID provider runs and authgate trusts it
direct=()              # the direct group's targets: bare ident and the rows; empty without rows
targets=()             # every target of the run: direct, then the nginx group

secret="" key="" ag_port="" bare_port="" ident_port="" deny_port="" ag_pid="" bare_pid="" ident_pid="" deny_pid=""
op_pid="" op_issuer="" op_token_url="" op_secret=""
# The nginx stacks, by number: 1, and with BENCH_MODE=together 2, a copy with an nginx and an app
# of its own, so that two nginx rows can run at once. Each nginx target runs on stack 1 unless
# on_stack names another for the current set.
ngx_ports=() ngx_pids=() app_ports=() app_pids=()
declare -A on_stack=()
ag_env=()
profile=0 pprof_port="" # BENCH_PROFILE=1: authgate serves net/http/pprof on pprof_port
mode=alternate           # BENCH_MODE: alternate (one target at a time) or together (load)

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
	local tags=()
	((profile)) && tags=(-tags pprof)
	go build "${tags[@]}" -o "$out/authgate" ./cmd/authgate
	go build -o "$out/bare" ./bench/bare
	secret=$(head -c 32 /dev/urandom | base64)
	ag_port=$(free_port 18080)
	bare_port=$(free_port $((ag_port + 1)))
	ident_port=$(free_port $((bare_port + 1)))
	deny_port=$(free_port $((ident_port + 1)))
	((profile)) && pprof_port=$(free_port $((deny_port + 50)))

	# The same environment for migrate, the CLI and serve: keys are hashed under the secret. The
	# portal (for the session row) on auth.home.localhost, in development mode: plain http. Access
	# tokens live 1 h, longer than a default run.
	ag_env=(DATABASE_URL="$bench_url" AUTHGATE_SECRET="$secret" AUTHGATE_ADDR="127.0.0.1:$ag_port"
		AUTHGATE_LOG_LEVEL=error AUTHGATE_ACCESS_TTL=1h
		AUTHGATE_COOKIE_DOMAINS=home.localhost AUTHGATE_PORTAL_URLS="http://auth.home.localhost:$ag_port" AUTHGATE_PORTAL_DEV=true)
	((profile)) && ag_env+=(AUTHGATE_PPROF_ADDR="127.0.0.1:$pprof_port")
	# With the ext rows, the OpenID provider as an external issuer, configured as its
	# documentation asks: an audience of its own, and a require pinning the one client.
	if ((use_ext)); then
		start_op
		ag_env+=(AUTHGATE_EXTERNAL_ISSUERS="[{\"id\":\"bench\",\"issuer\":\"$op_issuer\",\"audience\":\"authgate-bench\",\"scopes\":[\"bench:read\"],\"require\":{\"client_id\":\"bench-svc\"}}]")
	fi
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
	GOMAXPROCS=1 taskset -c 0 "$out/bare" -deny -addr "127.0.0.1:$deny_port" </dev/null >"$out/deny.log" 2>&1 8>&- &
	deny_pid=$!
	pids+=("$deny_pid")
	wait_ready authgate "$ag_pid" "http://127.0.0.1:$ag_port/healthz"
	wait_ready bare "$bare_pid" "http://127.0.0.1:$bare_port/"
	wait_ready ident "$ident_pid" "http://127.0.0.1:$ident_port/"
	wait_ready deny "$deny_pid" "http://127.0.0.1:$deny_port/" 401
	log "authgate pid $ag_pid on :$ag_port, bare pid $bare_pid on :$bare_port, bare -identity pid $ident_pid on :$ident_port, bare -deny pid $deny_pid on :$deny_port"
	if ((use_nginx)); then start_nginx; fi
	make_credentials
}

# start_op starts the OpenID provider the sign-in tests run (scripts/oidc-provider.sh builds it),
# with one service client of the client_credentials grant, bench-svc, whose access tokens are JWTs
# for the audience authgate-bench. Sets op_issuer (what it prints once it accepts connections) and
# op_token_url (from its discovery document). Not pinned: it serves only authgate's discovery and
# JWKS fetch at start and a token before each ext run, never during a timed run.
start_op() {
	local line bin disc i
	line=$(scripts/oidc-provider.sh ensure 8>&-) ||
		die "could not build the OpenID provider the ext rows need (see above); fix that, or leave ext and ext-bad out of BENCH_ROWS"
	bin=${line#oidc-provider=}
	[[ $line == oidc-provider=* && -x $bin ]] || die "scripts/oidc-provider.sh ensure printed '$line', not oidc-provider=PATH"
	op_secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	(
		umask 077
		printf '{"addr":"127.0.0.1:0","service_clients":[{"id":"bench-svc","secret":"%s","audience":["authgate-bench"]}]}\n' \
			"$op_secret" >"$out/oidc-provider.json"
	)
	: >"$out/oidc-provider.out"
	"$bin" "$out/oidc-provider.json" </dev/null >"$out/oidc-provider.out" 2>"$out/oidc-provider.log" 8>&- &
	op_pid=$!
	pids+=("$op_pid")
	for ((i = 0; i < 150; i++)); do
		op_issuer=$(sed -n 's/^issuer //p' "$out/oidc-provider.out")
		[[ -n $op_issuer ]] && break
		ensure_alive oidc-provider "$op_pid"
		sleep 0.1
	done
	[[ -n $op_issuer ]] || { tail -n 20 "$out/oidc-provider.log" >&2; die "the OpenID provider printed no issuer in 15 s; its log is above"; }
	disc=$(curl -s --max-time 5 "${op_issuer}.well-known/openid-configuration") ||
		die "the OpenID provider's discovery document ${op_issuer}.well-known/openid-configuration does not answer"
	op_token_url=$(json_field token_endpoint <<<"$disc")
	[[ -n $op_token_url ]] || die "no token_endpoint in the OpenID provider's discovery document: $disc"
	log "OpenID provider pid $op_pid, issuer $op_issuer"
}

# ext_token: a fresh access token of bench-svc by the client_credentials grant (client_secret_basic)
# into the ext row's credential, and the same token with one character of its signature changed
# into ext-bad's. The provider's tokens live 5 minutes, less than a default run: every ext run gets
# a new one (authgate verifies it once, then answers from its cache), and it fails unless the token
# outlives the wrk run by 30 s.
ext_token() {
	local resp tok ttl sig i c
	ensure_alive oidc-provider "$op_pid"
	resp=$(curl -s --max-time 10 -u "bench-svc:$op_secret" -d grant_type=client_credentials "$op_token_url") ||
		die "POST $op_token_url (client_credentials) failed"
	tok=$(json_field access_token <<<"$resp")
	ttl=$(sed -n 's/.*"expires_in" *: *\([0-9]*\).*/\1/p' <<<"$resp")
	[[ $tok == *.*.* && -n $ttl ]] || die "the OpenID provider gave no access token and expires_in: $resp"
	((ttl >= dur_s + 30)) ||
		die "the OpenID provider's access tokens live $ttl s, not enough for a wrk run of DUR=$dur: use a DUR of at most $((ttl - 30))s, or leave ext and ext-bad out of BENCH_ROWS"
	row_cred[ext]="Authorization: Bearer $tok"
	sig=${tok##*.}
	i=$((${#sig} / 2))
	c=${sig:i:1}
	[[ $c == A ]] && c=B || c=A
	row_cred[ext-bad]="Authorization: Bearer ${tok%.*}.${sig:0:i}$c${sig:i+1}"
}

# shipped_block REGEX: the block of deploy/nginx/nginx.conf whose first line matches REGEX (an awk
# regular expression), from that line to the brace that closes it, as shipped.
shipped_block() {
	local b
	b=$(awk -v re="$1" '
		$0 ~ re { on = 1 }
		on { print; depth += gsub(/[{]/, "{") - gsub(/[}]/, "}"); if (depth == 0) exit }
	' deploy/nginx/nginx.conf)
	[[ -n $b ]] || die "no block matching '$1' in deploy/nginx/nginx.conf, which the nginx rows run: update start_nginx in scripts/bench.sh"
	printf '%s\n' "$b"
}

# start_nginx starts nginx stack 1, and with BENCH_MODE=together stack 2 in front of a second
# bare as its app. Each (start_ngx_stack) is one nginx, one worker, on CPU 0 (taskset; the worker
# inherits the affinity), with a config made in $out/nginxN/ from what deploy/nginx/ ships: its
# four snippets copied and included, and its map of $connection_upgrade and its @authgate_401 and
# @authgate_403 dispatchers cut out of deploy/nginx/nginx.conf, so the bench measures what users
# run. Upstreams with the keepalive of its upstream authgate, no access log. One server, one
# location per target:
#   /none/      no auth: authgate-upgrade.conf and proxy_pass to the app (nginx without authgate)
#   /bare/      auth_request to bare (an ideal verifier: 200, two headers)
#   /ident/     auth_request to bare -identity (an ideal verifier sending the 8 identity headers)
#   /authgate/  auth_request to authgate's /auth-request?scope=bench:read
# each protected one as the shipped protected locations are: auth_request, authgate-identity.conf,
# authgate-deny.conf, authgate-upgrade.conf, and the X-Request-Id the shipped server block adds.
start_nginx() {
	local port pid
	ensure_nginx
	start_ngx_stack 1 "$bare_port" "$bare_pid"
	if [[ $mode == together ]]; then
		port=$(free_port $((ngx_ports[1] + 1)))
		GOMAXPROCS=1 taskset -c 0 "$out/bare" -addr "127.0.0.1:$port" </dev/null >"$out/app2.log" 2>&1 8>&- &
		pid=$!
		pids+=("$pid")
		wait_ready app2 "$pid" "http://127.0.0.1:$port/"
		start_ngx_stack 2 "$port" "$pid"
	fi
}

# start_ngx_stack N APP_PORT APP_PID: nginx stack N (see start_nginx) in front of the app on
# APP_PORT; sets ngx_ports[N], ngx_pids[N], app_ports[N] and app_pids[N].
start_ngx_stack() {
	local n=$1 dir=$out/nginx$1 f user="" upgrade_map deny_401 deny_403 keepalive ngx_port
	app_ports[n]=$2 app_pids[n]=$3
	rm -rf "$dir"
	mkdir -p "$dir/tmp"
	for f in authgate-subrequest.conf authgate-identity.conf authgate-deny.conf authgate-upgrade.conf; do
		cp "deploy/nginx/$f" "$dir/$f" || die "cannot copy deploy/nginx/$f"
	done
	upgrade_map=$(shipped_block '^[[:space:]]*map [$]http_upgrade [$]connection_upgrade [{]')
	keepalive=$(shipped_block '^[[:space:]]*upstream authgate [{]' | sed -n 's/^[[:space:]]*keepalive \([0-9][0-9]*\);.*/\1/p')
	[[ -n $keepalive ]] || die "deploy/nginx/nginx.conf has no keepalive in its upstream authgate block: the bench copies it from there"
	deny_401=$(shipped_block '^[[:space:]]*location @authgate_401 [{]')
	deny_403=$(shipped_block '^[[:space:]]*location @authgate_403 [{]')
	ngx_port=$(free_port $((deny_port + n)))
	# nginx's master runs as root here; its worker would switch to nobody, who may not be able to
	# reach $out. Only root may name a user (others get a warning).
	((EUID == 0)) && user="user root;"
	cat >"$dir/nginx.conf" <<-EOF
		# Made by scripts/bench.sh from deploy/nginx/; see start_nginx there.
		$user
		worker_processes 1;
		error_log stderr warn;
		events {
		    worker_connections 1024;
		}
		http {
		    access_log off;
		    client_body_temp_path tmp/body;
		    proxy_temp_path tmp/proxy;
		    fastcgi_temp_path tmp/fastcgi;
		    uwsgi_temp_path tmp/uwsgi;
		    scgi_temp_path tmp/scgi;

		$upgrade_map

		    upstream app {
		        server 127.0.0.1:${app_ports[n]};
		        keepalive $keepalive;
		    }
		    upstream verifier_bare {
		        server 127.0.0.1:${app_ports[n]};
		        keepalive $keepalive;
		    }
		    upstream verifier_ident {
		        server 127.0.0.1:$ident_port;
		        keepalive $keepalive;
		    }
		    upstream authgate {
		        server 127.0.0.1:$ag_port;
		        keepalive $keepalive;
		    }

		    server {
		        listen 127.0.0.1:$ngx_port;
		        proxy_http_version 1.1;

		        location = /_authgate/bare {
		            internal;
		            proxy_pass http://verifier_bare/auth-request?scope=bench:read;
		            include authgate-subrequest.conf;
		        }
		        location = /_authgate/ident {
		            internal;
		            proxy_pass http://verifier_ident/auth-request?scope=bench:read;
		            include authgate-subrequest.conf;
		        }
		        location = /_authgate/authgate {
		            internal;
		            proxy_pass http://authgate/auth-request?scope=bench:read;
		            include authgate-subrequest.conf;
		        }

		        location /none/ {
		            include authgate-upgrade.conf;
		            proxy_pass http://app;
		        }
		        location /bare/ {
		            auth_request /_authgate/bare;
		            include authgate-identity.conf;
		            include authgate-deny.conf;
		            include authgate-upgrade.conf;
		            add_header X-Request-Id \$request_id always;
		            proxy_pass http://app;
		        }
		        location /ident/ {
		            auth_request /_authgate/ident;
		            include authgate-identity.conf;
		            include authgate-deny.conf;
		            include authgate-upgrade.conf;
		            add_header X-Request-Id \$request_id always;
		            proxy_pass http://app;
		        }
		        location /authgate/ {
		            auth_request /_authgate/authgate;
		            include authgate-identity.conf;
		            include authgate-deny.conf;
		            include authgate-upgrade.conf;
		            add_header X-Request-Id \$request_id always;
		            proxy_pass http://app;
		        }

		$deny_401
		$deny_403
		    }
		}
	EOF
	local args=(-p "$root/$dir/" -e stderr -c "$root/$dir/nginx.conf" -g "daemon off; pid $root/$dir/nginx.pid;")
	"$nginx_bin" -t -q "${args[@]}" 2>"$out/nginx$n.log" 8>&- ||
		{ cat "$out/nginx$n.log" >&2; die "nginx rejects the bench's configuration $dir/nginx.conf (made from deploy/nginx/): see above"; }
	taskset -c 0 "$nginx_bin" "${args[@]}" </dev/null >>"$out/nginx$n.log" 2>&1 8>&- &
	ngx_pids[n]=$!
	ngx_ports[n]=$ngx_port
	pids+=("$!")
	wait_ready "nginx$n" "${ngx_pids[n]}" "http://127.0.0.1:$ngx_port/none/"
	log "nginx $n: pid ${ngx_pids[n]} (worker_processes 1) on :$ngx_port, app pid ${app_pids[n]} on :${app_ports[n]}, config $dir/nginx.conf"
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
	if want_row garbage || ((use_nginx)); then
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
	ensure_alive deny "$deny_pid"
	local n
	for n in "${!ngx_pids[@]}"; do
		ensure_alive "nginx$n" "${ngx_pids[n]}"
		((n == 1)) || ensure_alive "app$n" "${app_pids[n]}"
	done
}

# The forwarded request every direct target gets; X-Forwarded-Host is the row's (row_host). The
# nginx targets get none: nginx makes them for its subrequest (authgate-subrequest.conf).
fwd_headers=(
	'X-Forwarded-Method: GET'
	'X-Forwarded-Proto: https'
	'X-Forwarded-Uri: /events'
	'X-Forwarded-For: 203.0.113.7'
)

url_of() {
	case $1 in
	bare) echo "http://127.0.0.1:$bare_port$path" ;;
	ident | ident-jwt) echo "http://127.0.0.1:$ident_port$path" ;;
	deny) echo "http://127.0.0.1:$deny_port$path" ;;
	ngx) echo "http://127.0.0.1:${ngx_ports[$(stack_of "$1")]}/none/events" ;;
	ngx-bare) echo "http://127.0.0.1:${ngx_ports[$(stack_of "$1")]}/bare/events" ;;
	ngx-ident) echo "http://127.0.0.1:${ngx_ports[$(stack_of "$1")]}/ident/events" ;;
	ngx-key | ngx-garbage) echo "http://127.0.0.1:${ngx_ports[$(stack_of "$1")]}/authgate/events" ;;
	*) echo "http://127.0.0.1:$ag_port$path" ;;
	esac
}

# req_args TARGET: sets hargs to curl's and wrk's -H arguments for TARGET's request. The direct
# ceilings get the key row's request; the nginx targets only a credential, the key row's or, for
# ngx-garbage, the garbage row's.
hargs=()
req_args() {
	local t=$1 h
	hargs=()
	case $t in
	ngx-garbage) hargs=(-H "${row_cred[garbage]}"); return ;;
	ngx*) hargs=(-H "${row_cred[key]}"); return ;;
	bare | ident) t=key ;;
	ident-jwt) t=jwt ;;
	deny) t=garbage ;;
	esac
	for h in "${fwd_headers[@]}" "X-Forwarded-Host: ${row_host[$t]:-app.example}" "${row_cred[$t]:-X-API-Key: $key}"; do
		hargs+=(-H "$h")
	done
}

# check_rows: each target gets its status once before any timing, so the bench never measures a
# path other than the one its row names. A direct allow gets its identity headers (ext: the
# external issuer's subject); an nginx deny comes with authgate's WWW-Authenticate, so it is
# authgate's 401 passed on by @authgate_401. Without a credential, authgate denies, directly and
# through nginx. (Through nginx the answer is the app's: that the identity headers reached it
# cannot be seen from here; deploy/'s tests check that.)
check_rows() {
	local t hdrs code want
	for t in "${targets[@]}"; do
		[[ $t == ext || $t == ext-bad ]] && ext_token
		req_args "$t"
		hdrs=$(curl -s -o /dev/null -D - --max-time 5 "${hargs[@]}" "$(url_of "$t")")
		code=$(awk 'NR == 1 { print $2 }' <<<"$hdrs")
		want=${row_want[$t]:-200}
		[[ $code == "$want" ]] || die "$t answered $code, not $want, to its bench request; headers: $hdrs"
		if [[ $want == 200 && $t != bare && $t != ngx* ]]; then
			grep -qi '^X-Auth-Subject: ' <<<"$hdrs" || die "$t answered 200 without X-Auth-Subject; headers: $hdrs"
		fi
		if [[ $t == ext ]]; then
			grep -qi '^X-Auth-Subject: ext:bench:bench-svc' <<<"$hdrs" ||
				die "ext answered 200 without X-Auth-Subject ext:bench:bench-svc (the external issuer's token); headers: $hdrs"
		fi
		if [[ $t == ngx-garbage ]]; then
			grep -qi '^WWW-Authenticate: ' <<<"$hdrs" ||
				die "nginx answered ngx-garbage's request 401 without authgate's WWW-Authenticate: not authgate's deny; headers: $hdrs"
		fi
	done
	if ((${#rows[@]})); then
		req_args key
		hargs=("${hargs[@]:0:${#hargs[@]}-2}") # without the credential
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${hargs[@]}" "$(url_of key)")
		[[ $code == 401 ]] || die "authgate answered $code, not 401, to the bench request without a credential"
	fi
	if ((use_nginx)); then
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$(url_of ngx-key)")
		[[ $code == 401 ]] || die "nginx answered $code, not 401, to a request to /authgate/ without a credential"
	fi
	if ((use_nginx)) && [[ $mode == together ]]; then # the second stack answers as the first
		for t in $ngx_targets; do
			on_stack=([$t]=2)
			req_args "$t"
			code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${hargs[@]}" "$(url_of "$t")")
			on_stack=()
			want=${row_want[$t]:-200}
			[[ $code == "$want" ]] || die "$t on nginx stack 2 answered $code, not $want, to its bench request"
		done
	fi
	log "checked: every target answers as it should (${targets[*]}), and authgate denies without a credential"
}

# ---------------------------------------------------------------------------------------------
# wrk.

# run_wrk FILE TARGET CONNS DUR: one wrk run, output to FILE. In the background plus wait, so a
# signal reaches the traps at once and cleanup stops wrk too.
run_wrk() {
	start_wrk "$@"
	wait_wrk "$1" "$2"
}

# start_wrk FILE TARGET CONNS DUR: starts one wrk run in the background, output to FILE; its pid
# goes to wrk_pid[TARGET].
declare -A wrk_pid=()
start_wrk() {
	local file=$1 target=$2 conns=$3 d=$4
	[[ $target == ext || $target == ext-bad ]] && ext_token
	req_args "$target"
	taskset -c 1 wrk -t1 -c"$conns" -d"$d" --latency "${hargs[@]}" "$(url_of "$target")" >"$file" 2>&1 </dev/null 8>&- &
	wrk_pid[$target]=$!
	pids+=("$!")
}

# wait_wrk FILE TARGET: waits for TARGET's wrk run (start_wrk), and fails if wrk did.
wait_wrk() {
	local file=$1 target=$2 rc=0
	wait "${wrk_pid[$target]}" || rc=$?
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

results="" # TSV: round conns target req/s p50_ms p99_ms cpu_us_per_request

clk_tck=$(getconf CLK_TCK)

# procs_of TARGET: the pids whose CPU time serves TARGET's requests: the server a direct target
# talks to; for an nginx target nginx's worker, the app (bare) and the verifier it asks.
procs_of() {
	local roles
	case $1 in
	bare) echo "$bare_pid" ;;
	ident | ident-jwt) echo "$ident_pid" ;;
	deny) echo "$deny_pid" ;;
	ngx*) roles=$(roles_of "$1") && echo "${roles//|/ }" ;;
	*) echo "$ag_pid" ;;
	esac
}

# roles_of TARGET: for an nginx row, its processes by role, "nginx|app|verifier" (each part the
# pids, space separated). ngx has no verifier; in ngx-bare the app answers the subrequests too, so
# its verifier part is empty and its app part counts both.
roles_of() {
	local n
	n=$(stack_of "$1")
	case $1 in
	ngx | ngx-bare) echo "$(ngx_workers "$n")|${app_pids[n]}|" ;;
	ngx-ident) echo "$(ngx_workers "$n")|${app_pids[n]}|$ident_pid" ;;
	*) echo "$(ngx_workers "$n")|${app_pids[n]}|$ag_pid" ;;
	esac
}

# stack_of TARGET: the nginx stack an nginx target runs on in the current set (1 but in sets
# that say otherwise).
stack_of() { echo "${on_stack[$1]:-1}"; }

# ngx_workers N: the pids of nginx stack N's workers, its master's children.
ngx_workers() { cat "/proc/${ngx_pids[$1]}/task/${ngx_pids[$1]}/children"; }

# cpu_of PID...: the CPU time, in clock ticks, the processes have used so far (user and system,
# every thread: fields 14 and 15 of /proc/PID/stat). Over a wrk run, divided by its requests, it
# is the CPU a request costs: unlike req/s, it does not move with the time the VM's host steals.
cpu_of() {
	local pid sum=0 f
	for pid in "$@"; do
		f=$(cut -d' ' -f14,15 "/proc/$pid/stat") || die "cannot read /proc/$pid/stat: a server is gone"
		sum=$((sum + ${f% *} + ${f#* }))
	done
	echo "$sum"
}

# us_per_request TICKS REQUESTS: CPU ticks over a run as µs per request.
us_per_request() {
	awk -v t="$1" -v hz="$clk_tck" -v n="$2" 'BEGIN { printf "%.3f", (n > 0 ? t * 1e6 / hz / n : 0) }'
}

# measure ROUND TARGET CONNS: one timed run, appended to $results (tab separated: round, conns,
# target, req/s, p50, p99, µs CPU per request; for an nginx row that CPU split as nginx, app and
# verifier, else - - -).
measure() {
	measure_start "$@"
	measure_finish "$@"
}

# measure_together ROUND CONNS TARGETS...: one timed run of every target at once, each its own
# wrk; their processes must be distinct (each one's CPU time is read whole). ROUND names the set
# in $results, so each target's ratios are taken against the ceilings run beside it.
measure_together() {
	local round=$1 conns=$2 t
	shift 2
	for t in "$@"; do measure_start "$round" "$t" "$conns"; done
	for t in "$@"; do measure_finish "$round" "$t" "$conns"; done
}

# measure_start ROUND TARGET CONNS: reads the CPU time of TARGET's processes (and, for an nginx
# row, of each of its roles) and starts its wrk run (measure_finish ends it).
declare -A cpu_start=() role_start=()
measure_start() {
	local target=$2 conns=$3 procs=() roles=() i
	servers_alive
	read -ra procs <<<"$(procs_of "$target")"
	[[ $target == ngx* ]] && IFS='|' read -ra roles <<<"$(roles_of "$target")|"
	# shellcheck disable=SC2086 # each role is a list of pids
	for i in "${!roles[@]}"; do role_start[$target, $i]=$(cpu_of ${roles[i]}); done
	cpu_start[$target]=$(cpu_of "${procs[@]}")
	start_wrk "$(wrk_file "$@")" "$target" "$conns" "$dur"
}

# wrk_file ROUND TARGET CONNS: where a timed wrk run's output goes.
wrk_file() { echo "$out/wrk-r$1-c$3-$2.txt"; }

# measure_finish ROUND TARGET CONNS: waits for TARGET's wrk run, checks every answer was the
# row's, and appends the run to $results.
measure_finish() {
	local round=$1 target=$2 conns=$3 file rps p50 p99 non2xx sockerr total want procs=() cpu1 cpu_us
	local roles=() i
	file=$(wrk_file "$@")
	wait_wrk "$file" "$target"
	servers_alive # a server that died mid-run leaves wrk with socket errors, not a failure
	read -ra procs <<<"$(procs_of "$target")"
	[[ $target == ngx* ]] && IFS='|' read -ra roles <<<"$(roles_of "$target")|"
	cpu1=$(cpu_of "${procs[@]}")
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
	cpu_us=$(us_per_request $((cpu1 - cpu_start[$target])) "$total")
	# For an nginx row, the same split by role: nginx, app, verifier ("-": none of its own).
	local split=()
	for i in "${!roles[@]}"; do
		# shellcheck disable=SC2086
		if [[ -n ${roles[i]// /} ]]; then
			split+=("$(us_per_request $(($(cpu_of ${roles[i]}) - role_start[$target, $i])) "$total")")
		else
			split+=(-)
		fi
	done
	((${#split[@]})) || split=(- - -)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$conns" "$target" "$rps" "$p50" "$p99" "$cpu_us" \
		"${split[@]}" >>"$results"
	printf '  round %-9s conns %3d %-11s %9.0f req/s  p50 %7.2f ms  p99 %8.2f ms  %6.2f µs CPU/req\n' \
		"$round" "$conns" "$target" "$rps" "$p50" "$p99" "$cpu_us" >&2
}

# profile_rows: one more wrk run per target that authgate answers, untimed, with a CPU profile
# of authgate over it (BENCH_PROFILE=1); each profile's top is printed, the profile kept.
profile_rows() {
	local t secs=$((dur_s > 3 ? dur_s - 2 : 1)) prof pid
	echo "== CPU profiles of authgate, one untimed wrk run per row (conns ${conns_list%% *}, $secs s of samples)"
	for t in "${targets[@]}"; do
		case $t in bare | ident | ident-jwt | deny | ngx | ngx-bare | ngx-ident) continue ;; esac
		prof=$out/cpu-$t.prof
		run_wrk "$out/wrk-profile-$t.txt" "$t" "${conns_list%% *}" "$dur" &
		pid=$!
		sleep 1
		curl -s --max-time $((secs + 10)) -o "$prof" "http://127.0.0.1:$pprof_port/debug/pprof/profile?seconds=$secs" ||
			die "could not take authgate's CPU profile from :$pprof_port"
		wait "$pid" || die "the profiled wrk run against $t failed; see $out/wrk-profile-$t.txt"
		echo
		echo "-- $t: $prof (go tool pprof -http :0 $out/authgate $prof)"
		go tool pprof -top -nodecount 25 "$out/authgate" "$prof" 2>/dev/null | sed -n '4,$p'
	done
	echo
}

# ---------------------------------------------------------------------------------------------
# Report.

# report: per connection count, one table per group: each target's median req/s (min-max), p50,
# p99, and the median over rounds of its ratio to each ceiling of its group in the same round.
report() {
	local c t desc=""
	echo "== load: authgate vs ideal ceilings; $rounds rounds x $dur, servers (and nginx's one worker) on CPU 0 (GOMAXPROCS=1), wrk -t1 on CPU 1"
	if [[ $mode == together ]]; then
		echo "   BENCH_MODE=together: each direct row ran at the same time as bare and its contract, and each nginx row"
		echo "   beside a ceiling on a second nginx stack, all sharing CPU 0: req/s are the scheduler's share of that core,"
		echo "   so the ratios are of CPU time per request only, which the machine's drift in speed moves for both alike"
	fi
	for t in "${targets[@]}"; do desc+="$t=${row_desc[$t]}"$'\t'; done
	for c in $conns_list; do
		if ((${#direct[@]})); then
			echo
			echo "-- direct: GET /forward-auth (authgate) or the same request to a ceiling; conns=$c"
			report_table "$c" "${direct[*]}" bare "$desc" "$(contracts)"
		fi
		if ((use_nginx)); then
			echo
			echo "-- nginx: GET /<location>/events through nginx (1 worker, access_log off) to bare as the app; conns=$c"
			report_table "$c" "$ngx_targets" "$ngx_ceilings" "$desc"
			report_roles "$c" "$ngx_targets"
		fi
	done
	echo
	if ((${#direct[@]})); then
		echo "ratio to bare: of the plainest Echo handler. Ratio to its contract: of the ceiling that answers as the row"
		echo "must, to a request of the same size: ident (200 and the eight X-Auth-* identity headers) for an allow, deny"
		echo "(401, challenge, request id, JSON body) for a deny, ident-jwt (ident sent the jwt row's request) for a JWT."
		echo "A ceiling's own ratio to bare is what that contract costs any server; a row's ratio to its contract is what"
		echo "authgate's implementation costs on top of it."

		echo "CPU ratio: the ceiling's CPU time per request over the row's, in the same round (user and system time of"
		echo "the serving processes, every thread): the req/s ratio on a core the VM's host steals nothing from."
	fi
	if ((use_nginx)); then
		echo "ratio to ngx: of nginx without auth; ratio to ngx-bare: of nginx with auth_request to an ideal verifier"
		echo "(the figure to read: ngx-key / ngx-bare is authgate's cost where users run it, target >= 0.95);"
		echo "ngx-ident / ngx-bare is what the eight identity headers cost through nginx. By process: where each nginx"
		echo "row's CPU goes; ngx-key's verifier column against ngx-ident's is authgate's own cost, and nginx's and"
		echo "the app's columns against ngx-bare's what the identity headers cost them."
	fi
}

# contracts: "row=ceiling ..." of the direct rows of this run.
contracts() {
	local r list=""
	for r in "${rows[@]}"; do list+="$r=${contract[$r]} "; done
	echo "$list"
}

# awk_median: the awk functions the tables take their medians with: sort a[1..n] in place, and
# the median of a[1..n].
awk_median='
		function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
		function median(a, n) { sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }'

# report_table CONNS TARGETS CEILINGS DESC [CONTRACTS]: the table of TARGETS (space separated, in this order) at
# CONNS connections from $results, with one ratio column per ceiling of CEILINGS, then a second
# table of the CPU time per request and its ratios (a ceiling's CPU per request over the target's,
# in the same round: what req/s would be on a core nobody steals from); DESC is
# "target=what<TAB>..." for the first table's last column. CONTRACTS ("row=ceiling ...") adds to
# both tables a column of each row's ratio to the ceiling named for it.
report_table() {
	local shares=0 # 1: the targets of a set shared CPU 0, so their req/s are no ratio of speed
	[[ $mode == together ]] && shares=1
	awk -v c="$1" -v order="$2" -v ceilings="$3" -v desc="$4" -v contracts="${5:-}" -v shares="$shares" "$awk_median"'
		function fms(v) { return v < 10 ? sprintf("%.2fms", v) : v < 100 ? sprintf("%.1fms", v) : sprintf("%.0fms", v) }
		# ratio T CEIL: median (min-max) over rounds of T req/s / CEIL req/s in the same round.
		function ratio(t, ceil,   r, a, k) {
			k = 0
			for (r in rs) if ((r, ceil) in by && (r, t) in by && by[r, ceil] > 0) a[++k] = by[r, t] / by[r, ceil]
			if (k == 0) return "-"
			return sprintf("%.3f (%.2f-%.2f)", median(a, k), a[1], a[k])
		}
		# cratio T CEIL: median (min-max) over rounds of CEIL CPU/req / T CPU/req in the same round.
		function cratio(t, ceil,   r, a, k) {
			k = 0
			for (r in rs) if ((r, ceil) in cby && (r, t) in cby && cby[r, ceil] > 0 && cby[r, t] > 0) a[++k] = cby[r, ceil] / cby[r, t]
			if (k == 0) return "-"
			return sprintf("%.3f (%.2f-%.2f)", median(a, k), a[1], a[k])
		}
		BEGIN {
			nd = split(desc, d, "\t"); for (i = 1; i <= nd; i++) { j = index(d[i], "="); if (j) what[substr(d[i], 1, j - 1)] = substr(d[i], j + 1) }
			nc = split(ceilings, cs, " ")
			ncon = split(contracts, cl, " "); for (i = 1; i <= ncon; i++) { j = index(cl[i], "="); con[substr(cl[i], 1, j - 1)] = substr(cl[i], j + 1) }
		}
		# contract_col F T: the column of the ratio of T (F: ratio or cratio) to its contract ceiling, if any.
		function contract_col(f, t,   v) {
			if (!ncon) return ""
			if (!(t in con)) return sprintf(" %-30s", "-")
			v = f == "ratio" ? ratio(t, con[t]) : cratio(t, con[t])
			return sprintf(" %-30s", v " " con[t])
		}
		$2 == c { t = $3; n[t]++; rps[t, n[t]] = $4; p50[t, n[t]] = $5; p99[t, n[t]] = $6; cpu[t, n[t]] = $7; by[$1, t] = $4; cby[$1, t] = $7; rs[$1] = 1 }
		END {
			printf "%-11s %-24s %-8s %-8s", "row", "req/s median (min-max)", "p50", "p99"
			for (k = 1; !shares && k <= nc; k++) printf " %-20s", "ratio to " cs[k]
			if (ncon && !shares) printf " %-30s", "ratio to its contract"
			printf " %s\n", "what"
			nt = split(order, ts, " ")
			for (i = 1; i <= nt; i++) {
				t = ts[i]
				if (!n[t]) continue
				for (j = 1; j <= n[t]; j++) { a[j] = rps[t, j]; b[j] = p50[t, j]; e[j] = p99[t, j] }
				med = median(a, n[t])
				printf "%-11s %-24s %-8s %-8s", t, sprintf("%.0f (%.0f-%.0f)", med, a[1], a[n[t]]), fms(median(b, n[t])), fms(median(e, n[t]))
				for (k = 1; !shares && k <= nc; k++) printf " %-20s", ratio(t, cs[k])
				if (!shares) printf "%s", contract_col("ratio", t)
				printf " %s\n", what[t]
				delete a; delete b; delete e
			}
			printf "\n%-11s %-24s", "row", "µs CPU/req median (min-max)"
			for (k = 1; k <= nc; k++) printf " %-20s", "CPU ratio to " cs[k]
			if (ncon) printf " %-30s", "CPU ratio to its contract"
			printf "\n"
			for (i = 1; i <= nt; i++) {
				t = ts[i]
				if (!n[t]) continue
				for (j = 1; j <= n[t]; j++) a[j] = cpu[t, j]
				med = median(a, n[t])
				printf "%-11s %-24s", t, sprintf("%.2f (%.2f-%.2f)", med, a[1], a[n[t]])
				for (k = 1; k <= nc; k++) printf " %-20s", cratio(t, cs[k])
				printf "%s", contract_col("cratio", t)
				printf "\n"
				delete a
			}
		}
	' "$results"
}

# report_roles CONNS TARGETS: for the nginx rows of TARGETS at CONNS connections, the median over
# rounds of the CPU µs per request of nginx's worker, of the app and of the verifier.
report_roles() {
	awk -v c="$1" -v order="$2" "$awk_median"'
		# col T F: the median of field F of T'"'"'s rounds, "-" if it has none.
		function col(t, f,   j, k, a) {
			k = 0
			for (j = 1; j <= n[t]; j++) if (v[t, j, f] != "-") a[++k] = v[t, j, f]
			return k ? sprintf("%.2f", median(a, k)) : "-"
		}
		$2 == c && NF >= 10 && $8 != "-" { t = $3; n[t]++; for (f = 8; f <= 10; f++) v[t, n[t], f] = $f }
		END {
			printf "\n%-11s %-10s %-10s %-10s  %s\n", "row", "nginx", "app", "verifier", "µs CPU/req by process (median)"
			nt = split(order, ts, " ")
			for (i = 1; i <= nt; i++) {
				t = ts[i]
				if (!n[t]) continue
				printf "%-11s %-10s %-10s %-10s%s\n", t, col(t, 8), col(t, 9), col(t, 10), t == "ngx-bare" ? "  (the app answers the subrequests too)" : ""
			}
		}
	' "$results"
}

# rss: authgate's resident memory after the load, from /proc (VmHWM is the peak).
rss() {
	local status=/proc/$ag_pid/status
	[[ -r $status ]] || { log "authgate is gone; no memory figure"; return; }
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "authgate memory after the run: VmRSS %d kB, peak VmHWM %d kB\n", r, h }' "$status"
}

# ---------------------------------------------------------------------------------------------
# Load run.

# choose_rows: rows, groups and targets from BENCH_ROWS, in the order of all_rows.
choose_rows() {
	local r want=" ${BENCH_ROWS:-$all_rows} "
	want=${want//,/ }
	for r in $want; do [[ " $all_rows " == *" $r "* ]] || die "BENCH_ROWS: unknown row '$r' (rows: $all_rows)"; done
	rows=() direct=() targets=() use_nginx=0 use_ext=0
	for r in $all_rows; do
		[[ $want == *" $r "* ]] || continue
		case $r in
		nginx) use_nginx=1 ;;
		*) rows+=("$r") ;;
		esac
		[[ $r == ext || $r == ext-bad ]] && use_ext=1
	done
	((${#rows[@]} || use_nginx)) || die "BENCH_ROWS names no row (rows: $all_rows)"
	if ((${#rows[@]})); then
		direct_ceilings="bare ident"
		if [[ " ${rows[*]} " == *" jwt "* ]]; then direct_ceilings+=" ident-jwt"; fi
		if [[ " ${rows[*]} " == *" revoked "* || " ${rows[*]} " == *" garbage "* || " ${rows[*]} " == *" ext-bad "* ]]; then
			direct_ceilings+=" deny"
		fi
		# shellcheck disable=SC2206 # word lists of fixed names
		direct=($direct_ceilings "${rows[@]}")
	fi
	targets=("${direct[@]}")
	# shellcheck disable=SC2206
	if ((use_nginx)); then targets+=($ngx_targets); fi
	local jwt_ceiling=ident
	if [[ $direct_ceilings == *ident-jwt* ]]; then jwt_ceiling=ident-jwt; fi
	contract=([key]=ident [token]=ident [session]=ident [jwt]=$jwt_ceiling [ext]=$jwt_ceiling
		[revoked]=deny [garbage]=deny [ext-bad]=deny)
	row_want=([deny]=401 [revoked]=401 [garbage]=401 [ext-bad]=401 [ngx-garbage]=401)
	row_desc=([bare]="ceiling: bare Echo, 200 + 2 headers" [ident]="ceiling: bare Echo, 200 + the 8 identity headers"
		[ident-jwt]="ceiling: ident, sent the jwt row's request"
		[deny]="ceiling: bare Echo, 401 as authgate denies (challenge, request id, JSON body)"
		[key]="API key (cached), allow" [revoked]="revoked API key, deny 401" [garbage]="bad checksum, deny 401"
		[token]="personal token (cached), allow" [jwt]="own JWT (login access token), allow"
		[session]="portal session cookie (cached), allow"
		[ext]="external issuer's JWT (OpenID provider, client_credentials), allow"
		[ext-bad]="that JWT with a tampered signature, deny 401"
		[ngx]="ceiling: nginx -> app, no auth"
		[ngx-bare]="ceiling: nginx auth_request -> bare (ideal verifier), -> app"
		[ngx-ident]="ceiling: nginx auth_request -> bare -identity (8 identity headers), -> app"
		[ngx-key]="nginx auth_request -> authgate, API key (cached), allow, -> app"
		[ngx-garbage]="nginx auth_request -> authgate, bad checksum, deny 401 (@authgate_401)")
}

# in_order ROUND NAME...: the names, one per line, reversed in even rounds, so that a drift in
# the machine's speed over a round hits every side alike.
in_order() {
	local r=$1 i
	shift
	if ((r % 2)); then
		printf '%s\n' "$@"
	else
		for ((i = $#; i >= 1; i--)); do printf '%s\n' "${!i}"; done
	fi
}

load() {
	ensure_wrk
	command -v taskset >/dev/null || die "taskset not found: install util-linux"
	command -v curl >/dev/null || die "curl not found: apt-get install curl"
	[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive whole number, got '$rounds'"
	local c
	for c in $conns_list; do [[ $c =~ ^[1-9][0-9]*$ ]] || die "CONNS_LIST must hold positive whole numbers, got '$conns_list'"; done
	[[ $dur =~ ^([1-9][0-9]*)([smh]?)$ ]] || die "DUR must be a whole number of seconds, minutes or hours (10s, 2m, 1h), got '$dur'"
	case ${BASH_REMATCH[2]} in
	m) dur_s=$((BASH_REMATCH[1] * 60)) ;;
	h) dur_s=$((BASH_REMATCH[1] * 3600)) ;;
	*) dur_s=${BASH_REMATCH[1]} ;;
	esac
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
	if ((use_nginx)) && [[ $mode == together ]]; then
		for t in $ngx_targets; do
			on_stack=([$t]=2)
			run_wrk "$out/wrk-warmup2-$t.txt" "$t" "${conns_list%% *}" "$warmup"
			on_stack=()
		done
	fi

	local r pairs=() pair
	# shellcheck disable=SC2206 # a word list of fixed names
	((use_nginx)) && pairs=($ngx_pairs)
	for ((r = 1; r <= rounds; r++)); do
		for c in $conns_list; do
			if [[ $mode == together ]]; then
				# Each direct row at once with its two ceilings, then the nginx pairs.
				for t in $(in_order "$r" ${rows[@]+"${rows[@]}"}); do
					measure_together "$r.$t" "$c" bare "${contract[$t]}" "$t"
					sleep 1 # let closed connections and the other side's GC settle
				done
				for pair in $(in_order "$r" ${pairs[@]+"${pairs[@]}"}); do
					on_stack=([${pair#*+}]=2)
					measure_together "$r.$pair" "$c" "${pair%+*}" "${pair#*+}"
					on_stack=()
					sleep 1
				done
			else
				for t in $(in_order "$r" "${targets[@]}"); do
					measure "$r" "$t" "$c"
					sleep 1
				done
			fi
		done
	done
	log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	((profile)) && profile_rows

	report
	rss
	echo "load average (1/5/15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg); wrk outputs and logs: $out/"
}

# ---------------------------------------------------------------------------------------------

mkdir -p "$out"
# One bench at a time: two would share CPU 0 and the bench database. Children close fd 8.
exec 8>"$out/lock"
flock -n 8 || die "another scripts/bench.sh is running (lock $out/lock)"

case ${BENCH_PROFILE:-0} in
0) ;;
1) profile=1 ;;
*) die "BENCH_PROFILE must be 0 or 1, got '${BENCH_PROFILE}'" ;;
esac
mode=${BENCH_MODE:-alternate}
[[ $mode == alternate || $mode == together ]] || die "BENCH_MODE must be alternate or together, got '$mode'"
cpus=${BENCH_CPUS:-$(default_cpus)}
[[ $cpus =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "BENCH_CPUS must be a comma-separated list of core counts (1,2,4), got '$cpus'"
if [[ ${BENCH_MICRO:-1} != 0 ]]; then micro "$@"; fi
if [[ ${BENCH_LOAD:-1} != 0 ]]; then load; fi
