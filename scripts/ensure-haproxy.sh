#!/usr/bin/env bash
# The scale-out test and the scaling run put Debian's HAProxy in front of several app instances
# (test/utils/load-balancer.ts). It is not an npm download: this installs the package when it is missing, as root
# with apt-get, and otherwise says what to do. The harness starts HAProxy itself, with its own configuration, on
# ports of its own.
set -euo pipefail
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's haproxy…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null
    # The package starts a service of its own; only the one this installed is stopped, never one already in use.
    systemctl stop haproxy >/dev/null 2>&1 || service haproxy stop >/dev/null 2>&1 || true
  else
    echo "haproxy is missing: install it (Debian: apt-get install haproxy)" >&2
    exit 1
  fi
fi
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
echo "== $("$haproxy" -v | head -1)"
