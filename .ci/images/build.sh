#!/usr/bin/env bash
# Build, from this machine's own packages, the Docker images the testcontainers providers run (no image
# registry is reachable from CI). Each image is skipped when its tag is already in the engine, so a second run
# costs three `docker image inspect`s. Prints the time of every step.
#
#   .ci/images/build.sh [base|kafka|redis|check]...   (default: the three images, in that order;
#                                                      check: `docker run -p` is reachable at 127.0.0.1)
#
#   node:20-slim                  debootstrap --variant=minbase bookworm (cached as a tarball), plus this
#                                 machine's Node 20 and npm, its CA bundle and npm registry setting, a `node`
#                                 user (uid/gid 1000); the official image's layout (/usr/local/bin/node).
#   quixlab/cp-kafka:7.9.0-local  FROM node:20-slim + openjdk-17-jre-headless + the Kafka 3.9.1 jars of
#                                 `quixlab services fetch` + an entry emulating Confluent's (kafka/run).
#   quixlab/redis:7-local         FROM node:20-slim + Debian's redis-server (redis/Dockerfile).
#
# The Debian mirror is the one apt on this machine uses and the npm registry is `npm config get registry`,
# both read at run time: no host name is written into this repository. Tags: keep in step with
# KAFKA_LOCAL_IMAGE (src/broker/testcontainers.ts) and REDIS_LOCAL_IMAGE (src/redis/provider.ts).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

BASE_IMAGE=node:20-slim
KAFKA_IMAGE=quixlab/cp-kafka:7.9.0-local
REDIS_IMAGE=quixlab/redis:7-local
SUITE=bookworm

cache="${QUIXLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quixlab}/images"
say() { printf '[images] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
have() { docker image inspect "$1" >/dev/null 2>&1; }
# The legacy builder: this engine (Debian's docker.io) has no buildx plugin next to it.
# Its output (and its deprecation notice) is shown only when the build fails.
build() {
  local out
  out="$(workdir)/docker-build.log"
  DOCKER_BUILDKIT=0 docker build "$@" >"$out" 2>&1 || { tail -n 30 "$out" >&2; die "docker build $* failed"; }
}

# Scratch space for rootfs trees and build contexts, made here in the main shell (functions below also run in
# command substitutions, whose assignments and EXIT traps would not reach it) and removed on exit.
mkdir -p "$cache"
work="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
workdir() { printf '%s\n' "$work"; }

# The first Debian archive URI apt uses for $SUITE (deb822 .sources stanzas or one-line .list entries),
# skipping the security archive.
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v suite="$SUITE" 'BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; ok = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris); sub(/[ \t].*/, "", uris) }
          if ($i ~ /^Suites:/ && (" " substr($i, 8) " ") ~ (" " suite " ")) ok = 1
        }
        if (ok && uris != "" && uris !~ /security/) { print uris; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    awk -v suite="$SUITE" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { if ($(i + 1) == suite && $i !~ /security/) print $i; break } }' "$f"
  done
}

# debootstrap's minbase, once: a tarball in the cache (written to a temp name, then renamed into place).
minbase_tar() {
  local tar="$cache/debian-$SUITE-minbase.tar"
  if [[ -f $tar ]]; then
    printf '%s\n' "$tar"
    return
  fi
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install -y debootstrap)"
  local mirror
  mirror="$(debian_mirror | head -n 1)"
  [[ -n $mirror ]] || die "found no Debian $SUITE archive in /etc/apt/sources.list{,.d/*}"
  local dir t0=$SECONDS
  dir="$(workdir)/minbase"
  say "debootstrap --variant=minbase $SUITE (the mirror apt uses) ..."
  debootstrap --variant=minbase "$SUITE" "$dir" "$mirror" >"$(workdir)/debootstrap.log" 2>&1 ||
    { tail -n 20 "$(workdir)/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -cf "$tar.partial" .
  mv "$tar.partial" "$tar"
  rm -rf "$dir"
  say "debootstrap: $((SECONDS - t0)) s ($(du -h "$tar" | cut -f1) tarball cached at $tar)"
  printf '%s\n' "$tar"
}

build_base() {
  if have "$BASE_IMAGE"; then say "$BASE_IMAGE: already built"; return; fi
  local t0=$SECONDS node npm_dir version registry tar dir
  node="$(readlink -f "$(command -v node)")"
  version="$("$node" --version)"
  [[ $version == v20.* ]] || die "$BASE_IMAGE needs this machine's node to be Node 20, found $version"
  npm_dir="$(npm root -g)/npm"
  [[ -f $npm_dir/bin/npm-cli.js ]] || die "npm is not at $npm_dir"
  registry="$(npm config get registry)"
  tar="$(minbase_tar)"
  dir="$(workdir)/base"
  mkdir -p "$dir"
  tar -C "$dir" -xf "$tar"

  # Node and npm where the official image has them, so npm's global config is /usr/local/etc/npmrc.
  install -D -m 0755 "$node" "$dir/usr/local/bin/node"
  mkdir -p "$dir/usr/local/lib/node_modules" "$dir/usr/local/etc"
  cp -a "$npm_dir" "$dir/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  printf 'registry=%s\n' "$registry" >"$dir/usr/local/etc/npmrc"
  # This machine's CA bundle: it may hold the CA of a proxy in front of the registries.
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
  chroot "$dir" groupadd --gid 1000 node
  chroot "$dir" useradd --uid 1000 --gid node --shell /bin/bash --create-home --home-dir /home/node node

  tar -C "$dir" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${version#v}" \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$dir"
  say "$BASE_IMAGE: built in $((SECONDS - t0)) s (Node ${version#v}, npm $("$node" "$npm_dir/bin/npm-cli.js" --version))"
}

build_kafka() {
  if have "$KAFKA_IMAGE"; then say "$KAFKA_IMAGE: already built"; return; fi
  have "$BASE_IMAGE" || build_base
  local t0=$SECONDS lib ctx
  # The jar cache of the local provider (fetched once with Maven): `services fetch --json` says where it is.
  lib="$(cd "$root" && node bin/quixlab.js services fetch --json | node -e \
    'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).lib))')"
  [[ -d $lib ]] || die "no Kafka jars at $lib (node bin/quixlab.js services fetch)"
  ctx="$(workdir)/kafka"
  mkdir -p "$ctx"
  cp "$here"/kafka/{Dockerfile,run,log4j.properties} "$ctx/"
  cp -r "$lib" "$ctx/libs"
  build -t "$KAFKA_IMAGE" "$ctx"
  rm -rf "$ctx"
  say "$KAFKA_IMAGE: built in $((SECONDS - t0)) s"
}

build_redis() {
  if have "$REDIS_IMAGE"; then say "$REDIS_IMAGE: already built"; return; fi
  have "$BASE_IMAGE" || build_base
  local t0=$SECONDS
  build -t "$REDIS_IMAGE" "$here/redis"
  say "$REDIS_IMAGE: built in $((SECONDS - t0)) s"
}

# `docker run -p` reaches the container from the host on 127.0.0.1 (bridge network + NAT or docker-proxy).
check_ports() {
  have "$BASE_IMAGE" || build_base
  local t0=$SECONDS id port answer=""
  id="$(docker run -d --rm -p 127.0.0.1::8080 "$BASE_IMAGE" node -e \
    'require("http").createServer((q, s) => s.end("pong")).listen(8080)')"
  port="$(docker port "$id" 8080/tcp | head -n 1)"
  port="${port##*:}"
  for _ in $(seq 50); do
    answer="$(node -e 'fetch(process.argv[1]).then((r) => r.text()).then(console.log, () => {})' "http://127.0.0.1:$port/")"
    [[ $answer == pong ]] && break
    sleep 0.1
  done
  docker rm -f "$id" >/dev/null
  [[ $answer == pong ]] || die "a container's port published with -p is not reachable at 127.0.0.1:$port"
  say "docker run -p: 127.0.0.1:$port reaches the container ($((SECONDS - t0)) s)"
}

docker info >/dev/null 2>&1 || die "no Docker engine answers (start one: .ci/docker-engine.sh)"
(($# > 0)) || set -- base kafka redis
t_all=$SECONDS
for image in "$@"; do
  case "$image" in
    base) build_base ;;
    kafka) build_kafka ;;
    redis) build_redis ;;
    check) check_ports ;;
    *) die "unknown image '$image' (base, kafka, redis, or check)" ;;
  esac
done
say "images ready in $((SECONDS - t_all)) s"
