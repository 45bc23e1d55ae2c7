#!/usr/bin/env bash
# A private podman environment for driving berth-runtime (and runc, as a baseline), kept
# inside one directory so that the machine's own podman state is left alone.
#
#   scripts/podman/env.sh setup DIR       write DIR/{containers,storage,registries}.conf and
#                                         import the busybox image (idempotent)
#   scripts/podman/env.sh podman DIR ARGS run podman inside the environment, e.g.
#       scripts/podman/env.sh podman DIR run --rm --runtime "$PWD/bin/berth-runtime.js" \
#           localhost/berth-busybox echo hello
#   scripts/podman/env.sh env DIR         print the `export` lines of the environment (podman
#                                         also needs the --root/--runroot/--tmpdir flags that
#                                         `podman-flags` prints)
#   scripts/podman/env.sh podman-flags DIR
#   scripts/podman/env.sh teardown DIR    remove every container, unmount and delete DIR,
#                                         and what podman created outside DIR (see below)
#
# Or source it: `. scripts/podman/env.sh; berth_podman_setup DIR; berth_podman DIR ps -a`.
#
# What the host asks for:
# - the image comes from the host's /bin/busybox (busybox-static): no registry, no network;
# - no systemd: cgroupfs cgroup manager, events in a file;
# - no CAP_SYS_RESOURCE: a runtime cannot raise a hard rlimit, and podman asks for
#   nofile=1048576 and nproc=4194304 by default, so the defaults stay within what is there;
# - containers get no network (netns = "none"): nothing leaves the machine.
#
# podman 4.3 as root still writes a few things outside DIR whatever it is told:
# /run/containers/networks (netavark's run dir, fixed), /var/lib/containers/cache (the blob
# info cache of an image copy), and the cgroups libpod_parent/ and libpod_parent/conmon/ in
# every hierarchy (the cgroupfs parent; `podman pod rm` also leaves libpod_parent/<pod id> in
# the name=systemd and unified hierarchies). setup notes which of these did not exist before
# it, and teardown removes those (directories and cgroups only if empty).

BERTH_PODMAN_IMAGE=${BERTH_PODMAN_IMAGE:-localhost/berth-busybox:latest}
BERTH_PODMAN_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BERTH_PODMAN_RUNTIME=${BERTH_PODMAN_RUNTIME:-$BERTH_PODMAN_REPO/bin/berth-runtime.js}

# The storage driver: kernel overlayfs where DIR's filesystem can hold its upper layers,
# vfs (plain copies: slower, but works anywhere) otherwise. BERTH_PODMAN_DRIVER overrides.
_berth_podman_pick_driver() {
  if [ -n "${BERTH_PODMAN_DRIVER:-}" ]; then
    echo "$BERTH_PODMAN_DRIVER"
    return
  fi
  case $(stat -f -c %T "$1" 2>/dev/null) in
    ext2/ext3 | xfs | btrfs | tmpfs) echo overlay ;;
    *) echo vfs ;;
  esac
}

berth_podman_env() {
  local dir
  dir=$(cd "$1" && pwd) || return 1
  printf "export CONTAINERS_CONF='%s'\n" "$dir/containers.conf"
  printf "export CONTAINERS_STORAGE_CONF='%s'\n" "$dir/storage.conf"
  printf "export CONTAINERS_REGISTRIES_CONF='%s'\n" "$dir/registries.conf"
  printf "export REGISTRIES_CONFIG_PATH='%s'\n" "$dir/registries.conf"
  printf "export TMPDIR='%s'\n" "$dir/tmp"
}

berth_podman_flags() {
  local dir
  dir=$(cd "$1" && pwd) || return 1
  printf '%s\n' --root "$dir/storage" --runroot "$dir/run" --tmpdir "$dir/libpod-tmp" \
    --storage-driver "$(cat "$dir/driver")"
}

# berth_podman DIR ARGS...: podman with the private storage, runroot and configuration.
berth_podman() {
  local dir
  dir=$(cd "$1" && pwd) || return 1
  shift
  (
    eval "$(berth_podman_env "$dir")"
    mapfile -t flags < <(berth_podman_flags "$dir")
    exec podman "${flags[@]}" "$@"
  )
}

# What podman creates outside DIR, when it did not exist yet: noted for teardown.
_berth_podman_note_host_paths() {
  local dir=$1 p h
  local paths=(/run/containers /run/containers/networks /var/lib/containers /var/lib/containers/cache
    /var/lib/containers/cache/blob-info-cache-v1.boltdb)
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [ -e "$h/cgroup.procs" ] || continue
    paths+=("${h%/}/libpod_parent" "${h%/}/libpod_parent/conmon")
  done
  touch "$dir/host-paths"
  for p in "${paths[@]}"; do
    [ -e "$p" ] || grep -qxF "$p" "$dir/host-paths" || echo "$p" >>"$dir/host-paths"
  done
}

berth_podman_setup() {
  local dir=$1
  mkdir -p "$dir" || return 1
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir/storage" "$dir/run" "$dir/libpod-tmp" "$dir/tmp" "$dir/network" "$dir/events" || return 1
  _berth_podman_note_host_paths "$dir"
  [ -f "$dir/driver" ] || _berth_podman_pick_driver "$dir" >"$dir/driver"

  local nofile nproc
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] && nofile=1024
  [ "$nofile" -gt 1024 ] && nofile=1024
  # podman lowers its own RLIMIT_NPROC to 32768 when it starts, and conmon and the runtime
  # inherit that, so a larger nproc is refused by any runtime.
  nproc=$(ulimit -Hu)
  [ "$nproc" = unlimited ] && nproc=32768
  [ "$nproc" -gt 32768 ] && nproc=32768

  cat >"$dir/containers.conf" <<CONF
# Written by berth's scripts/podman/env.sh for $dir
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/events/events.log"
tmp_dir = "$dir/libpod-tmp"
image_copy_tmp_dir = "$dir/tmp"
infra_image = "$BERTH_PODMAN_IMAGE"
num_locks = 256
# podman passes --log FILE --log-format=json to the runtimes named here (by the base name
# of their path) and reads a failure's message back from that file, as it does for runc.
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "berth-runtime.js", "berth-runtime"]

[engine.runtimes]
berth = ["$BERTH_PODMAN_RUNTIME"]
runc = ["/usr/sbin/runc", "/usr/bin/runc"]
crun = ["/usr/bin/crun"]

[network]
network_config_dir = "$dir/network"
CONF

  cat >"$dir/storage.conf" <<CONF
# Written by berth's scripts/podman/env.sh for $dir
[storage]
driver = "$(cat "$dir/driver")"
graphroot = "$dir/storage"
runroot = "$dir/run"
CONF

  cat >"$dir/registries.conf" <<CONF
# Written by berth's scripts/podman/env.sh: no remote registries, no short names.
unqualified-search-registries = []
short-name-mode = "disabled"
CONF

  if berth_podman "$dir" image exists "$BERTH_PODMAN_IMAGE" 2>/dev/null; then
    return 0
  fi
  local busybox=${BERTH_PODMAN_BUSYBOX:-/bin/busybox}
  if [ ! -x "$busybox" ]; then
    echo "env.sh: $busybox not found (apt-get install busybox-static)" >&2
    return 1
  fi
  local rootfs="$dir/image-rootfs"
  rm -rf "$rootfs"
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,run} || return 1
  chmod 1777 "$rootfs/tmp"
  cp "$busybox" "$rootfs/bin/busybox" || return 1
  chroot "$rootfs" /bin/busybox --install -s || return 1
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" --numeric-owner -cf "$dir/busybox.tar" . || return 1
  berth_podman "$dir" import --quiet \
    --change 'CMD ["/bin/sh"]' \
    --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    "$dir/busybox.tar" "$BERTH_PODMAN_IMAGE" >/dev/null || return 1
  rm -rf "$rootfs" "$dir/busybox.tar"
}

# The conmon and podman processes working in DIR (an argument under DIR/).
_berth_podman_procs() {
  local pid
  for pid in $(pgrep -x conmon 2>/dev/null) $(pgrep -x podman 2>/dev/null); do
    if tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "^$1/"; then
      echo "$pid"
    fi
  done
}

_berth_podman_mounts_under() {
  awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r
}

berth_podman_teardown() {
  local dir=$1 m pid
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/containers.conf" ] && [ -f "$dir/driver" ]; then
    berth_podman "$dir" rm -af -t 0 >/dev/null 2>&1 || true
    berth_podman "$dir" pod rm -af >/dev/null 2>&1 || true
    berth_podman "$dir" volume rm -af >/dev/null 2>&1 || true
  fi
  # conmon and its exit command (podman container cleanup) finish after `podman rm` returns:
  # wait for this environment's to end, then kill what is left (a conmon whose rm failed).
  local i left
  for i in $(seq 100); do
    left=$(_berth_podman_procs "$dir")
    [ -z "$left" ] && break
    sleep 0.1
  done
  for pid in $(_berth_podman_procs "$dir"); do
    kill -9 "$pid" 2>/dev/null || true
  done
  # What podman left mounted inside DIR (overlay layers, shm), deepest first.
  for m in $(_berth_podman_mounts_under "$dir"); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  if [ -n "$(_berth_podman_mounts_under "$dir")" ]; then
    echo "env.sh: mounts are left under $dir, not removing it:" >&2
    _berth_podman_mounts_under "$dir" >&2
    return 1
  fi
  if [ -f "$dir/host-paths" ]; then
    # deepest first; only what this environment created, and only if empty
    sort -r "$dir/host-paths" | while read -r m; do
      case $m in
        *.boltdb) rm -f "$m" ;;
        */libpod_parent)
          # and the pod cgroups podman leaves in the named and unified hierarchies
          find "$m" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
          rmdir "$m" 2>/dev/null || true
          ;;
        *) rmdir "$m" 2>/dev/null || true ;;
      esac
    done
  fi
  rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  usage() {
    echo "usage: $0 setup|teardown|env|podman-flags DIR | $0 podman DIR ARGS..." >&2
    exit 2
  }
  [ $# -ge 2 ] || usage
  cmd=$1
  shift
  case $cmd in
    setup) [ $# -eq 1 ] || usage; berth_podman_setup "$1" ;;
    teardown) [ $# -eq 1 ] || usage; berth_podman_teardown "$1" ;;
    env) [ $# -eq 1 ] || usage; berth_podman_env "$1" ;;
    podman-flags) [ $# -eq 1 ] || usage; berth_podman_flags "$1" ;;
    podman) berth_podman "$@" ;;
    *) usage ;;
  esac
fi
