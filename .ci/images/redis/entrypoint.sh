#!/bin/sh
# Debian's redis-server starts in protected mode when run without a config file: with no password it refuses
# every client that is not on loopback, and through a mapped port every client comes from the bridge. The
# official image builds Redis with protected mode off by default; here the same default is a flag, added
# unless the command sets it itself.
set -e
if [ "$1" = "redis-server" ]; then
  case " $* " in
    *" --protected-mode "*) ;;
    *) set -- "$@" --protected-mode no ;;
  esac
fi
exec "$@"
