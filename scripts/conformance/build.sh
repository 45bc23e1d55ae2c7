#!/usr/bin/env bash
# Build the OCI runtime-tools validation suite (opencontainers/runtime-tools)
# from the vendored source tarball, offline.
#
# Usage: scripts/conformance/build.sh [--cache-dir DIR] [--tarball FILE] [--force]
#
#   --cache-dir DIR  where to extract and build (default: <repo>/build/conformance,
#                    or $BERTH_CONFORMANCE_DIR)
#   --tarball FILE   runtime-tools source with vendor/ (default:
#                    <repo>/../shared/conformance/runtime-tools-260e151.tar.gz, or
#                    $BERTH_CONFORMANCE_TARBALL)
#   --force          rebuild even when a build for the same tarball exists
#
# Environment: GO (path of the go binary; default /usr/lib/go-1.19/bin/go, then
# `go` on PATH). No network is used: GOFLAGS=-mod=vendor GOPROXY=off.
#
# On success the last line printed on stdout is the source directory, which
# holds runtimetest, rootfs-<arch>.tar.gz and validation/<name>/<name>.t.
# Idempotent: a second run with the same tarball only verifies and returns.
set -euo pipefail

die() { echo "conformance/build: error: $*" >&2; exit 1; }
log() { echo "conformance/build: $*" >&2; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)

cache_dir=${BERTH_CONFORMANCE_DIR:-$repo_root/build/conformance}
tarball=${BERTH_CONFORMANCE_TARBALL:-$repo_root/../shared/conformance/runtime-tools-260e151.tar.gz}
force=0

while [ $# -gt 0 ]; do
	case "$1" in
	--cache-dir) [ $# -ge 2 ] || die "--cache-dir needs a value"; cache_dir=$2; shift 2 ;;
	--cache-dir=*) cache_dir=${1#*=}; shift ;;
	--tarball) [ $# -ge 2 ] || die "--tarball needs a value"; tarball=$2; shift 2 ;;
	--tarball=*) tarball=${1#*=}; shift ;;
	--force) force=1; shift ;;
	-h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done

# --- prerequisites -----------------------------------------------------------
[ -f "$tarball" ] || die "runtime-tools source tarball not found: $tarball
  (set --tarball FILE or BERTH_CONFORMANCE_TARBALL; nothing is downloaded)"
[ -r "$tarball" ] || die "cannot read tarball: $tarball"

go_bin=${GO:-}
if [ -z "$go_bin" ]; then
	if [ -x /usr/lib/go-1.19/bin/go ]; then
		go_bin=/usr/lib/go-1.19/bin/go
	elif command -v go >/dev/null 2>&1; then
		go_bin=$(command -v go)
	fi
fi
[ -n "$go_bin" ] && [ -x "$go_bin" ] || die "go 1.19 not found: install Debian's golang-1.19-go (expected /usr/lib/go-1.19/bin/go) or set GO=/path/to/go"
go_version=$("$go_bin" version 2>/dev/null | awk '{print $3}') || true
case "$go_version" in
go1.19 | go1.19.* | go1.2[0-9] | go1.2[0-9].*) ;;
*) die "need go >= 1.19 (runtime-tools go.mod says 'go 1.19'), but $go_bin reports '${go_version:-nothing}'" ;;
esac
command -v make >/dev/null 2>&1 || die "make not found (needed for runtime-tools' Makefile)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found"
command -v flock >/dev/null 2>&1 || die "flock not found (util-linux)"

# --- cache layout ------------------------------------------------------------
mkdir -p "$cache_dir"
cache_dir=$(cd "$cache_dir" && pwd)
src_dir=$cache_dir/runtime-tools
stamp=$src_dir/.berth-build-stamp

# One build at a time per cache dir.
exec 9>"$cache_dir/.build.lock"
flock 9

tar_sha=$(sha256sum "$tarball" | awk '{print $1}')
go_env=(
	env
	GOFLAGS=-mod=vendor
	GOPROXY=off
	GOSUMDB=off
	GOTOOLCHAIN=local
	GO111MODULE=on
	CGO_ENABLED=0
	GOCACHE="$cache_dir/gocache"
	GOPATH="$cache_dir/gopath"
	GOMODCACHE="$cache_dir/gopath/pkg/mod"
	PATH="$(dirname "$go_bin"):$PATH"
)
goarch=$("${go_env[@]}" "$go_bin" env GOARCH)

# Are all the expected artefacts present for this tarball?
built_ok() {
	[ -f "$stamp" ] || return 1
	[ "$(sed -n 1p "$stamp")" = "$tar_sha" ] || return 1
	[ -x "$src_dir/runtimetest" ] || return 1
	[ -f "$src_dir/rootfs-$goarch.tar.gz" ] || return 1
	local n=0 d name
	for d in "$src_dir"/validation/*/; do
		name=$(basename "$d")
		[ "$name" = util ] && continue
		[ -x "$d$name.t" ] || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

if [ "$force" = 0 ] && built_ok; then
	log "already built for tarball sha256 ${tar_sha:0:12} in $src_dir ($(sed -n 2p "$stamp") programs)"
	echo "$src_dir"
	exit 0
fi

log "extracting $(basename "$tarball") (sha256 ${tar_sha:0:12}) into $src_dir"
start=$(date +%s)
rm -rf "$src_dir.tmp"
mkdir -p "$src_dir.tmp"
tar -xzf "$tarball" -C "$src_dir.tmp"
# Accept both a flat tarball and one with a single top-level directory.
top=$src_dir.tmp
if [ ! -f "$top/Makefile" ]; then
	entries=("$top"/*)
	if [ ${#entries[@]} -eq 1 ] && [ -f "${entries[0]}/Makefile" ]; then
		top=${entries[0]}
	else
		die "tarball does not look like runtime-tools (no Makefile at its top)"
	fi
fi
[ -d "$top/vendor" ] || die "tarball has no vendor/ directory; an offline build is impossible"
[ -f "$top/rootfs-$goarch.tar.gz" ] || die "tarball has no rootfs-$goarch.tar.gz (the bundle rootfs the suite unpacks)"
rm -rf "$src_dir"
mv "$top" "$src_dir"
rm -rf "$src_dir.tmp"

log "building runtimetest and validation programs with $go_bin ($go_version), offline"
# COMMIT is passed explicitly: the Makefile would otherwise run `git describe`,
# which inside our cache dir would describe the berth repository.
if ! "${go_env[@]}" make -C "$src_dir" -j"$(nproc 2>/dev/null || echo 2)" \
	COMMIT="tarball-${tar_sha:0:12}" runtimetest validation-executables >"$cache_dir/build.log" 2>&1; then
	tail -n 30 "$cache_dir/build.log" >&2
	die "build failed; full log: $cache_dir/build.log"
fi

count=0
for d in "$src_dir"/validation/*/; do
	name=$(basename "$d")
	[ "$name" = util ] && continue
	[ -x "$d$name.t" ] || die "validation program missing after build: $d$name.t"
	count=$((count + 1))
done
[ -x "$src_dir/runtimetest" ] || die "runtimetest missing after build"
printf '%s\n%s\n%s\n' "$tar_sha" "$count" "$go_version" >"$stamp"
log "built runtimetest + $count validation programs in $(($(date +%s) - start))s"
echo "$src_dir"
