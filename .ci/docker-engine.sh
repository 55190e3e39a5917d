#!/usr/bin/env bash
# Make a Docker engine answer on the default socket: a no-op when `docker info` already works; otherwise, as
# root, start `dockerd` in the background (its own session, so it outlives this script and the test run) and
# wait, bounded, until GET /_ping answers. Used by .ci/run and by test/harness/run.ts (through
# test/harness/docker.ts). Prints what it did and how long it took, on stderr.
#
#   .ci/docker-engine.sh            QUIXLAB_DOCKERD_LOG=/var/log/quixlab-dockerd.log  QUIXLAB_DOCKERD_WAIT_S=60
#
# Exit codes: 0 an engine answers; 1 dockerd was started but never answered (see the log); 3 no engine can be
# started here (no dockerd, or not root): the caller decides whether that is a skip or a failure.
set -euo pipefail

log_file="${QUIXLAB_DOCKERD_LOG:-/var/log/quixlab-dockerd.log}"
wait_s="${QUIXLAB_DOCKERD_WAIT_S:-60}"
say() { printf '[docker-engine] %s\n' "$*" >&2; }
answers() { docker info >/dev/null 2>&1; }

if answers; then
  say "a Docker engine already answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi
if ! command -v dockerd >/dev/null; then
  say "no Docker engine answers and dockerd is not installed (apt-get install -y docker.io)"
  exit 3
fi
if ((EUID != 0)); then
  say "no Docker engine answers, and starting dockerd needs root (this is uid $EUID)"
  exit 3
fi

# Flags, tried in order until one starts. Measured on the CI machine (a Firecracker VM, Debian 12 kernel
# features, cgroup v1, iptables-nft): the first set works, overlay2 and iptables NAT included, so `docker run -p`
# is reachable on 127.0.0.1 and containers reach the apt/npm mirrors through NAT (docker build's RUN apt-get).
# The others are for hosts where that fails:
#  - overlay2 cannot mount when /var/lib/docker itself sits on overlayfs (Docker in a container): fuse-overlayfs
#    if installed, else vfs (slow, full copies, but works anywhere);
#  - a broken iptables (no nat table, no kernel module): --iptables=false. Port mapping then still works through
#    docker-proxy (the userland proxy, on by default), but containers lose outbound NAT.
# The storage driver is explicit so that a failure is reported instead of dockerd silently choosing vfs.
# Images live per storage driver: a host that needed vfs once keeps needing it, so the order is stable.
attempts=("--storage-driver=overlay2")
command -v fuse-overlayfs >/dev/null && attempts+=("--storage-driver=fuse-overlayfs")
attempts+=("--storage-driver=vfs" "--storage-driver=vfs --iptables=false --ip6tables=false")

mkdir -p "$(dirname "$log_file")"
started=$SECONDS
for flags in "${attempts[@]}"; do
  say "starting dockerd $flags (log: $log_file)"
  printf '\n=== %s dockerd %s\n' "$(date -u +%FT%TZ)" "$flags" >>"$log_file"
  # shellcheck disable=SC2086 # $flags is a list of words on purpose
  setsid dockerd $flags >>"$log_file" 2>&1 </dev/null &
  pid=$!
  deadline=$((SECONDS + wait_s))
  while ((SECONDS < deadline)); do
    if answers; then
      say "engine up in $((SECONDS - started)) s (pid $pid, flags: $flags)"
      exit 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "dockerd (pid $pid) did not answer within ${wait_s} s; last log lines:"
    tail -n 15 "$log_file" >&2
    exit 1
  fi
  say "dockerd $flags exited: $(grep -E 'level=(error|fatal)|failed to start' "$log_file" | tail -n 1 || true)"
done
say "no set of dockerd flags started an engine; see $log_file"
exit 1
