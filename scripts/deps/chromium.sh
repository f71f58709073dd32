#!/usr/bin/env bash
# Install Chromium and ChromeDriver, the browser the web console's tests drive through Selenium,
# from Debian's packages.
#
# Idempotent: does nothing when both programs are already there (at /usr/bin, or at
# $GOVCHAIN_CHROMIUM and $GOVCHAIN_CHROMEDRIVER). The two packages come from the same source
# package, so their versions always match, as ChromeDriver requires.
set -euo pipefail

chromium_bin="${GOVCHAIN_CHROMIUM:-/usr/bin/chromium}"
driver_bin="${GOVCHAIN_CHROMEDRIVER:-/usr/bin/chromedriver}"

if [ -x "$chromium_bin" ] && [ -x "$driver_bin" ]; then
  echo "chromium already installed: $("$chromium_bin" --version 2>/dev/null || echo "$chromium_bin")"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "chromium and chromedriver are missing; run as root: apt-get install -y chromium chromium-driver" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
echo "installed: $(/usr/bin/chromium --version 2>/dev/null) with $(/usr/bin/chromedriver --version | head -n 1)"
