#!/usr/bin/env bash
# Build, once, the real-world layer that bench/layers.ts unpacks: a Debian bookworm
# `debootstrap --variant=minbase` rootfs (≈200 MB, ≈10k files), as a GNU tar and a gzip -6 tar.
#
#   sudo bash scripts/bench/make-rootfs.sh            # prints the paths, sizes and file count
#   BERTH_BENCH_DIR=/somewhere bash scripts/bench/make-rootfs.sh
#   bash scripts/bench/make-rootfs.sh --rebuild       # throw the cache away first
#
# Cache: $BERTH_BENCH_DIR (default /var/tmp/berth-bench)/{bookworm-minbase.tar,.tar.gz}. The
# rootfs directory itself is deleted once the tar exists. The mirror is the one this machine's
# apt already uses (/etc/apt/sources.list{,.d/*}); BERTH_BENCH_MIRROR overrides it.
set -euo pipefail

dir=${BERTH_BENCH_DIR:-/var/tmp/berth-bench}
tar_out="$dir/bookworm-minbase.tar"
gz_out="$dir/bookworm-minbase.tar.gz"
suite=bookworm

die() { echo "make-rootfs: $*" >&2; exit 1; }

if [ "${1:-}" = "--rebuild" ]; then
  rm -f -- "$tar_out" "$gz_out"
fi
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap chroots, creates device nodes and sets owners)"

report() {
  local files size gzsize
  files=$(tar -tf "$tar_out" | grep -vc '/$' || true)
  size=$(stat -c %s "$tar_out")
  gzsize=$(stat -c %s "$gz_out")
  echo "make-rootfs: $tar_out: $size bytes ($((size / 1048576)) MiB), $(tar -tf "$tar_out" | wc -l) entries, $files non-directories"
  echo "make-rootfs: $gz_out: $gzsize bytes ($((gzsize / 1048576)) MiB, gzip -6)"
}

if [ -s "$tar_out" ] && [ -s "$gz_out" ]; then
  echo "make-rootfs: cached" >&2
  report
  exit 0
fi

# The Debian mirror apt already uses: one-line (deb URL suite …) or deb822 (URIs: URL) form.
mirror=${BERTH_BENCH_MIRROR:-}
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    m=$(awk '
      /^[[:space:]]*#/ { next }
      /^deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($(i+1) ~ /^(bookworm|stable)$/) { print $i; exit } break } }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm" || $i == "stable") { print uri; exit } }
    ' "$f")
    if [ -n "$m" ]; then mirror=$m; break; fi
  done
fi
[ -n "$mirror" ] || die "no Debian bookworm mirror found in /etc/apt/sources.list{,.d/*}; set BERTH_BENCH_MIRROR"
echo "make-rootfs: mirror $mirror" >&2

if ! command -v debootstrap >/dev/null; then
  echo "make-rootfs: installing debootstrap from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends debootstrap </dev/null >/dev/null \
    || { apt-get update -qq </dev/null && apt-get install -y -qq --no-install-recommends debootstrap </dev/null >/dev/null; } \
    || die "cannot install debootstrap with apt-get"
fi

mkdir -p "$dir"
work=$(mktemp -d "$dir/rootfs.XXXXXX")
# debootstrap mounts proc/sys into the target while it runs: never leave them behind.
cleanup() {
  local m
  if [ -d "$work" ]; then
    for m in $(awk -v w="$work" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
      umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system -- "$work"
  fi
  rm -f -- "$tar_out.tmp" "$gz_out.tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

root="$work/rootfs"
echo "make-rootfs: debootstrap --variant=minbase $suite (this takes a few minutes)" >&2
if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" >&2
  if grep -qiE 'Failed getting release file|Couldn.t download|Temporary failure|Could not resolve|Connection (refused|timed out)' "$work/debootstrap.log"; then
    die "debootstrap could not reach the mirror $mirror (see above); set BERTH_BENCH_MIRROR to a reachable Debian mirror"
  fi
  die "debootstrap failed (log above)"
fi
# Nothing debootstrap left mounted may end up in the tar.
for m in $(awk -v w="$root" 'index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do umount -l "$m"; done

echo "make-rootfs: writing $tar_out" >&2
tar --numeric-owner --xattrs --xattrs-include='*' -C "$root" -cf "$tar_out.tmp" .
gzip -6 -c "$tar_out.tmp" >"$gz_out.tmp"
mv -- "$tar_out.tmp" "$tar_out"
mv -- "$gz_out.tmp" "$gz_out"
report
