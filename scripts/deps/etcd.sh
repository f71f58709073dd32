#!/usr/bin/env bash
# Install etcd, the total-order log of multi-node govchain networks, from Debian's packages.
#
# Idempotent: does nothing when an acceptable etcd is already on PATH (or at $GOVCHAIN_ETCD).
# Refuses etcd 3.5.0-3.5.2, which can lose data consistency after a crash (fixed in 3.5.3).
# The package's own service is not started: the tests and `govchain network up` run their own
# members on free loopback ports.
set -euo pipefail

etcd_bin="${GOVCHAIN_ETCD:-$(command -v etcd || true)}"

version_ok() {
  # $1: a version like 3.4.23; accept 3.4.x and >= 3.5.3
  local major minor patch
  IFS=. read -r major minor patch <<<"$1"
  patch="${patch%%[^0-9]*}"
  if [ "$major" -ne 3 ]; then return 1; fi
  if [ "$minor" -lt 4 ]; then return 1; fi
  if [ "$minor" -eq 5 ] && [ "$patch" -lt 3 ]; then return 1; fi
  return 0
}

installed_version() {
  "$1" --version 2>/dev/null | sed -n 's/^etcd Version: *//p' | head -n 1
}

if [ -n "$etcd_bin" ] && [ -x "$etcd_bin" ]; then
  v="$(installed_version "$etcd_bin")"
  if [ -n "$v" ] && version_ok "$v"; then
    echo "etcd $v already installed at $etcd_bin"
    exit 0
  fi
  echo "etcd ${v:-of unknown version} at $etcd_bin is not acceptable; installing Debian's" >&2
fi

export DEBIAN_FRONTEND=noninteractive
# keep the package's service from starting (policy-rc.d answers "not now" to invoke-rc.d)
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends etcd-server etcd-client >/dev/null

etcd_bin="$(command -v etcd)"
v="$(installed_version "$etcd_bin")"
if [ -z "$v" ] || ! version_ok "$v"; then
  echo "installed etcd ${v:-of unknown version} is not acceptable (need 3.4.x or >= 3.5.3)" >&2
  exit 1
fi
echo "etcd $v installed at $etcd_bin"
