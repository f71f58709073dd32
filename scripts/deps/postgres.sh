#!/usr/bin/env bash
# Install PostgreSQL, a database the data gateways run in front of, from Debian's packages.
#
# Idempotent: does nothing when initdb and pg_ctl are already under /usr/lib/postgresql/*/bin
# (or $GOVCHAIN_PG_BIN). The package's own cluster service is not started: the tests start a
# throwaway cluster of their own (initdb + pg_ctl in a temporary directory, on a free port).
set -euo pipefail

find_bin() {
  if [ -n "${GOVCHAIN_PG_BIN:-}" ] && [ -x "$GOVCHAIN_PG_BIN/initdb" ]; then
    echo "$GOVCHAIN_PG_BIN"
    return 0
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

pg_version() {
  "$1/pg_ctl" --version | sed -n 's/.*(PostgreSQL) \([0-9.]*\).*/\1/p'
}

if bin="$(find_bin)"; then
  echo "PostgreSQL $(pg_version "$bin") already installed in $bin"
  exit 0
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
apt-get install -y -qq --no-install-recommends postgresql >/dev/null

if ! bin="$(find_bin)"; then
  echo "postgresql is installed but initdb/pg_ctl are not under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi
echo "PostgreSQL $(pg_version "$bin") installed in $bin"
