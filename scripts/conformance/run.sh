#!/usr/bin/env bash
# Run the OCI runtime-tools validation suite against one or more runtimes.
#
# Usage:
#   scripts/conformance/run.sh --runtime PATH [--runtime PATH2 ...] [options]
#
# Options:
#   --runtime PATH   runtime to test (repeatable). A runc-compatible CLI; a
#                    non-executable *.js file is run with node.
#   --json FILE      write {"<runtime>": {"<program>": "pass"|"fail"|"timeout"}}
#   --only a,b,...   run only these validation programs (names as in validation/)
#   --timeout SECS   per-program time limit (default 120)
#   --budget SECS    total time limit per runtime; programs not started before
#                    it runs out are recorded as "timeout" (default 0 = none)
#   --cache-dir DIR  build/cache dir (default <repo>/build/conformance, or
#                    $BERTH_CONFORMANCE_DIR); the suite is built there on demand
#   --tarball FILE   passed to build.sh
#   --logs DIR       keep TAP/stderr per program here (default
#                    <cache-dir>/results); <DIR>/<runtime>/<program>.{tap,err}
#   --retries N      with 2+ runtimes: re-run a program that the first runtime
#                    passes and another fails, up to N times for the other one;
#                    if it still fails, re-run it N times for the first runtime
#                    and, if that fails once, mark it racy (reference "fail").
#                    Only "fail" results are retried (not timeouts), and not
#                    when more than 6 programs differ (those are not races);
#                    with --budget, retries get at most half of it.
#   --default-root   use the runtime's own default state dir (e.g. /run/runc)
#                    instead of a private --root per program
#   -h, --help
#
# Each program runs in a fresh temp dir (its cwd holds runtimetest and the
# rootfs tarball; TMPDIR, where it unpacks bundles, is private too) with
# RUNTIME=<a small wrapper that execs the runtime with --root <private dir>>.
# A program passes when it exits 0, prints a TAP plan, runs as many tests as
# planned and has no `not ok` line (unless marked # TODO) and no "Bail out!";
# or when it prints nothing at all and exits 0 (that is how process_rlimits_fail
# and process_capabilities_fail report success). Not `prove`: its YAMLish parser
# rejects the JSON-style diagnostics tap-go writes, so it fails almost everything.
# After each program the harness deletes leftover containers (list/state dir,
# `delete --force`), kills any process still carrying this run's token in its
# environment (only processes started by this harness carry it), unmounts
# whatever is left mounted under the temp dir, removes it, and removes test
# cgroups (cgrouptest, testdir) that did not exist before the run.
#
# Exit status: 0 when the run completed; with two or more runtimes, 1 if a later
# runtime fails a program that the first runtime passes; 2 on usage/setup errors.
set -euo pipefail
export LC_ALL=C

die() { echo "conformance/run: error: $*" >&2; exit 2; }
log() { echo "conformance/run: $*" >&2; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)

runtimes=()
json_out=
only=
prog_timeout=120
budget=0
cache_dir=${BERTH_CONFORMANCE_DIR:-$repo_root/build/conformance}
tarball_args=()
logs_dir=
default_root=0
retries=0

need() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
	case "$1" in
	--runtime) need "$@"; runtimes+=("$2"); shift 2 ;;
	--runtime=*) runtimes+=("${1#*=}"); shift ;;
	--json) need "$@"; json_out=$2; shift 2 ;;
	--json=*) json_out=${1#*=}; shift ;;
	--only) need "$@"; only=$2; shift 2 ;;
	--only=*) only=${1#*=}; shift ;;
	--timeout) need "$@"; prog_timeout=$2; shift 2 ;;
	--timeout=*) prog_timeout=${1#*=}; shift ;;
	--budget) need "$@"; budget=$2; shift 2 ;;
	--budget=*) budget=${1#*=}; shift ;;
	--cache-dir) need "$@"; cache_dir=$2; shift 2 ;;
	--cache-dir=*) cache_dir=${1#*=}; shift ;;
	--tarball) need "$@"; tarball_args=(--tarball "$2"); shift 2 ;;
	--tarball=*) tarball_args=(--tarball "${1#*=}"); shift ;;
	--logs) need "$@"; logs_dir=$2; shift 2 ;;
	--logs=*) logs_dir=${1#*=}; shift ;;
	--retries) need "$@"; retries=$2; shift 2 ;;
	--retries=*) retries=${1#*=}; shift ;;
	--default-root) default_root=1; shift ;;
	-h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done

[ ${#runtimes[@]} -gt 0 ] || die "at least one --runtime PATH is required (see --help)"
[[ "$prog_timeout" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive integer (seconds)"
[[ "$budget" =~ ^[0-9]+$ ]] || die "--budget must be a non-negative integer (seconds)"
[[ "$retries" =~ ^[0-9]+$ ]] || die "--retries must be a non-negative integer"
[ "$(id -u)" = 0 ] || die "the validation suite creates containers and cgroups: run as root"
for tool in timeout awk sed grep umount mktemp; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done

# --- the suite ---------------------------------------------------------------
src_dir=$(bash "$script_dir/build.sh" --cache-dir "$cache_dir" "${tarball_args[@]}" | tail -n 1) ||
	die "building the validation suite failed (see above)"
[ -d "$src_dir" ] || die "build.sh did not report a source dir"
cache_dir=$(cd "$cache_dir" && pwd)
logs_dir=${logs_dir:-$cache_dir/results}
runtimetest=$src_dir/runtimetest
rootfs=$(ls "$src_dir"/rootfs-"$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/;s/^i.86$/386/')".tar.gz 2>/dev/null) ||
	die "no rootfs tarball for this architecture in $src_dir"

all_programs=()
for d in "$src_dir"/validation/*/; do
	name=$(basename "$d")
	[ -x "$d$name.t" ] && all_programs+=("$name")
done
[ ${#all_programs[@]} -gt 0 ] || die "no validation programs found in $src_dir/validation"

programs=()
if [ -n "$only" ]; then
	IFS=, read -r -a wanted <<<"$only"
	for w in "${wanted[@]}"; do
		w=${w%.t}
		[ -n "$w" ] || continue
		[ -x "$src_dir/validation/$w/$w.t" ] || die "--only: no validation program named '$w'"
		programs+=("$w")
	done
	[ ${#programs[@]} -gt 0 ] || die "--only selected nothing"
else
	programs=("${all_programs[@]}")
fi

# --- runtimes ----------------------------------------------------------------
rt_paths=() rt_names=() rt_launch=()
for rt in "${runtimes[@]}"; do
	if [[ "$rt" != */* ]]; then
		p=$(command -v "$rt" 2>/dev/null) || die "runtime not found in PATH: $rt"
		rt=$p
	fi
	[ -e "$rt" ] || die "runtime not found: $rt"
	[ -f "$rt" ] || die "runtime is not a file: $rt"
	rt=$(cd "$(dirname "$rt")" && pwd)/$(basename "$rt")
	if [ -x "$rt" ]; then
		launch=$(printf '%q' "$rt")
	elif [[ "$rt" == *.js ]]; then
		node_bin=$(command -v node 2>/dev/null) || die "$rt is not executable and node is not in PATH"
		log "note: $rt is not executable; running it as: $node_bin $rt"
		launch="$(printf '%q' "$node_bin") $(printf '%q' "$rt")"
	else
		die "runtime is not executable: $rt"
	fi
	name=$(basename "$rt")
	name=${name%.js}
	base=$name n=2
	for existing in "${rt_names[@]}"; do
		[ "$existing" = "$name" ] && name=$base-$n && n=$((n + 1))
	done
	rt_paths+=("$rt") rt_names+=("$name") rt_launch+=("$launch")
done

# --- run-wide state and cleanup ----------------------------------------------
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-conformance.XXXXXX")
run_tmp=$(cd "$run_tmp" && pwd -P) # mountinfo shows resolved paths
# World-searchable: a container in a user namespace must reach its bundle.
chmod 0755 "$run_tmp"
token=$(basename "$run_tmp")-$$-$RANDOM
cur_pdir= cur_wrapper= cur_pid= cur_state=

cgroup_roots() {
	awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo 2>/dev/null |
		while read -r m; do printf '%b\n' "$m"; done
}
# The suite's fixed cgroup names: /cgrouptest and testdir/cgrouptest/container.
list_test_cgroups() {
	local roots
	roots=$(cgroup_roots)
	[ -n "$roots" ] || return 0
	# shellcheck disable=SC2086 # one find over every hierarchy (paths have no spaces)
	find $roots -mindepth 1 -maxdepth 8 -type d \( -name cgrouptest -o -name testdir \) 2>/dev/null | sort || true
}
cgroups_before=$(list_test_cgroups)

# Every path mounted at or under $1 in our mount namespace, deepest first.
mounts_under() {
	awk -v p="$1" '{ m = $5; if (m == p || index(m, p "/") == 1) print m }' /proc/self/mountinfo |
		while read -r m; do printf '%b\n' "$m"; done | sort -r
}

# pids of processes carrying this run's token in their environment: only
# processes started (directly or not) by this harness carry it.
token_pids() {
	grep -laFz -- "BERTH_CONFORMANCE_TOKEN=$token" /proc/[0-9]*/environ 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p' || true
}

# Remove what one program left behind. Prints a short summary of what it did.
cleanup_program() {
	local pdir=$1 wrapper=$2 state=$3 ids=() id out pid n_ct=0 n_kill=0 n_mnt=0 n_cg=0 notes=()
	# 1. containers left in the runtime's state dir
	if [ "$default_root" = 0 ]; then
		out=$(timeout 30 "$wrapper" list -q 2>/dev/null) || out=
		for id in $out; do ids+=("$id"); done
		if [ -d "$state" ]; then
			for id in "$state"/*; do
				[ -e "$id" ] && ids+=("$(basename "$id")")
			done
		fi
	else
		# Shared state dir: only containers whose bundle lies in our temp dir.
		out=$(timeout 30 "$wrapper" list --format json 2>/dev/null) || out=
		if [ -n "$out" ] && command -v perl >/dev/null 2>&1; then
			while read -r id; do [ -n "$id" ] && ids+=("$id"); done < <(
				printf '%s' "$out" | perl -MJSON::PP -e '
					my $p = shift; local $/; my $j = eval { decode_json(<STDIN>) } || [];
					for (@{ ref $j eq "ARRAY" ? $j : [] }) {
						print "$_->{id}\n" if index($_->{bundle} // "", "$p/") == 0;
					}' "$pdir")
		fi
	fi
	if [ ${#ids[@]} -gt 0 ]; then
		for id in $(printf '%s\n' "${ids[@]}" | sort -u); do
			timeout 30 "$wrapper" state "$id" >/dev/null 2>&1 || continue
			n_ct=$((n_ct + 1))
			timeout 30 "$wrapper" delete --force "$id" >/dev/null 2>&1 || true
			if out=$(timeout 30 "$wrapper" state "$id" 2>/dev/null); then
				# still there: kill its init by pid (a process our runtime started), retry
				pid=$(printf '%s' "$out" | sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' | head -n 1)
				if [ -n "$pid" ] && [ "$pid" -gt 1 ] && [ -d "/proc/$pid" ]; then
					kill -KILL "$pid" 2>/dev/null || true
					sleep 0.2
				fi
				timeout 30 "$wrapper" delete --force "$id" >/dev/null 2>&1 ||
					notes+=("could not delete container $id")
			fi
			# shellcheck disable=SC2046
			find $(cgroup_roots) -mindepth 1 -maxdepth 8 -depth -type d -name "$id" -exec rmdir {} \; 2>/dev/null || true
		done
	fi
	# 2. processes started by this harness that are still around
	local pass
	for pass in 1 2 3; do
		local pids
		pids=$(token_pids)
		[ -n "$pids" ] || break
		for pid in $pids; do
			kill -KILL "$pid" 2>/dev/null && n_kill=$((n_kill + 1))
		done
		sleep 0.2
	done
	# 3. mounts left under the temp dir (e.g. a container without a mount namespace)
	local m
	for pass in 1 2 3; do
		local ms
		ms=$(mounts_under "$pdir")
		[ -n "$ms" ] || break
		while read -r m; do
			umount -l "$m" 2>/dev/null && n_mnt=$((n_mnt + 1))
		done <<<"$ms"
	done
	[ -z "$(mounts_under "$pdir")" ] || notes+=("mounts remain under $pdir")
	# 4. the temp dir itself; never cross into another filesystem
	rm -rf --one-file-system "$pdir" 2>/dev/null || true
	[ ! -e "$pdir" ] || notes+=("could not remove $pdir")
	# 5. test cgroups that did not exist before the run
	local new c
	new=$(comm -13 <(printf '%s\n' "$cgroups_before") <(list_test_cgroups))
	if [ -n "$new" ]; then
		for c in $(printf '%s\n' "$new" | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-); do
			rmdir "$c" 2>/dev/null && n_cg=$((n_cg + 1))
		done
		[ -z "$(comm -13 <(printf '%s\n' "$cgroups_before") <(list_test_cgroups))" ] ||
			notes+=("test cgroups remain")
	fi
	local s=
	[ $n_ct -gt 0 ] && s+="deleted $n_ct container(s); "
	[ $n_kill -gt 0 ] && s+="killed $n_kill process(es); "
	[ $n_mnt -gt 0 ] && s+="unmounted $n_mnt; "
	[ $n_cg -gt 0 ] && s+="removed $n_cg cgroup(s); "
	[ ${#notes[@]} -gt 0 ] && s+="$(IFS=';'; echo "${notes[*]}"); "
	printf '%s' "${s%; }"
}

interrupted=0
on_signal() {
	interrupted=1
	[ -n "$cur_pid" ] && kill -TERM "$cur_pid" 2>/dev/null || true
}
on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$cur_pid" ]; then
		kill -TERM "$cur_pid" 2>/dev/null || true
		wait "$cur_pid" 2>/dev/null || true
	fi
	if [ -n "$cur_pdir" ]; then
		cleanup_program "$cur_pdir" "$cur_wrapper" "$cur_state" >/dev/null || true
	fi
	for m in $(mounts_under "$run_tmp"); do umount -l "$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$run_tmp" 2>/dev/null || true
	exit "$rc"
}
trap on_exit EXIT
trap on_signal INT TERM

# --- judging TAP ---------------------------------------------------------------
# judge RC TAPFILE ERRFILE -> prints "pass|fail<TAB>note"
judge() {
	local rc=$1 tap=$2 err=$3 errline
	errline=$(grep -v -e '^[[:space:]]*$' -e '^exit status [0-9]*$' "$err" 2>/dev/null | tail -n 1 |
		sed -e 's/^time="[^"]*" level=[a-z]* msg=//' | cut -c1-300) || errline=
	awk -v rc="$rc" -v errline="$errline" '
		# the value of a one-line JSON string field of a YAML diagnostic block
		function jval(line, key,    v) {
			v = line; sub(".*\"" key "\": \"", "", v); sub(/",?[ \t]*$/, "", v)
			gsub(/\\\\/, "\001", v); gsub(/\\[nt]/, " ", v); gsub(/\\"/, "\"", v); gsub(/\001/, "\\", v)
			if (sub(/^time="[^"]*" level=[a-z]* msg="/, "", v)) sub(/" *$/, "", v)
			sub(/ Refer to: http.*/, "", v); gsub(/  +/, " ", v); sub(/ +$/, "", v)
			return substr(v, 1, 300)
		}
		/^not ok([ \t]|$)/ {
			ntests++; infirst = 0
			if ($0 !~ /#[ \t]*[Tt][Oo][Dd][Oo]/) {
				nfail++
				if (first == "") { first = $0; infirst = 1 }
			}
			next
		}
		/^ok([ \t]|$)/ { ntests++; infirst = 0; next }
		/^1\.\.[0-9]+/ { nplans++; s = $0; sub(/^1\.\./, "", s); planned += s + 0; next }
		/^Bail out!/ { if (bail == "") bail = $0; next }
		/^[ \t]*$/ { next }
		{ nother++ }
		infirst && /^# expect:/ && fdetail == "" { fdetail = substr($0, 3) }
		infirst && /"stderr": "[^"]/ { fdetail = "stderr: " jval($0, "stderr") }
		infirst && /"error": "[^"]/ && fdetail == "" { fdetail = "error: " jval($0, "error") }
		infirst && /^ *"actual": / { fact = $0; sub(/^ *"actual": /, "", fact); sub(/,$/, "", fact) }
		infirst && /^ *"expected": / { fexp = $0; sub(/^ *"expected": /, "", fexp); sub(/,$/, "", fexp) }
		/"error": "/ && diag == "" { diag = jval($0, "error") }
		END {
			sub(/^not ok [0-9]* *-? */, "", first)
			if (rc != 0) {
				note = "exit " rc
				if (first != "") note = note "; not ok: " first
				if (errline != "") note = note "; " errline
				print "fail\t" note; exit
			}
			if (bail != "") { print "fail\t" bail; exit }
			if (nfail > 0) {
				note = nfail " not ok, first: " first
				if (fdetail == "" && (fact != "" || fexp != "")) fdetail = "expected " fexp ", actual " fact
				if (fdetail != "") note = note " (" fdetail ")"
				else if (errline != "") note = note "; stderr: " errline
				print "fail\t" note; exit
			}
			if (nplans == 0 && ntests == 0 && nother == 0) {
				# e.g. process_rlimits_fail: success is "the runtime refused", and
				# the program then prints nothing and exits 0
				print "pass\tno TAP output, exit 0" (errline != "" ? "; stderr: " errline : ""); exit
			}
			if (nplans == 0) { print "fail\tno TAP plan" (errline != "" ? "; " errline : ""); exit }
			if (ntests != planned) { print "fail\tplanned " planned " tests, ran " ntests; exit }
			note = ntests " ok"
			if (ntests == 0) note = "no assertions (1..0)"
			if (diag != "") note = note "; diagnostic: " diag
			print "pass\t" note
		}' "$tap"
}

fmt_secs() { awk -v ms="$1" 'BEGIN { printf "%.1fs", ms / 1000 }'; }
now_ms() { date +%s%3N; }

# --- running one program ----------------------------------------------------
# run_program RUNTIME_INDEX PROGRAM LOGBASE -> sets r_status, r_why, r_ms
run_program() {
	local i=$1 prog=$2 logbase=$3
	local rt=${rt_paths[$i]} name=${rt_names[$i]} launch=${rt_launch[$i]}
	local pdir wrapper t0 rc cleaned
	pdir=$(mktemp -d "$run_tmp/$name.$prog.XXXXXX")
	mkdir -p "$pdir/cwd" "$pdir/tmp" "$pdir/state" "$pdir/bin"
	chmod 0755 "$pdir" "$pdir/cwd" "$pdir/tmp" "$pdir/bin"
	chmod 0711 "$pdir/state"
	cp -l "$runtimetest" "$pdir/cwd/runtimetest" 2>/dev/null || cp "$runtimetest" "$pdir/cwd/runtimetest"
	cp -l "$rootfs" "$pdir/cwd/" 2>/dev/null || cp "$rootfs" "$pdir/cwd/"
	wrapper=$pdir/bin/$(basename "$rt")
	wrapper=${wrapper%.js}
	if [ "$default_root" = 0 ]; then
		printf '#!/bin/sh\nexec %s --root %q "$@"\n' "$launch" "$pdir/state" >"$wrapper"
	else
		printf '#!/bin/sh\nexec %s "$@"\n' "$launch" >"$wrapper"
	fi
	chmod 0755 "$wrapper"
	cur_pdir=$pdir cur_wrapper=$wrapper cur_state=$pdir/state

	t0=$(now_ms)
	set +e
	(
		cd "$pdir/cwd" &&
			exec env RUNTIME="$wrapper" TMPDIR="$pdir/tmp" BERTH_CONFORMANCE_TOKEN="$token" \
				timeout --kill-after=10 "$prog_timeout" \
				"$src_dir/validation/$prog/$prog.t" </dev/null >"$logbase.tap" 2>"$logbase.err"
	) &
	cur_pid=$!
	while :; do
		wait "$cur_pid"
		rc=$?
		# a trapped signal interrupts `wait` (rc > 128) while the job still runs
		kill -0 "$cur_pid" 2>/dev/null || break
	done
	set -e
	cur_pid=
	r_ms=$(($(now_ms) - t0))

	if { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && [ "$r_ms" -ge $((prog_timeout * 1000 - 500)) ]; then
		r_status=timeout r_why="killed after ${prog_timeout}s"
	else
		IFS=$'\t' read -r r_status r_why < <(judge "$rc" "$logbase.tap" "$logbase.err")
	fi
	cleaned=$(cleanup_program "$pdir" "$wrapper" "$pdir/state")
	cur_pdir=
	if [ -n "$cleaned" ]; then
		r_why="$r_why [cleanup: $cleaned]"
		printf 'conformance harness cleanup: %s\n' "$cleaned" >>"$logbase.err"
	fi
}

# --- main loop ---------------------------------------------------------------
declare -A result note elapsed
mkdir -p "$logs_dir"
total_start=$(now_ms)
for i in "${!rt_paths[@]}"; do
	rt=${rt_paths[$i]} name=${rt_names[$i]}
	rlogs=$logs_dir/$name
	rm -rf "$rlogs"
	mkdir -p "$rlogs"
	log "running ${#programs[@]} programs against $name ($rt), timeout ${prog_timeout}s each$([ "$budget" -gt 0 ] && echo ", budget ${budget}s"); logs in $rlogs"
	rt_start=$(now_ms)
	k=0
	for prog in "${programs[@]}"; do
		k=$((k + 1))
		[ "$interrupted" = 0 ] || break
		if [ "$budget" -gt 0 ] && [ $(($(now_ms) - rt_start)) -ge $((budget * 1000)) ]; then
			result[$name/$prog]=timeout note[$name/$prog]="not run: the ${budget}s budget for $name ran out" elapsed[$name/$prog]=0
			printf 'not run: budget exhausted\n' >"$rlogs/$prog.err"
			: >"$rlogs/$prog.tap"
			continue
		fi
		run_program "$i" "$prog" "$rlogs/$prog"
		result[$name/$prog]=$r_status note[$name/$prog]=$r_why elapsed[$name/$prog]=$r_ms
		printf '[%s %d/%d] %-32s %-7s %7s  %s\n' "$name" "$k" "${#programs[@]}" "$prog" "$r_status" "$(fmt_secs "$r_ms")" "${r_why:0:160}" >&2
	done
	elapsed[$name]=$(($(now_ms) - rt_start))
	[ "$interrupted" = 0 ] || break
done
[ "$interrupted" = 0 ] || { log "interrupted; cleaned up"; exit 130; }

# --- retries (comparison only) ---------------------------------------------------
# A program the first runtime passes but another does not is run again for the
# other runtime (up to --retries times; a pass counts). If it still fails, the
# first runtime runs it --retries more times: if it fails any of those, the
# program is racy for the reference too and its reference result becomes
# "fail" (noted), so it no longer counts against the other runtime.
declare -A flaky
max_retried=${BERTH_CONFORMANCE_MAX_RETRIED:-6}
retry_start=$(now_ms)
# With --budget, retries may take at most half of it (all runtimes together).
retry_time_left() {
	[ "$budget" -eq 0 ] && return 0
	[ $(($(now_ms) - retry_start)) -lt $((budget * 500)) ] && return 0
	log "retry time (${budget}s / 2) used up; no more retries"
	return 1
}
if [ "$retries" -gt 0 ] && [ ${#rt_names[@]} -ge 2 ]; then
	ref=${rt_names[0]}
	for i in "${!rt_names[@]}"; do
		[ "$i" = 0 ] && continue
		name=${rt_names[$i]}
		n_reg=0
		for prog in "${programs[@]}"; do
			[ "${result[$ref/$prog]}" = pass ] && [ "${result[$name/$prog]}" != pass ] && n_reg=$((n_reg + 1))
		done
		if [ "$n_reg" -gt "$max_retried" ]; then
			log "$name fails $n_reg programs that $ref passes: more than $max_retried, so no retries (they cannot all be races)"
			continue
		fi
		for prog in "${programs[@]}"; do
			[ "${result[$ref/$prog]}" = pass ] && [ "${result[$name/$prog]}" = fail ] || continue
			for ((a = 1; a <= retries; a++)); do
				[ "$interrupted" = 0 ] || break
				retry_time_left || break
				run_program "$i" "$prog" "$logs_dir/$name/$prog.retry$a"
				printf '[%s retry %d/%d] %-32s %-7s %7s  %s\n' "$name" "$a" "$retries" "$prog" "$r_status" "$(fmt_secs "$r_ms")" "${r_why:0:160}" >&2
				if [ "$r_status" = pass ]; then
					result[$name/$prog]=pass note[$name/$prog]="passed on retry $a of $retries (first: ${note[$name/$prog]})"
					flaky[$name/$prog]=1
					break
				fi
			done
			[ "${result[$name/$prog]}" = pass ] && continue
			[ -n "${flaky[$ref/$prog]:-}" ] && continue
			for ((a = 1; a <= retries; a++)); do
				[ "$interrupted" = 0 ] || break
				retry_time_left || break
				run_program 0 "$prog" "$logs_dir/$ref/$prog.retry$a"
				printf '[%s recheck %d/%d] %-32s %-7s %7s  %s\n' "$ref" "$a" "$retries" "$prog" "$r_status" "$(fmt_secs "$r_ms")" "${r_why:0:160}" >&2
				if [ "$r_status" != pass ]; then
					result[$ref/$prog]=fail note[$ref/$prog]="racy: passed the first run, then failed recheck $a ($r_why)"
					flaky[$ref/$prog]=1
					break
				fi
			done
		done
	done
	[ "$interrupted" = 0 ] || { log "interrupted; cleaned up"; exit 130; }
fi

# per-runtime record for humans
for name in "${rt_names[@]}"; do
	{
		printf 'program\tresult\tseconds\tnote\n'
		for prog in "${programs[@]}"; do
			printf '%s\t%s\t%s\t%s\n' "$prog" "${result[$name/$prog]}" "$(fmt_secs "${elapsed[$name/$prog]}")" "${note[$name/$prog]}"
		done
	} >"$logs_dir/$name/summary.tsv"
done

# --- report ------------------------------------------------------------------
echo
printf '%-34s' "program"
for name in "${rt_names[@]}"; do printf ' %-16s' "$name"; done
[ ${#rt_names[@]} -eq 1 ] && printf '  %-8s %s' time note
echo
for prog in "${programs[@]}"; do
	printf '%-34s' "$prog"
	for name in "${rt_names[@]}"; do
		if [ ${#rt_names[@]} -eq 1 ]; then
			printf ' %-16s  %-8s %s' "${result[$name/$prog]}" "$(fmt_secs "${elapsed[$name/$prog]}")" "${note[$name/$prog]:0:150}"
		else
			printf ' %-16s' "${result[$name/$prog]}${flaky[$name/$prog]:+*} $(fmt_secs "${elapsed[$name/$prog]}")"
		fi
	done
	echo
done
echo
for name in "${rt_names[@]}"; do
	passed=0
	for prog in "${programs[@]}"; do [ "${result[$name/$prog]}" = pass ] && passed=$((passed + 1)); done
	echo "$name: $passed/${#programs[@]} programs passed ($(fmt_secs "${elapsed[$name]}"))"
done
for key in "${!flaky[@]}"; do
	echo "racy (*): ${key%%/*} ${key#*/}: ${note[$key]:0:200}"
done

regressions=0
if [ ${#rt_names[@]} -ge 2 ]; then
	ref=${rt_names[0]}
	for name in "${rt_names[@]:1}"; do
		missing=()
		for prog in "${programs[@]}"; do
			if [ "${result[$ref/$prog]}" = pass ] && [ "${result[$name/$prog]}" != pass ]; then
				missing+=("$prog")
			fi
		done
		if [ ${#missing[@]} -eq 0 ]; then
			echo "$name passes every program that $ref passes"
		else
			regressions=1
			echo "$name fails ${#missing[@]} program(s) that $ref passes:"
			for prog in "${missing[@]}"; do
				echo "  $prog: ${result[$name/$prog]} - ${note[$name/$prog]:0:200}"
			done
		fi
	done
fi
echo "logs: $logs_dir/<runtime>/<program>.{tap,err}, summary.tsv; total $(fmt_secs $(($(now_ms) - total_start)))"

if [ -n "$json_out" ]; then
	json_tmp=$json_out.tmp.$$
	{
		printf '{'
		sep=
		for name in "${rt_names[@]}"; do
			esc=$(printf '%s' "$name" | sed 's/\\/\\\\/g; s/"/\\"/g')
			printf '%s\n  "%s": {' "$sep" "$esc"
			psep=
			for prog in "${programs[@]}"; do
				printf '%s\n    "%s": "%s"' "$psep" "$prog" "${result[$name/$prog]}"
				psep=,
			done
			printf '\n  }'
			sep=,
		done
		printf '\n}\n'
	} >"$json_tmp"
	mv "$json_tmp" "$json_out"
	log "wrote $json_out"
fi
exit $regressions
